//! The checks of exercise 4: `cargo test -p ex04-private-mount`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user. The harness first moves that process into a throwaway
//! mount namespace of its own, with `/` private, so that even a wrong answer
//! cannot mount anything on the host; the checks then read the mount tables
//! of the processes involved in `/proc/PID/mountinfo`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ex04_private_mount as ex;
use nix::mount::{MsFlags, mount};
use nix::sched::CloneFlags;
use testkit::exercise::{
    self, Case, Outcome, Parked, Probe, call, ensure, mount_at, mounts_of, ns_of,
    report, report_ns, setup,
};
use workbook::ns::NsId;

pub fn main() -> ExitCode {
    exercise::main(
        "ex04",
        &[
            Case::new("tmpfs_in_a_new_mount_namespace", mounts).check(mounted),
            Case::new("nothing_propagates_back", propagates).check(kept_private),
            Case::new("remove_tmpfs_unmounts_it", removes).check(unmounted),
        ],
    )
}

/// A throwaway mount namespace, and a fresh directory in /tmp.
fn start() -> Result<PathBuf, String> {
    exercise::isolate(CloneFlags::CLONE_NEWNS)?;
    report_ns(
        "start",
        setup("reading /proc/self/ns/mnt", NsId::current("mnt"))?,
    );
    let dir = exercise::temp_dir()?;
    report("dir", dir.display());
    Ok(dir)
}

fn mounts() -> Outcome {
    let dir = start()?;
    call(
        &format!("private_tmpfs({})", dir.display()),
        ex::private_tmpfs(&dir),
    )
}

fn mounted(p: &Probe) -> Outcome {
    let dir = p.path("dir")?;
    let now = ns_of(p.child, "mnt")?;
    ensure(now != p.ns("start")?, || {
        format!(
            "after private_tmpfs the process is still in {now}, where it started: no new mount namespace was made"
        )
    })?;
    tmpfs_on(p.child, &dir)?;
    let shared: Vec<String> = mounts_of(p.child)?
        .into_iter()
        .filter(|m| m.shared)
        .map(|m| m.mount_point.display().to_string())
        .collect();
    ensure(shared.is_empty(), || {
        format!(
            "in the new mount namespace {shared:?} still propagate (shared): make / private with MS_REC | MS_PRIVATE"
        )
    })
}

fn tmpfs_on(pid: nix::unistd::Pid, dir: &Path) -> Outcome {
    match mount_at(pid, dir)? {
        Some(m) if m.fstype == "tmpfs" => Ok(()),
        Some(m) => Err(format!(
            "{} has a {} mounted on it, not a tmpfs",
            dir.display(),
            m.fstype
        )),
        None => Err(format!(
            "the kernel shows nothing mounted on {} in the process's mount namespace",
            dir.display()
        )),
    }
}

/// The trap, made visible: in the harness's namespace, a tmpfs on `dir` is
/// marked shared, so `dir/inner` in a copied namespace is its peer. A witness
/// stays behind; if the learner's mount on `dir/inner` propagates, it shows
/// up in the witness's mount table.
fn propagates() -> Outcome {
    let dir = start()?;
    setup(
        "mounting a shared tmpfs",
        mount(
            Some("tmpfs"),
            &dir,
            Some("tmpfs"),
            MsFlags::empty(),
            Some("size=1M"),
        ),
    )?;
    setup(
        "marking it shared",
        mount(
            None::<&str>,
            &dir,
            None::<&str>,
            MsFlags::MS_SHARED,
            None::<&str>,
        ),
    )?;
    let inner = dir.join("inner");
    setup("mkdir", fs::create_dir(&inner))?;
    report("inner", inner.display());
    let witness = Parked::spawn(|| Ok(()))?;
    report("witness", witness.pid());
    call(
        &format!("private_tmpfs({})", inner.display()),
        ex::private_tmpfs(&inner),
    )?;
    exercise::park();
    witness.finish()
}

fn kept_private(p: &Probe) -> Outcome {
    let inner = p.path("inner")?;
    tmpfs_on(p.child, &inner)?;
    let witness = p.pid("witness")?;
    let leaked = mount_at(witness, &inner)?;
    ensure(leaked.is_none(), || {
        format!(
            "the tmpfs on {} also appeared in the mount namespace the process left (process \
             {witness} sees it): make / private (MS_REC | MS_PRIVATE) before mounting",
            inner.display()
        )
    })
}

fn removes() -> Outcome {
    let dir = start()?;
    call(
        &format!("private_tmpfs({})", dir.display()),
        ex::private_tmpfs(&dir),
    )?;
    call(
        &format!("remove_tmpfs({})", dir.display()),
        ex::remove_tmpfs(&dir),
    )
}

fn unmounted(p: &Probe) -> Outcome {
    let dir = p.path("dir")?;
    let left = mount_at(p.child, &dir)?;
    ensure(left.is_none(), || {
        format!(
            "after remove_tmpfs, the kernel still shows a {} mounted on {}",
            left.map(|m| m.fstype).unwrap_or_default(),
            dir.display()
        )
    })
}
