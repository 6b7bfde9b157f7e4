//! The machine facts the doctor prints, read from /proc and /proc/sys only.
//!
//! Kept small and apart on purpose: `workbook::machine` (the facts the
//! hints read) is to replace this module, so that a hint and the doctor
//! never disagree.

use std::fs;
use std::os::unix::fs::MetadataExt;

/// The namespace types, in the names of /proc/PID/ns and user.max_*.
pub const TYPES: [&str; 8] =
    ["user", "uts", "mnt", "net", "ipc", "pid", "cgroup", "time"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// uname(2)'s release, `6.18.0-...`.
    pub kernel: String,
    pub euid: u32,
    /// CAP_SYS_ADMIN in the effective set (`CapEff:` bit 21, capabilities(7)).
    pub cap_sys_admin: bool,
    /// `Seccomp:` of /proc/self/status: 0 none, 1 strict, 2 filter
    /// (proc_pid_status(5)).
    pub seccomp: Option<u8>,
    /// kernel.unprivileged_userns_clone (Debian's patch; absent elsewhere).
    pub unprivileged_userns_clone: Option<i64>,
    /// kernel.apparmor_restrict_unprivileged_userns (Ubuntu 23.10+).
    pub apparmor_restrict: Option<i64>,
    /// kernel.apparmor_restrict_unprivileged_unconfined.
    pub apparmor_restrict_unconfined: Option<i64>,
    /// user.max_<type>_namespaces for each of [`TYPES`] (namespaces(7)).
    pub limits: Vec<(&'static str, Option<i64>)>,
    /// `/` is not pid 1's root; None when pid 1's root cannot be read.
    pub chroot: Option<bool>,
    pub wsl: bool,
    /// `/` is shared (a peer group), so mounts propagate out of a copy of
    /// it unless made private (mount_namespaces(7)); None if unreadable.
    pub root_shared: Option<bool>,
    /// /sys/fs/cgroup is a cgroup2 filesystem.
    pub cgroup2: bool,
}

pub fn read() -> Facts {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
    };
    let cap_eff =
        field("CapEff:").and_then(|hex| u64::from_str_radix(&hex, 16).ok());
    let kernel = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let chroot = match (fs::metadata("/"), fs::metadata("/proc/1/root")) {
        (Ok(me), Ok(init)) => Some((me.dev(), me.ino()) != (init.dev(), init.ino())),
        _ => None,
    };
    let wsl = {
        let release = kernel.to_ascii_lowercase();
        release.contains("microsoft") || release.contains("wsl")
    };
    let root_shared = workbook::mountinfo::top_mount_at(std::path::Path::new("/"))
        .ok()
        .flatten()
        .map(|m| m.shared);
    let cgroup2 = nix::sys::statfs::statfs("/sys/fs/cgroup")
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC);
    Facts {
        kernel,
        euid: nix::unistd::geteuid().as_raw(),
        cap_sys_admin: cap_eff.is_some_and(|caps| caps & (1 << 21) != 0),
        seccomp: field("Seccomp:").and_then(|v| v.parse().ok()),
        unprivileged_userns_clone: setting("kernel/unprivileged_userns_clone"),
        apparmor_restrict: setting("kernel/apparmor_restrict_unprivileged_userns"),
        apparmor_restrict_unconfined: setting(
            "kernel/apparmor_restrict_unprivileged_unconfined",
        ),
        limits: TYPES
            .iter()
            .map(|t| (*t, setting(&format!("user/max_{t}_namespaces"))))
            .collect(),
        chroot,
        wsl,
        root_shared,
        cgroup2,
    }
}

/// A number in /proc/sys; None when the file does not exist.
pub fn setting(name: &str) -> Option<i64> {
    fs::read_to_string(format!("/proc/sys/{name}"))
        .ok()
        .and_then(|v| v.trim().parse().ok())
}

impl Facts {
    pub fn limit(&self, ns_type: &str) -> Option<i64> {
        self.limits
            .iter()
            .find(|(t, _)| *t == ns_type)
            .and_then(|(_, v)| *v)
    }
}
