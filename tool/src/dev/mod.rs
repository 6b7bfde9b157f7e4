//! `workbook dev ...`: the authors' commands, apart from the learner's.
//!
//! - `dev generate [--check] [--force]`: the exercises' stubs from the
//!   solutions ([`generate`]);
//! - `dev list`: the catalog, one exercise a line, tab-separated
//!   (`id package chapter title`), for scripts such as `.ci/exercises.sh`.

pub mod generate;

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
