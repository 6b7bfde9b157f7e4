//! Exercise 15 (chapter 8, PID namespaces): a minimal init.
//!
//! Write the two functions below:
//!
//! 1. [`spawn_init`] starts a process that is PID 1 of a new PID namespace
//!    and runs `init` there; it returns that process, for the caller to
//!    wait for.
//! 2. [`reap_all`] is what PID 1 does for a living: it waits for every child
//!    it has, until none is left, and returns the exit status of one of
//!    them, `main` (a shell's, a container's command).
//!
//! Read: pid_namespaces(7) ("The namespace init process", "setns(2) and
//! unshare(2) semantics", "Adoption of orphaned children"), unshare(2),
//! waitpid(2).
//!
//! The traps:
//! - unshare(CLONE_NEWPID) does not move the caller: its PID could not
//!   change under it. Only the children it forks afterwards are born in the
//!   new namespace, and the first is PID 1. Running `init` in the caller
//!   after unshare runs it with the caller's old PID.
//! - An orphan in the namespace (a process whose parent exited first) is
//!   re-parented to PID 1, which never forked it. An init that waits only
//!   for the child it started leaves the orphan a zombie when it exits:
//!   wait for any child (`waitpid(-1)`), until waitpid says there are none
//!   (ECHILD).
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix
//! call, `.call(|| "unshare(CLONE_NEWPID)".into())?` returns its error
//! naming the call; `Err(format!("...").into())` refuses in your own words.
//!
//! Check your work with `cargo test -p ex15-minimal-init` (the root cases
//! too: `cargo test-root -p ex15-minimal-init`); stuck, `cargo workbook hint
//! ex15`. The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex15-minimal-init/src/`; `cargo
//! workbook solution ex15` shows it once this exercise passes.
#![allow(unused_imports, unused_variables)] // until you write the code

use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;
use workbook::error::Context;
use workbook::process::{self, Child};
use workbook::{Error, Result};

/// Start PID 1 of a new PID namespace, running `init`; return it, unwaited.
/// (`workbook::process::fork_child` forks a child that runs a closure.)
pub fn spawn_init(init: impl FnOnce() -> Result<()>) -> Result<Child> {
    todo!("unshare(CLONE_NEWPID), then fork: the child is PID 1 and runs init")
}

/// As PID 1: wait for every child, orphans too, until none is left; return
/// the exit status of `main` (128 + the signal's number if a signal killed
/// it, as a shell says).
pub fn reap_all(main: Pid) -> Result<i32> {
    todo!("waitpid(-1) until ECHILD; keep the status of {main}")
}
