//! Exercise 4 (chapter 2, unshare): a mount nobody else sees.
//!
//! Write the two functions below:
//!
//! 1. [`private_tmpfs`] moves the calling process into a new mount namespace,
//!    makes sure no mount it makes there can propagate to another namespace,
//!    and mounts a tmpfs on `dir`.
//! 2. [`remove_tmpfs`] unmounts it again: every mount an example makes, it
//!    undoes.
//!
//! Read: unshare(2), mount_namespaces(7) ("Shared subtrees"), mount(2),
//! umount(2).
//!
//! The trap: a new mount namespace is a copy of the old mount table, and the
//! copies keep their propagation type. Where `/` is shared (systemd makes it
//! so at boot), a mount made below it in the new namespace appears in the old
//! one too, the host's. Before any other mount, remount `/` and everything
//! under it private: `mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)`,
//! which is what unshare(1) does by default. (The checks mark a mount shared
//! on purpose, in a namespace of their own, to see whether yours leaks.)
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix
//! call, `.call(|| "unshare(CLONE_NEWNS)".into())?` returns its error naming
//! the call (a bare `?` works too, but its error cannot say which call
//! failed); `Err(format!("...").into())` refuses in your own words.
//!
//! Check your work with `cargo test -p ex04-private-mount` (the root cases too:
//! `cargo test-root -p ex04-private-mount`); stuck, `cargo workbook hint ex04`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex04-private-mount/src/`; `cargo workbook
//! solution ex04` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use std::path::Path;

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};

/// Move into a new mount namespace, stop propagation, mount a tmpfs on `dir`.
pub fn private_tmpfs(dir: &Path) -> Result<()> {
    // STUB: todo!("a new mount namespace, / made private, then a tmpfs on {dir:?}")
    // BEGIN SOLUTION
    let before = NsId::current("mnt")?;
    unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
    // Never mount anything before proving the namespace is a new one.
    ns::ensure_new(before, NsId::current("mnt")?)?;
    // MS_REC: every mount under `/` too, not only `/` itself.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .call(|| "mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL)".into())?;
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("size=1M"),
    )
    .call(|| {
        format!(
            "mount(\"tmpfs\", \"{}\", \"tmpfs\", 0, \"size=1M\")",
            dir.display()
        )
    })
    // END SOLUTION
}

/// Unmount the tmpfs on `dir`.
pub fn remove_tmpfs(dir: &Path) -> Result<()> {
    // STUB: todo!("umount2({dir:?}, 0)")
    // BEGIN SOLUTION
    umount2(dir, MntFlags::empty())
        .call(|| format!("umount2(\"{}\", 0)", dir.display()))
    // END SOLUTION
}
