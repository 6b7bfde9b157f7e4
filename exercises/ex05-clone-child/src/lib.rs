//! Exercise 5 (chapter 3, clone): a child in a new UTS namespace, reaped.
//!
//! Write the two functions below:
//!
//! 1. [`clone_new_uts`] starts a child process that runs `child` in a new UTS
//!    namespace, with `nix::sched::clone` on a stack you allocate, and
//!    returns its PID. When the child ends, the kernel must tell the parent
//!    the usual way, with SIGCHLD.
//! 2. [`wait_for`] waits for that child and returns its exit status.
//!
//! Read: clone(2), waitpid(2), uts_namespaces(7); nix's `sched::clone` docs.
//!
//! The traps: the stack is yours to size. Too small, and the child
//! overflows it: on a heap stack there is no guard page, so it silently
//! scribbles over memory or dies of SIGSEGV. The exit signal is yours to give:
//! without SIGCHLD, waitpid(2) without `__WALL` does not see the child
//! (ECHILD). And a child nobody waits for stays a zombie: reap it.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix
//! call, `.call(|| "clone(CLONE_NEWUTS | SIGCHLD)".into())?` returns its
//! error naming the call (a bare `?` works too, but its error cannot say
//! which call failed); an errno you matched yourself becomes
//! `Error::sys(format!("waitpid({pid})"), errno)`, and
//! `Err(format!("...").into())` refuses in your own words.
//!
//! Check your work with `cargo test -p ex05-clone-child` (the root cases too:
//! `cargo test-root -p ex05-clone-child`); stuck, `cargo workbook hint ex05`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex05-clone-child/src/`; `cargo workbook
//! solution ex05` shows it once this exercise passes.
#![allow(unused_imports, unused_variables)] // until you write the code

use nix::errno::Errno;
use nix::sched::{CloneFlags, clone};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;
use workbook::error::Context;
use workbook::{Error, Result};

/// Start `child` in a new process, in a new UTS namespace; return its PID.
/// The child's exit status is what `child` returns.
pub fn clone_new_uts(child: impl FnMut() -> isize) -> Result<Pid> {
    todo!("allocate a stack; clone(child, stack, CLONE_NEWUTS, Some(SIGCHLD))")
}

/// Wait for child `pid` to end; return its exit status.
pub fn wait_for(pid: Pid) -> Result<i32> {
    todo!("waitpid({pid}) until it has exited, and return its exit status")
}
