//! Chapter 2 against the kernel: after unshare the process is in new mount
//! and UTS namespaces, the witness stays in the host's and sees neither the
//! tmpfs, nor its file, nor the new hostname; the host is left as it was
//! (testkit checks after every run: the host's hostname, and the entries of
//! and mounts under the run's own `TMPDIR`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::{
    Example, User, assert_help, assert_usage_error, host_hostname, host_ns,
    line_with, ns_on_line, quoted_after,
};

testkit::cases!(
    as_root,
    unprivileged,
    as_root_with_a_hostname,
    help_exits_0,
    hostname_of_65_bytes_is_a_usage_error,
    empty_hostname_is_a_usage_error,
    extra_argument_is_a_usage_error,
    refused_uts_namespace,
    refused_mnt_namespace,
);

fn example() -> Example {
    testkit::example!()
}

fn check(user: User, args: &[&str], hostname: &str, snapshot: &str) {
    let Some(ran) = example().run(user, args) else {
        return;
    };
    ran.assert_temp_dir_removed("ch02-unshare");
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

fn as_root() {
    check(User::Root, &[], "ch02-uts", "root");
}

fn unprivileged() {
    check(User::Unprivileged, &[], "ch02-uts", "unprivileged");
}

fn as_root_with_a_hostname() {
    let name = "a".repeat(64);
    let Some(ran) = example().run(User::Root, &[&name]) else {
        return;
    };
    ran.assert_temp_dir_removed("ch02-unshare");
    let out = ran.success();
    assert_eq!(
        quoted_after(line_with(out, ": sethostname("), "hostname "),
        name
    );
}

fn help_exits_0() {
    assert_help(&example(), "Usage: ch02-unshare [HOSTNAME]");
}

fn usage_error(args: &[&str], message: &str) {
    assert_usage_error(&example(), args, message);
}

fn hostname_of_65_bytes_is_a_usage_error() {
    usage_error(
        &[&"a".repeat(65)],
        "the hostname is 65 bytes; the kernel takes at most 64",
    );
}

fn empty_hostname_is_a_usage_error() {
    usage_error(&[""], "the hostname is empty");
}

fn extra_argument_is_a_usage_error() {
    usage_error(&["ernie", "bert"], "unexpected argument \"bert\"");
}

/// With the limit of one of the two types at 0, the single unshare call
/// fails with ENOSPC; the example stops, and removes its temporary directory.
fn refused(ns_type: &str) {
    let Some(ran) = example().run_with_zero_limit(ns_type, &[]) else {
        return;
    };
    ran.assert_temp_dir_removed("ch02-unshare");
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
    assert!(ran.stdout.contains(": mkdtemp(\""), "{}", ran.stdout);
    assert!(!ran.stdout.contains("sethostname"), "{}", ran.stdout);
    assert!(!ran.stdout.contains("(witness) looks"), "{}", ran.stdout);
}

fn refused_uts_namespace() {
    refused("uts");
}

fn refused_mnt_namespace() {
    refused("mnt");
}
