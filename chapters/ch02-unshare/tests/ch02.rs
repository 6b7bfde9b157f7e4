//! Chapter 2 against the kernel: after unshare the process is in new mount
//! and UTS namespaces, the witness stays in the host's and sees neither the
//! tmpfs, nor its file, nor the new hostname; the host is left as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use testkit::{
    Example, Ran, User, host_hostname, host_ns, line_with, ns_on_line, quoted_after,
    temp_entries,
};

const TEMP_PREFIX: &str = "ch02-unshare.";

fn example() -> Example {
    Example::new(env!("CARGO_BIN_EXE_ch02-unshare"))
}

/// The runs take turns, so that each can check that /tmp holds no more
/// `ch02-unshare.*` entries after it than before it.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Run `run`, then check the host: same hostname and mount table, no new
/// temporary directory, and the one the run printed is gone.
fn on_host(run: impl FnOnce() -> Option<Ran>) -> Option<Ran> {
    let _turn = one_at_a_time();
    let temps = temp_entries(TEMP_PREFIX);
    let ran = testkit::on_host(run)?;
    assert_eq!(
        temp_entries(TEMP_PREFIX),
        temps,
        "a temporary directory was left in /tmp"
    );
    if ran.stdout.contains("mkdtemp -> ") {
        let line = line_with(&ran.stdout, "mkdtemp -> ");
        let path = line
            .split_whitespace()
            .find(|w| w.contains("/tmp/ch02-unshare."))
            .expect("the temporary directory's path")
            .trim_end_matches(',');
        assert!(!Path::new(path).exists(), "{path} was left behind");
    }
    Some(ran)
}

fn check(user: User, args: &[&str], hostname: &str, snapshot: &str) {
    let Some(ran) = on_host(|| example().run(user, args)) else {
        return;
    };
    let out = ran.success();
    let host = host_hostname();

    // The process starts in the namespaces of the test that ran it.
    for ns in ["mnt", "uts"] {
        assert_eq!(ns_on_line(out, " starts in ", ns), host_ns(ns), "{ns}");
    }
    assert_eq!(
        quoted_after(line_with(out, " starts in "), "hostname "),
        host
    );

    // After unshare, both are new.
    for ns in ["mnt", "uts"] {
        let after = ns_on_line(out, ": unshare(CLONE_NEWNS | CLONE_NEWUTS) -> ", ns);
        assert_ne!(after, host_ns(ns), "{ns} after unshare");
    }
    let set = line_with(out, ": sethostname(");
    assert_eq!(quoted_after(set, "hostname "), hostname);
    assert_eq!(
        ns_on_line(out, ": sethostname(", "uts"),
        ns_on_line(out, ": unshare(", "uts")
    );
    assert!(
        line_with(out, "its /proc/self/mountinfo shows")
            .contains("shows tmpfs there")
    );

    // The witness stays in the host's namespaces and sees none of it.
    for ns in ["mnt", "uts"] {
        assert_eq!(
            ns_on_line(out, "(witness) looks from", ns),
            host_ns(ns),
            "{ns}"
        );
    }
    let witness = &out[out.find("(witness) looks from").unwrap()..];
    assert!(
        line_with(witness, "its /proc/self/mountinfo:")
            .contains(": nothing mounted on")
    );
    assert!(line_with(witness, "/hello:").ends_with(": no such file"));
    assert_eq!(
        quoted_after(line_with(witness, "  hostname "), "hostname "),
        host
    );
    assert!(!out.contains("LEAKED"), "{out}");

    insta::assert_snapshot!(snapshot, ran.normalized());
}

#[test]
fn as_root() {
    check(User::Root, &[], "ch02-uts", "root");
}

#[test]
fn unprivileged() {
    check(User::Unprivileged, &[], "ch02-uts", "unprivileged");
}

#[test]
fn as_root_with_a_hostname() {
    let name = "a".repeat(64);
    let Some(ran) = on_host(|| example().run(User::Root, &[&name])) else {
        return;
    };
    let out = ran.success();
    assert_eq!(
        quoted_after(line_with(out, ": sethostname("), "hostname "),
        name
    );
}

#[test]
fn help_exits_0() {
    let ran = on_host(|| Some(example().run_plain(&["--help"]))).unwrap();
    assert!(ran.success().starts_with("Usage: ch02-unshare [HOSTNAME]"));
}

fn usage_error(args: &[&str], message: &str) {
    let Some(ran) = on_host(|| Some(example().run_plain(args))) else {
        return;
    };
    let err = ran.failure(2);
    assert!(err.contains(message), "{err}");
    assert!(err.contains("Usage: ch02-unshare"), "{err}");
    assert!(ran.stdout.is_empty(), "nothing ran: {}", ran.stdout);
}

#[test]
fn hostname_of_65_bytes_is_a_usage_error() {
    usage_error(
        &[&"a".repeat(65)],
        "the hostname is 65 bytes; the kernel takes at most 64",
    );
}

#[test]
fn empty_hostname_is_a_usage_error() {
    usage_error(&[""], "the hostname is empty");
}

#[test]
fn extra_argument_is_a_usage_error() {
    usage_error(&["ernie", "bert"], "unexpected argument \"bert\"");
}

/// With the limit of one of the two types at 0, the single unshare call
/// fails with ENOSPC; the example stops, and removes its temporary directory.
fn refused(ns_type: &str) {
    let Some(ran) = on_host(|| example().run_with_zero_limit(ns_type, &[])) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains("error: unshare(CLONE_NEWNS | CLONE_NEWUTS) failed: ENOSPC"),
        "{err}"
    );
    assert!(
        err.contains(&format!("/proc/sys/user/max_{ns_type}_namespaces")),
        "{err}"
    );
    // It got as far as the temporary directory and the witness, no further.
    assert!(ran.stdout.contains("mkdtemp -> "), "{}", ran.stdout);
    assert!(!ran.stdout.contains("sethostname"), "{}", ran.stdout);
    assert!(!ran.stdout.contains("(witness) looks"), "{}", ran.stdout);
}

#[test]
fn refused_uts_namespace() {
    refused("uts");
}

#[test]
fn refused_mnt_namespace() {
    refused("mnt");
}
