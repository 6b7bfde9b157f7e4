//! A case that cannot run here shows as `ignored (why)` in the summary a
//! learner reads, and counts as ignored, not passed; under `CI=true` it
//! fails. The file runs itself a second time as the suite under test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

/// Set in the second run: be the suite under test.
const CHILD: &str = "TESTKIT_SKIPS_CHILD";

fn cannot_run_here() {
    if testkit::skip::<()>("this machine lacks what the case needs").is_none() {
        return;
    }
    panic!("skip returned Some");
}

fn ran_fine() {}

/// This file's binary again, as the suite under test, with `CI` as given.
fn child(ci: Option<&str>) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env(CHILD, "1").env_remove("CI");
    if let Some(ci) = ci {
        cmd.env("CI", ci);
    }
    cmd.output().expect("run the suite under test")
}

fn a_skip_shows_as_ignored_with_its_reason() {
    let out = child(None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("test cannot_run_here ")
                && l.ends_with(
                    "... ignored (this machine lacks what the case needs)"
                )),
        "{stdout}"
    );
    assert!(
        stdout.contains("test result: ok. 1 passed; 0 failed; 1 ignored;"),
        "{stdout}"
    );
}

fn under_ci_a_skip_fails() {
    let out = child(Some("true"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}");
    assert!(
        stdout.contains("test cannot_run_here ... FAILED"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("CI=true, and this case cannot run here: this machine lacks"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 passed; 1 failed; 0 ignored;"),
        "{stdout}"
    );
}

/// Outside the suite (a test under libtest's own harness), the reason goes
/// to stderr, since nothing else would show it.
fn outside_the_suite_a_skip_goes_to_stderr() {
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, "outside")
        .env_remove("CI")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("SKIPPED main: this machine lacks what the case needs"),
        "{stderr}"
    );
}

fn main() {
    if std::env::var_os(CHILD).is_some_and(|v| v == "outside") {
        cannot_run_here();
        return;
    }
    if std::env::var_os(CHILD).is_some() {
        testkit::suite::run(&[
            ("cannot_run_here", cannot_run_here),
            ("ran_fine", ran_fine),
        ]);
    }
    testkit::suite::run(&[
        (
            "a_skip_shows_as_ignored_with_its_reason",
            a_skip_shows_as_ignored_with_its_reason,
        ),
        ("under_ci_a_skip_fails", under_ci_a_skip_fails),
        (
            "outside_the_suite_a_skip_goes_to_stderr",
            outside_the_suite_a_skip_goes_to_stderr,
        ),
    ]);
}
