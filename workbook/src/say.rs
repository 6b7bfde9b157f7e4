//! The story's lines on stdout: [`say!`](crate::say!) instead of `println!`.
//!
//! `println!` panics when stdout fails: `ch01 | head -1` closes the pipe
//! after one line, and the next line gives EPIPE; `ch03 > /dev/full` gives
//! ENOSPC at once. An example must not panic for that, nor stop halfway with
//! its temporary directory still there. So `say!` never panics: the first
//! write error is remembered, later lines are dropped, and the lesson runs on
//! to its end, cleanup included. Then [`crate::cli::main`] (or
//! [`crate::process::exit_status`] in a forked child) reports it:
//!
//! - EPIPE, the reader is gone: the conventional end, death by SIGPIPE (what
//!   `cat` or `ls` would do; the shell shows nothing), after the cleanup. Rust
//!   programs start with SIGPIPE ignored, which is why the write returns EPIPE
//!   rather than killing the process at once (signal(7), pipe(7)).
//! - Anything else (ENOSPC, EIO...): one error line naming `write(stdout)`
//!   and the errno, and exit status 1.
//!
//! Each line is one write(2) of the whole line, so lines from a parent and
//! its forked child never mix mid-line on a pipe (pipe(7): writes of up to
//! PIPE_BUF bytes are atomic).

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use nix::errno::Errno;

use crate::error::Error;

/// The first errno a write to stdout gave, 0 while there was none.
static FIRST_ERRNO: AtomicI32 = AtomicI32::new(0);
/// The process that saw it: a forked child inherits its parent's memory, and
/// with it an error that is the parent's to report, not the child's.
static SEEN_BY: AtomicU32 = AtomicU32::new(0);

/// Print one line on stdout, like `println!`, but never panic: a write error
/// is remembered for the end of the program (see the module's doc).
#[macro_export]
macro_rules! say {
    () => {
        $crate::say::line(::std::format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::say::line(::std::format_args!($($arg)*))
    };
}

/// What [`say!`](crate::say!) expands to: format the line, then write it.
pub fn line(args: fmt::Arguments<'_>) {
    let mut line = fmt::format(args);
    line.push('\n');
    text(&line);
}

/// Write `text` as it is (a usage text that ends in its own newline, a
/// prompt that ends in none), with the same rules as [`say!`](crate::say!).
pub fn text(text: &str) {
    if FIRST_ERRNO.load(Ordering::Relaxed) != 0 {
        return;
    }
    // Whatever std's own stdout buffer holds (a `print!` elsewhere) goes
    // first, so lines keep their order.
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    let _ = lock.flush();
    if let Err(errno) = write_all(&lock, text.as_bytes()) {
        remember(errno);
    }
}

/// write(2) until every byte is written, retrying on EINTR.
fn write_all(fd: &impl std::os::fd::AsFd, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => continue,
            // No stdout at all (`ch01 >&-`): std's println! prints nothing
            // and carries on; so do we.
            Err(Errno::EBADF) => return Ok(()),
            Err(errno) => return Err(errno),
        }
    }
    Ok(())
}

fn remember(errno: Errno) {
    if FIRST_ERRNO
        .compare_exchange(0, errno as i32, Ordering::Relaxed, Ordering::Relaxed)
        .is_ok()
    {
        SEEN_BY.store(std::process::id(), Ordering::Relaxed);
    }
}

/// How the story's output ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Every line was written (or there was no stdout at all).
    Written,
    /// The reader closed the pipe (EPIPE): end by SIGPIPE, quietly.
    Closed,
    /// Another write error: report it and exit 1.
    Failed(Errno),
}

/// How stdout fared in this process. An error inherited from the parent
/// across fork(2) counts as `Written` in the child: the parent reports it,
/// once.
pub fn ending() -> Ending {
    let raw = FIRST_ERRNO.load(Ordering::Relaxed);
    if raw == 0 || SEEN_BY.load(Ordering::Relaxed) != std::process::id() {
        return Ending::Written;
    }
    match Errno::from_raw(raw) {
        Errno::EPIPE => Ending::Closed,
        errno => Ending::Failed(errno),
    }
}

/// The error to report for a failed stdout.
pub fn error(errno: Errno) -> Error {
    Error::sys_with_hint(
        "write(stdout)",
        errno,
        match errno {
            Errno::ENOSPC => {
                "the file or device stdout goes to is full: free some space, or send \
                 the output elsewhere (a pipe, or a file on another filesystem)"
            }
            _ => {
                "the lines after the failed one were not printed; check where stdout \
                 goes (the file, the device, the pipe's reader) and run again"
            }
        },
    )
}

/// The exit code of a program whose work ended with `code`, once stdout is
/// judged: a closed pipe ends it by SIGPIPE (141 if that signal is held
/// off), another write error is reported on stderr and gives 1. For a
/// program without `cli::main` (the learner's `workbook` command).
pub fn finish(code: std::process::ExitCode) -> std::process::ExitCode {
    match ending() {
        Ending::Written => code,
        Ending::Closed => {
            die_of_sigpipe();
            std::process::ExitCode::from(141)
        }
        Ending::Failed(errno) => {
            let _ = writeln!(std::io::stderr(), "{}", error(errno));
            std::process::ExitCode::FAILURE
        }
    }
}

/// End the process by SIGPIPE, as a program that ignores nothing would when
/// its reader left: restore the default action, unblock the signal, raise it.
/// Call this last, after every cleanup. If the signal does not kill the
/// process (it cannot be unblocked), returns, and the caller exits.
pub fn die_of_sigpipe() {
    use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal};
    use nix::sys::signal::{raise, signal, sigprocmask};
    // Safety: SIG_DFL installs no handler, so no code of ours can run in a
    // signal context because of this call.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    let mut set = SigSet::empty();
    set.add(Signal::SIGPIPE);
    let _ = sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None);
    let _ = raise(Signal::SIGPIPE);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inherited_error_is_not_the_childs() {
        // No write has failed in this test process.
        assert_eq!(ending(), Ending::Written);
        assert!(error(Errno::ENOSPC).to_string().contains("write(stdout)"));
    }
}
