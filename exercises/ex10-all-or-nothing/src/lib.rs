//! Exercise 10 (chapter 5, joining through a pidfd): all or nothing.
//!
//! Write [`join_all`]: move the calling process into the namespaces of
//! process `pid` whose types are listed (`"uts"`, `"net"`, `"ipc"`,
//! `"user"`...), with ONE setns(2) call on a pidfd, then prove that each of
//! them moved, comparing identities. A name that is not a namespace type is
//! an error before any call.
//!
//! Read: setns(2) (with a pidfd: "the caller's membership in each namespace
//! is changed atomically"; EINVAL for re-entering your own user namespace),
//! pidfd_open(2), namespaces(7).
//!
//! The trap: one setns(2) call per namespace file looks the same until one
//! of them fails. Then the process has moved into some namespaces and not
//! others, and nothing can tell you which. With a pidfd and all the flags
//! in one call, the kernel joins all of them or none. (The checks ask for
//! the target's user namespace while you are already in it: the kernel
//! refuses, and you must still be in every namespace you started in.)
//!
//! Check your work with `cargo test -p ex10-all-or-nothing` (the root cases too:
//! `cargo test-root -p ex10-all-or-nothing`); stuck, `cargo workbook hint ex10`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex10-all-or-nothing/src/`; `cargo workbook
//! solution ex10` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};
use nix::unistd::Pid;
use rustix::process::{PidfdFlags, pidfd_open};
use workbook::error::Context;
use workbook::ns::{self, NsId, Proc};
use workbook::{Error, Result};

/// Join the namespaces of process `pid` of the given types, in one call.
pub fn join_all(pid: Pid, types: &[&str]) -> Result<()> {
    todo!("flags for {types:?}, pidfd_open({pid}), one setns, compare identities")
}
