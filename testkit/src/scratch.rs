//! Directories a test run makes in /tmp, named after the process that made
//! them, so that a later run can tell when that process is gone.
//!
//! `/tmp/workbook-test-<pid>-<start>-<pidns>.XXXXXX`: the PID of the process
//! that made it, that process's start time (field 22 of /proc/PID/stat, clock
//! ticks since boot; proc(5)) and the inode of its PID namespace. A PID is
//! reused, a (PID, start time) pair is not, and the pair means something only
//! in the PID namespace it was read in. A run killed by SIGKILL (which nothing
//! can catch) leaves its directory; a later run removes it once /proc shows no
//! process with that PID and start time, in the same PID namespace, and only
//! if it belongs to the later run's own uid and nothing is mounted under it.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The start of every such directory's name.
pub(crate) const PREFIX: &str = "workbook-test-";

/// A fresh 0755 directory under /tmp, made by this process and removed when
/// dropped (unless something is mounted under it: see [`remove_unmounted`]).
#[derive(Debug)]
pub(crate) struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    pub(crate) fn new() -> Result<ScratchDir, String> {
        sweep_stale();
        let me = owner_of(std::process::id())
            .ok_or("cannot read /proc/self/stat and /proc/self/ns/pid")?;
        let template = format!("/tmp/{PREFIX}{me}.XXXXXX");
        let path = nix::unistd::mkdtemp(template.as_str())
            .map_err(|e| format!("mkdtemp({template}) failed: {e}"))?;
        // 0755: uid 65534 must reach what is inside (mkdtemp makes 0700).
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("chmod 0755 {} failed: {e}", path.display()))?;
        Ok(ScratchDir { path })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = remove_unmounted(&self.path);
    }
}

/// Remove the tree at `path`, unless a mount sits on it or under it in this
/// process's mount namespace: then nothing is removed. remove_dir_all(3) does
/// not follow symbolic links, but it would walk into a mounted filesystem and
/// empty it, so the mount table is read first. (Callers detach the mounts
/// they own before calling this.)
pub(crate) fn remove_unmounted(path: &Path) -> Result<(), String> {
    if let Some(mount) = mounts_under(path).first() {
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

/// The mounts of this process's mount namespace on `path` or below it, in
/// the order they were made. `path` must be canonical, as mountinfo's are.
pub(crate) fn mounts_under(path: &Path) -> Vec<workbook::mountinfo::Mount> {
    workbook::mountinfo::read("/proc/self/mountinfo")
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.mount_point.starts_with(path))
        .collect()
}

/// `<pid>-<start>-<pidns>` of process `pid`, as seen from this PID namespace.
fn owner_of(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count the
    // fields after its closing parenthesis. Field 3 is the first there.
    let after = &stat[stat.rfind(')')? + 1..];
    let start = after.split_whitespace().nth(22 - 3)?;
    let pidns = fs::metadata("/proc/self/ns/pid").ok()?.ino();
    Some(format!("{pid}-{start}-{pidns}"))
}

/// Remove what dead runs left: `/tmp/workbook-test-<pid>-<start>-<pidns>.*`
/// directories of our uid whose owner is provably gone.
fn sweep_stale() {
    let (Ok(entries), Some(me)) =
        (fs::read_dir("/tmp"), owner_of(std::process::id()))
    else {
        return;
    };
    let our_pidns = me.rsplit('-').next();
    let euid = nix::unistd::geteuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((owner, _)) =
            name.strip_prefix(PREFIX).and_then(|r| r.split_once('.'))
        else {
            continue;
        };
        let fields: Vec<&str> = owner.split('-').collect();
        // An older name without the start time cannot be judged; another PID
        // namespace's PIDs cannot be looked up from here.
        let [pid, _, pidns] = fields[..] else {
            continue;
        };
        let Ok(pid) = pid.parse() else {
            continue;
        };
        // symlink_metadata: a symbolic link named like ours is not ours.
        let ours = fs::symlink_metadata(entry.path())
            .is_ok_and(|m| m.is_dir() && m.uid() == euid);
        let alive = owner_of(pid).as_deref() == Some(owner);
        if ours && Some(pidns) == our_pidns && !alive {
            let _ = remove_unmounted(&entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dir_whose_owner_is_gone_is_swept_and_a_live_ones_is_not() {
        let me = owner_of(std::process::id()).unwrap();
        let pidns = me.rsplit('-').next().unwrap();
        // PID 0 never names a process: provably gone.
        let dead = PathBuf::from(format!("/tmp/{PREFIX}0-1-{pidns}.sweeptest"));
        fs::create_dir_all(&dead).unwrap();
        let live = ScratchDir::new().unwrap();
        assert!(!dead.exists(), "a dead run's directory was left");
        assert!(live.path().exists());
        let path = live.path().to_owned();
        sweep_stale();
        assert!(path.exists(), "a live run's directory was swept");
        drop(live);
        assert!(!path.exists());
    }
}
