//! Exercise 33 (chapter 16, the container): an init that forwards signals.
//!
//! Write [`supervise`], what a container's tiny init (`docker run --init`,
//! tini, this chapter's `--init`) does as PID 1 once it has forked the
//! command, `main`:
//! - every SIGTERM, SIGINT and SIGHUP sent to PID 1 is sent on to `main`;
//! - every child is reaped as it ends, orphans PID 1 adopted too, so none
//!   stays a zombie;
//! - when `main` has ended, return its status as a shell gives it: its
//!   exit code, or 128 + N if signal N killed it. Not later: a daemon the
//!   command left behind may never end (when PID 1 exits, the kernel kills
//!   the rest of the namespace).
//!
//! Read: pid_namespaces(7) ("The namespace init process"), sigaction(2),
//! signal-safety(7), waitpid(2).
//!
//! The traps:
//! - the kernel delivers to PID 1 only the signals it has a handler for,
//!   from inside its namespace and from outside (SIGKILL and SIGSTOP
//!   aside): with the default action, SIGTERM is dropped. Install a
//!   handler, with sigaction(2).
//! - a handler may call only async-signal-safe functions: kill(2) is one,
//!   println! and anything that allocates or locks are not. It finds
//!   `main` in a static (an `AtomicI32`).
//! - a signal interrupts waitpid(2): EINTR is not an error, wait again.
//! - waitpid(main) alone never reaps an orphan: wait for any child,
//!   waitpid(-1), and tell `main` by its PID.
//!
//! nix has `sigaction`, `SigAction::new(SigHandler::Handler(f),
//! SaFlags::empty(), SigSet::empty())`, `kill` and `waitpid`. A handler is
//! an `extern "C" fn(libc::c_int)`; `libc::kill` can be called in it.
//!
//! Check your work with `cargo test -p ex33-forwarding-init` (the root
//! cases too: `cargo test-root -p ex33-forwarding-init`); stuck, `cargo
//! workbook hint ex33`. The answer is in `solutions/ex33-forwarding-init/src/`;
//! `cargo workbook solution ex33` shows it once this exercise passes.
#![allow(unused_imports, unused_variables, dead_code)] // until you write the code

use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;
use workbook::error::Context;
use workbook::{Error, Result};

/// The signals PID 1 sends on to `main`.
pub const FORWARDED: [Signal; 3] = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP];

/// Where the handler sends the signals it receives.
static MAIN: AtomicI32 = AtomicI32::new(0);

/// As PID 1: forward [`FORWARDED`] to `main`, reap every child, and return
/// `main`'s status (128 + N if signal N killed it) as soon as it has ended.
pub fn supervise(main: Pid) -> Result<i32> {
    todo!("a handler that kill()s {main}, then waitpid(-1) until {main} has ended")
}
