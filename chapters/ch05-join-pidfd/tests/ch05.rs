//! Chapter 5 against the kernel: one setns(2) call with a pidfd joins the
//! target's UTS and network namespaces together; a call with a flag that
//! cannot be joined joins none; the host's hostname never changes.
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
    unprivileged_may_not_read_pid_1,
    unprivileged_setns_into_host_owned_namespaces_is_refused,
    net_namespace_limit_reached,
);

fn example() -> Example {
    testkit::example!()
}

/// No PID: the example starts its own target, fails to join three
/// namespaces, then joins two.
fn own_target(user: User) {
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    let out = ran.success();
    insta::assert_snapshot!(user.to_string(), ran.normalized());

    let joiner = line_with(out, "(joiner)");
    let (uts_before, net_before) =
        (ns_on_line(joiner, "", "uts"), ns_on_line(joiner, "", "net"));
    assert_eq!(
        uts_before,
        host_ns("uts"),
        "the joiner starts in the host's"
    );
    assert_eq!(
        net_before,
        host_ns("net"),
        "the joiner starts in the host's"
    );
    assert_eq!(quoted_after(joiner, "hostname "), host_hostname());

    let (uts_target, net_target) = (
        ns_on_line(out, "(target)", "uts"),
        ns_on_line(out, "(target)", "net"),
    );
    assert_ne!(uts_target, uts_before, "the target's UTS namespace is new");
    assert_ne!(
        net_target, net_before,
        "the target's network namespace is new"
    );

    // All or nothing: the failed call left both where they were.
    let failed = line_with(out, "failed with EINVAL");
    assert!(failed.contains("CLONE_NEWUSER"), "{failed}");
    let still = line_with(out, "joined none of them");
    assert_eq!(ns_on_line(still, "", "uts"), uts_before);
    assert_eq!(ns_on_line(still, "", "net"), net_before);

    // The call without CLONE_NEWUSER joined both.
    let joined = line_with(out, "CLONE_NEWNET) ->");
    assert_eq!(ns_on_line(joined, "", "uts"), uts_target);
    assert_eq!(ns_on_line(joined, "", "net"), net_target);
    assert_eq!(quoted_after(joined, "hostname "), "ch05-target");
    assert_eq!(out.contains("not root (uid "), user == User::Unprivileged);
}

fn own_target_as_root() {
    own_target(User::Root);
}

fn own_target_unprivileged() {
    own_target(User::Unprivileged);
}

/// PID given, as root: the target is host-owned (util-linux unshare, no user
/// namespace); one call joins its UTS and network namespaces.
fn pid_as_root() {
    let Some(target) =
        ExternalTarget::unshare(User::Root, &["--uts", "--net"], Some("ch05-ext"))
    else {
        return;
    };
    let Some(ran) = example().run(User::Root, &[&target.pid()]) else {
        return;
    };
    let out = ran.success();
    insta::assert_snapshot!("root-pid", ran.normalized());

    let joiner = line_with(out, "(joiner)");
    assert_eq!(ns_on_line(joiner, "", "uts"), host_ns("uts"));
    assert_eq!(ns_on_line(joiner, "", "net"), host_ns("net"));
    assert_eq!(ns_on_line(out, "pidfd_open(", "user"), host_ns("user"));
    assert_ne!(target.ns("uts"), host_ns("uts"));
    assert_ne!(target.ns("net"), host_ns("net"));
    let joined = line_with(out, "setns(pidfd, CLONE_NEWUTS | CLONE_NEWNET) ->");
    assert_eq!(ns_on_line(joined, "", "uts"), target.ns("uts"));
    assert_eq!(ns_on_line(joined, "", "net"), target.ns("net"));
    assert_eq!(quoted_after(joined, "hostname "), "ch05-ext");
    assert!(
        !out.contains("CLONE_NEWUSER"),
        "root joins no user namespace"
    );
    target.finish();
}

/// PID given, not root: the target (nobody) sits in a user namespace of its
/// own; the joiner (nobody too) joins it together with UTS and NET, in the
/// same single call.
fn pid_unprivileged() {
    let Some(target) = ExternalTarget::unshare(
        User::Unprivileged,
        &["--uts", "--net"],
        Some("ch05-ext"),
    ) else {
        return;
    };
    let Some(ran) = example().run(User::Unprivileged, &[&target.pid()]) else {
        return;
    };
    let out = ran.success();
    insta::assert_snapshot!("unprivileged-pid", ran.normalized());

    assert_eq!(ns_on_line(out, "(joiner)", "user"), host_ns("user"));
    assert_ne!(target.ns("user"), host_ns("user"));
    let calls: Vec<&str> = out.lines().filter(|l| l.contains("setns(")).collect();
    assert_eq!(calls.len(), 1, "one setns call joins all three:\n{out}");
    let joined = calls[0];
    assert!(
        joined.contains(
            "setns(pidfd, CLONE_NEWUTS | CLONE_NEWUSER | CLONE_NEWNET) ->"
        ),
        "{joined}"
    );
    assert_eq!(ns_on_line(joined, "", "user"), target.ns("user"));
    assert_eq!(ns_on_line(joined, "", "uts"), target.ns("uts"));
    assert_eq!(ns_on_line(joined, "", "net"), target.ns("net"));
    assert_eq!(quoted_after(joined, "hostname "), "ch05-ext");
    assert!(
        !out.contains("not root (uid "),
        "no user namespace of its own"
    );
    target.finish();
}

fn help_exits_0() {
    let out = assert_help(&example(), "Usage: ch05-join-pidfd");
    assert!(out.contains("in the same call"), "{out}");
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
    assert!(
        err.contains("pidfd_open(4194304, 0) failed: ESRCH"),
        "{err}"
    );
}

/// Not root, PID 1 (root's): pidfd_open asks for no permission, but its
/// namespace files may not be read (and setns would refuse too).
fn unprivileged_may_not_read_pid_1() {
    let Some(ran) = example().run(User::Unprivileged, &["1"]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains("stat(\"/proc/1/ns/user\") failed: EACCES"),
        "{err}"
    );
    assert!(err.contains("hint: ") && err.contains("ptrace"), "{err}");
    assert!(!ran.stdout.contains("setns("), "{}", ran.stdout);
}

/// Not root, a process of nobody's own in namespaces that root made: its
/// files can be read, but joining needs CAP_SYS_ADMIN over them: EPERM.
fn unprivileged_setns_into_host_owned_namespaces_is_refused() {
    let Some(target) = ExternalTarget::host_owned_as_nobody(&["--uts", "--net"])
    else {
        return;
    };
    let Some(ran) = example().run(User::Unprivileged, &[&target.pid()]) else {
        return;
    };
    let err = ran.failure(1);
    let call = format!(
        "setns(pidfd of process {}, CLONE_NEWUTS | CLONE_NEWNET) failed: EPERM",
        target.pid()
    );
    assert!(err.contains(&call), "{err}");
    assert!(
        err.contains("hint: ") && err.contains("CAP_SYS_ADMIN"),
        "{err}"
    );
    assert!(!ran.stdout.contains("CLONE_NEWNET) ->"), "{}", ran.stdout);
    target.finish();
}

/// A kernel that refuses: no network namespace may be created, so the
/// target cannot start.
fn net_namespace_limit_reached() {
    let Some(ran) = example().run_with_zero_limit("net", &[]) else {
        return;
    };
    let err = ran.failure(1);
    let call = line_with(err, "unshare(");
    for expected in ["CLONE_NEWNET", "CLONE_NEWUTS", "failed: ENOSPC"] {
        assert!(call.contains(expected), "{expected} not in {err}");
    }
    assert!(err.contains("max_net_namespaces"), "{err}");
    assert!(!ran.stdout.contains("setns("), "{}", ran.stdout);
}
