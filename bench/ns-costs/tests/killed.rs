//! A benchmark killed with SIGKILL at several moments leaves no process
//! behind: every child it forks, the rootless half and the `mnt, N mounts`
//! child included, asks for SIGKILL when its parent dies
//! (PR_SET_PDEATHSIG, prctl(2)).
//!
//! This test process becomes a child subreaper (PR_SET_CHILD_SUBREAPER,
//! prctl(2)), so that whatever the killed benchmark leaves is reparented to
//! it rather than to init: it then waits for each such orphan by a pidfd
//! (pidfd_open(2), poll(2)), and fails if one was running and then ended
//! by itself rather than by SIGKILL (it went on working: what a missing
//! death signal does), or is still running after `PATIENCE_MS`. The kill is sent right after the benchmark prints the
//! progress line of a moment ("measuring 65534 (own userns): net..."), when
//! that row is being measured.

// A test: a failed step is a failed test, with its message.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libc::pid_t;

/// How long an orphan may take to die: SIGKILL is delivered at once, and
/// the slowest exit here (unmounting 1000 tmpfs mounts) takes milliseconds.
const PATIENCE_MS: u64 = 10_000;

/// How long after the kill a process found alive may still end on its own
/// (it was already in exit(2)); one that ends later went on working.
const GRACE_MS: u64 = 500;

/// Moments to kill at: right after the spawn, or right after the progress
/// line that contains this text; whether the moment exists only as root;
/// the benchmark's arguments. The `mnt, N mounts` moments measure only mnt
/// with 100 runs, so that the row still has about a second to go when the
/// kill comes: a child that ran on would end by itself well after GRACE_MS.
const MOMENTS: &[(&str, bool, &[&str])] = &[
    ("", false, &["--runs", "20"]),
    ("root: none...", true, &["--runs", "20"]),
    ("root: mnt, ", true, &["--runs", "100", "--types", "mnt"]),
    ("(own userns): none...", false, &["--runs", "20"]),
    ("(own userns): pid...", false, &["--runs", "20"]),
    ("(own userns): net...", false, &["--runs", "20"]),
    (
        "(own userns): mnt, ",
        false,
        &["--runs", "100", "--types", "mnt"],
    ),
];

#[test]
fn a_killed_benchmark_leaves_no_process() {
    // Safety: prctl with integer arguments, on this test process only.
    let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) };
    assert_eq!(r, 0, "prctl(PR_SET_CHILD_SUBREAPER, 1) failed");
    // Safety: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let mut left = Vec::new();
    for &(marker, needs_root, args) in MOMENTS {
        if needs_root && !root {
            continue;
        }
        let killed = kill_at(marker, args);
        let survivors = wait_for_orphans(killed);
        if !survivors.is_empty() {
            left.push(format!("killed at {marker:?}: left {survivors:?}"));
        }
    }
    assert!(left.is_empty(), "{}", left.join("\n"));
}

/// Start the benchmark, read its progress until `marker`, SIGKILL it, reap
/// it; returns when the kill was sent.
fn kill_at(marker: &str, args: &[&str]) -> Instant {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bench-ns-costs"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bench-ns-costs");
    let stderr = child.stderr.take().expect("piped stderr");
    if !marker.is_empty() {
        let mut seen = Vec::new();
        let mut found = false;
        for line in BufReader::new(stderr).lines() {
            let line = line.expect("read the benchmark's stderr");
            found = line.contains(marker);
            seen.push(line);
            if found {
                break;
            }
        }
        assert!(
            found,
            "the benchmark ended before printing {marker:?}; its stderr:\n{}",
            seen.join("\n")
        );
    }
    let killed = Instant::now();
    child.kill().expect("kill(bench-ns-costs, SIGKILL)");
    child.wait().expect("waitpid(bench-ns-costs)");
    killed
}

/// Wait, by pidfd, for every process reparented to this one since `killed`
/// and reap it. Returns the ones that went on: still running after
/// PATIENCE_MS (then killed and reaped, so that the test leaves nothing
/// either), or alive when first seen and then ending on their own, not by
/// SIGKILL, more than GRACE_MS after the kill (one that was already in
/// exit(2) when its parent died ends on its own within microseconds).
fn wait_for_orphans(killed: Instant) -> Vec<String> {
    let deadline = killed + Duration::from_millis(PATIENCE_MS);
    let mut alive_when_seen: HashMap<pid_t, String> = HashMap::new();
    let mut went_on = Vec::new();
    loop {
        let orphans = children();
        if orphans.is_empty() {
            return went_on;
        }
        let mut fds = Vec::new();
        for &(pid, zombie) in &orphans {
            if !zombie {
                alive_when_seen.entry(pid).or_insert_with(|| describe(pid));
            }
            // Safety: pidfd_open with a PID and no flags; the fd is closed below.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) }
                as libc::c_int;
            if fd >= 0 {
                fds.push((
                    pid,
                    libc::pollfd {
                        fd,
                        events: libc::POLLIN,
                        revents: 0,
                    },
                ));
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let mut polled: Vec<libc::pollfd> = fds.iter().map(|(_, p)| *p).collect();
        // Safety: `polled` is a valid array of pollfd for the call.
        let ready = unsafe {
            libc::poll(
                polled.as_mut_ptr(),
                polled.len() as libc::nfds_t,
                left.as_millis() as libc::c_int,
            )
        };
        for ((pid, _), pollfd) in fds.iter().zip(&polled) {
            if pollfd.revents & libc::POLLIN != 0 {
                let mut status = 0;
                // Safety: our child (reparented to this subreaper), which
                // has ended; `status` is a valid int to write to.
                if unsafe { libc::waitpid(*pid, &mut status, 0) } == *pid {
                    let by_sigkill = libc::WIFSIGNALED(status)
                        && libc::WTERMSIG(status) == libc::SIGKILL;
                    let late = killed.elapsed() > Duration::from_millis(GRACE_MS);
                    if let Some(name) = alive_when_seen.get(pid) {
                        if !by_sigkill && late {
                            went_on.push(format!(
                                "{name} ran on and ended by itself (wait status {status:#x})"
                            ));
                        }
                    }
                }
            }
            // Safety: our own fd, closed once.
            unsafe { libc::close(pollfd.fd) };
        }
        if ready == 0 {
            for (pid, _) in children() {
                went_on.push(format!("{} still running", describe(pid)));
                // Safety: kill one process that is our child (reparented
                // to this subreaper).
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            // What those leave is reparented here too and dies with them.
            reap_all_remaining();
            return went_on;
        }
    }
}

/// After killing survivors: reap whatever they leave, until none remains.
fn reap_all_remaining() {
    loop {
        for (pid, _) in children() {
            // Safety: our own child, by PID.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // Safety: waitpid with a null status pointer.
        if unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) } < 0 {
            return;
        }
    }
}

/// The PIDs whose parent is this process, and whether each is a zombie,
/// from /proc/PID/stat (proc(5)).
fn children() -> Vec<(pid_t, bool)> {
    let me = std::process::id() as pid_t;
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "PID (comm) STATE PPID ...": comm may hold spaces and parentheses.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let mut fields = after.split_whitespace();
        let state = fields.next();
        let ppid = fields.next().and_then(|s| s.parse().ok());
        if ppid == Some(me) {
            pids.push((pid, state == Some("Z")));
        }
    }
    pids
}

fn describe(pid: pid_t) -> String {
    let comm =
        std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    format!("{pid} {}", comm.trim())
}
