//! The exercise harness against a misbehaving exercise (fixture/exercise.rs):
//! it obeys nothing the case prints, names an early exit, shows a hint,
//! puts the host back, removes only its own directories, leaves nothing after
//! a signal, and does not trip over a second run at once.
//!
//! What could touch the machine runs in throwaway namespaces the test makes
//! for the runner (a UTS one for the hostname, a private mount one for the
//! mount), so the machine's real hostname and mounts never change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use nix::fcntl::OFlag;
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, pipe2};

testkit::cases!(
    a_control_line_in_the_output_is_only_output,
    an_exit_in_the_learners_code_is_named_as_such,
    a_workbook_errors_hint_is_shown_under_its_sentence,
    a_hostname_changed_is_said_first_and_set_back,
    a_mount_in_the_case_dir_is_detached_before_removal_and_said,
    two_runs_at_once_both_pass,
    the_results_file_has_one_line_per_case,
    sigint_leaves_nothing,
    sigterm_leaves_nothing,
    sighup_leaves_nothing,
);

const FIXTURE: &str = env!("CARGO_BIN_EXE_exercise-fixture");

fn fixture(filter: &str) -> Command {
    let mut cmd = Command::new(FIXTURE);
    cmd.arg(filter)
        .stdin(Stdio::null())
        .env_remove("WORKBOOK_RESULTS")
        .env_remove("CI");
    cmd
}

fn output(mut cmd: Command) -> (Output, String) {
    let out = cmd.output().expect("run the fixture");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text)
}

/// The line right under `---- label ----`, and the lines after it.
fn reason<'a>(text: &'a str, label: &str) -> Vec<&'a str> {
    let header = format!("---- {label} ----");
    text.lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect()
}

fn root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A fresh directory of the test's own under /tmp.
fn scratch(name: &str) -> PathBuf {
    nix::unistd::mkdtemp(format!("/tmp/harness-test-{name}.XXXXXX").as_str())
        .unwrap()
}

/// The runner's directories: `/tmp/workbook-run.<pid namespace>.<pid>.…`.
fn run_dirs_of(pid: u32) -> Vec<String> {
    let pid_ns = workbook::ns::NsId::current("pid").unwrap().ino;
    let prefix = format!("workbook-run.{pid_ns}.{pid}.");
    fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

/// Let the child inherit `fd` (clear FD_CLOEXEC between fork and exec).
fn pass_fd(cmd: &mut Command, fd: &OwnedFd) {
    let raw = fd.as_raw_fd();
    // Safety: fcntl(2) on an integer, in the forked child before exec.
    unsafe {
        cmd.pre_exec(move || match libc::fcntl(raw, libc::F_SETFD, 0) {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        });
    }
}

/// Start the runner in new namespaces of `flags` (root only), with `/` made
/// private in a new mount namespace (mount_namespaces(7)).
/// The fixture acts only where the namespace differs from the test's, named
/// in `FIXTURE_TEST_<TYPE>`.
fn in_throwaway(cmd: &mut Command, flags: libc::c_int) {
    for ns_type in ["uts", "mnt"] {
        let id = workbook::ns::NsId::current(ns_type).unwrap();
        let name = format!("FIXTURE_TEST_{}", ns_type.to_uppercase());
        cmd.env(name, format!("{} {}", id.dev, id.ino));
    }
    // Safety: raw system calls in the forked child before exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::unshare(flags) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if flags & libc::CLONE_NEWNS != 0 {
                let root = c"/";
                let flags = libc::MS_REC | libc::MS_PRIVATE;
                let none = std::ptr::null();
                if libc::mount(none, root.as_ptr(), none, flags, none.cast()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

fn a_control_line_in_the_output_is_only_output() {
    let victim = scratch("victim");
    let mut cmd = fixture("spoofs_control_lines");
    cmd.env("FIXTURE_VICTIM", &victim);
    let (out, text) = output(cmd);
    let kept = victim.exists();
    let _ = fs::remove_dir(&victim);
    assert!(
        kept,
        "the runner removed {} on the case's word",
        victim.display()
    );
    assert!(
        out.status.success(),
        "the spoofed lines were obeyed:\n{text}"
    );
    assert!(text.contains("test spoofs_control_lines ... ok"), "{text}");
}

fn an_exit_in_the_learners_code_is_named_as_such() {
    let (out, text) = output(fixture("exits_early"));
    assert!(!out.status.success());
    let lines = reason(&text, "exits_early");
    assert!(
        lines.first().is_some_and(
            |l| l.starts_with("your code called exit(0) before returning")
        ),
        "{text}"
    );
}

fn a_workbook_errors_hint_is_shown_under_its_sentence() {
    let (_, text) = output(fixture("error_with_hint"));
    let lines = reason(&text, "error_with_hint");
    assert_eq!(
        lines,
        [
            "join() returned an error: setns(fd, CLONE_NEWNET) failed: EINVAL: Invalid argument",
            "    hint: the fd is a uts namespace: the flag must name its type",
        ],
        "{text}"
    );
}

fn a_hostname_changed_is_said_first_and_set_back() {
    if !root() {
        testkit::skip::<()>("the runner's own UTS namespace needs root");
        return;
    }
    let machine = testkit::host_hostname();
    let mut cmd = fixture("host_");
    cmd.env("FIXTURE_RENAME", "1")
        .env("FIXTURE_HOSTNAME", &machine);
    in_throwaway(&mut cmd, libc::CLONE_NEWUTS);
    let (_, text) = output(cmd);
    assert_eq!(testkit::host_hostname(), machine, "the machine was renamed");
    let lines = reason(&text, "host_renamed");
    assert!(
        lines.first().is_some_and(|l| {
            l.starts_with(&format!(
                "the host's hostname was changed from {machine:?}"
            )) && l.ends_with(&format!("the harness set it back to {machine:?}"))
        }),
        "{text}"
    );
    assert!(text.contains("test host_name_is_back ... ok"), "{text}");
}

fn a_mount_in_the_case_dir_is_detached_before_removal_and_said() {
    if !root() {
        testkit::skip::<()>(
            "a mount in the runner's own mount namespace needs root",
        );
        return;
    }
    let precious = scratch("precious");
    fs::write(precious.join("marker"), "keep").unwrap();
    let mut cmd = fixture("leaves_a_mount");
    cmd.env("FIXTURE_PRECIOUS", &precious);
    in_throwaway(&mut cmd, libc::CLONE_NEWNS);
    let (_, text) = output(cmd);
    let kept = precious.join("marker").exists();
    let _ = fs::remove_dir_all(&precious);
    assert!(kept, "the harness removed files through a mount:\n{text}");
    let lines = reason(&text, "leaves_a_mount");
    assert!(
        lines.first().is_some_and(|l| {
            l.starts_with("a mount reached the host: ")
                && l.ends_with("the harness detached it")
        }),
        "{text}"
    );
    let dir = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("case dir: "))
        .unwrap_or_else(|| panic!("no case dir in:\n{text}"));
    let run_dir = Path::new(dir).ancestors().nth(2).unwrap();
    assert!(!run_dir.exists(), "{} was left", run_dir.display());
}

/// Two runs at once, each case with its temporary directory up while the
/// other run starts, checks and cleans: neither sees the other's.
fn two_runs_at_once_both_pass() {
    let start = || {
        let (ready_rx, ready_tx) = pipe2(OFlag::O_CLOEXEC).unwrap();
        let (go_rx, go_tx) = pipe2(OFlag::O_CLOEXEC).unwrap();
        let mut cmd = fixture("meets_another_run");
        cmd.stdout(Stdio::piped())
            .env("FIXTURE_READY_FD", ready_tx.as_raw_fd().to_string())
            .env("FIXTURE_GO_FD", go_rx.as_raw_fd().to_string());
        pass_fd(&mut cmd, &ready_tx);
        pass_fd(&mut cmd, &go_rx);
        let child = cmd.spawn().unwrap();
        drop((ready_tx, go_rx));
        // The case's directory exists once it says "here".
        let mut line = String::new();
        BufReader::new(fs::File::from(ready_rx))
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "here\n", "the case did not get to its directory");
        (child, go_tx)
    };
    let (first, go_first) = start();
    let (second, go_second) = start();
    let finish = |mut child: Child, go: OwnedFd| {
        drop(go);
        let mut text = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert!(child.wait().unwrap().success(), "{text}");
    };
    finish(first, go_first);
    finish(second, go_second);
}

fn the_results_file_has_one_line_per_case() {
    let dir = scratch("results");
    let file = dir.join("results");
    let mut cmd = fixture("");
    cmd.env("WORKBOOK_RESULTS", &file);
    let (_, text) = output(cmd);
    let lines = fs::read_to_string(&file).unwrap_or_default();
    let _ = fs::remove_dir_all(&dir);
    let expected = [
        "fixture\thangs\troot\tpass\t",
        "fixture\thangs\tunprivileged\tpass\t",
        "fixture\tspoofs_control_lines\tonce\tpass\t",
        "fixture\texits_early\tonce\tfail\tyour code called exit(0) before returning: \
         std::process::exit (or libc::_exit) ends the whole process, test included; \
         return `Ok(...)` with your result instead",
        "fixture\terror_with_hint\tonce\tfail\tjoin() returned an error: \
         setns(fd, CLONE_NEWNET) failed: EINVAL: Invalid argument",
        "fixture\thost_renamed\tonce\tpass\t",
        "fixture\thost_name_is_back\tonce\tpass\t",
        "fixture\tleaves_a_mount\tonce\tpass\t",
        "fixture\tmeets_another_run\tonce\tpass\t",
    ];
    let mut got: Vec<&str> = lines.lines().collect();
    // Not root, the root case is skipped, saying how to run it.
    if !root()
        && got
            .first()
            .is_some_and(|l| l.starts_with("fixture\thangs\troot\tskip\t"))
    {
        assert!(
            got[0].ends_with(&format!(
                "`{} -p testkit`",
                workbook::root_cases::COMMAND
            )),
            "{}",
            got[0]
        );
        got[0] = expected[0];
    }
    assert_eq!(got, expected, "{text}");
}

/// A signal to the runner while a case hangs, and that case's grandchild
/// left its session: nothing of the run is left, and the runner dies of
/// that signal.
fn a_signal_leaves_nothing(signal: Signal) {
    // As root, the unprivileged case runs as uid 65534 from a copy of the
    // binary: that copy must go too.
    let (report_rx, report_tx) = pipe2(OFlag::O_CLOEXEC).unwrap();
    let mut cmd = fixture("hangs");
    cmd.stdout(Stdio::null())
        .env("FIXTURE_HANG_AS", "unprivileged")
        .env("FIXTURE_REPORT_FD", report_tx.as_raw_fd().to_string());
    pass_fd(&mut cmd, &report_tx);
    let mut runner = cmd.spawn().unwrap();
    drop(report_tx);
    // Both PIDs, as pidfds: they name the processes even once reaped.
    let mut pidfds = Vec::new();
    for line in BufReader::new(fs::File::from(report_rx)).lines().take(2) {
        let line = line.unwrap();
        let pid: i32 = line.rsplit(' ').next().unwrap().parse().unwrap();
        pidfds.push((line, pidfd_open(pid)));
    }
    assert_eq!(pidfds.len(), 2, "the case did not start hanging");
    kill(Pid::from_raw(runner.id() as i32), signal).unwrap();
    let status = runner.wait().unwrap();
    let mut left = Vec::new();
    for (what, pidfd) in &pidfds {
        // A pidfd is readable once its process has ended: the runner has
        // exited, so whatever it killed has ended (it reaped it) or never
        // will; 5 s only bounds a failing test.
        let mut fds = [libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        // Safety: one valid pollfd.
        if unsafe { libc::poll(fds.as_mut_ptr(), 1, 5000) } != 1 {
            left.push(what.clone());
            // Safety: pidfd_send_signal(2) on our own pidfd: SIGKILL it.
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    pidfd.as_raw_fd(),
                    9,
                    0,
                    0,
                )
            };
        }
    }
    assert!(left.is_empty(), "still running after {signal}: {left:?}");
    assert_eq!(status.signal(), Some(signal as i32), "{status}");
    let dirs = run_dirs_of(runner.id());
    assert!(dirs.is_empty(), "left in /tmp after {signal}: {dirs:?}");
}

fn pidfd_open(pid: i32) -> OwnedFd {
    // Safety: a plain system call with integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    assert!(fd >= 0, "pidfd_open({pid}) failed");
    // Safety: the kernel just returned it; nothing else owns it.
    unsafe { std::os::fd::FromRawFd::from_raw_fd(fd as i32) }
}

fn sigint_leaves_nothing() {
    a_signal_leaves_nothing(Signal::SIGINT);
}

fn sigterm_leaves_nothing() {
    a_signal_leaves_nothing(Signal::SIGTERM);
}

fn sighup_leaves_nothing() {
    a_signal_leaves_nothing(Signal::SIGHUP);
}
