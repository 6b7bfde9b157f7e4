//! Exercise 29 (chapter 15, namespace lifetime): keep a namespace with an
//! fd, and prove it died.
//!
//! A UTS namespace lives while something holds it (namespaces(7),
//! "Namespace lifetime"): its last process is one holder, an open fd of
//! its namespace file another. Write:
//!
//! 1. [`keep`]: hold the UTS namespace of process `pid` with an fd, so that
//!    it outlives the process. The namespace dies when that fd is closed,
//!    so return exactly one fd, and leave no other open.
//! 2. [`is_alive`]: ask the kernel whether the namespace a file handle names
//!    is alive, without keeping it alive: open it by handle
//!    ([`Handle::open`], open_by_handle_at(2)) and close what you opened.
//!    ESTALE is the kernel's "gone" (`Ok(false)`); any other error is an
//!    error, not an answer.
//!
//! Read: namespaces(7) ("Namespace lifetime"), open_by_handle_at(2),
//! ioctl_ns(2). Needs Linux 6.18 (nsfs file handles).
//!
//! The traps: an fd of the process's `/proc/PID` directory, or a path
//! string, holds nothing; `/proc/self/ns/uts` is the caller's namespace,
//! not the process's. An fd that is never closed (`mem::forget`, a
//! duplicate left behind) keeps the namespace forever: in `is_alive` that
//! makes the question its own answer.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a call,
//! `.call(|| format!("open({path:?}, O_RDONLY | O_CLOEXEC)"))?` returns its
//! error naming the call (use `workbook::error::Context`); `err.errno()`
//! says which errno a `workbook::Error` carries.
//!
//! Check your work with `cargo test -p ex29-keep-with-fd` (the root cases too:
//! `cargo test-root -p ex29-keep-with-fd`); stuck, `cargo workbook hint ex29`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex29-keep-with-fd/src/`; `cargo workbook
//! solution ex29` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use workbook::Result;
use workbook::error::Context;
use workbook::nsfs_handle::Handle;

/// An fd of the UTS namespace of process `pid`, which keeps the namespace
/// alive after the process has exited, until the fd is closed.
pub fn keep(pid: Pid) -> Result<OwnedFd> {
    todo!("open /proc/{pid}/ns/uts and return the fd")
}

/// Is the namespace `handle` names alive? Asked without keeping it alive.
pub fn is_alive(handle: &Handle) -> Result<bool> {
    todo!("{handle:?}.open(): Ok means alive (close the fd), ESTALE gone")
}
