//! Chapter 9: shared subtrees, and pivot_root(2).
//!
//! Every mount has a propagation type (mount_namespaces(7), "Shared
//! subtrees"): a shared mount passes the mounts and unmounts made below it
//! to its peers, a slave receives from its master and sends nothing, a
//! private mount neither sends nor receives, and an unbindable one is a
//! private one that cannot be bind-mounted. /proc/PID/mountinfo shows the
//! type in its optional fields: `shared:N` (peer group N), `master:N`.
//!
//! All of it happens in a mount namespace of the example's own, made private
//! first, on tmpfs directories it creates: the host's propagation is never
//! changed, and a SIGKILL loses every mount with the namespace.
//!
//! Read: mount_namespaces(7) ("Shared subtrees"), mount(2), pivot_root(2),
//! chroot(2), proc(5) ("/proc/pid/mountinfo").

mod calls;
mod copies;
mod pivot;
mod view;

use std::process::ExitCode;

use nix::mount::{MntFlags, MsFlags, umount2};
use nix::sched::{CloneFlags, unshare};
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::{Result, cleanup, mountinfo, say, userns};

use calls::{bind, expect_refusal, mkdir, propagation, tmpfs, tmpfs_on_new_dir};

const USAGE: &str = "\
Usage: ch09-mount-propagation

In a mount namespace of its own, made private first, on tmpfs directories it
creates: two shared peers (a mount under one appears under the other), a
slave (receives, does not send), a private and an unbindable mount (a bind of
it fails with EINVAL); copies of the namespace made by the same user
namespace (peers kept) and by a new one (peers become slaves); then
pivot_root(2) into a tmpfs, with the old root detached, next to chroot(2).
Everything is unmounted before the end; the host is never changed.

Root runs it directly; anyone else runs it inside a user namespace the example
creates first. Read mount_namespaces(7) and pivot_root(2).
";

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(args: Args) -> Result<()> {
    args.finish()?;
    userns::enter_if_unprivileged()?;
    let me = std::process::id();

    // ANCHOR: private
    // A mount namespace of our own, and every mount in it private before
    // anything is mounted: where systemd made `/` shared, the copies would
    // otherwise be peers of the host's mounts (chapter 2).
    let mnt_before = NsId::current("mnt")?;
    unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
    let mnt = NsId::current("mnt")?;
    ns::ensure_new(mnt_before, mnt)?;
    mountinfo::make_root_private()?;
    say!(
        "process {me}: in {mnt_before}, unshare(CLONE_NEWNS) -> {mnt}, new; \
         mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL): nothing below reaches {mnt_before}"
    );
    // ANCHOR_END: private

    // ANCHOR: stage
    // The stage: a private tmpfs on a fresh directory. Every mount below is
    // made on it; detaching it (MNT_DETACH) takes them all.
    let dir = cleanup::TempDir::new("ch09-mount-propagation")?;
    let stage_path = dir.path().to_owned();
    let mut stage_call = String::new();
    let stage = cleanup::Mount::new(&stage_path, || {
        stage_call = tmpfs(&stage_path)?;
        Ok(())
    })?;
    for name in ["a", "b", "c", "d", "e", "root"] {
        mkdir(&stage_path.join(name))?;
    }
    say!(
        "process {me}: mkdtemp(\"{}\") -> \"{}\", {stage_call}, and in it \
         the directories a, b, c, d, e, root",
        dir.template().display(),
        stage_path.display()
    );
    let [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map(|n| stage_path.join(n));
    // ANCHOR_END: stage

    // ANCHOR: shared
    // MS_SHARED puts the mount in a peer group of its own; a bind mount of a
    // shared mount joins that group (mount_namespaces(7), "Bind (MS_BIND)
    // semantics").
    let steps = [
        tmpfs(&a)?,
        propagation(&a, MsFlags::MS_SHARED)?,
        bind(&a, &b)?,
    ];
    say!("process {me}: {}", steps.join("; "));
    say!(
        "  its mountinfo: {} (one peer group)",
        view::mine(&stage_path)?
    );
    let call = tmpfs_on_new_dir(&a.join("x"))?;
    say!("process {me}: {call}");
    say!(
        "  its mountinfo: {}: the mount under a appeared under b, its peer",
        view::mine(&stage_path)?
    );
    // ANCHOR_END: shared

    // ANCHOR: slave
    // MS_SLAVE on a member of a peer group: it leaves the group and becomes
    // its slave. Mounts made under the master still arrive; its own do not
    // leave.
    let steps = [bind(&a, &c)?, propagation(&c, MsFlags::MS_SLAVE)?];
    say!("process {me}: {}", steps.join("; "));
    let under_master = tmpfs_on_new_dir(&a.join("y"))?;
    let under_slave = tmpfs_on_new_dir(&c.join("z"))?;
    say!("process {me}: {under_master}; {under_slave}");
    say!(
        "  its mountinfo: {}: a/y arrived in c (c/y), c/z did not leave (no a/z, b/z)",
        view::mine(&stage_path)?
    );
    // ANCHOR_END: slave

    // ANCHOR: private_unbindable
    // MS_PRIVATE: out of the group, neither receives nor sends.
    // MS_UNBINDABLE: private, and a bind mount of it is refused.
    let steps = [bind(&a, &d)?, propagation(&d, MsFlags::MS_PRIVATE)?];
    say!("process {me}: {}", steps.join("; "));
    let call = tmpfs_on_new_dir(&a.join("w"))?;
    say!("process {me}: {call}");
    say!(
        "  its mountinfo: {}: a/w reached b (b/w) and the slave (c/w), not the private d",
        view::mine(&stage_path)?
    );
    let call = propagation(&d, MsFlags::MS_UNBINDABLE)?;
    say!("process {me}: {call}; {}", view::mine(&stage_path)?);
    expect_refusal(
        &format!(
            "process {me}: mount({}, {}, NULL, MS_BIND, NULL)",
            calls::q(&d),
            calls::q(&e)
        ),
        bind(&d, &e),
        nix::errno::Errno::EINVAL,
    )?;
    // ANCHOR_END: private_unbindable

    copies::same_owner(&stage_path, &a)?;
    copies::less_privileged(&stage_path, &a)?;
    pivot::pivot_root_and_detach(&stage_path)?;
    pivot::chroot_instead(&stage_path)?;

    // ANCHOR: unmount
    // Unmounts propagate as mounts do: a/w, a/x, a/y leave b and c too.
    // (Last, because a freed peer group's number is given to the next new
    // group, here or anywhere on the machine.)
    let mut unmounts = Vec::new();
    for name in ["w", "x", "y"] {
        let target = a.join(name);
        let call = format!("umount2({}, 0)", calls::q(&target));
        umount2(&target, MntFlags::empty()).call(|| call.clone())?;
        unmounts.push(call);
    }
    say!("process {me}: {}", unmounts.join(", "));
    say!(
        "  its mountinfo: {}: b/w, b/x, b/y, c/w, c/y went with them",
        view::mine(&stage_path)?
    );
    // ANCHOR_END: unmount

    // ANCHOR: cleanup
    stage.detach()?;
    dir.remove()?;
    say!(
        "process {me}: umount2({0}, MNT_DETACH), every mount below it with it, and rmdir({0}): \
         nothing is left; {mnt} ends with this process",
        calls::q(&stage_path)
    );
    // ANCHOR_END: cleanup
    Ok(())
}
