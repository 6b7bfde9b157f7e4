//! Exercise 17 (chapter 9, shared subtrees): receive, but do not send.
//!
//! Write [`slave_mount_namespace`]: it moves the calling process into a new
//! mount namespace in which every mount is a slave of the one it was copied
//! from. Mounts the outer namespace makes later, under a shared mount, still
//! arrive in the new one; mounts made in the new one never leave it. This
//! is what systemd's `PrivateTmp=` and a container's `rslave` volumes do.
//!
//! Read: mount_namespaces(7) ("Shared subtrees", "MS_SLAVE"), mount(2),
//! unshare(2).
//!
//! The traps: MS_PRIVATE also stops your mounts from leaving, but stops the
//! outer ones from arriving too. And a propagation change without MS_REC
//! changes only the one mount it names: `/` becomes a slave, and the shared
//! mounts below it stay shared, so a mount made under them still leaves. (The
//! checks mount a shared tmpfs in a throwaway namespace of their own, then
//! mount on both sides of yours.)
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix
//! call, `.call(|| "unshare(CLONE_NEWNS)".into())?` returns its error naming
//! the call.
//!
//! Check your work with `cargo test -p ex17-slave-mount` (the root cases too:
//! `cargo test-root -p ex17-slave-mount`); stuck, `cargo workbook hint ex17`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex17-slave-mount/src/`; `cargo workbook
//! solution ex17` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};

/// Move into a new mount namespace whose mounts all receive from the outer
/// namespace and send nothing back.
pub fn slave_mount_namespace() -> Result<()> {
    // STUB: todo!("a new mount namespace, then every mount in it a slave")
    // BEGIN SOLUTION
    let before = NsId::current("mnt")?;
    unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
    ns::ensure_new(before, NsId::current("mnt")?)?;
    // MS_REC: `/` and every mount below it, not `/` alone.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    )
    .call(|| "mount(NULL, \"/\", NULL, MS_REC | MS_SLAVE, NULL)".into())
    // END SOLUTION
}
