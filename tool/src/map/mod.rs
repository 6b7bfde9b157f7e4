//! `workbook map CHAPTER`: the namespace map of a run. The chapter's example
//! runs (`cargo run -q -p <chapter>`), its story is normalised as the
//! snapshots are (`uts:[A]`, `process <P1>`), and [`parse`] reads back
//! which process was seen in which namespace; the map is printed as text,
//! and with `--svg FILE` drawn as the book draws it ([`svg`]).
//!
//! `workbook map -` maps a story read on stdin instead (a run saved
//! earlier, or piped: `cargo run -q -p ch04-join-proc | cargo workbook map -`).
//!
//! The book's maps (`book/src/images/map-<chapter>.svg`) are drawn from the
//! chapters' committed root snapshots, real runs that the chapters' tests
//! keep honest, by `workbook dev maps` ([`BOOK`] lists them).

pub mod parse;
pub mod svg;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use crate::cli::{self, Outcome, Usage};
use parse::Map;

pub const USAGE: &str = "\
Usage: cargo workbook map CHAPTER [--svg FILE] [-- ARGS...]
       cargo workbook map - [--svg FILE]

Run a chapter's example (e.g. `map ch04`, or its full name, with ARGS after
`--` for the example: `map ch07 -- nest`) and print the map of the run:
each process, the namespaces the story showed it in and where it moved
(by unshare() or setns()), then each namespace and the processes in it.
Labels are the book's: uts:[A] is the first UTS namespace of the story,
<P1> its first process.

  -          read the story from stdin instead of running the example
             (`cargo run -q -p ch04-join-proc | cargo workbook map -`)
  --svg FILE also draw the map as an SVG, as the book draws it
";

/// The chapters whose book page shows the map of a run, and the snapshot
/// (a root run, in `chapters/<chapter>/tests/snapshots/`) it is drawn from.
/// Adding a chapter is one line here, then `cargo workbook dev maps` and an
/// include in its page.
pub const BOOK: &[(&str, &str)] = &[
    ("ch02-unshare", "ch02__root"),
    ("ch03-clone-uts", "ch03__root"),
    ("ch04-join-proc", "ch04__root"),
    ("ch05-join-pidfd", "ch05__root"),
    ("ch07-user-namespaces", "ch07__root"),
    ("ch08-pid-namespaces", "ch08__root"),
    ("ch11-ipc-namespaces", "ch11__root"),
    ("ch13-time-namespaces", "ch13__root"),
    ("ch14-namespace-relations", "ch14__root"),
    ("ch15-namespace-lifetime", "ch15__root"),
    ("ch16-container", "ch16__root"),
];

/// Where the book's map of `chapter` is.
pub fn book_svg(root: &Path, chapter: &str) -> PathBuf {
    root.join(format!("book/src/images/map-{chapter}.svg"))
}

/// The book's SVG of `chapter`'s map, from its snapshot's text.
pub fn book_map(chapter: &str, snapshot: &str) -> String {
    let map = parse::parse(parse::snapshot_body(snapshot));
    let id = format!("map-{}", chapter.split('-').next().unwrap_or(chapter));
    let title = format!("The map of a run of {chapter}");
    svg::render(&map, &id, &title, chapter)
}

pub fn map(root: &Path, args: &[&str]) -> Outcome {
    let (args, example_args) = match args.iter().position(|a| *a == "--") {
        Some(at) => (&args[..at], &args[at + 1..]),
        None => (args, &[][..]),
    };
    let mut svg_file = None;
    let mut target = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "--svg" => match rest.next() {
                Some(file) => svg_file = Some(PathBuf::from(file)),
                None => return Err(Usage("--svg needs a FILE".into())),
            },
            flag if flag.starts_with("--") => {
                return Err(Usage(format!("unknown option {flag:?}")));
            }
            name if target.is_none() => target = Some(name),
            extra => return Err(Usage(format!("one CHAPTER, not also {extra:?}"))),
        }
    }
    let Some(target) = target else {
        return Err(Usage(
            "map needs a CHAPTER (e.g. ch04), or - for stdin".into(),
        ));
    };
    let (title, story, ran_ok) = match target {
        "-" => {
            if !example_args.is_empty() {
                return Err(Usage(
                    "ARGS after -- are for a chapter's example, not -".into(),
                ));
            }
            let mut story = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut story) {
                eprintln!("error: read(stdin) failed: {e}");
                return Ok(ExitCode::FAILURE);
            }
            ("the story on stdin".to_owned(), story, true)
        }
        name => {
            let chapter = chapter(root, name)?;
            eprintln!("running `cargo run -q -p {chapter}`...");
            match run(root, &chapter, example_args) {
                Ok((story, ok)) => (chapter, story, ok),
                Err(why) => {
                    eprintln!("error: {why}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    };
    let story = normalize(&story);
    let map = parse::parse(&story);
    workbook::say::text(&text(&map, &title));
    if map.events.is_empty() && !story.trim().is_empty() {
        // `map ch07 -- --help`, or a story cut short: show what it was.
        workbook::say!("It printed:");
        for line in story.lines() {
            match line.is_empty() {
                true => workbook::say!(""),
                false => workbook::say!("  {line}"),
            }
        }
    }
    if let Some(file) = svg_file {
        let heading = format!("The map of a run of {title}");
        let drawn = svg::render(&map, "map", &heading, &title);
        if let Err(e) = std::fs::write(&file, drawn) {
            eprintln!(
                "error: write(\"{}\") failed: {e}\n  hint: give --svg a file in a directory you can write",
                file.display()
            );
            return Ok(ExitCode::FAILURE);
        }
        workbook::say!("wrote {}", file.display());
    }
    Ok(match ran_ok {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}

/// `ch04` or `ch04-join-proc` -> `ch04-join-proc`, a folder of chapters/.
fn chapter(root: &Path, name: &str) -> Result<String, Usage> {
    let names: Vec<String> = std::fs::read_dir(root.join("chapters"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut matching: Vec<&String> = names
        .iter()
        .filter(|n| *n == name || n.split('-').next() == Some(name))
        .collect();
    matching.sort();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        _ => {
            let mut known: Vec<&str> = names
                .iter()
                .filter(|n| n.starts_with("ch"))
                .map(String::as_str)
                .collect();
            known.sort_unstable();
            Err(Usage(format!(
                "no chapter {name:?}; the chapters: {}",
                known.join(", ")
            )))
        }
    }
}

/// The example's stdout, and whether it exited 0 (its stderr passes
/// through: an error and its hint reach the learner as they are).
fn run(root: &Path, chapter: &str, args: &[&str]) -> Result<(String, bool), String> {
    let out = Command::new(cli::cargo())
        .args(["run", "-q", "-p", chapter, "--"])
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running {}: {e}", cli::cargo()))?;
    let story = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        eprintln!(
            "the example ended with {}; the map shows what its story had shown by then",
            out.status
        );
    }
    Ok((story, out.status.success()))
}

/// The story with the snapshots' labels: this machine's namespace inodes,
/// PIDs, hostname and temporary directory made the book's.
fn normalize(story: &str) -> String {
    let host =
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let tmp = std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".into());
    workbook::normalize::normalize(story, host.trim(), tmp.trim_end_matches('/'))
}

/// The map as text: each process and where it went, then each namespace and
/// who was seen in it.
pub fn text(map: &Map, title: &str) -> String {
    let mut out = format!("The map of {title}\n");
    out.push_str(
        "Labels are in order of first appearance in the output: A is the first one\n\
         printed, not necessarily the host's.\n",
    );
    if let Some(user) = &map.entered {
        let _ = writeln!(
            out,
            "Not root: the example first entered {user}, as its root."
        );
    }
    if map.events.is_empty() {
        out.push_str("  the story showed no process in a namespace\n");
        return out;
    }
    out.push_str(
        "\nEach process, and the namespaces the story showed it in (line: how):\n",
    );
    let placed = map.placed();
    let width = placed
        .iter()
        .map(|p| map.processes[*p].to_string().len())
        .max()
        .unwrap_or(0);
    for &p in &placed {
        let _ = write!(out, "  {:width$}", map.processes[p].to_string());
        let mut first = true;
        for e in map.events.iter().filter(|e| e.process == p) {
            let moved: Vec<String> = e
                .changes
                .iter()
                .map(|c| match &c.old {
                    Some(old) => format!("{old} -> {}", c.new),
                    None => c.new.to_string(),
                })
                .collect();
            let how = e.via.call().map(|c| format!(", {c}()")).unwrap_or_default();
            let lead = match first {
                true => " ".to_owned(),
                false => format!("\n  {:width$} ", ""),
            };
            first = false;
            let lines = match e.last_line > e.line {
                true => format!("lines {}-{}", e.line, e.last_line),
                false => format!("line {}", e.line),
            };
            let _ = write!(out, "{lead} {} ({lines}{how})", moved.join(", "));
        }
        out.push('\n');
    }
    out.push_str("\nEach namespace, and the processes seen in it (from line):\n");
    for (ns, procs) in map.members() {
        let who: Vec<String> = procs
            .iter()
            .map(|(p, line)| format!("{} ({line})", map.processes[*p].name))
            .collect();
        let shared = match procs.len() {
            1 => "",
            _ => "  shared",
        };
        let _ = writeln!(out, "  {:10} {}{shared}", ns.to_string(), who.join(", "));
    }
    let unplaced: Vec<String> = (0..map.processes.len())
        .filter(|p| !placed.contains(p))
        .map(|p| map.processes[p].to_string())
        .collect();
    if !unplaced.is_empty() {
        let _ = writeln!(
            out,
            "\nAlso in the story, with no namespace shown: {}",
            unplaced.join(", ")
        );
    }
    out
}
