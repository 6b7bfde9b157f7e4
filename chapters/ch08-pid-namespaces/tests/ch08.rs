//! Chapter 8 against the kernel: unshare(CLONE_NEWPID) leaves the caller
//! where it was; its first child is PID 1 of a new PID namespace, with its
//! own /proc, an orphan it reaps, a SIGKILL from inside it survives and a
//! nested namespace; killed from outside, it takes the namespace with it
//! and fork(2) into it fails with ENOMEM. The host is left as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use testkit::{
    Example, User, assert_help, assert_usage_error, host_ns, line_with, ns_on_line,
};

testkit::cases!(
    as_root,
    unprivileged,
    help_exits_0,
    extra_argument_is_a_usage_error,
    pid_namespace_limit_reached,
    started_after_unshare_pid_without_fork,
    killed_mid_story_leaves_no_process,
);

fn example() -> Example {
    testkit::example!()
}

/// The `pid:[...]` namespaces named on `line`, in order.
fn pid_nss(line: &str) -> Vec<String> {
    line.split("pid:[")
        .skip(1)
        .map(|rest| format!("pid:[{}]", rest.split(']').next().unwrap_or("")))
        .collect()
}

/// kill(2)'s first argument is a bare PID, which the normaliser leaves as
/// it is: the snapshot gives it the label of the same PID in waitpid( on
/// that line.
fn normalized(out: &str, text: String) -> String {
    let on = ", SIGKILL) -> 0; waitpid(";
    let pid = |line: &str, after: &str| {
        let rest = &line[line.find(after).map_or(0, |i| i + after.len())..];
        rest[..rest.find(',').unwrap_or(0)].to_owned()
    };
    let raw = pid(line_with(out, on), "kill(");
    let label = pid(line_with(&text, on), "waitpid(");
    assert!(!raw.is_empty() && label.starts_with("<P"), "{raw} {label}");
    text.replace(
        &format!("kill({raw}, SIGKILL)"),
        &format!("kill({label}, SIGKILL)"),
    )
}

fn story(user: User) {
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    let out = ran.success();
    insta::assert_snapshot!(
        user.to_string(),
        normalized(&ran.stdout, ran.normalized())
    );

    let host = host_ns("pid");
    // unshare(CLONE_NEWPID) moves nobody: the caller stays in the host's.
    assert_eq!(ns_on_line(out, "its children are born in", "pid"), host);
    let unshared = line_with(out, "unshare(CLONE_NEWPID) ->");
    assert_eq!(ns_on_line(unshared, "", "pid"), host, "{unshared}");
    assert!(unshared.contains("pid_for_children: ENOENT"), "{unshared}");
    assert!(
        out.contains("unshare(CLONE_NEWPID) again -> EINVAL"),
        "{out}"
    );

    // The first child: a host PID outside, PID 1 inside a new namespace.
    let new_ns = ns_on_line(out, "pid_for_children is now", "pid");
    assert_ne!(new_ns, host);
    let nspid = line_with(out, "status NSpid: process");
    assert_eq!(pid_nss(nspid), [host.clone(), new_ns.clone()], "{nspid}");
    assert!(nspid.ends_with(&format!("PID 1 in {new_ns}")), "{nspid}");
    let init = line_with(out, "(init) in pid:[");
    assert!(init.contains("getpid() -> 1, getppid() -> 0"), "{init}");
    assert_eq!(ns_on_line(init, "", "pid"), new_ns);

    // Its own /proc lists only the namespace's processes.
    assert!(out.contains("it lists PIDs [1]; its self -> 1"), "{out}");
    // The orphan is re-parented to PID 1, which reaps it and survives the
    // SIGKILL it sent.
    assert!(
        out.contains("getppid() -> 1; its /proc lists [1, 3]"),
        "{out}"
    );
    assert!(out.contains("kill(1, SIGKILL) -> 0"), "{out}");
    assert!(
        out.contains("still alive; waitpid(-1, &status, 0) -> PID 3, exited 0"),
        "{out}"
    );
    // Nested: one process, three PIDs, one per level.
    let nested = line_with(out, "(nested)");
    let levels = pid_nss(nested);
    assert_eq!(levels.len(), 3, "{nested}");
    assert_eq!(levels[..2], [host, new_ns.clone()], "{nested}");
    assert_ne!(levels[2], new_ns, "{nested}");
    assert!(nested.starts_with("PID 1 (nested)"), "{nested}");
    assert!(nested.contains(", PID 5 in "), "{nested}");

    // Killed from outside: SIGKILL works, the sleeper dies too, and the
    // namespace takes no new process.
    let killed = line_with(out, ", SIGKILL) -> 0; waitpid(");
    assert!(
        killed.ends_with(", &status, 0) -> killed by SIGKILL"),
        "{out}"
    );
    assert!(out.contains("it died with PID 1"), "{out}");
    let enomem = line_with(out, "fork() -> ENOMEM");
    assert_eq!(ns_on_line(enomem, "", "pid"), new_ns, "{enomem}");
    assert!(out.contains("nothing is left"), "{out}");
    assert_eq!(out.contains("not root (uid "), user == User::Unprivileged);
}

fn as_root() {
    story(User::Root);
}

fn unprivileged() {
    story(User::Unprivileged);
}

fn help_exits_0() {
    assert_help(&example(), "Usage: ch08-pid-namespaces");
}

fn extra_argument_is_a_usage_error() {
    assert_usage_error(&example(), &["x"], "unexpected argument \"x\"");
}

/// A kernel that refuses: no PID namespace may be created.
fn pid_namespace_limit_reached() {
    let Some(ran) = example().run_with_zero_limit("pid", &[]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains("unshare(CLONE_NEWPID) failed: ENOSPC"),
        "{err}"
    );
    assert!(err.contains("max_pid_namespaces"), "{err}");
    assert!(!ran.stdout.contains("fork()"), "{}", ran.stdout);
}

/// Started by `unshare --pid` without `--fork`: the example's children
/// already go to a new PID namespace, and its own unshare(CLONE_NEWPID) is
/// the second: EINVAL, with the fix.
fn started_after_unshare_pid_without_fork() {
    let path = env!("CARGO_BIN_EXE_ch08-pid-namespaces");
    let mut cmd = Command::new("unshare");
    if !nix::unistd::geteuid().is_root() {
        cmd.args(["--user", "--map-root-user"]);
    }
    let dir = testkit::RunDir::new();
    let before = testkit::HostState::capture(dir.path());
    let out = cmd
        .arg("--pid")
        .arg(path)
        .env("TMPDIR", dir.path())
        .output()
        .expect("util-linux unshare(1)");
    testkit::HostState::capture(dir.path()).assert_unchanged_since(&before);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.starts_with("unshare: ") {
        testkit::skip::<()>(&format!("unshare(1) could not start: {stderr}"));
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("its children are born in no namespace yet (ENOENT)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("unshare(CLONE_NEWPID) failed: EINVAL"),
        "{stderr}"
    );
    assert!(stderr.contains("unshare --pid --fork"), "{stderr}");
    assert!(!stdout.contains("fork() ->"), "{stdout}");
    insta::assert_snapshot!("unshare-pid-without-fork", stderr);
}

/// The example killed while its namespace is fullest (at the nested line):
/// by SIGINT, whose handler undoes what it can, and by SIGKILL, which
/// nothing catches. Either way PID 1 dies (PR_SET_PDEATHSIG), and the
/// kernel takes every other process of the namespace with it; no mount is
/// left, and at most, after SIGKILL, the empty directory the next run
/// removes.
fn killed_mid_story_leaves_no_process() {
    for (user, signal) in [
        (User::Root, Signal::SIGKILL),
        (User::Unprivileged, Signal::SIGKILL),
        (User::Root, Signal::SIGINT),
        (User::Unprivileged, Signal::SIGINT),
    ] {
        let what = format!("killed by {signal} as {user}");
        let Some(prepared) = example().prepare(user) else {
            continue;
        };
        let mut cmd = prepared.command;
        let dir = testkit::RunDir::new();
        let mut child = cmd
            .env("TMPDIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the example");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut pidfd = None;
        let mut line = String::new();
        while stdout.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(rest) = line.split("fork() -> process ").nth(1) {
                let pid: i32 = rest.split(';').next().unwrap().parse().unwrap();
                pidfd = Some(pidfd_open(pid));
            }
            if line.contains("(nested)") {
                break;
            }
            line.clear();
        }
        assert!(line.contains("(nested)"), "{what}: the story ended early");
        let pidfd = pidfd.expect("the line naming PID 1's host PID");
        kill(Pid::from_raw(child.id() as i32), signal).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal as i32), "{what}: {status}");
        // A pidfd polls readable once its process has exited (pidfd_open(2)).
        let mut fds = [libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        // Safety: one valid pollfd, for as long as the call.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, 5000) };
        assert_eq!(ready, 1, "{what}: PID 1 outlived the example by 5 s");
        let mounts = workbook::mountinfo::current().unwrap();
        assert!(
            !mounts.iter().any(|m| m.mount_point.starts_with(dir.path())),
            "{what}: a mount was left"
        );
        let left: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        match signal {
            Signal::SIGKILL => assert!(left.len() <= 1, "{what}: {left:?}"),
            _ => assert!(left.is_empty(), "{what}: {left:?}"),
        }
    }
}

fn pidfd_open(pid: i32) -> OwnedFd {
    // Safety: pidfd_open(2) takes a PID and flags and returns a new fd, or
    // -1; the fd is owned by nothing else.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    assert!(
        fd >= 0,
        "pidfd_open({pid}, 0): {}",
        std::io::Error::last_os_error()
    );
    // Safety: a fresh fd, ours alone.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}
