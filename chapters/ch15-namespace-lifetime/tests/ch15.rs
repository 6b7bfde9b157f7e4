//! Chapter 15 against the kernel: in each step the namespace is alive while
//! its one holder holds it and gone after, by the example's account; and
//! after the run, every namespace it printed is gone by this test's own
//! account: a file handle built from the printed id, type and inode, which
//! open_by_handle_at(2) refuses with ESTALE (while the same construction for
//! this test's own UTS namespace opens, so the check can fail).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::process::Stdio;

use nix::errno::Errno;
use testkit::{
    Example, Ran, RunDir, User, assert_help, assert_usage_error, host_hostname,
    host_ns, on_host,
};
use workbook::nsfs;
use workbook::nsfs_handle::Handle;

testkit::cases!(
    as_root,
    unprivileged,
    help_exits_0,
    extra_argument_is_a_usage_error,
    uts_namespace_limit_reached,
    net_namespace_limit_reached_after_six_steps,
    open_by_handle_at_refused,
    a_handle_built_from_parts_opens_a_live_namespace,
);

fn example() -> Example {
    testkit::example!()
}

/// What each step proves alive, and then gone, in this order.
const STEPS: [(&[&str], &[&str]); 7] = [
    (&["uts"], &["uts"]),
    (&["uts"], &["uts"]),
    (&["uts"], &["uts"]),
    (&["user"], &["uts", "user"]),
    (&["pid"], &["pid", "pid"]),
    (&["pid", "time"], &["pid", "time"]),
    (&["net"], &["net"]),
];

/// A namespace as a line names it: `uts:[4026532669]` and its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Seen {
    ns: String,
    id: u64,
}

impl Seen {
    fn ns_type(&self) -> &str {
        &self.ns[..self.ns.find(":[").unwrap()]
    }
    fn inode(&self) -> u32 {
        self.ns[self.ns.find('[').unwrap() + 1..self.ns.len() - 1]
            .parse()
            .unwrap()
    }
    /// The handle the kernel would give for it (fs/nsfs.c, 6.18).
    fn handle(&self) -> Handle {
        let flag = match self.ns_type() {
            "uts" => libc::CLONE_NEWUTS,
            "user" => libc::CLONE_NEWUSER,
            "pid" => libc::CLONE_NEWPID,
            "time" => libc::CLONE_NEWTIME,
            "net" => libc::CLONE_NEWNET,
            other => panic!("no step makes a {other} namespace"),
        };
        Handle::from_parts(self.id, flag, self.inode())
    }
}

fn number_after(line: &str, marker: &str) -> u64 {
    let at = line
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in {line}"));
    let digits: String = line[at + marker.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// `type:[inode]` right after `marker` on `line`.
fn ns_after(line: &str, marker: &str) -> String {
    let at = line
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in {line}"));
    let rest = &line[at + marker.len()..];
    rest[..=rest.find(']').unwrap()].to_owned()
}

/// The lines of each step, `step N:` headers excluded; step 0 is before.
fn steps(out: &str) -> Vec<Vec<&str>> {
    let mut steps = vec![Vec::new()];
    for line in out.lines() {
        match line.starts_with("step ") {
            true => steps.push(Vec::new()),
            false => steps.last_mut().unwrap().push(line),
        }
    }
    steps
}

/// Check one run's story; returns every namespace it proved gone.
fn check_story(out: &str) -> Vec<Seen> {
    let steps = steps(out);
    assert_eq!(steps.len(), 1 + STEPS.len(), "{out}");
    let mut gone_all = Vec::new();
    for (n, ((alive_types, dead_types), lines)) in
        STEPS.iter().zip(&steps[1..]).enumerate()
    {
        let step = n + 1;
        let alive: Vec<Seen> = lines
            .iter()
            .filter(|l| l.contains(") -> fd of "))
            .map(|l| {
                let seen = Seen {
                    ns: ns_after(l, ") -> fd of "),
                    id: number_after(l, "{ns_id "),
                };
                assert_eq!(
                    seen.id,
                    number_after(l, "NS_GET_ID "),
                    "step {step}: {l}"
                );
                seen
            })
            .collect();
        let gone: Vec<Seen> = lines
            .iter()
            .filter(|l| l.contains(") -> ESTALE: "))
            .map(|l| Seen {
                ns: ns_after(l, ") -> ESTALE: "),
                id: number_after(l, "{ns_id "),
            })
            .collect();
        let types = |v: &[Seen]| {
            v.iter().map(|s| s.ns_type().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(
            types(&alive),
            *alive_types,
            "step {step}:\n{}",
            lines.join("\n")
        );
        assert_eq!(
            types(&gone),
            *dead_types,
            "step {step}:\n{}",
            lines.join("\n")
        );
        // Proved alive first, then gone: the same namespace, the same id.
        for seen in &alive {
            assert!(
                gone.contains(seen),
                "step {step}: {seen:?} never proved gone"
            );
            let first_alive = lines
                .iter()
                .position(|l| l.contains(&format!("-> fd of {}", seen.ns)));
            let first_gone = lines
                .iter()
                .position(|l| l.contains(&format!("-> ESTALE: {}", seen.ns)));
            assert!(first_alive < first_gone, "step {step}: gone before alive");
        }
        for seen in &gone {
            assert_ne!(seen.ns, host_ns(seen.ns_type()), "step {step}: the host's");
        }
        gone_all.extend(gone);
    }
    // The kernel's links between them, as the example read them.
    let text = |step: usize| steps[step].join("\n");
    let owner = ns_after(&text(4), "NS_GET_USERNS) -> ");
    assert_eq!(owner, ns_after(&text(4), "-> fd of "), "NS_GET_USERNS");
    let parent = ns_after(&text(5), "NS_GET_PARENT) -> ");
    assert_eq!(parent, ns_after(&text(5), "-> fd of "), "NS_GET_PARENT");
    let socket = ns_after(&text(7), "SIOCGSKNS) -> ");
    assert_eq!(socket, ns_after(&text(7), "unshare(CLONE_NEWNET) -> "));
    assert_eq!(socket, ns_after(&text(7), "-> fd of "), "SIOCGSKNS");
    // Step 6: the keeper is in neither namespace it points at.
    for line in steps[6].iter().filter(|l| l.contains("-> fd of ")) {
        let held = ns_after(line, "-> fd of ");
        assert_ne!(held, ns_after(line, "; it is in "), "{line}");
    }
    // Ids are never reused, inodes may be: one id per namespace.
    let ids: HashSet<u64> = gone_all.iter().map(|s| s.id).collect();
    assert_eq!(
        ids.len(),
        gone_all.len(),
        "an id named two namespaces:\n{out}"
    );
    gone_all
}

/// This test asks the kernel itself: every namespace the run proved gone
/// is gone (ESTALE), by a handle made from what it printed.
fn assert_gone_now(gone: &[Seen]) {
    for seen in gone {
        match seen.handle().open() {
            Err(err) if err.errno() == Some(Errno::ESTALE) => {}
            Err(err) => panic!("{seen:?}: {err}"),
            Ok(_) => panic!("{seen:?} is still alive after the run"),
        }
    }
}

/// The snapshot's text: the run's TMPDIR as /tmp; inodes made distinct per
/// step (the kernel hands a freed inode number out again, so a later step's
/// namespace may have an earlier one's inode: labels must not say they are
/// the same); ids as `<I1>`, `<I2>`... by first appearance.
fn normalized(ran: &Ran) -> String {
    let mut text = ran.stdout.clone();
    if let Some(at) = text.find("/ch15-namespace-lifetime.") {
        let start = text[..at].rfind('"').unwrap() + 1;
        let dir = text[start..at].to_owned();
        text = text.replace(&dir, "/tmp");
    }
    let mut step = 0;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.starts_with("step ") {
            step += 1;
        }
        lines.push(match step {
            0 => line.to_owned(),
            _ => suffix_inodes(line, step),
        });
    }
    // Ids first, on both spellings, so that `NS_GET_ID 7` and `ns_id 7` get
    // one label (normalize would label only the second).
    let text = label_ids(&(lines.join("\n") + "\n"));
    workbook::normalize::normalize(&text, &host_hostname(), "/tmp")
}

fn suffix_inodes(line: &str, step: usize) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(":[") {
        let digits = rest[at + 2..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        out.push_str(&rest[..at + 2 + digits]);
        if digits > 0 && rest[at + 2 + digits..].starts_with(']') {
            out.push_str(&format!("{step:02}"));
        }
        rest = &rest[at + 2 + digits..];
    }
    out.push_str(rest);
    out
}

fn label_ids(text: &str) -> String {
    let mut labels: HashMap<String, usize> = HashMap::new();
    let mut out = String::new();
    let mut rest = text;
    loop {
        let next = ["ns_id ", "NS_GET_ID "]
            .iter()
            .filter_map(|m| rest.find(m).map(|at| (at, m.len())))
            .min();
        let Some((at, len)) = next else { break };
        let digits: String = rest[at + len..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        out.push_str(&rest[..at + len]);
        if digits.is_empty() {
            rest = &rest[at + len..];
            continue;
        }
        let n = labels.len() + 1;
        out.push_str(&format!("<I{}>", labels.entry(digits.clone()).or_insert(n)));
        rest = &rest[at + len + digits.len()..];
    }
    out.push_str(rest);
    out
}

fn check(user: User, snapshot: &str) {
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    let out = ran.success();
    assert_eq!(out.contains("not root (uid "), user == User::Unprivileged);
    let gone = check_story(out);
    assert_gone_now(&gone);
    insta::assert_snapshot!(snapshot, normalized(&ran));
}

fn as_root() {
    check(User::Root, "root");
}

fn unprivileged() {
    check(User::Unprivileged, "unprivileged");
}

fn help_exits_0() {
    assert_help(&example(), "Usage: ch15-namespace-lifetime");
}

fn extra_argument_is_a_usage_error() {
    assert_usage_error(&example(), &["now"], "unexpected argument \"now\"");
}

/// max_uts_namespaces is 0: the first keeper's unshare fails with ENOSPC,
/// one error line with the call, then the parent's.
fn uts_namespace_limit_reached() {
    let Some(ran) = example().run_with_zero_limit("uts", &[]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains("error: unshare(CLONE_NEWUTS) failed: ENOSPC"),
        "{err}"
    );
    assert!(
        err.contains("hint: /proc/sys/user/max_uts_namespaces is 0"),
        "{err}"
    );
    assert!(err.contains("exited with status 1"), "{err}");
    assert!(!ran.stdout.contains("ESTALE"), "{}", ran.stdout);
}

/// max_net_namespaces is 0: six steps run, the seventh is refused.
fn net_namespace_limit_reached_after_six_steps() {
    let Some(ran) = example().run_with_zero_limit("net", &[]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains("error: unshare(CLONE_NEWNET) failed: ENOSPC"),
        "{err}"
    );
    assert!(
        err.contains("hint: /proc/sys/user/max_net_namespaces is 0"),
        "{err}"
    );
    assert_eq!(steps(&ran.stdout).len(), 8, "{}", ran.stdout);
    assert!(ran.stdout.contains("time:["), "{}", ran.stdout);
}

/// open_by_handle_at(2) refused (a seccomp filter, as a container runtime
/// might have): the error names the call, EPERM, and the two causes.
fn open_by_handle_at_refused() {
    let Some(mut prepared) = example().prepare(User::Root) else {
        return;
    };
    testkit::limit::with_seccomp_eperm(
        &mut prepared.command,
        &[libc::SYS_open_by_handle_at],
    );
    let dir = RunDir::new();
    let output = on_host(&dir, || {
        Some(
            prepared
                .command
                .env("TMPDIR", dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .output()
                .unwrap(),
        )
    })
    .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: open_by_handle_at(FD_NSFS_ROOT, {ns_id ")
            && err.contains("}, O_RDONLY | O_CLOEXEC) failed: EPERM"),
        "{err}"
    );
    assert!(
        err.contains("hint: pass an nsfs fd or FD_NSFS_ROOT as the first argument"),
        "{err}"
    );
}

/// The control for `assert_gone_now`: the same construction names a live
/// namespace (this test's own UTS namespace) well enough to open it.
fn a_handle_built_from_parts_opens_a_live_namespace() {
    let path = "/proc/thread-self/ns/uts";
    let from_path = Handle::of_path(path).unwrap();
    let fd = from_path.open().unwrap();
    let id = nsfs::id(&fd, path).unwrap().unwrap();
    assert_eq!(id, from_path.id());
    let inode = host_ns("uts");
    let seen = Seen { ns: inode, id };
    assert!(seen.handle().is_alive().unwrap(), "{seen:?}");
    let wrong = Seen {
        id: u64::MAX,
        ..seen
    };
    assert!(!wrong.handle().is_alive().unwrap());
}
