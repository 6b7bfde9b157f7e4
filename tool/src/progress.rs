//! `progress`: every exercise in book order, passed or not yet (and why, in
//! one sentence), and which is next.
//!
//! Each exercise is checked with `cargo test -p <package>`, as the learner
//! would, unless its saved verdict still holds (see [`crate::state`]): then
//! nothing is run, and an unchanged workbook answers at once.

use std::path::Path;
use std::process::ExitCode;

use crate::cargo::{self, Verdict};
use crate::catalog::Exercise;
use crate::cli::Outcome;
use crate::state::{self, Saved};

/// Each exercise's verdict, in catalog order: saved ones reused, the rest
/// run (and saved).
pub fn verdicts(root: &Path, catalog: &[Exercise]) -> Vec<Verdict> {
    let mut saved = Saved::load(root);
    let shared = state::shared_key(root);
    catalog
        .iter()
        .map(|exercise| saved_or_run(&mut saved, root, exercise, shared))
        .collect()
}

/// One exercise's verdict, saved or run (and saved).
pub fn verdict(root: &Path, exercise: &Exercise) -> Verdict {
    let mut saved = Saved::load(root);
    saved_or_run(&mut saved, root, exercise, state::shared_key(root))
}

/// The saved verdict while its key still holds; otherwise run the check and
/// save its verdict at once, so an interrupted run keeps what it learnt.
fn saved_or_run(
    saved: &mut Saved,
    root: &Path,
    exercise: &Exercise,
    shared: u64,
) -> Verdict {
    let key = state::key(root, exercise, shared);
    if let Some(verdict) = saved.get(&exercise.package, &key) {
        return verdict.clone();
    }
    let verdict = cargo::check(root, exercise);
    // Only what the sources decided: a cargo that failed before any check
    // ran is asked again next time.
    if verdict.decided() {
        saved.put(&exercise.package, key, verdict.clone());
        save(saved);
    }
    verdict
}

fn save(saved: &Saved) {
    if let Err(err) = saved.save() {
        eprintln!("warning: could not save the verdicts under target/: {err}");
    }
}

pub fn progress(root: &Path, catalog: &[Exercise]) -> Outcome {
    workbook::say!(
        "Exercises in book order; each is checked with `cargo test -p <package>`."
    );
    let verdicts = verdicts(root, catalog);
    let mut chapter = "";
    for (exercise, verdict) in catalog.iter().zip(&verdicts) {
        if exercise.chapter != chapter {
            chapter = &exercise.chapter;
            workbook::say!("\n{chapter}");
        }
        match verdict {
            Verdict::Passed { note } if note.is_empty() => {
                workbook::say!(
                    "  passed   {:<24} {}",
                    exercise.package,
                    exercise.title
                );
            }
            Verdict::Passed { note } => {
                workbook::say!(
                    "  passed   {:<24} {}",
                    exercise.package,
                    exercise.title
                );
                workbook::say!("           ({note})");
            }
            Verdict::NotYet(why) | Verdict::Unknown(why) => {
                workbook::say!(
                    "  not yet  {:<24} {}",
                    exercise.package,
                    exercise.title
                );
                workbook::say!("           {why}");
            }
        }
    }
    let passed = verdicts.iter().filter(|v| v.passed()).count();
    workbook::say!("\n{passed} of {} exercises pass.", catalog.len());
    workbook::say!("{}", bar(passed, catalog.len(), 40));
    match catalog.iter().zip(&verdicts).find(|(_, v)| !v.passed()) {
        None => workbook::say!("All done: every exercise passes."),
        Some((exercise, _)) => {
            workbook::say!(
                "Next: {} ({}), in exercises/{}/src/lib.rs",
                exercise.package,
                exercise.title,
                exercise.package
            );
            workbook::say!(
                "  check: cargo test -p {}    hint: cargo workbook hint {}",
                exercise.package,
                exercise.id
            );
        }
    }
    if verdicts.iter().any(
        |v| matches!(v, Verdict::Passed { note } if note == cargo::ROOT_NOT_RUN),
    ) {
        workbook::say!(
            "Root cases run with `{} -p <package>` (they build as you, run through sudo).",
            workbook::root_cases::COMMAND
        );
    }
    // Not passing yet is no error: exit 0, so that `cargo run` adds no
    // "process didn't exit successfully" line under the list.
    Ok(ExitCode::SUCCESS)
}

/// `[#####.....] 5/12`: `done` of `all`, `width` characters wide.
pub fn bar(done: usize, all: usize, width: usize) -> String {
    let filled = (done * width).checked_div(all).unwrap_or(0);
    format!(
        "[{}{}] {done}/{all}",
        "#".repeat(filled),
        ".".repeat(width - filled)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_in_proportion() {
        assert_eq!(bar(0, 4, 8), "[........] 0/4");
        assert_eq!(bar(1, 4, 8), "[##......] 1/4");
        assert_eq!(bar(4, 4, 8), "[########] 4/4");
        assert_eq!(bar(0, 0, 4), "[....] 0/0");
    }
}
