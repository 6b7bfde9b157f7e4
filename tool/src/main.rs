//! `cargo workbook COMMAND` (the alias runs this binary, `workbook`): the
//! learner's tools for the exercises. Dispatch only; each command is a
//! module of the `workbook_tool` library.

use std::process::ExitCode;

use workbook_tool::cli::{self, Usage};
use workbook_tool::{
    catalog, dev, doctor, hint, map, progress, reset, solution, watch,
};

const USAGE: &str = "\
Usage: cargo workbook COMMAND

Commands:
  progress              every exercise in book order: passed or not yet (and
                        why, in one sentence), and which is next
  watch [--manual]      check the first unfinished exercise, and again each
                        time you save one of its files (--manual: on Enter)
  hint EXERCISE [N]     the N-th hint (default: the first), e.g. `hint ex03 2`
  reset EXERCISE [--yes]
                        put an exercise back to its stub (asks first)
  solution EXERCISE [--yes]
                        the answer: once the exercise passes, or after asking
  doctor                what will run on this machine, and the fix for what
                        will not
  map CHAPTER [--svg FILE]
                        run a chapter's example and print the map of the run:
                        which process was in which namespace, and where it
                        moved; `map --help`
  dev ...               for authors (generate the stubs, list the exercises);
                        `dev --help`

Root cases run with `cargo test-root -p <package>`: built as you, the test
binaries run through sudo. The exercises, their order and hints are in
exercises/exercises.toml.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let root = cli::root();
    let result = match args.as_slice() {
        ["-h" | "--help" | "help"] => {
            workbook::say::text(USAGE);
            return workbook::say::finish(ExitCode::SUCCESS);
        }
        // Not after `--`: `map ch07 -- --help` is the example's help.
        [command, rest @ ..]
            if rest
                .iter()
                .take_while(|a| **a != "--")
                .any(|a| matches!(*a, "-h" | "--help")) =>
        {
            workbook::say::text(usage(command));
            return workbook::say::finish(ExitCode::SUCCESS);
        }
        ["doctor"] => doctor::doctor(&root),
        // Before the catalog: `map -` needs nothing of the checkout.
        ["map", rest @ ..] => map::map(&root, rest),
        [] => Err(Usage("missing command".into())),
        [command, rest @ ..] => match catalog::load(&root) {
            Err(why) => {
                eprintln!("error: {why}");
                return ExitCode::FAILURE;
            }
            Ok(catalog) => match (*command, rest) {
                ("progress", []) => progress::progress(&root, &catalog),
                ("watch", rest) => watch::watch(&root, &catalog, rest),
                ("hint", rest) => hint::hint(&catalog, rest),
                ("reset", rest) => reset::reset(&root, &catalog, rest),
                ("solution", rest) => solution::solution(&root, &catalog, rest),
                ("dev", rest) => dev::dev(&root, &catalog, rest),
                _ => {
                    Err(Usage(format!("unknown command or arguments: {command:?}")))
                }
            },
        },
    };
    // Every line went through workbook::say!: a closed pipe or a full disk
    // ends the command as it ends a chapter (SIGPIPE, or one error line).
    match result {
        Ok(code) => workbook::say::finish(code),
        Err(Usage(why)) => {
            eprintln!("error: {why}\n\n{}", usage(args.first().unwrap_or(&"")));
            ExitCode::from(2)
        }
    }
}

/// The usage of one command (those with more to say than the list).
fn usage(command: &str) -> &'static str {
    match command {
        "hint" => hint::USAGE,
        "dev" => dev::USAGE,
        "map" => map::USAGE,
        _ => USAGE,
    }
}
