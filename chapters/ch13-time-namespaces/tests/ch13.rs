//! Chapter 13 against the kernel: unshare(CLONE_NEWTIME) changes only
//! `time_for_children`; the child is born in the new time namespace with
//! its clocks shifted by the offsets written before it (the example proves
//! each offset from its own readings and refuses otherwise); setns(2) moves
//! the caller itself. Each mistake the kernel refuses is one error line
//! with the call, the errno and the fix, as root and unprivileged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::{
    Example, User, assert_help, assert_usage_error, host_ns, line_with, ns_on_line,
};

testkit::cases!(
    as_root,
    unprivileged,
    other_days_as_root,
    other_days_unprivileged,
    realtime_offset_is_einval,
    late_offsets_are_eacces,
    threaded_setns_is_eusers,
    time_namespace_limit_reached,
    help_exits_0,
    days_must_be_1_to_36500,
    one_mistake_at_a_time,
);

fn example() -> Example {
    testkit::example!()
}

/// The kernel's facts in a successful run's output, for an offset of `days`.
fn check_facts(out: &str, days: &str, user: User) {
    let parent = ns_on_line(out, "(parent) is in", "time");
    assert_eq!(parent, host_ns("time"), "the parent starts in the host's");
    // The clock that bounds the setns below is the host's, not a wall clock.
    let keeper = line_with(out, "(clock keeper), which stays in");
    assert_eq!(ns_on_line(keeper, "stays in", "time"), parent, "{keeper}");
    let unshared = line_with(out, "unshare(CLONE_NEWTIME) ->");
    let new_time = ns_on_line(unshared, "time_for_children", "time");
    assert_ne!(new_time, parent, "unshare made a new time namespace");
    assert_eq!(
        ns_on_line(unshared.split("stays in").nth(1).unwrap(), "", "time"),
        parent,
        "unshare did not move the parent"
    );
    assert_eq!(ns_on_line(out, "(child) is in", "time"), new_time);
    let secs = days.parse::<u64>().unwrap() * 86_400;
    let offsets = format!("reads \"monotonic {secs} 0, boottime {secs} 0\"");
    assert!(
        line_with(out, "timens_offsets reads").contains(&offsets),
        "{out}"
    );
    let ahead = format!("is {secs} s (");
    assert!(
        line_with(out, "child's CLOCK_MONOTONIC").contains(&ahead),
        "{out}"
    );
    assert!(line_with(out, "/proc/uptime:").contains(&format!(": {secs} s (")));
    assert!(line_with(out, "CLOCK_REALTIME").contains("never shifted"));
    assert_eq!(ns_on_line(out, "-> time_fd", "time"), new_time);
    let joined = line_with(out, "setns(time_fd, CLONE_NEWTIME) ->");
    assert_eq!(ns_on_line(joined, "-> time ", "time"), new_time);
    assert_eq!(ns_on_line(joined, "time_for_children ", "time"), new_time);
    let jumped = line_with(out, "its own CLOCK_MONOTONIC jumped");
    assert!(jumped.contains(&format!(" {secs} s (")), "{jumped}");
    assert_eq!(out.contains("not root (uid "), user == User::Unprivileged);
}

fn story(user: User) {
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    check_facts(ran.success(), "10", user);
    insta::assert_snapshot!(user.to_string(), ran.normalized());
}

fn as_root() {
    story(User::Root);
}

fn unprivileged() {
    story(User::Unprivileged);
}

/// Another offset: the lines follow the argument, so nothing is hard-coded.
fn other_days(user: User) {
    let Some(ran) = example().run(user, &["3"]) else {
        return;
    };
    check_facts(ran.success(), "3", user);
    assert!(ran.stdout.contains("259200 s (3 days)"), "{}", ran.stdout);
}

fn other_days_as_root() {
    other_days(User::Root);
}

fn other_days_unprivileged() {
    other_days(User::Unprivileged);
}

/// Run with `args` as both users: exit 1, one error line containing
/// `error` and a hint containing `fix`; stdout shows how far it got.
fn refused(args: &[&str], error: &str, fix: &str) -> Vec<String> {
    let mut outs = Vec::new();
    for user in [User::Root, User::Unprivileged] {
        let Some(ran) = example().run(user, args) else {
            continue;
        };
        let err = ran.failure(1);
        let first = err.lines().next().unwrap_or("");
        assert!(first.starts_with(&format!("error: {error}")), "{err}");
        let hint = line_with(err, "hint: ");
        assert!(hint.contains(fix), "{err}");
        outs.push(ran.stdout.clone());
    }
    outs
}

fn realtime_offset_is_einval() {
    for out in refused(
        &["--realtime"],
        "write(fd of \"/proc/self/timens_offsets\", \"realtime 864000 0\\n\") failed: EINVAL",
        "CLOCK_REALTIME cannot be offset",
    ) {
        assert!(!out.contains("(child)"), "no child was started:\n{out}");
    }
}

fn late_offsets_are_eacces() {
    for out in refused(
        &["--late"],
        "write(fd of \"/proc/self/timens_offsets\", \"monotonic 864000 0\\nboottime \
         864000 0\\n\") failed: EACCES",
        "before any fork(2)",
    ) {
        // The child entered first: the offsets it was born with are zero.
        assert!(
            out.contains("reads \"monotonic 0 0, boottime 0 0\""),
            "{out}"
        );
        assert!(out.contains("(child) is in"), "{out}");
    }
}

fn threaded_setns_is_eusers() {
    for out in refused(
        &["--threaded"],
        "setns(fd of \"/proc/self/ns/time_for_children\", CLONE_NEWTIME) failed: EUSERS",
        "single-threaded",
    ) {
        assert!(out.contains("runs a second thread"), "{out}");
        assert!(!out.contains("the caller itself moved"), "{out}");
    }
}

/// With max_time_namespaces at 0 in a user namespace of the test's own,
/// unshare(CLONE_NEWTIME) fails with ENOSPC: the error names the limit file.
fn time_namespace_limit_reached() {
    let Some(ran) = example().run_with_zero_limit("time", &[]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.starts_with("error: unshare(CLONE_NEWTIME) failed: ENOSPC"),
        "{err}"
    );
    assert!(err.contains("max_time_namespaces"), "{err}");
    assert!(!ran.stdout.contains("(child)"), "{}", ran.stdout);
}

fn help_exits_0() {
    let out = assert_help(&example(), "Usage: ch13-time-namespaces");
    for option in ["--realtime", "--late", "--threaded"] {
        assert!(out.contains(option), "{out}");
    }
}

fn days_must_be_1_to_36500() {
    for bad in ["0", "36501", "-1", "ten", "1.5"] {
        assert_usage_error(
            &example(),
            &[bad],
            "give a whole number from 1 to 36500",
        );
    }
    assert_usage_error(&example(), &["1", "2"], "unexpected argument \"2\"");
    assert_usage_error(&example(), &["--now"], "unknown option \"--now\"");
}

fn one_mistake_at_a_time() {
    assert_usage_error(
        &example(),
        &["--late", "--threaded"],
        "choose at most one of the three mistakes",
    );
}
