//! Exercise 32 (chapter 16, the container): the container's root.
//!
//! Write [`enter_root`]: `new_root` is an empty directory. Make it the root
//! of the calling process's mount namespace, holding:
//! - a tmpfs: the new root itself, which lives in memory and goes with
//!   the namespace;
//! - at `/usr`, the host's /usr, bound read-only: the programs, and not a
//!   way to change them;
//! - at `/proc`, a new proc of the caller's PID namespace, which lists
//!   that namespace's processes only;
//!
//! then pivot_root(2) into it and detach the old root, so that nothing
//! else of the host can be reached. The harness runs you in a new mount
//! namespace with `/` private, as PID 1 of a new PID namespace (and, for
//! the unprivileged case, in a user namespace of its own).
//!
//! Read: mount(2) ("Creating a bind mount", "Remounting an existing
//! mount"), pivot_root(2), pid_namespaces(7) ("/proc and PID namespaces"),
//! user_namespaces(7).
//!
//! The traps:
//! - a bind mount copies the flags of the mount it binds: MS_RDONLY with
//!   MS_BIND in the first call is ignored. Read-only takes a second call,
//!   MS_REMOUNT | MS_BIND | MS_RDONLY.
//! - bind /usr with MS_REC: in a user namespace, a bind that would leave
//!   the mounts below it behind is refused (EINVAL).
//! - a bind of the host's /proc would show the host's processes: mount a
//!   new proc. And mount it before the old root goes: outside the initial
//!   user namespace the kernel mounts a new proc only where a proc is
//!   already fully visible, and after the detach there is none (EPERM).
//! - pivot_root(2) wants new_root to be a mount point (the tmpfs is) and
//!   put_old under it; chdir("/") afterwards, then umount2(put_old,
//!   MNT_DETACH) and remove the directory.
//!
//! nix has `mount`, `umount2` and `pivot_root`. Errors come back as
//! `workbook::Error`: `.call(|| format!("pivot_root({new_root:?}, ...)"))?`
//! after a nix call names it.
//!
//! Check your work with `cargo test -p ex32-container-root` (the root
//! cases too: `cargo test-root -p ex32-container-root`); stuck, `cargo
//! workbook hint ex32`. The answer is in `solutions/ex32-container-root/src/`;
//! `cargo workbook solution ex32` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use std::fs;
use std::path::Path;

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::unistd::{chdir, pivot_root};
use workbook::Result;
use workbook::error::Context;

/// The directory made in `new_root` to receive the old root.
pub const PUT_OLD: &str = "old_root";

/// Make `new_root` a tmpfs holding the host's /usr (read-only) and a new
/// /proc, then the root of the mount namespace; detach the old root.
pub fn enter_root(new_root: &Path) -> Result<()> {
    todo!("a tmpfs on {new_root:?}, /usr read-only, a new /proc, pivot_root, detach")
}
