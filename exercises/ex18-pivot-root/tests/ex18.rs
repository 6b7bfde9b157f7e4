//! The checks of exercise 18: `cargo test -p ex18-pivot-root`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user. The harness first moves that process into a throwaway
//! mount namespace of its own, with `/` private (in the second case then
//! shared again, as systemd leaves it), prepares a directory with one file
//! in it, and starts you somewhere else than `/`. Then it looks at your
//! process from outside: its mount table (`/proc/PID/mountinfo`, which
//! shows the mounts as seen from the process's root), where `..` of its
//! root leads (`/proc/PID/root/..`), and its current directory
//! (`/proc/PID/cwd`).

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use ex18_pivot_root as ex;
use nix::mount::{MsFlags, mount};
use nix::sched::CloneFlags;
use nix::sys::stat::stat;
use nix::unistd::chdir;
use testkit::exercise::{
    self, Case, Outcome, Probe, call, ensure, mounts_of, ns_of, report, report_ns,
    setup,
};
use workbook::ns::NsId;

const HELLO: &str = "hello";

pub fn main() -> ExitCode {
    exercise::main(
        "ex18",
        &[
            Case::new("pivots_into_new_root", pivots).check(pivoted),
            Case::new("pivots_where_root_is_shared", pivots_under_shared)
                .check(pivoted),
        ],
    )
}

/// A throwaway mount namespace, `/` shared in it if asked, and a new root
/// with one file in it; the process then starts in another directory.
fn prepare(shared: bool) -> Result<PathBuf, String> {
    exercise::isolate(CloneFlags::CLONE_NEWNS)?;
    report_ns(
        "start",
        setup("reading /proc/self/ns/mnt", NsId::current("mnt"))?,
    );
    if shared {
        setup(
            "making / shared, as systemd does",
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_SHARED,
                None::<&str>,
            ),
        )?;
    }
    let dir = exercise::temp_dir()?;
    let new_root = dir.join("rootfs");
    setup("mkdir", fs::create_dir(&new_root))?;
    setup(
        "writing a file",
        fs::write(new_root.join(HELLO), "in the new root\n"),
    )?;
    setup("chdir", chdir(&dir))?;
    report("new_root", new_root.display());
    Ok(new_root)
}

fn pivots() -> Outcome {
    let new_root = prepare(false)?;
    call(
        &format!("pivot_into({})", new_root.display()),
        ex::pivot_into(&new_root),
    )
}

fn pivots_under_shared() -> Outcome {
    let new_root = prepare(true)?;
    call(
        &format!("pivot_into({})", new_root.display()),
        ex::pivot_into(&new_root),
    )
}

/// Two paths name the same file: (st_dev, st_ino).
fn same_file(a: &str, b: &str) -> Result<bool, String> {
    let id = |path: &str| {
        stat(path)
            .map(|st| (st.st_dev, st.st_ino))
            .map_err(|e| format!("stat({path}) failed: {e}"))
    };
    Ok(id(a)? == id(b)?)
}

fn pivoted(p: &Probe) -> Outcome {
    let now = ns_of(p.child, "mnt")?;
    ensure(now != p.ns("start")?, || {
        format!(
            "the process is still in {now}, where it started: pivot_root(2) changes the root \
             mount of the caller's mount namespace, so make a new one first \
             (unshare(CLONE_NEWNS))"
        )
    })?;
    let root = format!("/proc/{}/root", p.child);
    ensure(same_file(&root, &format!("{root}/.."))?, || {
        "`..` of the process's root leads out of it, into the old tree: chroot(2) changes \
         only the root directory, and the old root stays mounted and reachable. Use \
         pivot_root(2), which makes new_root the root mount of the namespace"
            .into()
    })?;
    let mounts = mounts_of(p.child)?;
    let others: Vec<String> = mounts
        .iter()
        .filter(|m| m.mount_point.as_os_str() != "/")
        .map(|m| m.mount_point.display().to_string())
        .collect();
    ensure(others.is_empty(), || {
        format!(
            "the old root is still mounted in the process's mount namespace ({} mounts besides \
             /, the first {}): after pivot_root(2), detach it with umount2(put_old, \
             MNT_DETACH)",
            others.len(),
            others[0]
        )
    })?;
    ensure(
        mounts.iter().any(|m| m.mount_point.as_os_str() == "/"),
        || {
            "no mount sits on the process's root: pivot_root(2) into a mount point"
                .into()
        },
    )?;
    let cwd = format!("/proc/{}/cwd", p.child);
    ensure(same_file(&cwd, &root)?, || {
        "the process's current directory is not its new root: pivot_root(2) leaves it where it \
         was, in the old tree; chdir(\"/\") afterwards"
            .into()
    })?;
    let new_root = p.path("new_root")?;
    let hello = format!("{root}/{HELLO}");
    ensure(stat(hello.as_str()).is_ok(), || {
        format!(
            "the process's root does not hold the file the test put in {}: pivot into that \
             directory",
            new_root.display()
        )
    })
}
