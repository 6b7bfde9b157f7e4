//! Exercise 9 (chapter 5, joining through a pidfd): two namespaces, one call.
//!
//! Write [`join_uts_and_net`]: move the calling process into both the UTS
//! and the network namespace of process `pid`, with a pidfd from
//! pidfd_open(2) and ONE setns(2) call.
//!
//! Read: pidfd_open(2), setns(2) ("fd is a PID file descriptor": "The nstype
//! argument is a bit mask specified by ORing together one or more of the
//! CLONE_NEW* namespace constants"), namespaces(7).
//!
//! The traps: nix 0.32 has no pidfd_open; rustix has
//! (`rustix::process::pidfd_open`), and its descriptor is a std `OwnedFd`,
//! which nix's `setns` takes. With a pidfd the flags say which namespaces
//! to join, so 0 is an error (EINVAL) rather than "any". It needs Linux 5.8
//! (pidfd_open(2) itself, 5.3). And a process that is gone is an error to
//! return (ESRCH), not a panic.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix
//! call, `.call(|| format!("setns(pidfd, CLONE_NEWUTS | CLONE_NEWNET)"))?`
//! returns its error naming the call (a bare `?` works too, but its error
//! cannot say which call failed). rustix's errno is another type: first
//! `.map_err(|err| Errno::from_raw(err.raw_os_error()))`, then `.call`.
//! `Err(format!("...").into())` refuses in your own words.
//!
//! Check your work with `cargo test -p ex09-pidfd-join` (the root cases too:
//! `cargo test-root -p ex09-pidfd-join`); stuck, `cargo workbook hint ex09`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex09-pidfd-join/src/`; `cargo workbook
//! solution ex09` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};
use nix::unistd::Pid;
use rustix::process::{PidfdFlags, pidfd_open};
use workbook::error::Context;
use workbook::{Error, Result};

/// Join the UTS and network namespaces of process `pid`, in one setns(2).
pub fn join_uts_and_net(pid: Pid) -> Result<()> {
    todo!("pidfd_open({pid}, 0), then one setns(pidfd, CLONE_NEWUTS | CLONE_NEWNET)")
}
