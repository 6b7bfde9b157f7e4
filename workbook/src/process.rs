//! Helper processes and how the examples keep in step with them.
//!
//! A namespace story needs two processes: one that moves, one that stays (or
//! one parked in a namespace, one that joins it). They synchronise through
//! pipes: a process that must wait blocks in read(2) until the other writes a
//! byte, or closes its end. Never by sleeping, so every run prints the same
//! lines in the same order.

use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe, read, write};

use crate::error::{Context, Error, Result};

/// The reading end of a pipe: waits for the other side.
#[derive(Debug)]
pub struct Receiver(OwnedFd);

/// The writing end of a pipe: wakes the other side. Dropping it wakes the
/// reader too, with end-of-file.
#[derive(Debug)]
pub struct Sender(OwnedFd);

/// A pipe(2), for one signal in one direction.
pub fn channel() -> Result<(Sender, Receiver)> {
    let (read_end, write_end) = pipe().call(|| "pipe()".into())?;
    Ok((Sender(write_end), Receiver(read_end)))
}

impl Sender {
    /// Send the one-byte signal.
    pub fn notify(&self) -> Result<()> {
        write(&self.0, b"!").call(|| "write(pipe)".into())?;
        Ok(())
    }

    fn raw(&self) -> i32 {
        self.0.as_raw_fd()
    }
}

impl Receiver {
    /// Block until the other side notifies (`true`) or closes its end without
    /// a word, usually because it failed or exited (`false`).
    pub fn wait(&self) -> Result<bool> {
        let mut byte = [0u8; 1];
        loop {
            match read(&self.0, &mut byte) {
                Ok(n) => return Ok(n == 1),
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(Error::sys("read(pipe)", errno)),
            }
        }
    }

    fn raw(&self) -> i32 {
        self.0.as_raw_fd()
    }
}

/// A child process of ours that must be waited for.
///
/// [`Child::wait`] reaps it and reports how it ended. If a `Child` is dropped
/// unwaited (an error path), the drop still reaps it, so no example leaves a
/// zombie or an orphan behind.
#[derive(Debug)]
pub struct Child {
    pid: Pid,
    reaped: bool,
}

impl Child {
    /// Adopt a child created another way (clone(2)) so it is reaped as well.
    pub fn from_pid(pid: Pid) -> Child {
        Child { pid, reaped: false }
    }

    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// waitpid(2) for the child; an error if it did not exit with status 0.
    /// The child has already printed its own error, if it had one.
    pub fn wait(mut self) -> Result<()> {
        self.reaped = true;
        let pid = self.pid;
        loop {
            match waitpid(pid, None) {
                Ok(WaitStatus::Exited(_, 0)) => return Ok(()),
                Ok(WaitStatus::Exited(_, code)) => {
                    return Err(Error::refused(
                        format!("process {pid} exited with status {code}"),
                        "its own error is printed above",
                    ));
                }
                Ok(WaitStatus::Signaled(_, signal, _)) => {
                    return Err(Error::refused(
                        format!("process {pid} was killed by {signal}"),
                        "",
                    ));
                }
                Ok(_) => continue,
                Err(Errno::EINTR) => continue,
                Err(errno) => {
                    return Err(Error::sys(format!("waitpid({pid})"), errno));
                }
            }
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            // An error path: the child may be parked waiting for us, and its
            // pipes are closed by now, so it ends; reap it.
            while let Err(Errno::EINTR) = waitpid(self.pid, None) {}
        }
    }
}

/// Run `body` in a forked child process and return the parent's handle.
///
/// The child exits when `body` returns: 0 on success, else it prints the
/// error (prefixed with its PID) and exits with the error's code. It never
/// returns into the caller's code, and never runs the parent's destructors
/// (which would, for example, remove the parent's temporary files).
///
/// `close_in_child` are pipe ends the child must not keep open: a child that
/// holds a copy of the end it waits on would never see end-of-file.
pub fn fork_child(
    close_in_child: &[i32],
    body: impl FnOnce() -> Result<()>,
) -> Result<Child> {
    // Lines still in our stdout buffer would otherwise be printed twice, once
    // by each process.
    let _ = std::io::stdout().flush();
    // Safety: the examples are single-threaded processes, so the child is an
    // exact copy with no lock held by a thread that does not exist in it; it
    // may run any code, and it leaves through _exit below, never returning
    // into code that assumes it is the parent.
    match unsafe { fork() }.call(|| "fork()".into())? {
        ForkResult::Parent { child } => Ok(Child::from_pid(child)),
        ForkResult::Child => {
            for &fd in close_in_child {
                // Safety: these descriptors are copies of the parent's pipe
                // ends; this process never touches them again, and the
                // OwnedFds that also name them are never dropped here, since
                // the child leaves through _exit.
                unsafe { libc::close(fd) };
            }
            let code = exit_status(body());
            // Safety: _exit(2) ends the process at once; nothing after it runs.
            unsafe { libc::_exit(code) }
        }
    }
}

/// The exit status for a child whose work ended with `result`: 0, or the
/// error's code after printing the error (prefixed with the child's PID).
/// Flushes stdout, since a child that ends with _exit(2) or the raw exit
/// system call runs no destructor and flushes no buffer.
pub fn exit_status(result: Result<()>) -> i32 {
    let code = match result {
        Ok(()) => 0,
        Err(err) => {
            let _ = std::io::stdout().flush();
            eprintln!("process {}: {err}", std::process::id());
            i32::from(err.exit_code())
        }
    };
    let _ = std::io::stdout().flush();
    code
}

/// The pipe ends a child must close: the parent's ends of `senders` the child
/// does not use and of `receivers` it does not use.
pub fn raw_ends(senders: &[&Sender], receivers: &[&Receiver]) -> Vec<i32> {
    senders
        .iter()
        .map(|s| s.raw())
        .chain(receivers.iter().map(|r| r.raw()))
        .collect()
}
