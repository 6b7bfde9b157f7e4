//! Chapter 16 against the kernel, judged from outside: the command is PID
//! 1 of a new PID namespace whose /proc lists only its own processes; the
//! hostname is the container's; uid 0 inside; its exit status and a
//! signal's come back through the parent; SIGTERM sent to the parent
//! reaches the command; nothing is left on the host (no process, no mount,
//! no hostname change, no file, no cgroup). The refusals: a zero limit
//! for several namespace types (ENOSPC), with nothing left either.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use testkit::{
    Example, User, assert_help, assert_usage_error, host_ns, line_with, ns_on_line,
};

testkit::cases!(
    story_as_root,
    story_unprivileged,
    exit_status_comes_back,
    sigterm_reaches_the_command_as_pid_1,
    sigterm_reaches_the_command_under_init,
    sigterm_without_a_handler_is_dropped_and_sigkill_ends_all,
    a_missing_command_is_127,
    quiet_prints_only_the_command,
    zero_limits_are_refused,
    time_starts_at_zero,
    a_zero_time_limit_is_refused_inside,
    usage_errors,
    help_exits_0,
    the_command_has_its_own_session_and_no_inherited_fd,
    help_after_the_command_is_the_commands,
);

fn example() -> Example {
    testkit::example!()
}

/// The command of the chapter's "done when": the hostname, the uid, the
/// shell's PID, and what /proc lists.
const STORY: &str = "hostname; id -u; echo $$; ls /proc";

/// Where the container builds its root (rootfs.rs).
const STAGE: &str = "/mnt";

const TYPES: [&str; 7] = ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup"];

/// The mounts of the host (this test's mount namespace) at or under the
/// place where the container builds its root.
fn host_mounts_at_stage() -> Vec<String> {
    workbook::mountinfo::current()
        .unwrap()
        .into_iter()
        .filter(|m| m.mount_point.starts_with(STAGE))
        .map(|m| format!("{} {}", m.mount_point.display(), m.fstype))
        .collect()
}

/// The container's PID 1 is gone: no process has its host PID, or the
/// one that has it now (the PID reused) is in another PID namespace.
fn assert_gone(host_pid: &str, pid_ns: &str) {
    let link = format!("/proc/{host_pid}/ns/pid");
    if let Ok(now) = std::fs::read_link(&link) {
        assert_ne!(
            now.to_string_lossy(),
            pid_ns,
            "process {host_pid}, the container's PID 1, is still there"
        );
    }
}

/// The first number after `marker` on `line`.
fn number_after(line: &str, marker: &str) -> String {
    let rest = line
        .split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("no {marker:?} in {line:?}"));
    rest.chars().take_while(char::is_ascii_digit).collect()
}

fn story(user: User) {
    let mounts_before = host_mounts_at_stage();
    let Some(ran) = example().run(user, &["/bin/sh", "-c", STORY]) else {
        return;
    };
    let out = ran.success();
    // The snapshot keeps the PIDs /proc lists, not its other entries: the
    // kernel's files vary from one kernel's configuration to another.
    let kept: String = ran
        .normalized()
        .lines()
        .filter(|l| {
            l.contains(' ') || l.parse::<u32>().is_ok() || *l == "ch16-container"
        })
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(user.to_string(), kept);

    // Every namespace of PID 1 is new.
    let new = line_with(out, "on the host): in ");
    for ns_type in TYPES {
        assert_ne!(
            ns_on_line(new, "", ns_type),
            host_ns(ns_type),
            "{ns_type}: {new}"
        );
    }
    let host_pid = number_after(new, "PID 1 (process ");
    let pid_ns = ns_on_line(new, "", "pid");

    // The maps: root maps the container's root to 100000, anyone else to
    // themselves.
    let maps = line_with(out, "uid_map\", \"");
    let wanted = match user {
        User::Root => "\"0 100000 1\"",
        User::Unprivileged => "\"0 65534 1\"",
    };
    assert!(maps.contains(wanted), "{maps}");

    // What the command printed: the hostname, uid 0, PID 1, and a /proc
    // with only the container's PIDs (the shell, 1, and ls, fewer than 10).
    let (_, command) = out.split_once("the command is PID 1\n").expect(out);
    let mut lines = command.lines();
    assert_eq!(lines.next(), Some("ch16-container"), "hostname: {command}");
    assert_eq!(lines.next(), Some("0"), "id -u: {command}");
    assert_eq!(lines.next(), Some("1"), "echo $$: {command}");
    let pids: Vec<u32> = lines.filter_map(|l| l.parse().ok()).collect();
    assert!(pids.contains(&1), "/proc lists {pids:?}");
    assert!(
        pids.iter().all(|p| *p < 10),
        "host processes in /proc: {pids:?}"
    );
    let parent = number_after(line_with(out, "(parent): in "), "process ");
    assert!(
        !pids.contains(&parent.parse().unwrap()),
        "the parent is visible inside"
    );

    // Nothing left: PID 1 is gone, no mount reached the host (the run's
    // own directory, the hostname and its files are checked by testkit).
    assert!(out.trim_end().ends_with("exit status 0"), "{out}");
    assert_gone(&host_pid, &pid_ns);
    assert_eq!(
        host_mounts_at_stage(),
        mounts_before,
        "a mount reached the host"
    );
    assert!(out.contains("no cgroup made"), "{out}");
}

fn story_as_root() {
    story(User::Root);
}

fn story_unprivileged() {
    story(User::Unprivileged);
}

/// The command's own status, as PID 1 and under the init; and a signal's,
/// 128 + its number.
fn exit_status_comes_back() {
    for (args, status) in [
        (&["/bin/sh", "-c", "exit 7"][..], 7),
        (&["--init", "/bin/sh", "-c", "exit 7"][..], 7),
        (&["--init", "/bin/sh", "-c", "kill -KILL $$"][..], 128 + 9),
    ] {
        let Some(prepared) = example().prepare(User::Unprivileged) else {
            return;
        };
        let dir = testkit::RunDir::new();
        let before = testkit::HostState::capture(dir.path());
        let mut cmd = prepared.command;
        let out = cmd.args(args).env("TMPDIR", dir.path()).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(status), "{args:?}: {stdout}");
        assert!(
            stdout
                .trim_end()
                .ends_with(&format!("exit status {status}")),
            "{args:?}: {stdout}"
        );
        testkit::HostState::capture(dir.path()).assert_unchanged_since(&before);
    }
}

/// Start the example with `args`, wait for the command's "ready", send
/// SIGTERM to the parent; return its exit code and everything it printed.
fn terminated(user: User, args: &[&str]) -> Option<(i32, String)> {
    let prepared = example().prepare(user)?;
    let mut cmd = prepared.command;
    let dir = testkit::RunDir::new();
    let mut child = cmd
        .args(args)
        .env("TMPDIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the example");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = String::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap_or(0) > 0 {
        printed.push_str(&line);
        if line == "ready\n" {
            break;
        }
        line.clear();
    }
    assert!(
        printed.ends_with("ready\n"),
        "the command never got ready:\n{printed}"
    );
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    printed.push_str(&rest);
    let status = child.wait().unwrap();
    let new = line_with(&printed, "on the host): in ");
    assert_gone(
        &number_after(new, "PID 1 (process "),
        &ns_on_line(new, "", "pid"),
    );
    Some((status.code().expect("an exit, not a signal"), printed))
}

/// As PID 1 the command gets SIGTERM only because it has a handler (a
/// trap): pid_namespaces(7). Its own status comes back.
fn sigterm_reaches_the_command_as_pid_1() {
    for user in [User::Root, User::Unprivileged] {
        let script =
            "trap 'echo got TERM; exit 42' TERM; echo ready; sleep 100 & wait";
        let Some((code, out)) = terminated(user, &["/bin/sh", "-c", script]) else {
            continue;
        };
        assert!(out.contains("(parent): got SIGTERM; kill("), "{out}");
        assert!(out.contains("\ngot TERM\n"), "{out}");
        assert_eq!(code, 42, "{out}");
    }
}

/// Under the init the command (PID 2) keeps the default action: SIGTERM
/// kills it, and the status is 128 + 15.
fn sigterm_reaches_the_command_under_init() {
    for user in [User::Root, User::Unprivileged] {
        let args = ["--init", "/bin/sh", "-c", "echo ready; sleep 100"];
        let Some((code, out)) = terminated(user, &args) else {
            continue;
        };
        assert!(out.contains("(parent): got SIGTERM; kill("), "{out}");
        assert!(
            out.contains("PID 1 (init): got SIGTERM; kill(2, SIGTERM)"),
            "{out}"
        );
        assert_eq!(code, 128 + 15, "{out}");
    }
}

/// PID 1 without a handler: the kernel drops the forwarded SIGTERM, and
/// the parent says so. Then SIGKILL to the parent, which nothing can
/// forward: PR_SET_PDEATHSIG kills PID 1, and with it the container.
fn sigterm_without_a_handler_is_dropped_and_sigkill_ends_all() {
    let Some(prepared) = example().prepare(User::Unprivileged) else {
        return;
    };
    let mut cmd = prepared.command;
    let dir = testkit::RunDir::new();
    let before = testkit::HostState::capture(dir.path());
    let mut child = cmd
        .args(["/bin/sh", "-c", "echo ready; sleep 100"])
        .env("TMPDIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the example");
    let parent = Pid::from_raw(child.id() as i32);
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = String::new();
    let mut line = String::new();
    let mut sent = false;
    while stdout.read_line(&mut line).unwrap_or(0) > 0 {
        printed.push_str(&line);
        if line == "ready\n" && !sent {
            kill(parent, Signal::SIGTERM).unwrap();
            sent = true;
        }
        if line.contains("no handler for SIGTERM") {
            kill(parent, Signal::SIGKILL).unwrap();
        }
        line.clear();
    }
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "{status}:\n{printed}");
    assert!(
        printed.contains("PID 1 has no handler for SIGTERM: the kernel drops it"),
        "{printed}"
    );
    let new = line_with(&printed, "on the host): in ");
    let pid_ns = ns_on_line(new, "", "pid");
    let host_pid = number_after(new, "PID 1 (process ");
    // The kernel delivers PR_SET_PDEATHSIG when the parent has died, which
    // wait(2) has just seen; PID 1 then dies, and its namespace with it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::fs::read_link(format!("/proc/{host_pid}/ns/pid"))
        .is_ok_and(|ns| ns.to_string_lossy() == pid_ns)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_gone(&host_pid, &pid_ns);
    testkit::HostState::capture(dir.path()).assert_unchanged_since(&before);
}

fn a_missing_command_is_127() {
    let Some(ran) = example().run(User::Unprivileged, &["no-such-command"]) else {
        return;
    };
    let err = ran.failure(127);
    assert!(
        err.contains("\"no-such-command\"")
            || err.contains("no-such-command was not found"),
        "{err}"
    );
    assert!(err.contains("PATH"), "{err}");
}

/// --quiet: the command's output alone. It also finds /usr read-only.
fn quiet_prints_only_the_command() {
    let script = "hostname; touch /usr/ch16-probe 2>/dev/null || echo read-only";
    let Some(ran) =
        example().run(User::Unprivileged, &["--quiet", "/bin/sh", "-c", script])
    else {
        return;
    };
    assert_eq!(ran.success(), "ch16-container\nread-only\n");
}

/// A kernel that refuses one of the seven types: one clone(2) names them
/// all, the hint names the one whose limit is 0, and nothing ran.
fn zero_limits_are_refused() {
    for ns_type in ["user", "pid", "mnt", "net", "cgroup", "ipc", "uts"] {
        let Some(ran) = example().run_with_zero_limit(ns_type, &["/bin/true"])
        else {
            return;
        };
        let err = ran.failure(1);
        if ns_type == "pid" {
            insta::assert_snapshot!("zero_pid_limit", ran.normalized_stderr());
        }
        let call = line_with(err, "error: ");
        assert!(call.contains("clone(CLONE_NEWUSER | CLONE_NEWPID"), "{err}");
        assert!(
            call.ends_with("failed: ENOSPC: No space left on device"),
            "{err}"
        );
        assert!(
            err.contains(&format!("/proc/sys/user/max_{ns_type}_namespaces is 0")),
            "{err}"
        );
        assert!(!ran.stdout.contains("PID 1"), "{}", ran.stdout);
    }
}

/// --time: a time namespace whose boot-time clock started with the
/// container; the offset is the host's uptime then.
fn time_starts_at_zero() {
    let Some(ran) =
        example().run(User::Unprivileged, &["--time", "/bin/cat", "/proc/uptime"])
    else {
        return;
    };
    let out = ran.success();
    let host_now: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let line = line_with(out, "unshare(CLONE_NEWTIME) -> time:[");
    let boottime: f64 = number_after(line, "s and ").parse().unwrap();
    let (_, uptime) = out.split_once("the command is PID 1\n").expect(out);
    let inside: f64 = uptime.split_whitespace().next().unwrap().parse().unwrap();
    assert!(inside < 5.0, "the container's uptime is {inside} s: {out}");
    assert!(
        (host_now - boottime - inside).abs() < 5.0,
        "host {host_now} s, offset -{boottime} s, inside {inside} s"
    );
    let ns = ns_on_line(line, "", "time");
    assert_ne!(ns, host_ns("time"), "{line}");
}

/// A refusal inside the container (no time namespace allowed): PID 1
/// names the call and the limit, the parent ends with its status 1, and
/// PID 1 is gone.
fn a_zero_time_limit_is_refused_inside() {
    let Some(ran) = example().run_with_zero_limit("time", &["--time", "/bin/true"])
    else {
        return;
    };
    let err = ran.failure(1);
    let call = line_with(err, "PID 1: error: ");
    assert!(
        call.ends_with(
            "unshare(CLONE_NEWTIME) failed: ENOSPC: No space left on device"
        ),
        "{err}"
    );
    // Inside its own user namespace the file reads 2147483647: the limit
    // that binds is the one above, and the hint names the file.
    assert!(err.contains("/proc/sys/user/max_time_namespaces"), "{err}");
    assert!(
        ran.stdout.trim_end().ends_with("exit status 1"),
        "{}",
        ran.stdout
    );
    let new = line_with(&ran.stdout, "on the host): in ");
    assert_gone(
        &number_after(new, "PID 1 (process "),
        &ns_on_line(new, "", "pid"),
    );
}

fn usage_errors() {
    assert_usage_error(&example(), &[], "missing COMMAND");
    assert_usage_error(
        &example(),
        &["--bogus", "true"],
        "unknown option \"--bogus\"",
    );
    assert_usage_error(&example(), &["--hostname"], "--hostname needs a NAME");
    let long = "a".repeat(65);
    assert_usage_error(&example(), &["--hostname", &long, "true"], "HOST_NAME_MAX");
}

fn help_exits_0() {
    let out = assert_help(&example(), "Usage: ch16-container");
    assert!(out.contains("--init"), "{out}");
}

/// The command starts a session of its own (so the caller's terminal is not
/// its controlling terminal: no TIOCSTI into the caller's shell), and gets
/// no descriptor but 0, 1 and 2, even one the caller left open without
/// O_CLOEXEC (here fd 7, a directory on the host). proc_pid_stat(5): field
/// 6 is the session ID, as the container's PID namespace numbers it (0 for
/// a session leader outside it).
fn the_command_has_its_own_session_and_no_inherited_fd() {
    use std::os::unix::process::CommandExt;
    // `read` is the shell's own: /proc/self is the shell, not a child.
    let script = "read -r stat < /proc/self/stat; set -- $stat; echo \"session $6 of $1\"; \
                  if [ -e /proc/self/fd/7 ]; then echo fd 7 inherited; else echo fd 7 closed; fi";
    for (args, pid) in [(&[][..], "1"), (&["--init"][..], "2")] {
        for user in [User::Root, User::Unprivileged] {
            let Some(prepared) = example().prepare(user) else {
                continue;
            };
            let dir = testkit::RunDir::new();
            let before = testkit::HostState::capture(dir.path());
            let held = std::fs::File::open(dir.path()).unwrap();
            let mut cmd = prepared.command;
            let raw = std::os::fd::AsRawFd::as_raw_fd(&held);
            // Safety: dup2(2) between fork and exec is async-signal-safe;
            // fd 7 is then open without O_CLOEXEC, as a shell's `exec 7<dir`.
            unsafe {
                cmd.pre_exec(move || match libc::dup2(raw, 7) {
                    -1 => Err(std::io::Error::last_os_error()),
                    _ => Ok(()),
                });
            }
            let out = cmd
                .args(["--quiet"])
                .args(args)
                .args(["/bin/sh", "-c", script])
                .env("TMPDIR", dir.path())
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let what = format!("{args:?} as {user}");
            assert!(out.status.success(), "{what}: {stdout}");
            assert!(
                stdout.contains(&format!("session {pid} of {pid}")),
                "{what}: the command leads a session of its own: {stdout}"
            );
            assert!(stdout.contains("fd 7 closed"), "{what}: {stdout}");
            drop(held);
            testkit::HostState::capture(dir.path()).assert_unchanged_since(&before);
        }
    }
}

/// `-h` and `--help` after COMMAND are the command's.
fn help_after_the_command_is_the_commands() {
    let Some(prepared) = example().prepare(User::Unprivileged) else {
        return;
    };
    let mut cmd = prepared.command;
    let out = cmd
        .args(["--quiet", "/bin/echo", "--help", "-h"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(stdout.trim(), "--help -h", "echo printed its arguments");
}
