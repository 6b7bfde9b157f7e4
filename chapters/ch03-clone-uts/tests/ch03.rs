//! Chapter 3 against the kernel, through nix and through libc: the child is
//! in a new UTS namespace and has the hostname asked for; the parent stays in
//! the host's, with the host's hostname; the host is left as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::{
    Example, User, assert_help, assert_usage_error, host_hostname, host_ns,
    line_with, ns_on_line, quoted_after,
};

testkit::cases!(
    as_root,
    unprivileged,
    as_root_libc,
    unprivileged_libc,
    variants_differ_in_one_line,
    help_exits_0,
    hostname_of_65_bytes_is_a_usage_error,
    unknown_option_is_a_usage_error,
    extra_argument_is_a_usage_error,
    refused_by_the_kernel,
    refused_by_the_kernel_libc,
);

fn example() -> Example {
    testkit::example!()
}

/// The kernel's facts in a successful run's output.
fn check_facts(out: &str, hostname: &str, variant: &str) {
    let host = host_hostname();
    let parent_uts = ns_on_line(out, "(parent) is in", "uts");
    let child_uts = ns_on_line(out, "(child) is in", "uts");
    assert_eq!(
        parent_uts,
        host_ns("uts"),
        "the parent starts in the host's"
    );
    assert_ne!(child_uts, parent_uts, "the child's UTS namespace is new");
    assert_eq!(
        quoted_after(line_with(out, "(parent) is in"), "nodename "),
        host
    );
    assert_eq!(
        quoted_after(line_with(out, "(child): sethostname("), "sethostname("),
        hostname
    );
    let child_uname = line_with(out, "(child): uname(&buf) -> ");
    assert_eq!(quoted_after(child_uname, "nodename "), hostname);
    assert_eq!(
        ns_on_line(out, "(child): uname(&buf) -> ", "uts"),
        child_uts
    );
    let parent_uname = line_with(out, "(parent): uname(&buf) -> ");
    assert_eq!(quoted_after(parent_uname, "nodename "), host);
    assert_eq!(
        ns_on_line(out, "(parent): uname(&buf) -> ", "uts"),
        parent_uts
    );
    assert!(line_with(out, "(parent): waitpid(").ends_with("exited with status 0"));
    assert!(
        line_with(out, "(parent) calls clone(CLONE_NEWUTS | SIGCHLD)")
            .contains(&format!(" through {variant}, ")),
        "{out}"
    );
}

fn check(user: User, args: &[&str], variant: &str, snapshot: &str) {
    let Some(ran) = example().run(user, args) else {
        return;
    };
    let out = ran.success();
    check_facts(out, "ernie", variant);
    insta::assert_snapshot!(snapshot, ran.normalized());
}

fn as_root() {
    check(User::Root, &[], "nix::sched::clone", "root");
}

fn unprivileged() {
    check(User::Unprivileged, &[], "nix::sched::clone", "unprivileged");
}

fn as_root_libc() {
    check(User::Root, &["--libc"], "libc::clone", "root_libc");
}

fn unprivileged_libc() {
    check(
        User::Unprivileged,
        &["--libc"],
        "libc::clone",
        "unprivileged_libc",
    );
}

/// Both ways print the same lines but the one naming the way.
fn variants_differ_in_one_line() {
    let name = "a".repeat(64);
    let runs: Option<Vec<String>> =
        [vec![name.as_str()], vec!["--libc", name.as_str()]]
            .iter()
            .map(|args| {
                let ran = example().run(User::Root, args)?;
                check_facts(
                    ran.success(),
                    &name,
                    if args[0] == "--libc" {
                        "libc::clone"
                    } else {
                        "nix::sched::clone"
                    },
                );
                Some(ran.normalized())
            })
            .collect();
    let Some(runs) = runs else {
        return;
    };
    let (nix, libc) = (runs[0].lines(), runs[1].lines());
    assert_eq!(runs[0].lines().count(), runs[1].lines().count());
    let differ: Vec<(&str, &str)> = nix.zip(libc).filter(|(a, b)| a != b).collect();
    assert_eq!(differ.len(), 1, "{differ:#?}");
    assert!(differ[0].0.contains("through nix::sched::clone"));
    assert!(differ[0].1.contains("through libc::clone"));
}

fn help_exits_0() {
    let out = assert_help(&example(), "Usage: ch03-clone-uts [--libc] [HOSTNAME]");
    assert!(out.contains("--libc"));
}

fn usage_error(args: &[&str], message: &str) {
    assert_usage_error(&example(), args, message);
}

fn hostname_of_65_bytes_is_a_usage_error() {
    let name = "a".repeat(65);
    let message = "the hostname is 65 bytes; the kernel takes at most 64";
    usage_error(&[&name], message);
    usage_error(&["--libc", &name], message);
}

fn unknown_option_is_a_usage_error() {
    usage_error(&["--nix"], "unknown option \"--nix\"");
    usage_error(&["-x", "ernie"], "unknown option \"-x\"");
}

fn extra_argument_is_a_usage_error() {
    usage_error(&["ernie", "bert"], "unexpected argument \"bert\"");
    usage_error(&["--libc", "ernie", "bert"], "unexpected argument \"bert\"");
}

/// With max_uts_namespaces at 0, clone fails with ENOSPC before any child
/// exists: the error names the call, the errno and the limit file.
fn refused(args: &[&str], call: &str) {
    let Some(ran) = example().run_with_zero_limit("uts", args) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains(&format!("error: {call} failed: ENOSPC")),
        "{err}"
    );
    assert!(err.contains("/proc/sys/user/max_uts_namespaces"), "{err}");
    assert!(!ran.stdout.contains("(child)"), "{}", ran.stdout);
}

fn refused_by_the_kernel() {
    refused(&[], "clone(CLONE_NEWUTS | SIGCHLD)");
}

fn refused_by_the_kernel_libc() {
    refused(
        &["--libc"],
        "libc::clone(child, stack_top, CLONE_NEWUTS | SIGCHLD, &args)",
    );
}
