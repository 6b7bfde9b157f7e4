//! Exercise 21 (chapter 11, IPC namespaces): a queue the old namespace
//! cannot find.
//!
//! Write the three functions below:
//!
//! 1. [`unshare_ipc`] moves the calling process into a new IPC namespace
//!    and returns its identity.
//! 2. [`create_queue_if_new`] creates a System V message queue with `key`
//!    (mode 0600), but only once it has proved that the process is no
//!    longer in the IPC namespace `before`; and it must never open a queue
//!    that already has that key: that is an error (EEXIST).
//! 3. [`queue_exists`] says whether a queue with `key` exists in the
//!    caller's IPC namespace, without ever creating one.
//!
//! Read: ipc_namespaces(7), sysvipc(7), msgget(2).
//!
//! The traps: a queue made in the host's IPC namespace outlives your
//! program (until `ipcrm`, or reboot), so prove the namespace is new
//! first. IPC_PRIVATE (key 0) is not a namespace: it makes a queue nobody
//! else can name, in the current namespace. msgget(2) with IPC_CREAT
//! quietly opens a queue that exists, unless IPC_EXCL is given too. And a
//! lookup with IPC_CREAT creates what it was asked to look for.
//!
//! `workbook::sysvipc::msgget(key, flags)` is msgget(2); its error names
//! the call, and `err.errno()` gives the errno (ENOENT: no such queue).
//!
//! Check your work with `cargo test -p ex21-ipc-invisible` (the root cases
//! too: `cargo test-root -p ex21-ipc-invisible`); stuck, `cargo workbook
//! hint ex21`. The check, not the solution, is the teacher: it says what is
//! still wrong. The answer is in `solutions/ex21-ipc-invisible/src/`;
//! `cargo workbook solution ex21` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::sysvipc::{self, IPC_CREAT, IPC_EXCL};

/// Move the calling process into a new IPC namespace; return its identity.
pub fn unshare_ipc() -> Result<NsId> {
    todo!("unshare(CLONE_NEWIPC), then return the identity of the new ipc namespace")
}

/// Create a message queue with `key`, mode 0600, and return its msqid; only
/// if the process is no longer in the IPC namespace `before` (else an
/// error, and nothing created), and never an existing queue (else EEXIST).
pub fn create_queue_if_new(before: NsId, key: i32) -> Result<i32> {
    todo!("refuse if still in {before}; else msgget({key:#010x}, a new queue only)")
}

/// Whether a message queue with `key` exists in the caller's IPC namespace.
/// Creates nothing.
pub fn queue_exists(key: i32) -> Result<bool> {
    todo!("look with msgget({key:#010x}, ..), create nothing: which errno is none?")
}
