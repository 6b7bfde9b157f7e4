//! Exercise 18 (chapter 9, pivot_root): a new root, and the old one gone.
//!
//! Write [`pivot_into`]: in a mount namespace of its own, the calling
//! process makes the directory `new_root` the root mount of that namespace,
//! with pivot_root(2), and then removes the old root from the namespace, so
//! that nothing of it can be reached any more. What a container runtime does
//! before it starts the container's first program.
//!
//! Read: pivot_root(2) (its restrictions and NOTES), mount_namespaces(7),
//! umount(2), chroot(2).
//!
//! The traps, in the order you meet them:
//! - a new mount namespace first, and its mounts private: where `/` is
//!   shared (systemd), pivot_root(2) refuses (EINVAL), and your mounts
//!   would reach the outer namespace. (One of the checks makes `/` shared
//!   in the throwaway namespace it runs you in.)
//! - new_root must be a mount point: bind-mount it onto itself.
//! - put_old must be at or under new_root: a directory you make in it.
//! - pivot_root(2) leaves your current directory where it was, in the old
//!   tree: chdir("/") afterwards.
//! - the old root is still mounted, at put_old: umount2(put_old,
//!   MNT_DETACH), then remove the directory.
//! - chroot(2) is not the same: it changes only the process's root
//!   directory, and the old root stays mounted and reachable.
//!
//! nix has `nix::unistd::pivot_root(new_root, put_old)`. Errors come back as
//! `workbook::Error`, never as a panic: after a nix call,
//! `.call(|| format!("pivot_root({new_root:?}, {put_old:?})"))?` returns its
//! error naming the call, with a hint that says which rule was broken.
//!
//! Check your work with `cargo test -p ex18-pivot-root` (the root cases too:
//! `cargo test-root -p ex18-pivot-root`); stuck, `cargo workbook hint ex18`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex18-pivot-root/src/`; `cargo workbook
//! solution ex18` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use std::fs;
use std::path::Path;

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{chdir, pivot_root};
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};

/// The directory made in `new_root` to receive the old root.
pub const PUT_OLD: &str = "old_root";

/// Make `new_root` the root of a new mount namespace, and detach the old
/// root from it.
pub fn pivot_into(new_root: &Path) -> Result<()> {
    todo!("pivot_root into {new_root:?}, then detach the old root")
}
