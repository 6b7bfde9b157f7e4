//! Directories named after the process that made them, so that a later run
//! can remove what a run killed by SIGKILL left, once that process is
//! provably gone. The examples' temporary directories
//! ([`crate::cleanup::TempDir`]) and the tests' run directories (testkit's
//! `RunDir`) are both named so, and both swept with [`left_by_the_gone`].
//!
//! The name is `<stem>.<pid namespace inode>.<pid>.<start time>.XXXXXX`. A
//! PID is reused; a PID with its start time (field 22 of /proc/PID/stat,
//! clock ticks after boot, proc_pid_stat(5)) is not. And a PID names a
//! process only in its own PID namespace (pid_namespaces(7)): an owner from
//! another PID namespace is never judged gone.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::unistd::geteuid;

use crate::error::{Error, Result};
use crate::ns::NsId;

/// The process a directory belongs to, as its name records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// The inode of the PID namespace the PID belongs to.
    pub pid_ns: u64,
    pub pid: i32,
    /// When the process started: field 22 of /proc/PID/stat.
    pub start: u64,
}

impl Owner {
    /// The calling process.
    pub fn me() -> Result<Owner> {
        let pid = std::process::id() as i32;
        let start = start_time(pid).ok_or_else(|| {
            Error::refused(
                format!("no start time in /proc/{pid}/stat"),
                "is /proc mounted? (mount -t proc proc /proc)",
            )
        })?;
        Ok(Owner {
            pid_ns: NsId::current("pid")?.ino,
            pid,
            start,
        })
    }

    /// `<pid_ns>.<pid>.<start>`: the part of a directory's name between its
    /// stem and mkdtemp(3)'s six random characters.
    pub fn name_part(&self) -> String {
        format!("{}.{}.{}", self.pid_ns, self.pid, self.start)
    }

    /// The mkdtemp(3) template of a directory of this owner in `parent`:
    /// `parent/<stem>.<pid_ns>.<pid>.<start>.XXXXXX`.
    pub fn template(&self, parent: &Path, stem: &str) -> PathBuf {
        parent.join(format!("{stem}.{}.XXXXXX", self.name_part()))
    }

    /// `<stem>.<pid_ns>.<pid>.<start>.XXXXXX` -> its owner; `None` for any
    /// other name.
    pub fn parse(name: &str, stem: &str) -> Option<Owner> {
        let rest = name.strip_prefix(stem)?.strip_prefix('.')?;
        let mut parts = rest.split('.');
        let owner = Owner {
            pid_ns: parts.next()?.parse().ok()?,
            pid: parts.next()?.parse().ok()?,
            start: parts.next()?.parse().ok()?,
        };
        let random = parts.next()?;
        (random.len() == 6 && parts.next().is_none()).then_some(owner)
    }

    /// Provably gone: the owner's PID namespace is ours, /proc shows our PID
    /// namespace (its `self` is our PID: a /proc mounted from another PID
    /// namespace would answer for other processes), and no process has that
    /// PID with that start time. Anything else might be alive.
    pub fn is_gone(&self) -> bool {
        let Ok(me) = Owner::me() else {
            return false;
        };
        let proc_is_ours = fs::read_link("/proc/self").is_ok_and(|link| {
            link.as_os_str().as_bytes() == me.pid.to_string().as_bytes()
        });
        if self.pid_ns != me.pid_ns || !proc_is_ours {
            return false;
        }
        match start_time(self.pid) {
            Some(start) => start != self.start,
            // No /proc/PID/stat: no such process, if /proc answers at all,
            // which our own entry just showed.
            None => !Path::new(&format!("/proc/{}", self.pid)).exists(),
        }
    }
}

/// The directories in `parent` named `<stem>.<owner>.XXXXXX` that are ours
/// (a directory, not a symbolic link, owned by our effective uid: another
/// user's are theirs to remove) and whose owner is provably gone. What to do
/// with each, and what to say, is the caller's.
pub fn left_by_the_gone(parent: &Path, stem: &str) -> Vec<(PathBuf, Owner)> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let euid = geteuid().as_raw();
    let mut left = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name.to_str().and_then(|n| Owner::parse(n, stem)) else {
            continue;
        };
        // lstat: a symbolic link named like ours is not a directory of ours.
        let ours = fs::symlink_metadata(entry.path())
            .is_ok_and(|m| m.is_dir() && m.uid() == euid);
        if ours && owner.is_gone() {
            left.push((entry.path(), owner));
        }
    }
    left
}

/// Field 22 of /proc/PID/stat (proc_pid_stat(5)). Field 2 is the command in
/// parentheses, which may itself hold spaces and parentheses: count from the
/// last ')'.
fn start_time(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // After ')': field 3 is the first; field 22 the twentieth.
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_owner() {
        let owner =
            Owner::parse("ch02-unshare.4026531836.42.9001.Ab3dE9", "ch02-unshare");
        let expected = Owner {
            pid_ns: 4026531836,
            pid: 42,
            start: 9001,
        };
        assert_eq!(owner, Some(expected));
        let template = expected.template(Path::new("/tmp"), "ch02-unshare");
        assert_eq!(
            template,
            Path::new("/tmp/ch02-unshare.4026531836.42.9001.XXXXXX")
        );
        for other in [
            "ch02-unshare.Ab3dE9",
            "ch02-unshare.1.2.3.Ab3dE9.x",
            "ch02-unshare.1.2.Ab3dE9",
            "ch02-unshare.1.2.3.Ab3dE",
            "ch02-unshare-x.1.2.3.Ab3dE9",
            "ch06-persist.1.2.3.Ab3dE9",
        ] {
            assert_eq!(Owner::parse(other, "ch02-unshare"), None, "{other}");
        }
    }

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let me = Owner::me().expect("owner");
        assert!(!me.is_gone());
        let reused = Owner {
            start: me.start + 1,
            ..me
        };
        assert!(reused.is_gone());
        // PID_MAX_LIMIT is 4194304 (2^22, proc_sys_kernel(5)): no process
        // has this PID.
        let never = Owner { pid: 4194304, ..me };
        assert!(never.is_gone());
        let elsewhere = Owner {
            pid_ns: me.pid_ns + 1,
            start: me.start + 1,
            ..me
        };
        assert!(
            !elsewhere.is_gone(),
            "another PID namespace is never provably gone"
        );
    }

    #[test]
    fn only_our_directories_of_gone_owners_are_found() {
        let me = Owner::me().expect("owner");
        let parent =
            nix::unistd::mkdtemp(&std::env::temp_dir().join("owner.XXXXXX"))
                .expect("mkdtemp");
        let stem = "owner-test";
        let gone = Owner {
            start: me.start + 1,
            ..me
        };
        let dead =
            nix::unistd::mkdtemp(&gone.template(&parent, stem)).expect("dead");
        let live = nix::unistd::mkdtemp(&me.template(&parent, stem)).expect("live");
        nix::unistd::mkdtemp(&gone.template(&parent, "other")).expect("other");
        // A symbolic link named like a gone owner's directory.
        let link = parent.join(format!("{stem}.{}.Zz9Zz9", gone.name_part()));
        std::os::unix::fs::symlink(&live, &link).expect("symlink");

        let found = left_by_the_gone(&parent, stem);
        let _ = fs::remove_dir_all(&parent);
        assert_eq!(found, vec![(dead, gone)], "live: {}", live.display());
    }
}
