//! Checking one exercise exactly as the learner would: `cargo test -p
//! <package>`, with `WORKBOOK_RESULTS` pointing at a file of our own under
//! target/, and the verdict read from that file (falling back to the test's
//! output where the file says nothing: a compile error, or a harness that
//! does not write it).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::catalog::Exercise;
use crate::cli;
use crate::results::{self, CaseResult, Status};

/// What `cargo test -p` said about one exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every case that ran passed; `note` says which did not run, if any
    /// (`unprivileged cases only; root cases not run`).
    Passed { note: String },
    /// The first failure in one sentence, or the first compile error.
    NotYet(String),
    /// cargo could not tell (it did not start, the results file could not
    /// be made, or it failed before any check ran: an offline registry, a
    /// killed build). Shown like a not-yet, never saved: the next run asks
    /// cargo again.
    Unknown(String),
}

/// The note for a pass where the root cases were skipped.
pub const ROOT_NOT_RUN: &str = "unprivileged cases only; root cases not run";

impl Verdict {
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Passed { .. })
    }

    /// Whether the exercise's sources decided this verdict, so that it may
    /// be saved under their key.
    pub fn decided(&self) -> bool {
        !matches!(self, Verdict::Unknown(_))
    }
}

/// Run the exercise's checks and judge them.
pub fn check(root: &Path, exercise: &Exercise) -> Verdict {
    let dir = cli::state_dir(root);
    let file = dir.join(format!("results-{}.tsv", exercise.package));
    // Made (empty) by us, as the learner: a test binary that runs as root
    // (`cargo test-root`) only appends, so the file stays ours.
    if let Err(err) = fs::create_dir_all(&dir).and_then(|()| fs::write(&file, "")) {
        return Verdict::Unknown(format!("cannot write {}: {err}", file.display()));
    }
    let cargo = cli::cargo();
    let output = Command::new(&cargo)
        .args([
            "test",
            "--quiet",
            "--color",
            "never",
            "-p",
            &exercise.package,
        ])
        .current_dir(root)
        .env("CARGO_TERM_COLOR", "never")
        .env("WORKBOOK_RESULTS", &file)
        .env_remove("RUST_BACKTRACE")
        .output();
    match output {
        Ok(output) => {
            let results =
                results::parse(&fs::read_to_string(&file).unwrap_or_default());
            // Read once: the saved verdicts are the only state kept.
            let _ = fs::remove_file(&file);
            judge(
                output.status.success(),
                &String::from_utf8_lossy(&output.stdout),
                &String::from_utf8_lossy(&output.stderr),
                &results,
            )
        }
        Err(err) => Verdict::Unknown(format!("could not run {cargo}: {err}")),
    }
}

/// The verdict from cargo's exit status, the results file and the output.
pub fn judge(
    success: bool,
    stdout: &str,
    stderr: &str,
    results: &[CaseResult],
) -> Verdict {
    if let Some(failed) = results.iter().find(|r| r.status == Status::Fail) {
        return Verdict::NotYet(format!("{}: {}", failed.label(), failed.sentence));
    }
    if success {
        return Verdict::Passed {
            note: note(stdout, results),
        };
    }
    // The checks ran: the sentence under the first `---- case ----`.
    let mut lines = stdout.lines();
    if let Some(header) = lines.by_ref().find(|l| l.starts_with("---- ")) {
        let case = header.trim_matches(|c| c == '-' || c == ' ');
        let sentence = lines.next().unwrap_or("").trim();
        return Verdict::NotYet(format!("{case}: {sentence}"));
    }
    // It did not build (rustc's errors end in cargo's "could not compile"):
    // the first error and where it is. Any other cargo error (a registry
    // out of reach, a killed build) is not the exercise's.
    let compiled = !stderr
        .lines()
        .any(|l| l.starts_with("error: could not compile"));
    let mut lines = stderr.lines();
    if let Some(error) = lines.by_ref().find(|l| {
        !compiled
            && l.starts_with("error")
            && !l.starts_with("error: could not compile")
    }) {
        let at = lines
            .take(3)
            .find_map(|l| l.trim().strip_prefix("--> "))
            .map(|at| format!(" ({at})"))
            .unwrap_or_default();
        return Verdict::NotYet(format!("does not compile: {error}{at}"));
    }
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    Verdict::Unknown(format!("cargo test failed: {}", last.trim()))
}

/// Which cases of a pass did not run.
fn note(stdout: &str, results: &[CaseResult]) -> String {
    let skipped: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.status == Status::Skip)
        .collect();
    let root_skipped = match results.is_empty() {
        // No results file: the harness's own summary lines.
        true => stdout.lines().any(|l| l.contains(" (root) ... ignored")),
        false => skipped.iter().any(|r| r.user == "root"),
    };
    if root_skipped && skipped.iter().all(|r| r.user == "root") {
        return ROOT_NOT_RUN.into();
    }
    match skipped.first() {
        None => String::new(),
        Some(first) => format!(
            "{} of {} cases not run; {}: {}",
            skipped.len(),
            results.len(),
            first.label(),
            first.sentence
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(user: &str, status: &str, sentence: &str) -> Vec<CaseResult> {
        results::parse(&format!("ex01\ta\t{user}\t{status}\t{sentence}\n"))
    }

    #[test]
    fn a_failing_check_gives_its_sentence() {
        let stdout = "running 2 tests\ntest a (root) ... FAILED\n\nfailures:\n\n---- a (root) ----\n\
                      still todo!() at src/lib.rs:3: do it\noutput:\n    x\n";
        let want =
            Verdict::NotYet("a (root): still todo!() at src/lib.rs:3: do it".into());
        assert_eq!(judge(false, stdout, "error: test failed", &[]), want);
        let from_file = case("root", "fail", "still todo!() at src/lib.rs:3: do it");
        assert_eq!(judge(false, "", "", &from_file), want);
    }

    #[test]
    fn a_compile_error_gives_its_first_error() {
        let stderr = "   Compiling ex01 v0.1.0\nerror[E0425]: cannot find value `x` in this scope\n \
                      --> exercises/ex01/src/lib.rs:4:5\n  |\nerror: could not compile `ex01`\n";
        assert_eq!(
            judge(false, "", stderr, &[]),
            Verdict::NotYet(
                "does not compile: error[E0425]: cannot find value `x` in this scope \
                 (exercises/ex01/src/lib.rs:4:5)"
                    .into()
            )
        );
    }

    #[test]
    fn a_pass_says_which_cases_did_not_run() {
        let all = Verdict::Passed {
            note: String::new(),
        };
        assert_eq!(judge(true, "", "", &case("root", "pass", "")), all);
        assert_eq!(judge(true, "", "", &[]), all);
        let root = Verdict::Passed {
            note: ROOT_NOT_RUN.into(),
        };
        assert_eq!(
            judge(true, "", "", &case("root", "skip", "needs root")),
            root
        );
        let stdout =
            "test a (root) ... ignored, needs root\ntest a (unprivileged) ... ok\n";
        assert_eq!(judge(true, stdout, "", &[]), root);
        let other = judge(
            true,
            "",
            "",
            &case("unprivileged", "skip", "userns refused"),
        );
        assert_eq!(
            other,
            Verdict::Passed {
                note: "1 of 1 cases not run; a (unprivileged): userns refused"
                    .into()
            }
        );
    }
}
