//! `doctor` on machines that refuse: the kernel is made to refuse on
//! purpose (testkit's zero limits, in a user namespace of the test's own,
//! so the host's limits stay as they are; a seccomp filter on the doctor
//! alone), and the doctor must name the cause and the fix, not guess, in
//! the words the learner's error would use.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

use testkit::workspace::built;
use testkit::{Example, PublicCopy, RunDir, limit};
use workbook::machine::Blocker;

testkit::cases!(
    names_a_zero_namespace_limit,
    names_a_refused_user_namespace,
    all_runs_where_nothing_refuses,
    names_a_seccomp_filter_as_the_error_does,
    names_denied_capabilities_as_the_error_does,
);

fn doctor() -> Example {
    Example::new(env!("CARGO_BIN_EXE_workbook"))
}

/// `text` with every run of whitespace made one space: the doctor wraps
/// long sentences.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

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
        flat(out).contains(
            "As you, unshare(CLONE_NEWUSER) fails with ENOSPC (see above): what makes a \
             user namespace of its own runs only as root."
        ),
        "{out}"
    );
    assert!(
        out.contains("ch02-unshare               runs only as root: `sudo`\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "ex03-unshare-uts           runs only as root: `cargo test-root -p \
             ex03-unshare-uts`\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("ch01-what-is-a-namespace   will run\n"),
        "{out}"
    );
}

fn all_runs_where_nothing_refuses() {
    let ran = doctor().run_plain(&["doctor"]);
    let out = &ran.stdout;
    if !out.contains("refused") {
        assert!(!out.contains("cannot run here"), "{out}");
        ran.success();
    }
}

/// Under a seccomp filter that refuses unshare(2) with EPERM (a container's
/// default profile), the doctor names the filter, and says of a refused
/// user namespace exactly the hint ch02's own error gives under the same
/// filter, run as the same unprivileged user.
fn names_a_seccomp_filter_as_the_error_does() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_workbook"));
    limit::with_seccomp_eperm(&mut cmd, &[libc::SYS_unshare]);
    let ran = cmd.arg("doctor").output().expect("run the doctor");
    let out = String::from_utf8_lossy(&ran.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(out.contains("seccomp               2 (a filter"), "{out}");
    assert!(
        out.contains("refused: unshare(CLONE_NEWUSER): EPERM"),
        "{out}"
    );
    let cause = Blocker::SeccompFilter.to_string();
    assert!(
        flat(&out).matches(&cause).count() >= 2,
        "{cause}\nnot in\n{out}"
    );
    // Root tries each type itself; without root, nothing gets past the
    // refused user namespace.
    match nix::unistd::geteuid().is_root() {
        true => {
            assert_eq!(ran.status.code(), Some(1), "{out}\n{stderr}");
            assert!(out.contains("cannot run here: unshare(CLONE_NEW"), "{out}");
        }
        false => {
            assert_eq!(ran.status.code(), Some(0), "{out}\n{stderr}");
            assert!(out.contains("runs only as root"), "{out}");
        }
    }

    let Some(hint) = ch02_hint(|cmd| {
        limit::with_seccomp_eperm(cmd, &[libc::SYS_unshare]);
    }) else {
        return;
    };
    assert!(hint.contains(&cause), "{hint}");
    assert!(
        flat(&out).contains(&hint),
        "the error's hint\n{hint}\nnot in\n{out}"
    );
}

/// Where user namespaces hold no capability, as under Ubuntu's AppArmor
/// restriction (testkit's preloaded library imitates it), the doctor's
/// unprivileged probe meets the refusal an example meets, and says of it
/// the hint ch02's error gives.
fn names_denied_capabilities_as_the_error_does() {
    let library = PublicCopy::of(limit::deny_caps_library());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_workbook"));
    limit::with_userns_caps_denied(&mut cmd, library.path());
    let ran = cmd.arg("doctor").output().expect("run the doctor");
    let out = String::from_utf8_lossy(&ran.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert_eq!(ran.status.code(), Some(0), "{out}\n{stderr}");
    assert!(
        out.contains("refused: write(\"/proc/self/setgroups\", \"deny\"): EACCES"),
        "{out}"
    );
    let Some(hint) = ch02_hint(|cmd| {
        limit::with_userns_caps_denied(cmd, library.path());
    }) else {
        return;
    };
    assert!(hint.contains("/etc/apparmor.d/"), "{hint}");
    assert!(
        flat(&out).contains(&hint),
        "the error's hint\n{hint}\nnot in\n{out}"
    );
}

/// The hint of ch02-unshare's error, run as the unprivileged user (65534
/// when the tests are root) with `refuse` applied to its command.
fn ch02_hint(refuse: impl FnOnce(&mut Command)) -> Option<String> {
    let ch02 = PublicCopy::of(&built("ch02-unshare")?);
    let tmp = RunDir::new();
    let mut learner = Command::new(ch02.path());
    if nix::unistd::geteuid().is_root() {
        learner.uid(65534).gid(65534);
    }
    learner.current_dir("/").env("TMPDIR", tmp.path());
    refuse(&mut learner);
    let error = learner.output().expect("run ch02-unshare");
    Some(hint_of(&error).to_owned())
}

/// The `hint: ` line of a failed example's error.
fn hint_of(ran: &Output) -> &str {
    let stderr = std::str::from_utf8(&ran.stderr).expect("UTF-8 stderr");
    assert_eq!(ran.status.code(), Some(1), "{stderr}");
    stderr
        .lines()
        .find_map(|line| line.strip_prefix("hint: "))
        .unwrap_or_else(|| panic!("no hint in:\n{stderr}"))
}
