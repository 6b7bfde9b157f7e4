//! Exercise 7 (chapter 4, joining through /proc): the hostname over there.
//!
//! Write [`join_uts`]: move the calling process into the UTS namespace of
//! process `pid` through its namespace file `/proc/PID/ns/uts` and setns(2),
//! and return the hostname it sees there. This is what `nsenter --uts
//! --target PID hostname` does.
//!
//! Read: setns(2), namespaces(7) ("The /proc/pid/ns/ directory"), nsenter(1).
//!
//! The traps: setns(2) takes a file descriptor, not a path: open the file
//! first (read-only is enough; close-on-exec so no program you start
//! inherits it). Its second argument does not choose the namespace, the
//! descriptor does; CLONE_NEWUTS there only insists the file is a UTS one
//! (0 would accept any type). And a process that is gone (no
//! `/proc/PID`) is an error to return, not a panic.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix
//! call, `.call(|| format!("setns(fd of {path:?}, CLONE_NEWUTS)"))?` returns its
//! error naming the call (a bare `?` works too, but its error cannot say
//! which call failed); `Err(format!("...").into())` refuses in your own
//! words.
//!
//! Check your work with `cargo test -p ex07-join-proc` (the root cases too:
//! `cargo test-root -p ex07-join-proc`); stuck, `cargo workbook hint ex07`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex07-join-proc/src/`; `cargo workbook
//! solution ex07` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use workbook::Result;
use workbook::error::Context;
use workbook::ns;

/// Join the UTS namespace of process `pid`; return the hostname seen there.
pub fn join_uts(pid: Pid) -> Result<String> {
    // STUB: todo!("open /proc/{pid}/ns/uts, setns(fd, CLONE_NEWUTS), then gethostname()")
    // BEGIN SOLUTION
    let path = format!("/proc/{pid}/ns/uts");
    let uts_fd = open(
        path.as_str(),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .call(|| format!("open({path:?}, O_RDONLY | O_CLOEXEC)"))?;
    setns(&uts_fd, CloneFlags::CLONE_NEWUTS)
        .call(|| format!("setns(fd of {path:?}, CLONE_NEWUTS)"))?;
    ns::hostname()
    // END SOLUTION
}
