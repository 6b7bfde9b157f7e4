//! What the host looks like, to prove an example left it as it was.

use std::fs;

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

/// Entries of /tmp whose names start with `prefix` (`ch06-`): temporary
/// files an example left behind.
pub fn temp_entries(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir("/tmp")
        .expect("read /tmp")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

/// The host's hostname and mount table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostState {
    pub hostname: String,
    /// Mount point, filesystem type and source of each mount, in order.
    /// Mount IDs are left out: they are not what a learner would call a change.
    pub mounts: Vec<String>,
}

impl HostState {
    pub fn capture() -> HostState {
        let mounts = workbook::mountinfo::read("/proc/thread-self/mountinfo")
            .expect("mountinfo")
            .into_iter()
            .map(|m| {
                format!("{} {} {}", m.mount_point.display(), m.fstype, m.source)
            })
            .collect();
        HostState {
            hostname: host_hostname(),
            mounts,
        }
    }

    /// Panics, showing the difference, unless the host is as it was.
    pub fn assert_unchanged_since(&self, before: &HostState) {
        assert_eq!(
            self.hostname, before.hostname,
            "an example changed the host's hostname"
        );
        let added: Vec<_> = self
            .mounts
            .iter()
            .filter(|m| !before.mounts.contains(m))
            .collect();
        let removed: Vec<_> = before
            .mounts
            .iter()
            .filter(|m| !self.mounts.contains(m))
            .collect();
        assert!(
            added.is_empty() && removed.is_empty(),
            "an example changed the host's mount table: added {added:?}, removed {removed:?}"
        );
    }
}
