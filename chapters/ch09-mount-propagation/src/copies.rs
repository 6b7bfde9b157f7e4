//! A copy of the mount namespace: who makes it decides whether its shared
//! mounts stay peers (mount_namespaces(7), "Restrictions on mount
//! namespaces" and "Shared subtrees").

use std::fs;
use std::path::Path;

use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{getegid, geteuid};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::{self, channel};
use workbook::{Error, Result, say};

use crate::calls::{self, expect_refusal, mkdir, tmpfs, tmpfs_on_new_dir};
use crate::view;

/// The mounts these copies show: a, b and what they mount below them.
const SHOWN: [&str; 8] = ["a", "b", "a/p", "b/p", "a/q", "b/q", "a/s", "b/s"];
/// How the output says the list is filtered: a/w, a/x, a/y... exist too.
const ONLY: &str = "a, b and their p, q, s only";

// ANCHOR: same_owner
/// A child copies the namespace with unshare(CLONE_NEWNS) alone: the new
/// namespace belongs to the same user namespace, and its copies of a and b
/// are in the same peer group as ours. A mount it makes under its a comes
/// back to us, under a and under b.
pub fn same_owner(stage: &Path, a: &Path) -> Result<()> {
    let me = std::process::id();
    let user = NsId::current("user")?;
    let p = a.join("p");
    let child = process::fork_child(&[], || {
        let me = std::process::id();
        let before = NsId::current("mnt")?;
        unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
        let copy = NsId::current("mnt")?;
        ns::ensure_new(before, copy)?;
        say!(
            "process {me}: unshare(CLONE_NEWNS) -> a new mount namespace, owned by {user} like \
             ours; its mountinfo ({ONLY}): {}",
            view::mine_of(stage, &SHOWN)?
        );
        say!("process {me}: {}", tmpfs_on_new_dir(&p)?);
        Ok(())
    })?;
    child.wait()?;
    say!(
        "process {me}: its mountinfo ({ONLY}): {}: a/p and b/p came from the copy, whose a is a peer of ours",
        view::mine_of(stage, &SHOWN)?
    );
    Ok(())
}
// ANCHOR_END: same_owner

// ANCHOR: less_privileged
/// A child first creates a user namespace, then copies the mount namespace:
/// the copy is "less privileged" (its owner differs from the original's),
/// and the kernel turns its shared mounts into slaves, so that nothing it
/// mounts can reach a namespace it has no privilege over.
pub fn less_privileged(stage: &Path, a: &Path) -> Result<()> {
    let me = std::process::id();
    let (q, s) = (a.join("q"), a.join("s"));
    let (mounted_tx, mounted_rx) = channel()?;
    let (look_tx, look_rx) = channel()?;
    let child = process::fork_child(&[&mounted_rx, &look_tx], || {
        let me = std::process::id();
        let user = own_user_namespace()?;
        say!("process {me}: unshare(CLONE_NEWUSER) -> {user}, mapped as its root");
        // Root of the new user namespace, but our mount namespace belongs
        // to the one above: mount(2) checks CAP_SYS_ADMIN there (EPERM).
        mkdir(&q)?;
        expect_refusal(
            &format!(
                "process {me}: mount(\"tmpfs\", {}, \"tmpfs\", 0, \"size=1M\")",
                calls::q(&q)
            ),
            tmpfs(&q),
            Errno::EPERM,
        )?;
        let before = NsId::current("mnt")?;
        unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
        let copy = NsId::current("mnt")?;
        ns::ensure_new(before, copy)?;
        say!(
            "process {me}: unshare(CLONE_NEWNS) -> a new mount namespace, owned by {user}: less \
             privileged; its mountinfo ({ONLY}): {}",
            view::mine_of(stage, &SHOWN)?
        );
        say!("process {me}: {}", tmpfs(&q)?);
        mounted_tx.notify()?;
        if !look_rx.wait()? {
            return Ok(());
        }
        say!(
            "process {me}: its mountinfo ({ONLY}): {}: a/s and b/s arrived from its master",
            view::mine_of(stage, &SHOWN)?
        );
        Ok(())
    })?;
    if !mounted_rx.wait()? {
        return child.wait();
    }
    let mut mine = view::below("/proc/self/mountinfo", stage)?;
    mine.retain(|(path, _)| SHOWN.contains(&path.as_str()));
    say!(
        "process {me}: its mountinfo ({ONLY}): {}: the copy's a/q did not come back (q is an empty directory here)",
        view::describe(&mine)
    );
    if view::has(&mine, "a/q") {
        return Err(Error::refused(
            "a mount made in a less privileged copy reached this namespace",
            "",
        ));
    }
    say!("process {me}: {}", tmpfs_on_new_dir(&s)?);
    look_tx.notify()?;
    drop(look_tx);
    child.wait()
}

/// unshare(CLONE_NEWUSER), then our own uid and gid mapped to 0 in it
/// (user_namespaces(7): setgroups `deny` before an unprivileged gid_map).
fn own_user_namespace() -> Result<NsId> {
    let (uid, gid) = (geteuid(), getegid());
    let before = NsId::current("user")?;
    unshare(CloneFlags::CLONE_NEWUSER).call(|| "unshare(CLONE_NEWUSER)".into())?;
    let user = NsId::current("user")?;
    ns::ensure_new(before, user)?;
    for (file, text) in [
        ("/proc/self/setgroups", "deny".to_owned()),
        ("/proc/self/uid_map", format!("0 {uid} 1")),
        ("/proc/self/gid_map", format!("0 {gid} 1")),
    ] {
        fs::write(file, &text)
            .call(|| format!("write(fd of \"{file}\", \"{text}\")"))?;
    }
    Ok(user)
}
// ANCHOR_END: less_privileged
