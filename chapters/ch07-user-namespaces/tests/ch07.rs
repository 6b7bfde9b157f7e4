//! Chapter 7 against the kernel: a child cloned into a new user namespace is
//! the overflow uid with every capability until its parent writes its maps
//! (root: a range; anyone else: their own id, after `deny` to setgroups);
//! its capabilities do not reach the host's UTS namespace, and a UTS
//! namespace it creates belongs to its user namespace. `nest` goes 33
//! levels down. Every refusal is one error line with the call and a hint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use testkit::{
    Example, Ran, User, assert_help, assert_usage_error, host_hostname, host_ns,
};
use testkit::{line_with, ns_on_line, quoted_after};

testkit::cases!(
    story_as_root,
    story_unprivileged,
    nest_as_root,
    nest_unprivileged,
    nest_counts_from_where_it_starts,
    nest_below_a_count_limit_is_an_error,
    root_of_a_small_user_namespace_maps_its_own_ids,
    without_maps_setgid_is_einval,
    user_namespace_limit_reached,
    nest_with_a_zero_limit_is_an_error,
    help_exits_0,
    usage_errors,
);

fn example() -> Example {
    testkit::example!()
}

/// nobody's id: the unprivileged user when the tests are root, and the id
/// the snapshots show for any user who is not.
const NOBODY: &str = "65534";

/// The output, normalised, and then made the same for every user and
/// kernel: a capability mask (whose width depends on the kernel's
/// cap_last_cap) reads `<mask>`; a tests' own uid and gid other than
/// nobody's read as nobody's, so that the unprivileged snapshot is the one
/// uid 65534 gives (the overflow uid, also 65534, is printed as it is).
fn normalized(ran: &Ran) -> String {
    let mut text = mask_caps(&ran.normalized());
    if ran.user == User::Unprivileged && !nix::unistd::geteuid().is_root() {
        for id in [
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        ] {
            text = replace_number(&text, &id.to_string(), NOBODY);
        }
    }
    text
}

fn mask_caps(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("CapEff ") {
        let (head, tail) = rest.split_at(at + "CapEff ".len());
        out.push_str(head);
        let hex = tail.chars().take_while(char::is_ascii_hexdigit).count();
        out.push_str("<mask>");
        rest = &tail[hex..];
    }
    out.push_str(rest);
    out
}

/// Replace `from` where it is a whole number (not part of a longer one).
fn replace_number(text: &str, from: &str, to: &str) -> String {
    if from == to {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        out.push_str(if digits == from { to } else { &digits });
        digits.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// The mask of the capability set on the line with `marker`.
fn cap_mask(out: &str, marker: &str) -> u64 {
    let line = line_with(out, marker);
    let hex = line.split("CapEff ").nth(1).expect("CapEff on the line");
    let hex: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
    u64::from_str_radix(&hex, 16).unwrap()
}

/// Every capability this kernel knows: bits 0 to cap_last_cap.
fn all_caps() -> u64 {
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (1u64 << (last + 1)) - 1
}

fn story(user: User) {
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    let out = ran.success();
    insta::assert_snapshot!(user.to_string(), normalized(&ran));

    let parent_user = ns_on_line(out, "(parent): uid", "user");
    assert_eq!(parent_user, host_ns("user"));
    let child_user = ns_on_line(out, "a new user namespace", "user");
    assert_ne!(child_user, parent_user, "the child's user namespace is new");
    // Before any map: the overflow ids, and every capability.
    let overflow = std::fs::read_to_string("/proc/sys/kernel/overflowuid").unwrap();
    let before = line_with(out, "a new user namespace");
    assert!(
        before.contains(&format!("getuid() -> {}", overflow.trim())),
        "{before}"
    );
    assert_eq!(cap_mask(out, "(child): CapEff"), all_caps());
    assert_eq!(cap_mask(out, "/status shows CapEff"), all_caps());
    assert!(out.contains("uid_map is empty"), "{out}");
    // The maps, as this user may write them.
    match user {
        User::Root => {
            assert!(out.contains("\"0 100000 65536\"), the same to gid_map -> ok"));
            // Its uid (0 outside) is outside the range until setuid(0).
            assert!(out.contains("released; getuid() -> 65534"), "{out}");
        }
        User::Unprivileged => {
            assert_eq!(cap_mask(out, "(parent): uid"), 0, "not root: no capability");
            assert!(
                out.contains("\"0 100000 65536\") -> EPERM: without CAP_SETUID")
            );
            assert!(
                out.contains("gid_map\", \"0 ")
                    && out.contains("-> EPERM: setgroups")
            );
            assert!(out.contains("setgroups\", \"deny\"), then write"), "{out}");
            assert!(out.contains("released; getuid() -> 0"), "{out}");
        }
    }
    assert!(out.contains("-> EPERM: a map is written once"), "{out}");
    assert!(out.contains("setuid(0) -> getuid() 0"), "{out}");
    // Files through the map: / belongs to an unmapped uid.
    assert!(out.contains("stat(\"/\") -> st_uid 65534"), "{out}");
    // The host's UTS namespace refuses; the child's own one is owned by its
    // user namespace.
    let refused = line_with(out, "-> EPERM: uts:[");
    assert_eq!(ns_on_line(refused, "", "uts"), host_ns("uts"));
    let owned = line_with(out, "unshare(CLONE_NEWUTS) ->");
    assert_ne!(ns_on_line(owned, "", "uts"), host_ns("uts"));
    assert_eq!(ns_on_line(owned, "NS_GET_USERNS) ->", "user"), child_user);
    let set = line_with(out, "sethostname(\"ch07-child\"");
    assert_eq!(quoted_after(set, "hostname "), "ch07-child");
    assert_eq!(
        quoted_after(line_with(out, "unchanged"), "hostname "),
        host_hostname()
    );
}

fn story_as_root() {
    story(User::Root);
}

fn story_unprivileged() {
    story(User::Unprivileged);
}

/// Levels below the start, counted from the output.
fn levels(out: &str) -> usize {
    out.lines().filter(|l| l.contains("(level +")).count()
}

fn nest(user: User) {
    let Some(ran) = example().run(user, &["nest"]) else {
        return;
    };
    let out = ran.success();
    insta::assert_snapshot!(format!("{user}-nest"), normalized(&ran));
    // 33 below the initial one (kernel/user_namespace.c; checked on 6.18).
    // Inside a user namespace (a container), as many as the example proved
    // it could make: its level is the suite's, which nothing here can read.
    let map =
        std::fs::read_to_string("/proc/self/uid_map").expect("/proc/self/uid_map");
    let initial =
        map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"];
    let expected = if initial {
        assert!(out.contains("\"0 0 4294967295\", the initial user namespace"));
        assert!(out.contains("started at level 0"), "{out}");
        33
    } else {
        assert!(out.contains("not the initial user namespace"), "{out}");
        let level = out
            .split("started at level ")
            .nth(1)
            .and_then(|rest| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .expect("the level it started at");
        assert!((1..=33).contains(&level), "{out}");
        33 - level
    };
    assert_eq!(levels(out), expected, "{out}");
    assert!(
        out.contains(&format!("-> ENOSPC after {expected} levels")),
        "{out}"
    );
    // Every level is new; read from the start, the deepest maps to our uid.
    let users: std::collections::HashSet<_> = out
        .lines()
        .filter(|l| l.contains("(level +"))
        .map(|l| ns_on_line(l, "", "user"))
        .collect();
    assert_eq!(users.len(), expected, "{out}");
    let uid = match (user, nix::unistd::geteuid().as_raw()) {
        (User::Root, _) => "0".to_owned(),
        (User::Unprivileged, 0) => NOBODY.to_owned(),
        (User::Unprivileged, own) => own.to_string(),
    };
    let composed = line_with(out, "every level's map, composed");
    assert_eq!(quoted_after(composed, "uid_map is "), format!("0 {uid} 1"));
}

fn nest_as_root() {
    nest(User::Root);
}

fn nest_unprivileged() {
    nest(User::Unprivileged);
}

/// Run the example as root of a user namespace that maps one id, made by
/// util-linux's `unshare --user --map-root-user`, as the unprivileged user.
fn in_small_user_namespace(args: &[&str]) -> Option<String> {
    let prepared = example().prepare(User::Unprivileged)?;
    let program = prepared.command.get_program().to_owned();
    let mut cmd = Command::new("unshare");
    cmd.args(["--user", "--map-root-user"])
        .arg(&program)
        .args(args);
    if nix::unistd::geteuid().is_root() {
        use std::os::unix::process::CommandExt;
        cmd.uid(65534).gid(65534).current_dir("/");
    }
    let output = cmd.output().expect("unshare(1) from util-linux");
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{out}\n{err}");
    Some(out)
}

/// Root there holds CAP_SETUID, but ids 100000... are not mapped: it maps
/// its own ids, and says why.
fn root_of_a_small_user_namespace_maps_its_own_ids() {
    let Some(out) = in_small_user_namespace(&[]) else {
        return;
    };
    assert!(
        out.contains("CAP_SETUID here, but ids 100000 to 165535"),
        "{out}"
    );
    // The host's root is mapped there only if the tests' user is root.
    let stat_root = line_with(&out, "stat(\"/\") ->");
    let overflow = stat_root.contains("st_uid 65534 (the overflow uid");
    let mapped = stat_root.contains("st_uid 0 (its owner is mapped here)");
    assert!(overflow || mapped, "{stat_root}");
    assert!(
        out.contains("belongs to a user namespace above user:["),
        "{out}"
    );
    assert!(out.contains("sethostname(\"ch07-child\") -> 0"), "{out}");
}

/// Started one level down, it makes one level fewer and says it started at
/// level 1.
fn nest_counts_from_where_it_starts() {
    let Some(out) = in_small_user_namespace(&["nest"]) else {
        return;
    };
    assert!(out.contains("not the initial user namespace"), "{out}");
    assert_eq!(levels(&out), 32, "{out}");
    assert!(out.contains("started at level 1"), "{out}");
}

/// Started one level down where max_user_namespaces is 5: ENOSPC after 5
/// levels is the count, not the depth, and the example says no level.
fn nest_below_a_count_limit_is_an_error() {
    let Some(prepared) = example().prepare(User::Unprivileged) else {
        return;
    };
    let program = prepared.command.get_program().to_owned();
    let mut cmd = Command::new("unshare");
    // The limit of the namespace unshare(1) makes, set by its root: the
    // host's sysctl is not touched.
    cmd.args(["--user", "--map-root-user", "sh", "-c"])
        .arg("echo 5 > /proc/sys/user/max_user_namespaces && exec \"$0\" nest")
        .arg(&program);
    if nix::unistd::geteuid().is_root() {
        use std::os::unix::process::CommandExt;
        cmd.uid(65534).gid(65534).current_dir("/");
    }
    let output = cmd.output().expect("unshare(1) from util-linux");
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{out}\n{err}");
    assert_eq!(levels(&out), 5, "{out}");
    assert!(!out.contains("started at level"), "{out}");
    assert!(
        err.contains("unshare(CLONE_NEWUSER) failed: ENOSPC"),
        "{err}"
    );
    assert!(err.contains("max_user_namespaces"), "{err}");
}

/// --no-map: the child has no mapping for 0, and setgid(0) says so.
fn without_maps_setgid_is_einval() {
    for user in [User::Root, User::Unprivileged] {
        let Some(ran) = example().run(user, &["--no-map"]) else {
            continue;
        };
        let err = ran.failure(1);
        // The same lines for both users.
        insta::assert_snapshot!("no-map", ran.normalized_stderr());
        assert!(err.contains("setgid(0) failed: EINVAL"), "{err}");
        assert!(
            err.contains("hint: ") && err.contains("/proc/PID/gid_map"),
            "{err}"
        );
        assert!(
            ran.stdout.contains("--no-map: writes no map"),
            "{}",
            ran.stdout
        );
        assert!(!ran.stdout.contains("sethostname"), "{}", ran.stdout);
    }
}

/// A zero max_user_namespaces: the clone is refused, one error line.
fn user_namespace_limit_reached() {
    let Some(ran) = example().run_with_zero_limit("user", &[]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains("clone(CLONE_NEWUSER | SIGCHLD) failed: ENOSPC"),
        "{err}"
    );
    assert!(err.contains("max_user_namespaces"), "{err}");
    assert!(!ran.stdout.contains("(child)"), "{}", ran.stdout);
}

/// In nest mode, ENOSPC before the first level is a limit, not the depth.
fn nest_with_a_zero_limit_is_an_error() {
    let Some(ran) = example().run_with_zero_limit("user", &["nest"]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains("unshare(CLONE_NEWUSER) failed: ENOSPC"),
        "{err}"
    );
    assert!(err.contains("max_user_namespaces"), "{err}");
    assert!(!ran.stdout.contains("(level +"), "{}", ran.stdout);
}

fn help_exits_0() {
    assert_help(&example(), "Usage: ch07-user-namespaces");
}

fn usage_errors() {
    assert_usage_error(&example(), &["deep"], "unknown mode \"deep\"");
    assert_usage_error(
        &example(),
        &["nest", "--no-map"],
        "--no-map goes without nest",
    );
    assert_usage_error(&example(), &["nest", "x"], "unexpected argument \"x\"");
}
