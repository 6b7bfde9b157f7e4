//! The host check: a run is judged only on what it could have changed.
//!
//! Two `cargo test` runs on one machine must not fail each other, so a check
//! never reads the machine-wide /tmp or the whole mount table: another run's
//! mount or temporary file is not this run's business. Each run gets a
//! [`RunDir`] of its own, the `TMPDIR` of every example it starts (the
//! examples make their temporary files under `std::env::temp_dir()`), and
//! the check compares three things before and after:
//!
//! - the hostname of the host's UTS namespace (the tests never leave it);
//! - the entries of the run's directory;
//! - the mounts at or under the run's directory, in the host's mount
//!   namespace (`/proc/thread-self/mountinfo`, proc(5)).

use std::fs;
use std::path::{Path, PathBuf};

pub use crate::run_dir::RunDir;

/// The hostname of the test process's UTS namespace: the host's, since tests
/// never change their own namespaces.
pub fn host_hostname() -> String {
    nix::unistd::gethostname()
        .expect("gethostname")
        .to_string_lossy()
        .into_owned()
}

/// The test thread's namespace of `ns_type`, as `uts:[4026531838]`. Read
/// from `/proc/thread-self`: every test runs on a thread of its own.
pub fn host_ns(ns_type: &str) -> String {
    let link = fs::read_link(format!("/proc/thread-self/ns/{ns_type}"))
        .expect("readlink ns");
    link.to_string_lossy().into_owned()
}

/// Entries of /tmp whose names start with `prefix`. The machine's /tmp is
/// shared by every run on it: a chapter test never judges it (it judges its
/// [`RunDir`]); only the exercises' harness still reads it.
pub fn temp_entries(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = entries(Path::new("/tmp"))
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

/// The names in `dir`, sorted; none if it cannot be read.
pub(crate) fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|list| {
            list.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `(mount point, "type source")` of each mount at or under `dir`.
pub(crate) fn mounts_at_or_under(dir: &Path) -> Vec<(PathBuf, String)> {
    workbook::mountinfo::read("/proc/thread-self/mountinfo")
        .expect("mountinfo")
        .into_iter()
        // Path::starts_with compares whole components: /tmp/a is not
        // under /tmp/ab.
        .filter(|m| m.mount_point.starts_with(dir))
        .map(|m| (m.mount_point, format!("{} {}", m.fstype, m.source)))
        .collect()
}

/// What a run could have changed on the host: the host's hostname, and the
/// entries of and mounts at or under its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostState {
    pub hostname: String,
    /// The directory's entries, by name, sorted.
    pub entries: Vec<String>,
    /// `mount point, type, source` of each mount at or under the directory,
    /// in order. Mount IDs are left out: they are not what a learner would
    /// call a change.
    pub mounts: Vec<String>,
}

impl HostState {
    /// The state seen from `dir` (usually a [`RunDir`]'s path).
    pub fn capture(dir: &Path) -> HostState {
        HostState {
            hostname: host_hostname(),
            entries: entries(dir),
            mounts: mounts_at_or_under(dir)
                .into_iter()
                .map(|(point, what)| format!("{} {what}", point.display()))
                .collect(),
        }
    }

    /// One sentence per change since `before`; none if there is none.
    pub fn changes_since(&self, before: &HostState) -> Vec<String> {
        let mut changes = Vec::new();
        if self.hostname != before.hostname {
            changes.push(format!(
                "the host's hostname changed from {:?} to {:?}",
                before.hostname, self.hostname
            ));
        }
        let (added, removed) = diff(&before.mounts, &self.mounts);
        if !added.is_empty() || !removed.is_empty() {
            changes.push(format!(
                "the mounts in the run's directory changed: added {added:?}, \
                 removed {removed:?}"
            ));
        }
        let (added, removed) = diff(&before.entries, &self.entries);
        if !added.is_empty() || !removed.is_empty() {
            changes.push(format!(
                "the run's directory changed: left {added:?}, removed {removed:?}"
            ));
        }
        changes
    }

    /// Panics, naming every change, unless the host is as it was.
    pub fn assert_unchanged_since(&self, before: &HostState) {
        let changes = self.changes_since(before);
        assert!(
            changes.is_empty(),
            "the run changed the host: {}",
            changes.join("; ")
        );
    }
}

/// What `after` has that `before` lacks, and the other way round.
fn diff<'a>(
    before: &'a [String],
    after: &'a [String],
) -> (Vec<&'a str>, Vec<&'a str>) {
    let added = after
        .iter()
        .filter(|x| !before.contains(x))
        .map(String::as_str)
        .collect();
    let removed = before
        .iter()
        .filter(|x| !after.contains(x))
        .map(String::as_str)
        .collect();
    (added, removed)
}

/// Run `run` (which may skip, returning `None`) with `dir` as its
/// directory, then check the host as seen from `dir`: same hostname, same
/// entries, same mounts. For several runs that share a directory on
/// purpose (ch06's `create`, `join`, `remove`); a single
/// [`crate::Example`] run is checked on its own directory already.
pub fn on_host<T>(dir: &RunDir, run: impl FnOnce() -> Option<T>) -> Option<T> {
    let before = HostState::capture(dir.path());
    let ran = run()?;
    HostState::capture(dir.path()).assert_unchanged_since(&before);
    Some(ran)
}
