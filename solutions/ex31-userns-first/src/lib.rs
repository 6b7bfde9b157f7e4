//! Exercise 31 (chapter 16, the container): the order of the first steps.
//!
//! Write [`spawn`]: it starts a child process that runs `body` as PID 1 of
//! a new PID namespace, in a new UTS namespace, both owned by a new user
//! namespace in which the child is uid 0, and returns that child for the
//! caller to wait for. The tests run it as root and as uid 65534 with no
//! privilege at all: the same code must work for both.
//!
//! Read: user_namespaces(7) ("Defining user and group ID mappings",
//! "Interaction of user namespaces and other types of namespaces"),
//! pid_namespaces(7), unshare(2).
//!
//! The rules, in the order you meet them:
//! - user first: a namespace belongs to the user namespace its creator was
//!   in when it was made. Created before the user namespace, the UTS
//!   namespace would belong to the host's (and without root, creating it
//!   is refused: EPERM).
//! - the maps are written from outside, by the parent, into
//!   `/proc/PID/uid_map` and `gid_map` of a process already in the new user
//!   namespace: `deny` to `/proc/PID/setgroups` first, then `0 UID 1` and
//!   `0 GID 1` with the parent's own ids (the only map anyone may write
//!   without CAP_SETUID in the parent namespace).
//! - the child waits until the maps are written: before, its uid reads as
//!   65534, the overflow uid. Wait on a pipe, never by sleeping.
//! - a PID namespace needs a fork: unshare(CLONE_NEWPID) does not move the
//!   caller; its first child afterwards is PID 1 and runs `body`.
//!
//! `workbook::process::{channel, fork_child}` give you pipes and a forked
//! child that runs a closure; `workbook::userns::write_proc(path, text)`
//! writes a /proc file in one write(2). Errors come back as
//! `workbook::Error`, never as a panic: `.call(|| "unshare(CLONE_NEWUSER)"
//! .into())?` after a nix call names it.
//!
//! Check your work with `cargo test -p ex31-userns-first` (the root cases
//! too: `cargo test-root -p ex31-userns-first`); stuck, `cargo workbook
//! hint ex31`. The answer is in `solutions/ex31-userns-first/src/`; `cargo
//! workbook solution ex31` shows it once this exercise passes.
// STUB: #![allow(unused_imports, unused_variables)] // until you write the code

use nix::sched::{CloneFlags, unshare};
use nix::unistd::{getegid, geteuid};
use workbook::error::Context;
use workbook::process::{self, Child};
use workbook::userns::write_proc;
use workbook::{Error, Result};

/// Start `body` as PID 1 of new PID and UTS namespaces owned by a new user
/// namespace in which it is uid 0; return the child, unwaited.
pub fn spawn(body: impl FnOnce() -> Result<()>) -> Result<Child> {
    // STUB: todo!("user namespace first, the parent writes the maps, then a fork")
    // BEGIN SOLUTION
    // Two pipes: "I am in the new user namespace" (child to parent) and
    // "the maps are written" (parent to child).
    let (inside_tx, inside_rx) = process::channel()?;
    let (mapped_tx, mapped_rx) = process::channel()?;
    let child = process::fork_child(&[&inside_rx, &mapped_tx], move || {
        unshare(CloneFlags::CLONE_NEWUSER)
            .call(|| "unshare(CLONE_NEWUSER)".into())?;
        inside_tx.notify()?;
        if !mapped_rx.wait()? {
            return Err("the parent closed the pipe before writing the maps".into());
        }
        // Owned by the new user namespace, where this process is root now.
        unshare(CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWPID)
            .call(|| "unshare(CLONE_NEWUTS | CLONE_NEWPID)".into())?;
        // The first child after unshare(CLONE_NEWPID) is PID 1.
        let init = process::fork_child(&[], body)?;
        init.wait()
    })?;
    if !inside_rx.wait()? {
        return Err(Error::refused(
            "the child ended before it entered its user namespace",
            "its own error is printed above",
        ));
    }
    let pid = child.pid();
    write_proc(&format!("/proc/{pid}/setgroups"), "deny")?;
    write_proc(
        &format!("/proc/{pid}/uid_map"),
        &format!("0 {} 1", geteuid()),
    )?;
    write_proc(
        &format!("/proc/{pid}/gid_map"),
        &format!("0 {} 1", getegid()),
    )?;
    mapped_tx.notify()?;
    Ok(child)
    // END SOLUTION
}
