//! Helper processes and how the examples keep in step with them.
//!
//! A namespace story needs two processes: one that moves, one that stays (or
//! one parked in a namespace, one that joins it). They synchronise through
//! pipes: a process that must wait blocks in read(2) until the other writes a
//! byte, or closes its end. Never by sleeping, so every run prints the same
//! lines in the same order.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::panic::{self, AssertUnwindSafe};

use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe, read, write};

use crate::error::{Context, Error, Result};
use crate::say;

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
}

impl AsFd for Sender {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
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
}

impl AsFd for Receiver {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
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
                    return Err(Error::sys(
                        format!("waitpid({pid}, &status, 0)"),
                        errno,
                    ));
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
/// error (prefixed with its PID) and exits with the error's code. If `body`
/// panics, the panic is caught in the child, which exits with status 101:
/// the child never returns nor unwinds into the caller's frames, and never
/// runs the parent's destructors (which would, for example, remove the
/// parent's temporary directory, or close descriptors twice).
///
/// `close_in_child` are pipe ends the child must not keep open: a child that
/// holds a copy of the end it waits on would never see end-of-file. They are
/// borrowed from their owners, which outlive this call in the parent.
///
/// Refused when the process has more than one thread: fork(2) copies only
/// the calling thread, so a lock another thread held (the allocator's, the
/// stdout lock) would stay locked forever in the child, and `body`, which may
/// allocate or print, could hang. Checking keeps this function safe to call.
///
/// ```
/// // A doctest is a program of its own, with one thread.
/// use workbook::process::{Sender, channel, fork_child};
///
/// // A guard of the caller's: dropping it writes one byte.
/// struct Guard(Sender);
/// impl Drop for Guard {
///     fn drop(&mut self) {
///         let _ = self.0.notify();
///     }
/// }
/// let (tx, rx) = channel().unwrap();
/// let guard = Guard(tx);
/// let child = fork_child(&[], || panic!("a bug in the child")).unwrap();
/// let err = child.wait().unwrap_err().to_string();
/// assert!(err.contains("exited with status 101"), "{err}");
/// drop(guard);
/// // One byte, the parent's: the child's panic ran none of the caller's
/// // destructors (had it unwound, its copy of `guard` would have written).
/// assert!(rx.wait().unwrap());
/// assert!(!rx.wait().unwrap(), "the child ran the caller's destructor");
/// ```
pub fn fork_child(
    close_in_child: &[&dyn AsFd],
    body: impl FnOnce() -> Result<()>,
) -> Result<Child> {
    ensure_single_threaded()?;
    // Lines still in our stdout buffer would otherwise be printed twice, once
    // by each process.
    let _ = std::io::stdout().flush();
    // Safety: this process has one thread (checked just above; no other
    // thread can have started since, as there is none to start it), so the
    // child is an exact copy with no lock held by a thread that does not
    // exist in it; it may run any code. It leaves through _exit below, never
    // returning nor unwinding into code that assumes it is the parent.
    match unsafe { fork() }.call(|| "fork()".into())? {
        ForkResult::Parent { child } => Ok(Child::from_pid(child)),
        ForkResult::Child => {
            for fd in close_in_child {
                // Safety: the descriptor is this process's copy of one the
                // parent owns. Its owner (an OwnedFd in the parent's frames)
                // is never dropped here, since this process leaves through
                // _exit without unwinding: so the number is closed exactly
                // once, here, and never used again.
                unsafe { libc::close(fd.as_fd().as_raw_fd()) };
            }
            // A panic in `body` stops here: unwinding further would run the
            // parent's destructors in this copy of it.
            let code = child_life(body);
            // Safety: _exit(2) ends the process at once; nothing after it runs.
            unsafe { libc::_exit(code) }
        }
    }
}

/// Refuse to fork from a process with more than one thread: `Threads:` in
/// /proc/self/status (proc(5)).
fn ensure_single_threaded() -> Result<()> {
    let status = std::fs::read_to_string("/proc/self/status")
        .call(|| "read(fd of \"/proc/self/status\")".into())?;
    let threads = status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse::<u32>().ok());
    match threads {
        Some(1) => Ok(()),
        Some(n) => Err(Error::refused(
            format!("fork() refused: this process has {n} threads"),
            "fork(2) copies only the calling thread, and a lock another thread holds \
             would never be released in the child; fork before starting any thread",
        )),
        None => Err(Error::refused(
            "fork() refused: no Threads: line in /proc/self/status",
            "is /proc mounted? (mount -t proc proc /proc)",
        )),
    }
}

/// Run `body` as a cloned child's whole life, and return its exit status: a
/// panic in it is caught here and becomes status 101, so the child never
/// unwinds out of the function clone(2) started it in (for `libc::clone`
/// that would cross an `extern "C"` frame; for `nix::sched::clone`, into
/// frames that are not its own).
pub fn child_life(body: impl FnOnce() -> Result<()>) -> i32 {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => exit_status(result),
        Err(_) => 101,
    }
}

/// The exit status for a child whose work ended with `result`: 0, or the
/// error's code after printing the error (prefixed with the child's PID).
/// A stdout write error seen by this process counts as an error (status 1);
/// a closed pipe (EPIPE) does not: the child ends with 0 and the parent,
/// whose next line meets the same closed pipe, ends by SIGPIPE.
/// Flushes stdout, since a child that ends with _exit(2) or the raw exit
/// system call runs no destructor and flushes no buffer.
pub fn exit_status(result: Result<()>) -> i32 {
    let _ = std::io::stdout().flush();
    let result = match (result, say::ending()) {
        (Err(err), _) => Err(err),
        (Ok(()), say::Ending::Failed(errno)) => Err(say::error(errno)),
        (Ok(()), say::Ending::Written | say::Ending::Closed) => Ok(()),
    };
    match result {
        Ok(()) => 0,
        Err(err) => {
            let _ =
                writeln!(std::io::stderr(), "process {}: {err}", std::process::id());
            i32::from(err.exit_code())
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn fork_is_refused_with_more_than_one_thread() {
        // The test harness runs each test on a thread of its own, so this
        // process has at least two.
        match fork_child(&[], || Ok(())) {
            Err(Error::Refused { what, .. }) => {
                assert!(what.contains("threads"), "{what}")
            }
            other => panic!("fork_child in a threaded process: {other:?}"),
        }
    }

    #[test]
    fn a_cloned_childs_panic_is_its_exit_status() {
        // What ch03's clone children run: the panic is caught here, in the
        // child's first frame, and becomes status 101.
        assert_eq!(child_life(|| panic!("a bug in the child")), 101);
        assert_eq!(child_life(|| Ok(())), 0);
    }
}
