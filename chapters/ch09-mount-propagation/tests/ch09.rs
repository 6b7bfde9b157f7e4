//! Chapter 9 against the kernel: the propagation types as mountinfo shows
//! them after each step (peers share a group, a slave names its master, a
//! private mount receives nothing), the refusals the chapter meets (EINVAL
//! for a bind of an unbindable mount and for pivot_root twice, EPERM in a
//! mount namespace of another user namespace, ENOSPC with a zero limit),
//! and the host's propagation untouched: run in a throwaway mount namespace
//! whose `/` is shared as systemd makes it, not one mount event reaches it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use testkit::{
    Example, RunDir, User, assert_help, assert_usage_error, host_ns, line_with,
    ns_on_line, on_host, skip,
};

testkit::cases!(
    as_root,
    unprivileged,
    a_shared_host_root_sees_nothing,
    help_exits_0,
    extra_argument_is_a_usage_error,
    refused_mnt_namespace,
);

fn example() -> Example {
    testkit::example!()
}

/// `[("a", "shared:1"), ...]` from the first line with `marker` that has
/// `its mountinfo: ` (or `its mountinfo (filtered): `): the list up to its
/// explanation.
fn table(out: &str, marker: &str) -> Vec<(String, String)> {
    let line = out
        .lines()
        .filter(|l| l.contains("its mountinfo: ") || l.contains("its mountinfo ("))
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no mountinfo line with {marker:?} in:\n{out}"));
    let list = line.split("its mountinfo").nth(1).unwrap();
    let list = list.split_once(": ").unwrap().1;
    let list = list.split(": ").next().unwrap().split(" (").next().unwrap();
    list.split(", ")
        .map(|entry| {
            let (path, propagation) = entry.split_once(' ').unwrap();
            (path.to_owned(), propagation.to_owned())
        })
        .collect()
}

fn of<'a>(table: &'a [(String, String)], path: &str) -> Option<&'a str> {
    table
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, t)| t.as_str())
}

/// The number of `shared:N` or `master:N`.
fn group(propagation: Option<&str>) -> u64 {
    let p = propagation.expect("a mount that should be there");
    p.rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{p}"))
}

fn check(user: User, snapshot: &str) {
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    ran.assert_temp_dir_removed("ch09-mount-propagation");
    let out = ran.success();

    // Its own mount namespace, new.
    let first = line_with(out, ", unshare(CLONE_NEWNS) -> mnt:[");
    let (started, own) = first.split_once(", unshare(CLONE_NEWNS) -> ").unwrap();
    assert_eq!(ns_on_line(started, " in ", "mnt"), host_ns("mnt"));
    assert_ne!(ns_on_line(own, "mnt:[", "mnt"), host_ns("mnt"));

    // Peers: a and b in one group; a mount under a appears under b.
    let peers = table(out, "(one peer group)");
    assert!(of(&peers, "a").unwrap().starts_with("shared:"), "{peers:?}");
    assert_eq!(of(&peers, "a"), of(&peers, "b"));
    let x = table(out, "appeared under b");
    assert_eq!(of(&x, "a/x"), of(&x, "b/x"));
    assert!(of(&x, "a/x").is_some());

    // A slave: receives from a's group, sends nothing.
    let slave = table(out, "did not leave");
    assert_eq!(group(of(&slave, "c")), group(of(&peers, "a")));
    assert!(of(&slave, "c").unwrap().starts_with("master:"));
    assert_eq!(group(of(&slave, "c/y")), group(of(&slave, "a/y")));
    assert_eq!(of(&slave, "c/z"), Some("private"));
    assert_eq!(of(&slave, "a/z"), None);
    assert_eq!(of(&slave, "b/z"), None);

    // Private: nothing arrives. Unbindable: a bind is refused.
    let private = table(out, "not the private d");
    assert_eq!(of(&private, "d"), Some("private"));
    assert!(of(&private, "c/w").is_some());
    assert_eq!(of(&private, "d/w"), None);
    let refusal = line_with(out, "MS_BIND, NULL) failed: ");
    assert!(
        refusal.trim_start().starts_with("error: mount(\""),
        "{refusal}"
    );
    assert!(
        refusal.ends_with("failed: EINVAL: Invalid argument"),
        "{refusal}"
    );
    assert!(out.contains("is on an unbindable mount"), "{out}");

    // Unmounts propagate like mounts.
    let unmounted = table(out, "went with them");
    for gone in ["a/w", "a/x", "a/y", "b/w", "b/x", "b/y", "c/w", "c/y"] {
        assert_eq!(of(&unmounted, gone), None, "{gone}: {unmounted:?}");
    }
    assert_eq!(of(&unmounted, "c/z"), Some("private"));
    assert!(of(&unmounted, "a/p").is_some());

    // A copy by the same user namespace: peers across namespaces.
    let copy = table(out, "owned by user:[");
    assert_eq!(of(&copy, "a"), of(&peers, "a"));
    let back = table(out, "came from the copy");
    assert!(of(&back, "a/p").is_some() && of(&back, "b/p").is_some());

    // A less privileged copy: EPERM before it owns its mount namespace,
    // slaves after, nothing comes back, the master's mounts arrive.
    let eperm = line_with(out, "\"size=1M\") failed: EPERM");
    assert!(eperm.contains("/a/q\""), "{eperm}");
    assert!(
        out.contains("unshare(CLONE_NEWNS) after unshare(CLONE_NEWUSER)"),
        "{out}"
    );
    let slaves = table(out, "less privileged");
    assert_eq!(group(of(&slaves, "a")), group(of(&peers, "a")));
    assert!(
        of(&slaves, "a").unwrap().starts_with("master:"),
        "{slaves:?}"
    );
    assert_eq!(of(&table(out, "did not come back"), "a/q"), None);
    let arrived = table(out, "arrived from its master");
    assert!(of(&arrived, "a/s").unwrap().starts_with("master:"));

    // pivot_root: two EINVALs, each with its fix, then the old root gone.
    let pivots: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("error: pivot_root("))
        .collect();
    assert_eq!(pivots.len(), 2, "{out}");
    assert!(
        pivots
            .iter()
            .all(|l| l.ends_with("failed: EINVAL: Invalid argument"))
    );
    assert!(out.contains(
        "is not a mount point (pivot_root(2), EINVAL): bind it onto itself"
    ));
    assert!(out.contains("is shared (shared:"), "{out}");
    assert!(line_with(out, "and chdir(\"/\"): / is").ends_with("{hello, old}"));
    assert!(line_with(out, "rmdir(\"/old\"): / is").ends_with("{hello}"));
    let escapes: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("chroot(\".\"): stat(\"/proc/self\") -> "))
        .collect();
    assert_eq!(escapes.len(), 2, "{out}");
    assert!(
        escapes[0].contains("-> ENOENT"),
        "pivot_root: {}",
        escapes[0]
    );
    assert!(escapes[1].contains("-> exists"), "chroot: {}", escapes[1]);
    assert!(
        line_with(out, "/mountinfo lists ").ends_with("lists 1 mount(s): / tmpfs")
    );
    assert!(
        line_with(out, "every mount below it with it").contains("nothing is left")
    );

    insta::assert_snapshot!(snapshot, ran.normalized());
}

fn as_root() {
    check(User::Root, "root");
}

fn unprivileged() {
    check(User::Unprivileged, "unprivileged");
}

/// The proof that the host's propagation is never changed. This machine's
/// `/` is private, so a leak could not show on it; systemd's is shared. So
/// a holder process (cat, waiting on its stdin) gets a throwaway mount
/// namespace, cut from the host first (MS_REC | MS_PRIVATE) and then made
/// MS_REC | MS_SHARED as systemd leaves `/`. The example runs in it
/// (setns(2) before exec). Every mount or unmount in a namespace is an
/// event on its mountinfo (proc(5): poll(2) reports POLLPRI); had one mount
/// of the example propagated into the holder's namespace, even one undone
/// since, poll says so. Root only: uid 65534 cannot join that namespace,
/// and its own copies are less privileged, so slaves, anyway.
fn a_shared_host_root_sees_nothing() {
    if !nix::unistd::geteuid().is_root() {
        return skip("the shared-/ holder needs root (`cargo test-root`)")
            .unwrap_or(());
    }
    let mut holder = Command::new("cat");
    holder.stdin(Stdio::piped()).stdout(Stdio::null());
    // Safety: runs in the forked child before exec: plain system calls on
    // static strings.
    unsafe {
        holder.pre_exec(|| {
            let check = |ret: libc::c_int| match ret {
                -1 => Err(std::io::Error::last_os_error()),
                _ => Ok(()),
            };
            check(libc::unshare(libc::CLONE_NEWNS))?;
            for flags in [libc::MS_PRIVATE, libc::MS_SHARED] {
                check(libc::mount(
                    std::ptr::null(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | flags,
                    std::ptr::null(),
                ))?;
            }
            Ok(())
        });
    }
    let dir = RunDir::new();
    let Some(prepared) = example().in_dir(&dir).prepare(User::Root) else {
        return;
    };
    let holder = Holder(holder.spawn().expect("start the holder"));
    let pid = holder.0.id();
    let ns = File::open(format!("/proc/{pid}/ns/mnt")).expect("holder's ns");
    let mut mountinfo =
        File::open(format!("/proc/{pid}/mountinfo")).expect("holder's mountinfo");
    let mut before = String::new();
    mountinfo.read_to_string(&mut before).unwrap();
    let root_line = before
        .lines()
        .find(|l| l.split(' ').nth(4) == Some("/"))
        .expect("a / line");
    assert!(
        root_line.contains(" shared:"),
        "the holder's / is not shared: {root_line}"
    );

    let mut command = prepared.command;
    let ns_fd = ns.as_raw_fd();
    // Safety: as above; setns(2) on an fd the test opened and keeps open.
    unsafe {
        command.pre_exec(move || match libc::setns(ns_fd, libc::CLONE_NEWNS) {
            -1 => Err(std::io::Error::last_os_error()),
            _ => Ok(()),
        });
    }
    command.env("TMPDIR", dir.path());
    let output =
        on_host(&dir, || Some(command.output().expect("run the example"))).unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // It started in the holder's namespace and left it for its own.
    let holder_ns = std::fs::read_link(format!("/proc/{pid}/ns/mnt")).unwrap();
    assert!(
        stdout.contains(&format!("nothing below reaches {}", holder_ns.display()))
    );

    let mut poll = libc::pollfd {
        fd: mountinfo.as_raw_fd(),
        events: libc::POLLPRI,
        revents: 0,
    };
    // Safety: one valid pollfd, zero timeout.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    let mut after = String::new();
    File::open(format!("/proc/{pid}/mountinfo"))
        .unwrap()
        .read_to_string(&mut after)
        .unwrap();
    drop(holder);
    assert_eq!(
        ready, 0,
        "a mount event reached the shared namespace the example ran in: one of its mounts \
         propagated (was / made private first?)\n{stdout}"
    );
    assert_eq!(before, after, "the shared namespace's mount table changed");
}

/// The holder process: closing its stdin ends it (cat reads end-of-file),
/// and it is reaped, on every path of the test, a failed assertion too.
struct Holder(std::process::Child);

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

fn help_exits_0() {
    assert_help(&example(), "Usage: ch09-mount-propagation");
}

fn extra_argument_is_a_usage_error() {
    assert_usage_error(&example(), &["now"], "unexpected argument \"now\"");
}

/// With max_mnt_namespaces at 0 the first unshare fails with ENOSPC: one
/// error line with the call, and the hint names the limit.
fn refused_mnt_namespace() {
    let Some(ran) = example().run_with_zero_limit("mnt", &[]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains("error: unshare(CLONE_NEWNS) failed: ENOSPC"),
        "{err}"
    );
    assert!(err.contains("/proc/sys/user/max_mnt_namespaces"), "{err}");
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
}
