//! Chapter 4 against the kernel: after setns(2) through `/proc/PID/ns/uts`
//! the joiner is in the target's UTS namespace and sees its hostname; the
//! host's hostname never changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::{
    Example, ExternalTarget, User, assert_help, assert_usage_error, host_hostname,
    host_ns, line_with, ns_on_line, quoted_after,
};

testkit::cases!(
    own_target_as_root,
    own_target_unprivileged,
    pid_as_root,
    pid_unprivileged,
    help_exits_0,
    a_pid_must_be_a_positive_number,
    extra_argument_is_a_usage_error,
    no_such_process,
    unprivileged_may_not_open_pid_1,
    unprivileged_setns_into_a_host_owned_namespace_is_refused,
    uts_namespace_limit_reached,
);

fn example() -> Example {
    testkit::example!()
}

/// No PID: the example starts its own target and joins it.
fn own_target(user: User) {
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    let out = ran.success();
    insta::assert_snapshot!(user.to_string(), ran.normalized());

    let before = ns_on_line(out, "(joiner)", "uts");
    let target = ns_on_line(out, "(target)", "uts");
    let after = ns_on_line(out, "CLONE_NEWUTS) ->", "uts");
    assert_eq!(before, host_ns("uts"), "the joiner starts in the host's");
    assert_ne!(target, before, "the target's UTS namespace is new");
    assert_eq!(after, target, "after setns the joiner is in the target's");
    assert_eq!(ns_on_line(out, "has exited", "uts"), target);
    assert_eq!(
        quoted_after(line_with(out, "(joiner)"), "hostname "),
        host_hostname(),
        "before setns the joiner sees the host's hostname"
    );
    let seen = quoted_after(line_with(out, "CLONE_NEWUTS) ->"), "hostname ");
    assert_eq!(seen, "ch04-target");
    assert_eq!(out.contains("not root (uid "), user == User::Unprivileged);
}

fn own_target_as_root() {
    own_target(User::Root);
}

fn own_target_unprivileged() {
    own_target(User::Unprivileged);
}

/// PID given, as root: the target is host-owned (util-linux unshare, no user
/// namespace), root joins its UTS namespace directly.
fn pid_as_root() {
    let Some(target) =
        ExternalTarget::unshare(User::Root, &["--uts"], Some("ch04-ext"))
    else {
        return;
    };
    let Some(ran) = example().run(User::Root, &[&target.pid()]) else {
        return;
    };
    let out = ran.success();
    insta::assert_snapshot!("root-pid", ran.normalized());

    assert_eq!(ns_on_line(out, "(joiner)", "uts"), host_ns("uts"));
    assert_eq!(ns_on_line(out, "open(\"/proc/", "user"), host_ns("user"));
    assert_eq!(ns_on_line(out, "open(\"/proc/", "uts"), target.ns("uts"));
    let joined = line_with(out, "CLONE_NEWUTS) ->");
    assert_eq!(ns_on_line(joined, "", "uts"), target.ns("uts"));
    assert_ne!(target.ns("uts"), host_ns("uts"));
    assert_eq!(quoted_after(joined, "hostname "), "ch04-ext");
    assert!(
        !out.contains("CLONE_NEWUSER"),
        "root joins no user namespace"
    );
    target.finish();
}

/// PID given, not root: the target (nobody) sits in a user namespace of its
/// own; the joiner (nobody too) joins that user namespace first, then the
/// UTS namespace, with two setns calls.
fn pid_unprivileged() {
    let Some(target) =
        ExternalTarget::unshare(User::Unprivileged, &["--uts"], Some("ch04-ext"))
    else {
        return;
    };
    let Some(ran) = example().run(User::Unprivileged, &[&target.pid()]) else {
        return;
    };
    let out = ran.success();
    insta::assert_snapshot!("unprivileged-pid", ran.normalized());

    assert_eq!(ns_on_line(out, "(joiner)", "user"), host_ns("user"));
    assert_ne!(target.ns("user"), host_ns("user"));
    assert_eq!(
        ns_on_line(out, "CLONE_NEWUSER) ->", "user"),
        target.ns("user")
    );
    let joined = line_with(out, "CLONE_NEWUTS) ->");
    assert_eq!(ns_on_line(joined, "", "uts"), target.ns("uts"));
    assert_eq!(quoted_after(joined, "hostname "), "ch04-ext");
    assert!(
        !out.contains("not root (uid "),
        "no user namespace of its own"
    );
    target.finish();
}

fn help_exits_0() {
    assert_help(&example(), "Usage: ch04-join-proc");
}

fn a_pid_must_be_a_positive_number() {
    for bad in ["0", "abc", "-5"] {
        assert_usage_error(&example(), &[bad], "is not a PID");
    }
}

fn extra_argument_is_a_usage_error() {
    assert_usage_error(&example(), &["1", "2"], "unexpected argument \"2\"");
}

fn no_such_process() {
    // PID_MAX_LIMIT is 4194304 (2^22): pid_max may not exceed it, and PIDs are
    // below pid_max, so no process ever has this PID.
    let ran = example().run_plain(&["4194304"]);
    let err = ran.failure(1);
    assert!(err.contains("no process 4194304"), "{err}");
    assert!(err.contains("ENOENT"), "{err}");
}

/// Not root, PID 1 (root's): its namespace files may not even be opened.
fn unprivileged_may_not_open_pid_1() {
    let Some(ran) = example().run(User::Unprivileged, &["1"]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains(
            "open(\"/proc/1/ns/uts\", O_RDONLY | O_CLOEXEC) failed: EACCES"
        ),
        "{err}"
    );
    assert!(err.contains("hint: ") && err.contains("ptrace"), "{err}");
}

/// Not root, a process of nobody's own in a UTS namespace that root made:
/// it can be opened, but joining needs CAP_SYS_ADMIN over it: EPERM.
fn unprivileged_setns_into_a_host_owned_namespace_is_refused() {
    let Some(target) = ExternalTarget::host_owned_as_nobody(&["--uts"]) else {
        return;
    };
    let Some(ran) = example().run(User::Unprivileged, &[&target.pid()]) else {
        return;
    };
    let err = ran.failure(1);
    let call = format!(
        "setns(fd of \"/proc/{}/ns/uts\", CLONE_NEWUTS) failed: EPERM",
        target.pid()
    );
    assert!(err.contains(&call), "{err}");
    assert!(
        err.contains("hint: ") && err.contains("CAP_SYS_ADMIN"),
        "{err}"
    );
    assert!(!ran.stdout.contains("CLONE_NEWUTS) ->"), "{}", ran.stdout);
    target.finish();
}

/// A kernel that refuses: no UTS namespace may be created, so the target
/// cannot start.
fn uts_namespace_limit_reached() {
    let Some(ran) = example().run_with_zero_limit("uts", &[]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains("unshare(CLONE_NEWUTS) failed: ENOSPC"),
        "{err}"
    );
    assert!(err.contains("max_uts_namespaces"), "{err}");
    assert!(!ran.stdout.contains("setns("), "{}", ran.stdout);
}
