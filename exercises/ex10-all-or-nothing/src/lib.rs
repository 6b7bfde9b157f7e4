//! Exercise 10 (chapter 5, joining through a pidfd): all or nothing.
//!
//! Write [`join_all`]: move the calling process into the namespaces of
//! process `pid` whose types are listed (`"uts"`, `"net"`, `"ipc"`,
//! `"user"`...), with ONE setns(2) call on a pidfd, then prove that each of
//! them moved, comparing identities. A name that is not a namespace type is
//! an error before any call.
//!
//! Read: setns(2) (with a pidfd, "setns() atomically moves the calling
//! thread into one or more of the same namespaces as the thread referred to
//! by fd"; EINVAL for re-entering your own user namespace), pidfd_open(2),
//! namespaces(7).
//!
//! The trap: one setns(2) call per namespace file looks the same until one
//! of them fails. Then the process has moved into some namespaces and not
//! others. You can find out which (each call returns its own result, and
//! `/proc/thread-self/ns` shows where you are), but you often cannot go
//! back: after joining a user namespace you hold no capability in the one
//! you left, and setns(2) joins only a descendant user namespace. With a
//! pidfd and all the flags in one call, the kernel joins all of them or
//! none. (The checks ask for the target's user namespace while you are
//! already in it: the kernel refuses, and you must still be in every
//! namespace you started in.)
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix
//! call, `.call(|| format!("setns(pidfd, {})", ns::flag_names(flags)))?`
//! returns its error naming the call (a bare `?` works too, but its error
//! cannot say which call failed). rustix's errno is another type: first
//! `.map_err(|err| Errno::from_raw(err.raw_os_error()))`, as in exercise 9.
//! `Err(format!("...").into())` refuses in your own words.
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
