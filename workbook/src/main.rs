//! `cargo run -p workbook -- COMMAND`: the exercises' tools.
//!
//! For the learner, `progress` (which exercises pass, which is next) and
//! `hint` (the hints of one exercise, one at a time). For whoever edits the
//! exercises, `generate`: the learner's stubs are made from the solutions
//! (see [`tool::stub`]), and `generate --check` fails when the committed
//! stubs are not what the solutions give.
//!
//! This binary is not part of the `workbook` library the chapters use: its
//! modules live under `src/tool/` and nothing of them is public.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod tool {
    pub mod catalog;
    pub mod progress;
    pub mod stub;
}

const USAGE: &str = "\
Usage: cargo run -p workbook -- COMMAND

Commands:
  progress            run every exercise's checks, in book order: which pass,
                      which is next, and in one sentence why it does not pass yet
  hint EXERCISE [N]   the N-th hint (default: the first) of an exercise, e.g.
                      `hint ex03` or `hint ex03 2`
  generate [--check]  (for authors) write the exercises' stubs from the
                      solutions; --check only compares, and fails if they differ.
                      Replaces the exercises' src/ files: your work there is lost
                      (an exercise you finished, with no todo!() left, is kept
                      unless --force)

The exercises are listed, in order, with their hints in exercises/exercises.toml.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let root = root();
    let catalog = match tool::catalog::load(&root) {
        Ok(catalog) => catalog,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.as_slice() {
        ["-h" | "--help" | "help"] => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        ["progress"] => tool::progress::progress(&root, &catalog),
        ["hint", id] => tool::progress::hint(&catalog, id, "1"),
        ["hint", id, n] => tool::progress::hint(&catalog, id, n),
        ["generate", flags @ ..] => {
            let check = flags.contains(&"--check");
            let force = flags.contains(&"--force");
            match flags.iter().find(|f| !matches!(**f, "--check" | "--force")) {
                Some(flag) => Err(Usage(format!("unknown option {flag:?}"))),
                None => tool::stub::generate(&root, &catalog, check, force),
            }
        }
        [] => Err(Usage("missing command".into())),
        [command, ..] => {
            Err(Usage(format!("unknown command or arguments: {command:?}")))
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(Usage(why)) => {
            eprintln!("error: {why}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// A command line that is wrong: exit 2 with the usage, as the chapters do.
#[derive(Debug)]
pub struct Usage(pub String);

/// The workspace: this package's parent directory.
fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
