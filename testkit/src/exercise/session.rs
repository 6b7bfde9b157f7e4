//! One run of one case: start its process, listen to it, look at it while it
//! is parked, and end with nothing of it left running.
//!
//! The runner watches four things at once with poll(2), with no thread and
//! no sleep: the control pipe (messages, see `control`), the output pipe
//! (the case's stdout and stderr, which is the learner's and only shown), a
//! pidfd of the case's process (readable once it has ended), and the pipe
//! that says a signal asked the run to stop (see `reap`).

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::unistd::{Pid, pipe2, read};

use super::control::{self, Message};
use super::probe::{Probe, Report};
use super::{Case, TIMEOUT, reap};
use crate::User;

/// Everything a case's run showed, for the verdict.
#[derive(Debug, Default)]
pub(super) struct Transcript {
    pub(super) report: Report,
    /// `fail` and `panic` messages, in order.
    pub(super) reasons: Vec<String>,
    /// The process that parked, once one did (the check ran then).
    pub(super) parked: Option<Pid>,
    /// The case's process said `end`: it was not ended early.
    pub(super) ended: bool,
    /// The case's own output, by line.
    pub(super) output: Vec<String>,
    pub(super) timed_out: bool,
    pub(super) status: Option<ExitStatus>,
    pub(super) pid: Option<Pid>,
}

/// Run `cmd` (the test binary, set up to run `case` as `user`), and end with
/// every process of it killed and reaped. `wake` is the signal pipe.
pub(super) fn run(
    mut cmd: Command,
    case: &Case,
    user: Option<User>,
    wake: &OwnedFd,
) -> Result<Transcript, String> {
    let (control_rx, control_tx) = pipe("control")?;
    let (output_rx, output_tx) = pipe("output")?;
    let stderr_tx = output_tx
        .try_clone()
        .map_err(|e| format!("dup() failed: {e}"))?;
    let control_fd = control_tx.as_raw_fd();
    let runner = std::process::id() as libc::pid_t;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::from(output_tx))
        .stderr(Stdio::from(stderr_tx))
        .env(control::FD_ENV, control_fd.to_string())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        // A process group of its own: Ctrl-C at the terminal reaches the
        // runner only, which then ends the case itself (see `reap`).
        .process_group(0);
    // Safety: the hook runs in the forked child before exec and makes only
    // raw system calls (fcntl, prctl, getppid) on integers read before fork.
    unsafe {
        cmd.pre_exec(move || {
            // The control pipe's write end crosses exec; the case marks it
            // close-on-exec again at once (control::open).
            if libc::fcntl(control_fd, libc::F_SETFD, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            reap::die_with_runner(runner)
        });
    }
    let spawned = cmd.spawn();
    // Our copies of the write ends must go, or the pipes never end.
    drop(cmd);
    drop(control_tx);
    let mut child =
        spawned.map_err(|e| format!("could not start the test binary: {e}"))?;
    let pid = Pid::from_raw(child.id() as i32);
    let mut transcript = Transcript {
        pid: Some(pid),
        ..Transcript::default()
    };
    let watched = match pidfd_open(pid) {
        Ok(pidfd) => {
            let mut watch = Watch {
                fds: [control_rx, output_rx, pidfd],
                open: [true, true, true],
                lines: [Vec::new(), Vec::new()],
            };
            watch.until_end(case, user, &mut child, &mut transcript, wake);
            Ok(())
        }
        Err(why) => Err(why),
    };
    transcript.status = reap::kill_all(&mut child);
    watched.map(|()| transcript)
}

fn pipe(what: &str) -> Result<(OwnedFd, OwnedFd), String> {
    pipe2(OFlag::O_CLOEXEC)
        .map_err(|e| format!("pipe2() for the {what} failed: {e}"))
}

/// pidfd_open(2) (Linux 5.3): a descriptor that is readable once the
/// process has ended, and names that process even if its PID is reused.
fn pidfd_open(pid: Pid) -> Result<OwnedFd, String> {
    // Safety: a plain system call with two integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(format!("pidfd_open({pid}) failed: {}", Errno::last()));
    }
    // Safety: the kernel just returned this descriptor; nothing else owns it.
    Ok(unsafe { reap::own(fd as i32) })
}

const CONTROL: usize = 0;
const OUTPUT: usize = 1;
const PIDFD: usize = 2;

struct Watch {
    /// The control pipe, the output pipe, the pidfd.
    fds: [OwnedFd; 3],
    /// Still worth polling: a pipe at end of file is not.
    open: [bool; 3],
    /// Bytes of each pipe not yet ending in a newline.
    lines: [Vec<u8>; 2],
}

impl Watch {
    /// Read and act until the case's process has ended (then read what it
    /// wrote before), the deadline, or a signal.
    fn until_end(
        &mut self,
        case: &Case,
        user: Option<User>,
        child: &mut std::process::Child,
        t: &mut Transcript,
        wake: &OwnedFd,
    ) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let ready = self.poll(wake.as_raw_fd(), deadline);
            if ready[3] {
                return; // A signal: the runner stops (reap::interrupted).
            }
            for pipe in [CONTROL, OUTPUT] {
                if ready[pipe] {
                    self.read(pipe, case, user, child, t);
                }
            }
            if ready[PIDFD] {
                // Everything it wrote is in the pipes by now; read that, but
                // not what a process it left keeps writing.
                self.drain(case, user, child, t);
                return;
            }
            if !ready.contains(&true) {
                t.timed_out = true;
                return;
            }
        }
    }

    /// Which of control, output, pidfd and `wake` (-1: none) are readable
    /// (or at end of file).
    fn poll(&self, wake: RawFd, deadline: Instant) -> [bool; 4] {
        let fd = |i: usize| match self.open[i] {
            true => self.fds[i].as_raw_fd(),
            false => -1, // poll(2) skips a negative fd.
        };
        let mut fds = [fd(0), fd(1), fd(2), wake].map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
            // Safety: `fds` is a valid array of `len` pollfd structures.
            let n = unsafe {
                libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms)
            };
            if n < 0 && Errno::last() == Errno::EINTR {
                continue;
            }
            return fds.map(|p| p.revents != 0);
        }
    }

    /// Read what the pipes hold now, for a bounded amount.
    fn drain(
        &mut self,
        case: &Case,
        user: Option<User>,
        child: &mut std::process::Child,
        t: &mut Transcript,
    ) {
        self.open[PIDFD] = false;
        for _ in 0..256 {
            let ready = self.poll(-1, Instant::now());
            if !ready.contains(&true) {
                break;
            }
            for pipe in [CONTROL, OUTPUT] {
                if ready[pipe] {
                    self.read(pipe, case, user, child, t);
                }
            }
        }
        // A last line without its newline.
        for pipe in [CONTROL, OUTPUT] {
            if !self.lines[pipe].is_empty() {
                self.lines[pipe].push(b'\n');
                self.take_lines(pipe, case, user, child, t);
            }
        }
    }

    fn read(
        &mut self,
        pipe: usize,
        case: &Case,
        user: Option<User>,
        child: &mut std::process::Child,
        t: &mut Transcript,
    ) {
        let mut chunk = [0u8; 4096];
        match read(&self.fds[pipe], &mut chunk) {
            Ok(0) | Err(_) => self.open[pipe] = false,
            Ok(n) => self.lines[pipe].extend_from_slice(&chunk[..n]),
        }
        self.take_lines(pipe, case, user, child, t);
    }

    fn take_lines(
        &mut self,
        pipe: usize,
        case: &Case,
        user: Option<User>,
        child: &mut std::process::Child,
        t: &mut Transcript,
    ) {
        while let Some(at) = self.lines[pipe].iter().position(|b| *b == b'\n') {
            let bytes: Vec<u8> = self.lines[pipe].drain(..=at).collect();
            let line = String::from_utf8_lossy(&bytes[..at]).into_owned();
            match pipe {
                CONTROL => match control::decode(&line) {
                    Some(message) => heard(message, case, user, child, t),
                    None => t.reasons.push(format!(
                        "the harness got a message it does not know: {line:?}"
                    )),
                },
                _ => t.output.push(line),
            }
        }
    }
}

/// Act on one message from the case.
fn heard(
    message: Message,
    case: &Case,
    user: Option<User>,
    child: &mut std::process::Child,
    t: &mut Transcript,
) {
    let pid = Pid::from_raw(child.id() as i32);
    match message {
        Message::Report(key, value) => t.report.entries.push((key, value)),
        Message::Fail(why) | Message::Panic(why) => t.reasons.push(why),
        Message::End(from) => t.ended |= from == pid,
        Message::Ready(parked) if t.parked.is_none() => {
            t.parked = Some(parked);
            if let Some(check) = case.check {
                let probe = Probe {
                    user,
                    child: pid,
                    parked,
                    report: &t.report,
                };
                if let Err(why) = check(&probe) {
                    t.reasons.push(why);
                }
            }
            // End of file on stdin releases every parked process.
            drop(child.stdin.take());
        }
        Message::Ready(_) => {}
    }
}
