//! A run's own directory under /tmp, and what a killed run left there.
//!
//! Every directory testkit makes under /tmp is a [`RunDir`]: a chapter
//! test's (the examples' `TMPDIR`), the exercise harness's per-run directory
//! and the directory of a binary copied for uid 65534 (`PublicCopy`).
//!
//! A test process killed mid-run (SIGKILL, which nothing can catch) runs no
//! destructor: its run directories stay, with any mount a ch06 test had up
//! in them. Each directory's name says whose it is,
//! `workbook-run.<pid namespace>.<pid>.<start time>.XXXXXX`
//! ([`workbook::owner`]), so the first [`RunDir`] of a later test process
//! removes, and says so, those of its user whose owner is provably gone. A
//! live run's directory is never touched.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Once;

use nix::errno::Errno;
use nix::mount::{MntFlags, umount2};
use workbook::mountinfo::Mount;
use workbook::owner::{self, Owner};

/// The stem of every run directory's name.
const STEM: &str = "workbook-run";

/// A fresh directory of one run's own, `/tmp/workbook-run.…XXXXXX`, for the
/// examples it starts to use as `TMPDIR` and for the files a test makes.
///
/// Made under /tmp, not under the tests' own `TMPDIR`: uid 65534 must reach
/// it, and /tmp is the one directory every user can.
///
/// Dropped, even by a failed assertion, it detaches every mount left at or
/// under it, then removes it with all it holds; if a mount could not be
/// detached it removes nothing, so as never to delete across a mount.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Mode 1777 (like /tmp): uid 65534 may create entries in it, and only
    /// remove its own.
    #[allow(clippy::new_without_default)]
    pub fn new() -> RunDir {
        RunDir::with_mode(0o1777).unwrap_or_else(|why| panic!("{why}"))
    }

    /// A run directory of mode `mode`: 0755 where uid 65534 must reach what
    /// is in it but not add to it. mkdtemp(3) makes it 0700.
    pub(crate) fn with_mode(mode: u32) -> Result<RunDir, String> {
        static LEFTOVERS: Once = Once::new();
        LEFTOVERS.call_once(|| {
            for (path, mounts) in remove_leftovers() {
                // Not captured by the test harnesses: the learner sees it.
                let _ = writeln!(
                    io::stderr(),
                    "testkit: removed {} and detached its {mounts} mount(s): \
                     left by a test process that is gone (killed?)",
                    path.display()
                );
            }
        });
        let me = Owner::me().map_err(|e| e.to_string())?;
        let template = me.template(Path::new("/tmp"), STEM);
        let made = nix::unistd::mkdtemp(&template)
            .map_err(|e| format!("mkdtemp({}) failed: {e}", template.display()))?;
        // mountinfo names mount points by their canonical path.
        let dir = match fs::canonicalize(&made) {
            Ok(path) => RunDir { path },
            Err(err) => {
                let _ = fs::remove_dir(&made);
                return Err(format!("realpath({}) failed: {err}", made.display()));
            }
        };
        // Dropped on error: removed.
        fs::set_permissions(&dir.path, fs::Permissions::from_mode(mode)).map_err(
            |e| format!("chmod {mode:o} {} failed: {e}", dir.path.display()),
        )?;
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` in the directory, as an example's argument.
    pub fn file(&self, name: &str) -> String {
        self.path
            .join(name)
            .to_str()
            .expect("utf-8 path")
            .to_owned()
    }

    /// Mount points at or under the directory in the test thread's mount
    /// namespace, in the order they were made.
    pub fn mounts(&self) -> Vec<PathBuf> {
        mounts_under(&self.path)
            .expect("read /proc/thread-self/mountinfo")
            .into_iter()
            .map(|m| m.mount_point)
            .collect()
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        detach_mounts(&self.path);
        let _ = remove_unmounted(&self.path);
    }
}

/// The mounts at or under `dir` in the calling thread's mount namespace
/// (`/proc/thread-self/mountinfo`, proc(5)), in the order they were made.
/// `dir` must be canonical, as mountinfo's paths are.
fn mounts_under(dir: &Path) -> Result<Vec<Mount>, String> {
    let mounts = workbook::mountinfo::read("/proc/thread-self/mountinfo")
        .map_err(|e| e.to_string())?;
    // Path::starts_with compares whole components: /tmp/a is not under
    // /tmp/ab.
    Ok(mounts
        .into_iter()
        .filter(|m| m.mount_point.starts_with(dir))
        .collect())
}

/// Detach (umount2(2), MNT_DETACH) every mount at or under `dir`, last made
/// first: a mount stacked on another, or made inside it, goes before it.
/// Returns each mount found, once, with how its detach went.
pub(crate) fn detach_mounts(dir: &Path) -> Vec<(Mount, Result<(), Errno>)> {
    let mut found: Vec<(Mount, Result<(), Errno>)> = Vec::new();
    // One pass takes stacked mounts off one by one, top first. A mount
    // that came back (propagated from a peer) is seen by a second pass; a
    // few rounds are plenty.
    for round in 0..8 {
        let left = mounts_under(dir).unwrap_or_default();
        if left.is_empty() {
            break;
        }
        for mount in left.into_iter().rev() {
            let done = umount2(&mount.mount_point, MntFlags::MNT_DETACH);
            // Said once: a later round only updates how it went.
            let seen = found.iter_mut().find(|(m, _)| *m == mount);
            match seen {
                Some(seen) if round > 0 => seen.1 = done,
                _ => found.push((mount, done)),
            }
        }
    }
    // EINVAL (not a mount point) from a mount that went with one above it
    // is a success; from one still there, the failure it is.
    let left = mounts_under(dir).unwrap_or_default();
    for (mount, done) in &mut found {
        if *done == Err(Errno::EINVAL) && !left.contains(mount) {
            *done = Ok(());
        }
    }
    found
}

/// Remove the tree at `path`, unless a mount sits on it or under it in this
/// thread's mount namespace, or the mount table cannot be read: then nothing
/// is removed. remove_dir_all does not follow symbolic links, but it would
/// walk into a mounted filesystem and empty it. (Callers detach the mounts
/// they own first: [`detach_mounts`].)
pub(crate) fn remove_unmounted(path: &Path) -> Result<(), String> {
    let mounts = mounts_under(path)
        .map_err(|why| format!("not removing {}: {why}", path.display()))?;
    if let Some(mount) = mounts.first() {
        return Err(format!(
            "not removing {}: {} is mounted on {}",
            path.display(),
            mount.fstype,
            mount.mount_point.display()
        ));
    }
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(format!("removing {} failed: {err}", path.display())),
    }
}

/// Remove the run directories in /tmp that are ours and whose owner is
/// provably gone ([`owner::left_by_the_gone`]); returns each one removed
/// with the number of mounts detached from it.
pub fn remove_leftovers() -> Vec<(PathBuf, usize)> {
    let mut removed = Vec::new();
    for (path, _owner) in owner::left_by_the_gone(Path::new("/tmp"), STEM) {
        let detached = detach_mounts(&path)
            .iter()
            .filter(|(_, done)| done.is_ok())
            .count();
        if remove_unmounted(&path).is_ok() && !path.exists() {
            removed.push((path, detached));
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_dir_has_its_mode_and_is_removed_when_dropped() {
        for mode in [0o1777, 0o755] {
            let dir = RunDir::with_mode(mode).unwrap();
            let path = dir.path().to_owned();
            let meta = fs::metadata(&path).unwrap();
            assert_eq!(meta.permissions().mode() & 0o7777, mode);
            let name = path.file_name().unwrap().to_str().unwrap();
            let owner = Owner::parse(name, STEM);
            assert_eq!(owner, Some(Owner::me().unwrap()), "{name}");
            fs::create_dir(path.join("sub")).unwrap();
            fs::write(path.join("sub/file"), "").unwrap();
            drop(dir);
            assert!(!path.exists(), "{} was left", path.display());
        }
    }

    #[test]
    fn a_dead_runs_dir_is_swept_and_a_live_ones_is_not() {
        let me = Owner::me().unwrap();
        let gone = Owner {
            start: me.start + 1,
            ..me
        };
        let dead =
            nix::unistd::mkdtemp(&gone.template(Path::new("/tmp"), STEM)).unwrap();
        fs::write(dead.join("file"), "").unwrap();
        let live = RunDir::new();
        let removed = remove_leftovers();
        // Another test thread may have removed it first; either way it goes.
        assert!(!dead.exists(), "a dead run's directory was left");
        if let Some((_, mounts)) = removed.iter().find(|(path, _)| *path == dead) {
            assert_eq!(*mounts, 0);
        }
        assert!(live.path().exists(), "a live run's directory was swept");
    }

    #[test]
    fn nothing_is_removed_across_a_mount() {
        if !nix::unistd::geteuid().is_root() {
            crate::skip::<()>("mounting needs root");
            return;
        }
        // In a mount namespace of this thread's own (unshare(2) of
        // CLONE_NEWNS applies to the calling thread), made private, so the
        // host never sees the mount.
        let handle = std::thread::spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).unwrap();
            workbook::mountinfo::make_root_private().unwrap();
            let dir = RunDir::with_mode(0o755).unwrap();
            let point = dir.path().join("mnt");
            fs::create_dir(&point).unwrap();
            nix::mount::mount(
                Some("tmpfs"),
                &point,
                Some("tmpfs"),
                nix::mount::MsFlags::empty(),
                Some("size=64k"),
            )
            .unwrap();
            fs::write(point.join("precious"), "").unwrap();
            let refused = remove_unmounted(dir.path()).unwrap_err();
            assert!(refused.contains("tmpfs is mounted on"), "{refused}");
            assert!(point.join("precious").exists());
            let detached = detach_mounts(dir.path());
            assert_eq!(detached.len(), 1, "{detached:?}");
            assert_eq!(detached[0].1, Ok(()));
            let path = dir.path().to_owned();
            drop(dir);
            assert!(!path.exists());
        });
        handle.join().unwrap();
    }
}
