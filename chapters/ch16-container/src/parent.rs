//! The parent's handle on the container's PID 1: release it, wait for it
//! while forwarding signals, and never leave it unreaped.

use std::os::fd::{AsFd, AsRawFd};

use nix::errno::Errno;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::Pid;
use workbook::process::Sender;
use workbook::{Error, Result};

use crate::{signals, step};

/// FD_CLOEXEC on both ends: the command must not inherit the pipe.
pub fn close_on_exec(fds: &[&dyn AsFd]) -> Result<()> {
    for fd in fds {
        // Safety: F_SETFD on a descriptor we own, with a plain flag.
        let done = unsafe {
            libc::fcntl(fd.as_fd().as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC)
        };
        if done == -1 {
            return Err(Error::sys(
                "fcntl(pipe, F_SETFD, FD_CLOEXEC)",
                Errno::last(),
            ));
        }
    }
    Ok(())
}

/// The container's PID 1, seen from the parent. On an error path, Drop
/// closes the pipe first (the child, waiting on it, reads end-of-file and
/// exits), then reaps it.
#[derive(Debug)]
pub struct Container {
    maps: Option<Sender>,
    pid: Pid,
    reaped: bool,
}

impl Container {
    /// PID 1, released by one byte on `maps`, or by its closing.
    pub fn new(maps: Sender, pid: Pid) -> Container {
        Container {
            maps: Some(maps),
            pid,
            reaped: false,
        }
    }

    pub fn release(&self) -> Result<()> {
        match &self.maps {
            Some(maps) => maps.notify(),
            None => Ok(()),
        }
    }

    /// waitpid(2) until PID 1 ends, telling each signal forwarded on the
    /// way. Its status as a shell gives it: the exit code, or 128 + N.
    pub fn wait(mut self) -> Result<i32> {
        let (me, pid) = (std::process::id(), self.pid);
        loop {
            // A signal may come just before waitpid(2) blocks, and then
            // interrupts nothing: look before each wait, and after.
            tell_forwarded(me, pid, true);
            // First wait without reaping (WNOWAIT): a zombie keeps its PID,
            // so no signal is forwarded to a stranger given that PID after
            // the reap (waitid(2)).
            match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
                Ok(_) => signals::stop_forwarding(),
                Err(Errno::EINTR) => continue,
                Err(errno) => {
                    return Err(Error::sys(
                        format!("waitid(P_PID, {pid}, &info, WEXITED | WNOWAIT)"),
                        errno,
                    ));
                }
            }
            let status = match waitpid(pid, None) {
                Ok(WaitStatus::Exited(_, code)) => code,
                Ok(WaitStatus::Signaled(_, signal, _)) => 128 + signal as i32,
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(errno) => {
                    return Err(Error::sys(
                        format!("waitpid({pid}, &status, 0)"),
                        errno,
                    ));
                }
            };
            tell_forwarded(me, pid, false);
            self.reaped = true;
            return Ok(status);
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        drop(self.maps.take());
        if !self.reaped {
            while let Err(Errno::EINTR) = waitpid(self.pid, None) {}
        }
    }
}

/// The line for a signal forwarded since the last look, if any; while PID
/// 1 lives (`alive`), whether the kernel will drop it.
fn tell_forwarded(me: u32, pid: Pid, alive: bool) {
    let Some(signal) = signals::take_forwarded() else {
        return;
    };
    step!("process {me} (parent): got {signal}; kill({pid}, {signal})");
    if alive && !signals::caught_by(pid, signal) {
        step!(
            "process {me} (parent): PID 1 has no handler for {signal}: the kernel drops \
             it (pid_namespaces(7)); use --init, or SIGKILL"
        );
    }
}
