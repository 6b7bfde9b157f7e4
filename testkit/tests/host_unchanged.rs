//! The whole suite of examples leaves the host as it found it.
//!
//! Runs every chapter's example, as root and unprivileged, one after the
//! other, including runs the kernel refuses, all with one directory of the
//! test's own as `TMPDIR`, then compares the host's hostname, and the
//! entries of and mounts under that directory, with what they were before.
//!
//! The binaries are the ones `cargo test` at the root builds next to this
//! test (target/<profile>/); cargo builds every package before it runs any
//! test, so they are there and current.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use testkit::{Example, HostState, RunDir, User, skip};

testkit::cases!(all_examples_leave_the_host_unchanged,);

/// The chapter packages, read from the workspace's `chapters/` folder: each
/// folder's name is its package's and its binary's.
fn chapters() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../chapters");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("read chapters/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// target/<profile>/, two levels above this test binary (target/<profile>/deps/).
fn binary_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_owned()
}

fn all_examples_leave_the_host_unchanged() {
    let chapters = chapters();
    assert!(
        chapters.len() >= 6,
        "expected the six seed chapters, found {chapters:?}"
    );
    let mut examples = Vec::new();
    for name in &chapters {
        let path = binary_dir().join(name);
        if !path.exists() {
            return skip(&format!(
                "{} is not built; run `cargo test` at the workspace root, which builds every chapter",
                path.display()
            ))
            .unwrap_or(());
        }
        examples.push((name.clone(), Example::new(path)));
    }

    let dir = RunDir::new();
    let before = HostState::capture(dir.path());
    let mut ran = 0;
    for (name, example) in &examples {
        let example = &example.in_dir(&dir);
        for user in [User::Root, User::Unprivileged] {
            if let Some(run) = example.run(user, &[]) {
                run.success();
                ran += 1;
            }
        }
        // A kernel that refuses halfway must not leave anything either.
        // ch01 creates no namespace, so it has nothing to refuse.
        if name != "ch01-what-is-a-namespace" {
            if let Some(run) = example.run_with_zero_limit("uts", &[]) {
                let err = run.failure(1);
                assert!(err.contains("ENOSPC"), "{name}: {err}");
                ran += 1;
            }
            // And an unprivileged learner whose kernel will not give them a
            // user namespace hears which call, why, and the fix.
            if let Some(run) = example.run_unprivileged_with_zero_userns_limit(&[]) {
                let err = run.failure(1);
                for expected in
                    ["unshare(CLONE_NEWUSER)", "ENOSPC", "max_user_namespaces"]
                {
                    assert!(
                        err.contains(expected),
                        "{name}: {expected} not in {err}"
                    );
                }
                ran += 1;
            }
        }
        HostState::capture(dir.path()).assert_unchanged_since(&before);
    }
    assert!(ran > 0 || !testkit::in_ci(), "no example ran");
}
