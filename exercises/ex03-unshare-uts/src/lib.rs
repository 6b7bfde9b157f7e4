//! Exercise 3 (chapter 2, unshare): a hostname the host never sees.
//!
//! Write the two functions below:
//!
//! 1. [`unshare_uts`] moves the calling process into a new UTS namespace with
//!    unshare(2), and returns the identity of that new namespace.
//! 2. [`set_hostname_if_new`] sets the hostname, but only once it has proved
//!    that the process is no longer in the namespace `before`. If it still
//!    is, it refuses with an error and changes nothing.
//!
//! Read: unshare(2), uts_namespaces(7), sethostname(2).
//!
//! The trap: sethostname(2) renames whatever UTS namespace the calling thread
//! is in. If the unshare did not happen (a wrong flag, an error ignored, or,
//! in a program with threads, another thread made the call), it renames the
//! host. Compare the namespace's identity before and after
//! (`workbook::ns::NsId`) before changing anything.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix
//! call, `.call(|| "unshare(CLONE_NEWUTS)".into())?` returns its error
//! naming the call (a bare `?` works too, but its error cannot say which
//! call failed); `Err(format!("...").into())` refuses in your own words, and
//! `workbook::ns::ensure_new` refuses for you.
//!
//! Check your work with `cargo test -p ex03-unshare-uts` (the root cases too:
//! `cargo test-root -p ex03-unshare-uts`); stuck, `cargo workbook hint ex03`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex03-unshare-uts/src/`; `cargo workbook
//! solution ex03` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use nix::sched::{CloneFlags, unshare};
use nix::unistd::sethostname;
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};

/// Move the calling process into a new UTS namespace; return its identity.
pub fn unshare_uts() -> Result<NsId> {
    todo!("unshare(CLONE_NEWUTS), then return the identity of the new uts namespace")
}

/// Set the hostname to `name`, but only if the process is no longer in the
/// UTS namespace `before`; otherwise return an error and change nothing.
pub fn set_hostname_if_new(before: NsId, name: &str) -> Result<()> {
    todo!("refuse if the process is still in {before}; else sethostname({name:?})")
}
