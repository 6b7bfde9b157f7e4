//! `workbook dev ...`: the authors' commands, apart from the learner's.
//!
//! - `dev generate [--check] [--force]`: the exercises' stubs from the
//!   solutions ([`generate`]);
//! - `dev list`: the catalog, one exercise a line, tab-separated
//!   (`id package chapter title`), for scripts such as `.ci/exercises.sh`;
//! - `dev maps [--check] [CHAPTER...]`: the book's namespace maps from the
//!   chapters' snapshots ([`maps`]).

pub mod generate;
pub mod maps;

use std::path::Path;
use std::process::ExitCode;

use crate::catalog::Exercise;
use crate::cli::{Outcome, Usage};

pub const USAGE: &str = "\
Usage: cargo workbook dev COMMAND   (for authors of the workbook)

Commands:
  generate [--check] [--force]
                 write the exercises' stubs (exercises/*/src) from the solutions;
                 --check only compares, and fails if they differ. A stub that
                 differs from what the solution gives is someone's work: it is
                 kept unless --force
  list           the exercises, one a line: id, package, chapter, title (tabs)
  maps [--check] [CHAPTER...]
                 draw the book's namespace maps (book/src/images/map-*.svg)
                 from the chapters' root snapshots; --check only compares
";

pub fn dev(root: &Path, catalog: &[Exercise], args: &[&str]) -> Outcome {
    match args {
        ["generate", flags @ ..] => {
            let check = flags.contains(&"--check");
            let force = flags.contains(&"--force");
            match flags.iter().find(|f| !matches!(**f, "--check" | "--force")) {
                Some(flag) => Err(Usage(format!("unknown option {flag:?}"))),
                None => generate::generate(root, catalog, check, force),
            }
        }
        ["maps", args @ ..] => {
            let check = args.contains(&"--check");
            match args.iter().find(|a| a.starts_with('-') && **a != "--check") {
                Some(flag) => Err(Usage(format!("unknown option {flag:?}"))),
                None => {
                    let only: Vec<&str> =
                        args.iter().copied().filter(|a| *a != "--check").collect();
                    maps::maps(root, check, &only)
                }
            }
        }
        ["list"] => {
            for e in catalog {
                workbook::say!(
                    "{}\t{}\t{}\t{}",
                    e.id,
                    e.package,
                    e.chapter,
                    e.title
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        [] => Err(Usage("dev needs a command".into())),
        [command, ..] => Err(Usage(format!(
            "unknown dev command or arguments: {command:?}"
        ))),
    }
}
