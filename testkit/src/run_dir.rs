//! A run's own directory under /tmp, and what a killed run left there.
//!
//! A test process killed mid-run (Ctrl-C on `cargo test`, SIGKILL) runs no
//! destructor: its run directories stay, with any mount a ch06 test had up
//! in them. Each directory's name says whose it is,
//! `workbook-run.<pid namespace>-<pid>-<start time>.XXXXXX`, so the first
//! [`RunDir`] of a later test process removes, and says so, those of its
//! user whose owner is provably gone: same PID namespace (the PID means the
//! same process there), and no process with that PID and start time
//! (proc(5), /proc/PID/stat field 22) is alive. A live run's directory is
//! never touched.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Once;

use nix::mount::{MntFlags, umount2};

use crate::host::mounts_at_or_under;

const PREFIX: &str = "workbook-run.";

/// A fresh directory of one run's own, `/tmp/workbook-run.…XXXXXX`, for the
/// examples it starts to use as `TMPDIR` and for the files a test makes.
///
/// Made under /tmp, not under the tests' own `TMPDIR`: uid 65534 must reach
/// it, and /tmp is the one directory every user can. Mode 1777 (like /tmp):
/// uid 65534 may create entries in it, and only remove its own.
///
/// Dropped, even by a failed assertion, it detaches every mount left at or
/// under it, then removes it with all it holds; if a mount could not be
/// detached it removes nothing, so as never to delete across a mount.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    #[allow(clippy::new_without_default)]
    pub fn new() -> RunDir {
        static LEFTOVERS: Once = Once::new();
        LEFTOVERS.call_once(|| {
            for (path, mounts) in remove_leftovers() {
                // Not captured by the chapters' harness: the learner sees it.
                let _ = writeln!(
                    std::io::stderr(),
                    "testkit: removed {} and detached its {mounts} mount(s): \
                     left by a test process that is gone (interrupted?)",
                    path.display()
                );
            }
        });
        let pid = std::process::id();
        let ns = pid_ns().expect("readlink /proc/self/ns/pid");
        let start = start_time(pid).expect("read /proc/self/stat");
        let template = format!("/tmp/{PREFIX}{ns}-{pid}-{start}.XXXXXX");
        let made = nix::unistd::mkdtemp(template.as_str()).expect("mkdtemp");
        // mountinfo names mount points by their canonical path.
        let path = fs::canonicalize(&made).expect("canonicalize the run directory");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o1777))
            .expect("chmod 1777 the run directory");
        RunDir { path }
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

    /// Mount points at or under the directory in the host's mount
    /// namespace, in the order they were made.
    pub fn mounts(&self) -> Vec<PathBuf> {
        mounts_at_or_under(&self.path)
            .into_iter()
            .map(|(point, _)| point)
            .collect()
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        remove(&self.path);
    }
}

/// Detach every mount at or under `dir`, then remove it, unless a mount is
/// still there. Returns how many mounts were detached.
fn remove(dir: &Path) -> usize {
    let mut detached = 0;
    // Stacked mounts come off one at a time, last made first; a few rounds
    // are plenty.
    for _ in 0..8 {
        let left = mounts_at_or_under(dir);
        if left.is_empty() {
            break;
        }
        for (point, _) in left.iter().rev() {
            if umount2(point, MntFlags::MNT_DETACH).is_ok() {
                detached += 1;
            }
        }
    }
    if mounts_at_or_under(dir).is_empty() {
        let _ = fs::remove_dir_all(dir);
    }
    detached
}

/// The start time of process `pid` (/proc/PID/stat field 22, clock ticks
/// after boot), readable for any process; `None` if there is none.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 2, the command, is in parentheses and may hold spaces: count the
    // fields after its closing one, field 3 on.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// The inode of the test process's PID namespace, the one its /proc shows.
fn pid_ns() -> Option<u64> {
    let link = fs::read_link("/proc/self/ns/pid").ok()?;
    link.to_str()?
        .strip_prefix("pid:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Remove the run directories in /tmp whose owner is provably gone; returns
/// each one removed with the number of mounts detached from it.
/// Only the test user's own: another user's are theirs to remove.
pub fn remove_leftovers() -> Vec<(PathBuf, usize)> {
    let Some(our_ns) = pid_ns() else {
        return Vec::new();
    };
    let uid = nix::unistd::geteuid().as_raw();
    let mut removed = Vec::new();
    for name in crate::host::entries(Path::new("/tmp")) {
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let Some((ns, pid, start)) = parse_owner(rest) else {
            continue;
        };
        let path = Path::new("/tmp").join(&name);
        let ours =
            fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir() && m.uid() == uid);
        if !ours || ns != our_ns || start_time(pid) == Some(start) {
            continue;
        }
        let mounts = remove(&path);
        if !path.exists() {
            removed.push((path, mounts));
        }
    }
    removed
}

/// `4026531836-1234-56789.Ab3dE9` -> (4026531836, 1234, 56789).
fn parse_owner(rest: &str) -> Option<(u64, u32, u64)> {
    let (owner, _random) = rest.rsplit_once('.')?;
    let mut parts = owner.split('-');
    let ns = parts.next()?.parse().ok()?;
    let pid = parts.next()?.parse().ok()?;
    let start = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((ns, pid, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_whose_they_are() {
        assert_eq!(
            parse_owner("4026531836-1234-56789.Ab3dE9"),
            Some((4026531836, 1234, 56789))
        );
        assert_eq!(parse_owner("Ab3dE9"), None);
        assert_eq!(parse_owner("1-2.Ab3dE9"), None);
        assert_eq!(parse_owner("1-2-3-4.Ab3dE9"), None);
    }

    #[test]
    fn this_process_is_alive() {
        assert!(start_time(std::process::id()).is_some_and(|t| t > 0));
        assert!(pid_ns().is_some());
        // PID_MAX_LIMIT is 4194304 (2^22): no process has this PID.
        assert_eq!(start_time(4194304), None);
    }
}
