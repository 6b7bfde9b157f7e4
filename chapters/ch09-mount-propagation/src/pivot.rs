//! pivot_root(2): the process's mount namespace gets a new root mount, and
//! the old one can be detached from it; chroot(2) only moves one process's
//! idea of `/`.

use std::fs;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::stat;
use nix::unistd::{chdir, chroot, pivot_root};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::{self, channel};
use workbook::{Result, say};

use crate::calls::{bind, expect_refusal, mkdir, propagation, q};

// ANCHOR: pivot
/// In a child, in a copy of our mount namespace: pivot_root into the
/// stage's `root`, meeting its two EINVALs on the way, then detach the old
/// root. The parent then reads the child's mount table.
pub fn pivot_root_and_detach(stage: &Path) -> Result<()> {
    let me = std::process::id();
    let new_root = stage.join("root");
    let put_old = new_root.join("old");
    let (parked_tx, parked_rx) = channel()?;
    let (release_tx, release_rx) = channel()?;
    let child = process::fork_child(&[&parked_rx, &release_tx], || {
        let me = std::process::id();
        let before = NsId::current("mnt")?;
        unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
        let copy = NsId::current("mnt")?;
        ns::ensure_new(before, copy)?;
        fs::write(new_root.join("hello"), "the new root\n")
            .call(|| format!("write(fd of {})", q(&new_root.join("hello"))))?;
        mkdir(&put_old)?;
        say!(
            "process {me}: unshare(CLONE_NEWNS) -> a new mount namespace; wrote root/hello, made root/old"
        );
        let pivot = || {
            pivot_root(&new_root, &put_old)
                .call(|| format!("pivot_root({}, {})", q(&new_root), q(&put_old)))
        };
        let call = format!(
            "process {me}: pivot_root({}, {})",
            q(&new_root),
            q(&put_old)
        );
        // Trap 1: new_root must be a mount point. Bind it onto itself.
        expect_refusal(&call, pivot(), Errno::EINVAL)?;
        say!("process {me}: {}", bind(&new_root, &new_root)?);
        // Trap 2: where systemd made `/` shared, that bind mount is shared
        // too; pivot_root(2) refuses to move a shared mount.
        say!(
            "process {me}: {}, as it would be under a shared / (systemd)",
            propagation(&new_root, MsFlags::MS_SHARED)?
        );
        expect_refusal(&call, pivot(), Errno::EINVAL)?;
        say!(
            "process {me}: {}",
            propagation(Path::new("/"), MsFlags::MS_REC | MsFlags::MS_PRIVATE)?
        );
        pivot()?;
        chdir("/").call(|| "chdir(\"/\")".into())?;
        say!(
            "process {me}: pivot_root({}, {}) and chdir(\"/\"): / is {}",
            q(&new_root),
            q(&put_old),
            list("/")?
        );
        say!(
            "  the old root is at /old: stat(\"/old/proc\") -> {}",
            exists("/old/proc")
        );
        umount2("/old", MntFlags::MNT_DETACH)
            .call(|| "umount2(\"/old\", MNT_DETACH)".into())?;
        fs::remove_dir("/old").call(|| "rmdir(\"/old\")".into())?;
        say!(
            "process {me}: umount2(\"/old\", MNT_DETACH) and rmdir(\"/old\"): / is {}",
            list("/")?
        );
        try_to_escape(me)?;
        parked_tx.notify()?;
        release_rx.wait()?;
        Ok(())
    })?;
    if parked_rx.wait()? {
        let pid = child.pid();
        let mounts = workbook::mountinfo::read(&format!("/proc/{pid}/mountinfo"))?;
        let points: Vec<String> = mounts
            .iter()
            .map(|m| format!("{} {}", m.mount_point.display(), m.fstype))
            .collect();
        say!(
            "process {me}: /proc/{pid}/mountinfo lists {} mount(s): {}",
            mounts.len(),
            points.join(", ")
        );
    }
    release_tx.notify()?;
    drop(release_tx);
    child.wait()
}
// ANCHOR_END: pivot

// ANCHOR: chroot
/// chroot(2) into the same directory, in a child: only its root directory
/// changes. Every mount stays in the namespace, and the escape of chroot(2)'s
/// man page walks back out.
pub fn chroot_instead(stage: &Path) -> Result<()> {
    let new_root = stage.join("root");
    let child = process::fork_child(&[], || {
        let me = std::process::id();
        chroot(&new_root).call(|| format!("chroot({})", q(&new_root)))?;
        chdir("/").call(|| "chdir(\"/\")".into())?;
        say!(
            "process {me}: chroot({}) and chdir(\"/\"): / is {}",
            q(&new_root),
            list("/")?
        );
        try_to_escape(me)
    })?;
    child.wait()
}
// ANCHOR_END: chroot

// ANCHOR: escape
/// chroot(2), NOTES: "the superuser can escape from a chroot jail by doing
/// `mkdir foo; chroot foo; cd ..`": chroot leaves the current directory
/// outside the new root, and `..` climbs from there. After pivot_root and
/// the detach there is no outside left to climb to.
fn try_to_escape(me: u32) -> Result<()> {
    mkdir(Path::new("/foo"))?;
    chroot("/foo").call(|| "chroot(\"/foo\")".into())?;
    let mut climbs = 0;
    while !same_file(".", "..")? && climbs < 256 {
        chdir("..").call(|| "chdir(\"..\")".into())?;
        climbs += 1;
    }
    chroot(".").call(|| "chroot(\".\")".into())?;
    let outside = exists("/proc/self");
    let verdict = match outside {
        "exists" => "out: the old root is still mounted, and reachable",
        _ => "still in the new root: the old one is gone from the namespace",
    };
    if outside != "exists" {
        fs::remove_dir("/foo").call(|| "rmdir(\"/foo\")".into())?;
    }
    say!(
        "process {me}: mkdir(\"/foo\"), chroot(\"/foo\"), chdir(\"..\") until \"..\" is \".\", \
         chroot(\".\"): stat(\"/proc/self\") -> {outside}; {verdict}"
    );
    Ok(())
}
// ANCHOR_END: escape

fn same_file(a: &str, b: &str) -> Result<bool> {
    let (a, b) = (
        stat(a).call(|| format!("stat(\"{a}\")"))?,
        stat(b).call(|| format!("stat(\"{b}\")"))?,
    );
    Ok((a.st_dev, a.st_ino) == (b.st_dev, b.st_ino))
}

/// "exists" or the errno of stat(2).
fn exists(path: &str) -> &'static str {
    match stat(path) {
        Ok(_) => "exists",
        Err(Errno::ENOENT) => "ENOENT",
        Err(_) => "an error",
    }
}

/// The names in a directory, sorted: `{hello, old}`.
fn list(dir: &str) -> Result<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .call(|| format!("opendir(\"{dir}\")"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(format!("{{{}}}", names.join(", ")))
}
