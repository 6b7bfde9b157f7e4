//! Exercise 22 (chapter 11, IPC namespaces): a POSIX queue seen through an
//! mqueue mount of its own namespace.
//!
//! Write the three functions below. The process they run in is already in
//! a mount namespace of its own, made private:
//!
//! 1. [`mount_mqueue`] mounts an mqueue filesystem on `dir`.
//! 2. [`queue_in_own_mount`] moves the process into a new IPC namespace
//!    (proved new before anything is created), creates the POSIX message
//!    queue `name` there (mode 0600; an error if it exists), and mounts an
//!    mqueue filesystem on `dir` that lists it.
//! 3. [`queues_in`] lists the queues an mqueue mount on `dir` shows: their
//!    names, sorted.
//!
//! Read: mq_overview(7) ("Mounting the message queue filesystem"),
//! ipc_namespaces(7), mq_open(3), mount(2).
//!
//! The traps: an mqueue filesystem shows the queues of the IPC namespace of
//! the process that MOUNTED it, as it was at mount(2), whoever reads it
//! later (unlike /proc/sysvipc, which shows the reader's). Mount it before
//! unshare(CLONE_NEWIPC) and it shows the old namespace. And the mount
//! needs CAP_SYS_ADMIN in the user namespace that owns that IPC namespace:
//! without a new IPC namespace, an unprivileged process gets EPERM. One
//! more, nix's own: `mq_open(name, O_CREAT.., mode, None)` makes the
//! two-argument C call, and glibc reads garbage for the mode and the
//! attributes (undefined behaviour; on Linux 6.18 that gave EINVAL): pass
//! `Some(&attr)`.
//!
//! Errors come back as `workbook::Error`: name each call in its error, e.g.
//! `.call(|| format!("mount(\"mqueue\", {dir:?}, \"mqueue\", 0, NULL)"))?`.
//!
//! Check your work with `cargo test -p ex22-mqueue-mount` (the root cases
//! too: `cargo test-root -p ex22-mqueue-mount`); stuck, `cargo workbook
//! hint ex22`. The check, not the solution, is the teacher: it says what is
//! still wrong. The answer is in `solutions/ex22-mqueue-mount/src/`;
//! `cargo workbook solution ex22` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use std::fs;
use std::path::Path;

use nix::mount::{MsFlags, mount};
use nix::mqueue::{MQ_OFlag, MqAttr, mq_close, mq_open};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::Mode;
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};

/// mount("mqueue", dir, "mqueue", 0, NULL).
pub fn mount_mqueue(dir: &Path) -> Result<()> {
    todo!("mount an mqueue filesystem on {dir:?}")
}

/// In a new IPC namespace: create queue `name` (`/ex22`) and mount an
/// mqueue filesystem on `dir` that shows it.
pub fn queue_in_own_mount(dir: &Path, name: &str) -> Result<()> {
    todo!("a new IPC namespace, queue {name:?}, a mount on {dir:?} showing it")
}

/// The names of the queues the mqueue mount on `dir` shows, sorted.
pub fn queues_in(dir: &Path) -> Result<Vec<String>> {
    todo!("list the directory {dir:?}")
}
