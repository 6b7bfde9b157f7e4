//! Chapter 14 against the kernel: the example's own family of user, UTS,
//! IPC and PID namespaces, related by ioctl_ns(2). The walk up ends in
//! EPERM one step higher from the top process than from its child; the
//! owner uid of one user namespace reads differently from two heights;
//! NS_GET_PARENT on a UTS namespace is EINVAL, NS_GET_NSTYPE on a plain file
//! ENOTTY; the tree matches what the kernel shows from here and what
//! `lsns --tree=owner` draws; a zero user namespace limit is one error line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::process::Command;

use testkit::{
    Example, Ran, User, assert_help, assert_usage_error, host_ns, line_with,
    ns_on_line,
};

testkit::cases!(
    story_as_root,
    story_unprivileged,
    lsns_agrees_as_root,
    lsns_agrees_unprivileged,
    reuse_as_root,
    reuse_unprivileged,
    user_namespace_limit_reached,
    help_exits_0,
    usage_errors,
);

fn example() -> Example {
    testkit::example!()
}

/// The tests' own uid and gid, when not root, read as nobody's (65534), so
/// that the unprivileged snapshot is the one uid 65534 gives.
fn normalized(ran: &Ran) -> String {
    let mut text = ran.normalized();
    let own = nix::unistd::geteuid().as_raw();
    if ran.user == User::Unprivileged && own != 0 && own != 65534 {
        text = text.replace(&format!("uid {own}"), "uid 65534");
    }
    text
}

/// The uid the top process runs as, as the initial user namespace names it.
fn top_uid(user: User) -> u32 {
    match (user, nix::unistd::geteuid().as_raw()) {
        (User::Root, _) => 0,
        (User::Unprivileged, 0) => 65534,
        (User::Unprivileged, own) => own,
    }
}

/// Whether this kernel answers NS_GET_ID (Linux 6.18), asked here.
fn kernel_has_ns_get_id() -> bool {
    let file = std::fs::File::open("/proc/self/ns/uts").unwrap();
    workbook::nsfs::id(&file, "fd of \"/proc/self/ns/uts\"")
        .unwrap()
        .is_some()
}

/// Every `type:[inode] ns_id N` pair in `out`.
fn ns_ids(out: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for line in out.lines() {
        let mut rest = line;
        while let Some(at) = rest.find(" ns_id ") {
            let before = rest[..at].trim_end_matches([',', '(', ' ']);
            let ns = before.rsplit([' ', '─']).next().unwrap_or("");
            let id: String = rest[at + 7..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            pairs.push((ns.to_owned(), id));
            rest = &rest[at + 7..];
        }
    }
    pairs
}

/// The namespace an ioctl returned: the first after `-> fd of`.
fn answer(line: &str) -> String {
    let at = line.find("-> fd of").expect("-> fd of");
    ns_on_line(&line[at..], "", "user")
}

fn story(user: User) {
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    let out = ran.success();
    // NS_GET_ID came with Linux 6.18: before, every id reads `unknown` and
    // the snapshot (taken on 6.18) cannot match; the rest is checked.
    let has_ns_id = kernel_has_ns_get_id();
    if has_ns_id {
        insta::assert_snapshot!(user.to_string(), normalized(&ran));
    } else {
        assert_eq!(
            out.matches(" ns_id unknown (NS_GET_ID needs Linux 6.18)")
                .count(),
            out.matches(" ns_id ").count(),
            "{out}"
        );
        // The structural checks below still run; the case shows as ignored
        // (and fails under CI=true).
        testkit::skip::<()>(
            "no NS_GET_ID on this kernel (Linux 6.18 has it): the snapshot, taken on \
             6.18, is not compared",
        );
    }

    // The family: the child's user namespace is below the host's, the
    // grandchild's below the child's.
    let top_user = ns_on_line(out, "in user:[", "user");
    assert_eq!(
        top_user,
        host_ns("user"),
        "the top process stays in the tests' user namespace"
    );
    let middle = ns_on_line(out, "child of user:[", "user");
    let deep = ns_on_line(line_with(out, &format!("child of {middle}")), "", "user");
    assert_ne!(middle, top_user);
    assert_ne!(deep, middle);
    // The walk from the top: deep -> middle -> top, then EPERM at its own.
    let steps: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("NS_GET_PARENT) -> fd of user:["))
        .collect();
    assert_eq!(
        steps.len(),
        3,
        "the child's one step, the top's two:\n{out}"
    );
    assert_eq!(answer(steps[0]), middle);
    assert_eq!(answer(steps[1]), middle);
    assert_eq!(answer(steps[2]), top_user);
    let ends: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("NS_GET_PARENT) -> EPERM"))
        .collect();
    assert_eq!(
        ends.len(),
        3,
        "two user walks and one pid walk end in EPERM:\n{out}"
    );
    assert!(
        ends[0].contains(&format!("{middle} is this process's own user namespace")),
        "{out}"
    );
    assert!(
        ends[1]
            .contains(&format!("{top_user} is this process's own user namespace")),
        "{out}"
    );
    assert!(
        ends[2].contains(&format!(
            "{} is this process's own pid namespace",
            host_ns("pid")
        )),
        "{out}"
    );
    // One owner, two uids: 0 from the child, the real one from the top.
    let owner_uids: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("NS_GET_OWNER_UID, &uid) -> uid"))
        .collect();
    assert!(owner_uids[0].contains("-> uid 0,"), "{out}");
    assert!(
        owner_uids[1].contains(&format!("-> uid {}:", top_uid(user))),
        "{out}"
    );
    // The fd of unknown origin is the grandchild's user namespace.
    let typed = line_with(out, "NS_GET_NSTYPE) -> CLONE_NEWUSER");
    assert_eq!(ns_on_line(typed, "a user namespace,", "user"), deep);
    assert!(out.contains("NS_GET_PARENT) -> EINVAL"), "{out}");
    assert!(
        out.contains("\"/proc/self/status\", NS_GET_NSTYPE) -> ENOTTY"),
        "{out}"
    );
    // The tree: each user namespace under its parent, the deepest UTS
    // namespace under the deepest user namespace (lsns_agrees compares the
    // whole with lsns, while the processes are alive).
    let tree: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.contains("by owner"))
        .skip(1)
        .collect();
    assert_eq!(tree.len(), 10, "{out}");
    assert!(tree[0].starts_with(&top_user), "{out}");
    assert!(tree[4].starts_with(&format!("└─{middle}")), "{out}");
    assert!(tree[9].starts_with("    └─uts:["), "{out}");
    assert!(tree[8].starts_with(&format!("  └─{deep}")), "{out}");
    // NS_GET_ID: on 6.18+ every namespace has one; equal namespaces have
    // equal ids, different ones different ids.
    let pairs = ns_ids(out);
    assert!(pairs.len() >= 10, "{pairs:?}");
    if !has_ns_id {
        return;
    }
    let mut by_ns: HashMap<&str, &str> = HashMap::new();
    let mut by_id: HashMap<&str, &str> = HashMap::new();
    for (ns, id) in &pairs {
        assert!(
            !id.is_empty(),
            "{ns} has no ns_id: NS_GET_ID needs Linux 6.18\n{out}"
        );
        assert_eq!(*by_ns.entry(ns).or_insert(id), id.as_str(), "{ns}: two ids");
        assert_eq!(
            *by_id.entry(id).or_insert(ns),
            ns.as_str(),
            "id {id}: two namespaces"
        );
    }
}

fn story_as_root() {
    story(User::Root);
}

fn story_unprivileged() {
    story(User::Unprivileged);
}

/// lsns(8) got --tree in util-linux 2.38 (its release notes: "print
/// namespace tree based on the relationship").
fn lsns_has_tree() -> bool {
    let Ok(out) = Command::new("lsns").arg("--version").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().last().unwrap_or("");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (2, 38)
}

fn lsns_agrees(user: User) {
    if !lsns_has_tree() {
        return testkit::skip("lsns --tree needs util-linux 2.38 or newer")
            .unwrap_or(());
    }
    let Some(ran) = example().run(user, &["--lsns"]) else {
        return;
    };
    let out = ran.success();
    // Nine namespaces below a drawn owner (all but the top user namespace);
    // three below a drawn parent: user:[B], user:[C] and the new pid:[B].
    let owner = line_with(out, "lsns --tree=owner");
    assert!(
        owner.contains("the same owner for each of the 9 namespaces"),
        "{out}"
    );
    let parent = line_with(out, "lsns --tree=parent");
    assert!(
        parent.contains("the same parent for each of the 3 namespaces"),
        "{out}"
    );
}

fn lsns_agrees_as_root() {
    lsns_agrees(User::Root);
}

fn lsns_agrees_unprivileged() {
    lsns_agrees(User::Unprivileged);
}

/// A zero max_user_namespaces: the child's unshare is refused, one error
/// line with the call, the errno and the limit to raise.
fn user_namespace_limit_reached() {
    let Some(ran) = example().run_with_zero_limit("user", &[]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains("unshare(CLONE_NEWUSER) failed: ENOSPC"),
        "{err}"
    );
    assert!(err.contains("max_user_namespaces"), "{err}");
    assert!(!ran.stdout.contains("NS_GET_PARENT"), "{}", ran.stdout);
}

fn help_exits_0() {
    assert_help(&example(), "Usage: ch14-namespace-relations");
}

fn usage_errors() {
    assert_usage_error(&example(), &["tree"], "unknown mode \"tree\"");
    assert_usage_error(
        &example(),
        &["reuse", "--lsns"],
        "--lsns goes without reuse",
    );
    assert_usage_error(&example(), &["reuse", "x"], "unexpected argument \"x\"");
}

/// `reuse`: a new UTS namespace gets a freed one's inode, never its id.
fn reuse(user: User) {
    let Some(ran) = example().run(user, &["reuse"]) else {
        return;
    };
    let out = ran.success();
    if out.contains("none got the first one's inode again") {
        // Other programs made namespaces in between, every time: nothing
        // to compare, and nothing wrong, but nothing proved either.
        testkit::skip::<()>(&format!(
            "no inode reused in this run (a busy machine): run it again\n{out}"
        ));
        return;
    }
    if !kernel_has_ns_get_id() {
        // Before Linux 6.18 the two namespaces have no id to compare: the
        // example must not claim they differ.
        let again = line_with(out, " again: the first one's inode");
        assert!(again.contains("cannot be shown here"), "{out}");
        assert!(!out.contains("the same inode, another namespace"), "{out}");
        testkit::skip::<()>(
            "no NS_GET_ID on this kernel (Linux 6.18 has it): an inode reused, but no \
             ids to tell the two namespaces apart",
        );
        return;
    }
    insta::assert_snapshot!(format!("{user}-reuse"), normalized(&ran));
    let first = line_with(out, "the kernel frees it");
    let again = line_with(out, " again, but ns_id ");
    let made = |line: &str| {
        let at = line.find("CLONE_NEWUTS) -> ").unwrap();
        ns_on_line(&line[at..], "", "uts")
    };
    assert_eq!(made(first), made(again), "{out}");
    let ids = ns_ids(again);
    assert_eq!(ids.len(), 2, "{again}");
    assert_ne!(ids[0].1, ids[1].1, "the same ns_id twice: {again}");
}

fn reuse_as_root() {
    reuse(User::Root);
}

fn reuse_unprivileged() {
    reuse(User::Unprivileged);
}
