//! Exercise 16 (chapter 8, PID namespaces): PID 1 with a /proc of its own.
//!
//! Write [`spawn_with_own_proc`]: it starts PID 1 of a new PID namespace (as
//! in exercise 15), and that process, before it runs `body`, mounts a new
//! proc filesystem on `dir`, in a mount namespace of its own. `body` then
//! finds in `dir` the processes of its namespace only: itself, PID 1. This
//! is what `unshare --pid --fork --mount-proc` does (on /proc itself).
//!
//! Read: pid_namespaces(7) ("/proc and PID namespaces"),
//! mount_namespaces(7) ("Shared subtrees"), mount(2), proc(5).
//!
//! The traps:
//! - A proc filesystem shows the processes of the PID namespace of the
//!   process that mounted it. Mounted by the parent, even after
//!   unshare(CLONE_NEWPID), it shows the parent's namespace: mount it in the
//!   child, PID 1.
//! - Mounted without a new mount namespace, it appears in the parent's
//!   mount table too (the child shares it).
//! - A new mount namespace is a copy whose mounts keep their propagation:
//!   where a mount is shared, the proc mount propagates back to the parent.
//!   Make `/` private first, with MS_REC: `mount(NULL, "/", NULL, MS_REC |
//!   MS_PRIVATE, NULL)`. (The checks mark the directory's mount shared on
//!   purpose, to see whether yours leaks.)
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix
//! call, `.call(|| "unshare(CLONE_NEWNS)".into())?` returns its error
//! naming the call; `workbook::ns::ensure_new` refuses when a namespace is
//! not new.
//!
//! Check your work with `cargo test -p ex16-proc-of-its-own` (the root cases
//! too: `cargo test-root -p ex16-proc-of-its-own`); stuck, `cargo workbook
//! hint ex16`. The check, not the solution, is the teacher: it says what is
//! still wrong. The answer is in `solutions/ex16-proc-of-its-own/src/`;
//! `cargo workbook solution ex16` shows it once this exercise passes.
#![allow(unused_imports, unused_variables)] // until you write the code

use std::path::Path;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::{self, Child};

/// Start PID 1 of a new PID namespace, which mounts a proc filesystem of
/// its namespace on `dir` in a private mount namespace of its own, then
/// runs `body`. Return it, unwaited.
pub fn spawn_with_own_proc(
    dir: &Path,
    body: impl FnOnce() -> Result<()>,
) -> Result<Child> {
    todo!("unshare, fork; in the child: private mounts, proc on {dir:?}, body()")
}
