//! `doctor` on machines that refuse: the kernel is made to refuse on
//! purpose (testkit's zero limits, in a user namespace of the test's own,
//! so the host's limits stay as they are), and the doctor must name the
//! cause and the fix, not guess.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::Example;
use workbook::machine::Blocker;

fn doctor() -> Example {
    Example::new(env!("CARGO_BIN_EXE_workbook"))
}

/// `text` with every run of whitespace made one space: the doctor wraps
/// long sentences.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn names_a_zero_namespace_limit() {
    let Some(ran) = doctor().run_with_zero_limit("uts", &["doctor"]) else {
        return; // skipped, with the reason (testkit::skip)
    };
    let out = &ran.stdout;
    assert!(out.contains(" uts=0"), "the limit is shown:\n{out}");
    assert!(
        out.contains("unshare(CLONE_NEWUTS)                        refused: unshare(CLONE_NEWUTS): ENOSPC"),
        "{out}"
    );
    // The cause and the fix, in the words an error's hint uses: once in
    // what is in the way, once under the refused call.
    let cause = Blocker::LimitZero("uts").to_string();
    assert_eq!(
        flat(out).matches(&cause).count(),
        2,
        "{cause}\nnot twice in\n{out}"
    );
    assert!(
        out.contains(
            "ex03-unshare-uts           cannot run here: unshare(CLONE_NEWUTS) fails \
             with ENOSPC (see above)"
        ),
        "{out}"
    );
    // What needs no UTS namespace still runs.
    assert!(out.contains("ex04-private-mount         will run"), "{out}");
    assert!(
        out.contains("ch01-what-is-a-namespace   will run\n"),
        "{out}"
    );
    ran.failure(1);
}

#[test]
fn names_a_refused_user_namespace() {
    let Some(ran) = doctor().run_unprivileged_with_zero_userns_limit(&["doctor"])
    else {
        return;
    };
    let out = &ran.stdout;
    assert!(out.contains("uid 65534, not root"), "{out}");
    assert!(
        out.contains("refused: unshare(CLONE_NEWUSER): ENOSPC"),
        "the real call was tried:\n{out}"
    );
    let cause = Blocker::LimitZero("user").to_string();
    assert_eq!(
        flat(out).matches(&cause).count(),
        2,
        "{cause}\nnot twice in\n{out}"
    );
    assert!(
        out.contains(
            "ch02-unshare               runs only as root: `sudo`; as you, \
             unshare(CLONE_NEWUSER) fails with ENOSPC (see above)"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "ex03-unshare-uts           runs only as root: `cargo test-root -p \
             ex03-unshare-uts`; as you, unshare(CLONE_NEWUSER) fails with ENOSPC"
        ),
        "{out}"
    );
    assert!(
        out.contains("ch01-what-is-a-namespace   will run\n"),
        "{out}"
    );
}

#[test]
fn all_runs_where_nothing_refuses() {
    let ran = doctor().run_plain(&["doctor"]);
    let out = &ran.stdout;
    if !out.contains("refused") {
        assert!(!out.contains("cannot run here"), "{out}");
        ran.success();
    }
}
