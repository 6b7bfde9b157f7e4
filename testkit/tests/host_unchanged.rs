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

use testkit::workspace::{built, chapters};
use testkit::{Example, HostState, RunDir, User};

testkit::cases!(all_examples_leave_the_host_unchanged,);

fn all_examples_leave_the_host_unchanged() {
    let chapters = chapters();
    assert!(
        chapters.len() >= 6,
        "expected the six seed chapters, found {chapters:?}"
    );
    let mut examples = Vec::new();
    for name in &chapters {
        let Some(path) = built(name) else {
            return; // skipped, saying why (a failure under CI)
        };
        examples.push((name.clone(), Example::new(path)));
    }

    let dir = RunDir::new();
    let before = HostState::capture(dir.path());
    let mut ran = 0;
    for (name, example) in &examples {
        let example = &example.in_dir(&dir);
        let args = testkit::workspace::story_args(name);
        for user in [User::Root, User::Unprivileged] {
            if let Some(run) = example.run(user, args) {
                run.success();
                ran += 1;
            }
        }
        // A kernel that refuses halfway must not leave anything either.
        // ch01 creates no namespace, so it has nothing to refuse.
        if name != "ch01-what-is-a-namespace" {
            if let Some(run) = example.run_with_zero_limit(refused_type(name), args)
            {
                let err = run.failure(1);
                assert!(err.contains("ENOSPC"), "{name}: {err}");
                ran += 1;
            }
            // And an unprivileged learner whose kernel will not give them a
            // user namespace hears which call, why, and the fix. (The call
            // is unshare(CLONE_NEWUSER), or clone(CLONE_NEWUSER | SIGCHLD)
            // in ch07, where the user namespace is the lesson.)
            if let Some(run) = example.run_unprivileged_with_zero_userns_limit(args)
            {
                let err = run.failure(1);
                for expected in ["(CLONE_NEWUSER", "ENOSPC", "max_user_namespaces"] {
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

/// The namespace type whose zero limit makes a chapter's example refuse:
/// the one the chapter creates first (Part I's is UTS).
fn refused_type(chapter: &str) -> &'static str {
    match chapter {
        "ch08-pid-namespaces" => "pid",
        "ch09-mount-propagation" => "mnt",
        "ch10-network-namespaces" => "net",
        "ch11-ipc-namespaces" => "ipc",
        "ch12-cgroup-namespaces" => "cgroup",
        "ch13-time-namespaces" => "time",
        _ => "uts",
    }
}
