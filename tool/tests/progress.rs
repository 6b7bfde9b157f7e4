//! `progress` and its saved verdicts, on a fixture workbook whose cargo is
//! a stand-in that writes the harness's results file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixture;

use std::process::Stdio;

use fixture::Fixture;

fn progress(fx: &Fixture) -> String {
    let out = fx
        .workbook(&["progress"])
        .env("CARGO", fx.fake_cargo())
        .stdin(Stdio::null())
        .output()
        .expect("running workbook progress");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_unchanged_exercise_is_not_run_again() {
    let fx = Fixture::new("saved");
    let first = progress(&fx);
    assert!(first.contains("not yet  ex01-add"), "{first}");
    assert!(
        first.contains("adds (root): still todo!() at src/lib.rs:5: add them"),
        "{first}"
    );
    assert_eq!(fx.cargo_runs(), 1);
    let second = progress(&fx);
    assert_eq!(second, first, "the saved verdict, word for word");
    assert_eq!(fx.cargo_runs(), 1, "nothing changed: cargo is not run");
    // Saving the exercise's file changes the key: it runs again.
    fx.write(
        "exercises/ex01-add/src/lib.rs",
        "pub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n",
    );
    let third = progress(&fx);
    assert_eq!(fx.cargo_runs(), 2);
    assert!(third.contains("passed   ex01-add"), "{third}");
    assert!(
        third.contains("(unprivileged cases only; root cases not run)"),
        "root cases skipped: not a plain pass\n{third}"
    );
    assert!(third.contains("cargo test-root -p <package>"), "{third}");
    assert!(third.contains("1 of 1 exercises pass."), "{third}");
    progress(&fx);
    assert_eq!(fx.cargo_runs(), 2);
}

/// A cargo that fails before any check runs (an offline registry, a killed
/// build) decides nothing: its verdict is shown, never saved, and the next
/// `progress` asks cargo again.
#[test]
fn a_cargo_that_could_not_tell_is_asked_again() {
    let fx = Fixture::new("unknown");
    let broken = fx.path("broken-cargo");
    fx.write(
        "broken-cargo",
        &format!(
            "#!/bin/sh\necho run >>'{}'\necho 'error: failed to download' >&2\nexit 101\n",
            fx.path("broken.log").display()
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    for run in 1..=2 {
        let out = fx
            .workbook(&["progress"])
            .env("CARGO", &broken)
            .stdin(Stdio::null())
            .output()
            .expect("running workbook progress");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("cargo test failed: error: failed to download"),
            "{stdout}"
        );
        assert_eq!(fx.read("broken.log").lines().count(), run, "run {run}");
    }
    // Once cargo works again, the real verdict comes, and is saved.
    let first = progress(&fx);
    assert!(first.contains("not yet  ex01-add"), "{first}");
    assert_eq!(fx.cargo_runs(), 1);
    progress(&fx);
    assert_eq!(fx.cargo_runs(), 1);
}
