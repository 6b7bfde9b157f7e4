//! What this machine allows: the facts an error hint and `workbook doctor`
//! read, in one place, so the two never disagree.
//!
//! A leaf module: it only reads `/proc` and `/proc/sys`, and stats `/` (to
//! compare it with PID 1's root) and `/sys/fs/cgroup` (statfs(2), for the
//! cgroup version). It never fails (a fact it cannot read is
//! `None`, or `false` for a capability), and knows nothing of the
//! workbook's errors. [`facts`] reads everything once;
//! [`Facts::blockers`] turns the facts into the README's table of things that
//! stop a namespace call, each with its fix.
//!
//! A fact is a hint, not a verdict: `Seccomp: 2` says a filter is installed,
//! not what it refuses (proc(5)); only the real call tells. The doctor should
//! try the call in a throwaway child and use these facts to explain a refusal.

use std::fmt;
use std::fs;
use std::os::unix::fs::MetadataExt;

/// Capability number of CAP_SYS_ADMIN (capabilities(7)); bit 21 of `CapEff`.
const CAP_SYS_ADMIN: u32 = 21;

/// The namespace types that have a `/proc/sys/user/max_<type>_namespaces`
/// limit (namespaces(7), "The /proc/sys/user directory"), in that file's
/// spelling (`mnt`, not `ns`).
pub const LIMITED_TYPES: [&str; 8] =
    ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// The `Seccomp:` field of `/proc/self/status` (proc(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seccomp {
    /// 0: no seccomp.
    Disabled,
    /// 1: strict mode (only read, write, _exit, sigreturn).
    Strict,
    /// 2: a filter is installed; it may or may not refuse a given call.
    Filter,
}

/// Everything the hints and the doctor know about this machine and process.
/// The fields are public so a test can describe a machine it is not on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The whole kernel release, `6.18.44-fc-v657` (`uname -r`), from
    /// `/proc/sys/kernel/osrelease`.
    pub release: Option<String>,
    /// `(major, minor)` of the running kernel, from
    /// `/proc/sys/kernel/osrelease` (`6.18.44-fc` is `(6, 18)`).
    pub kernel: Option<(u32, u32)>,
    /// The effective uid, as this process's user namespace shows it (the
    /// second field of `Uid:` in `/proc/self/status`); 65534 (the overflow
    /// uid) when the uid has no mapping here.
    pub euid: Option<u32>,
    /// `CapEff` has CAP_SYS_ADMIN: what unshare, setns, sethostname and
    /// mount check (in the user namespace this process is in).
    pub cap_sys_admin: bool,
    /// `Seccomp:` in `/proc/self/status`.
    pub seccomp: Option<Seccomp>,
    /// `Threads:` in `/proc/self/status`. CLONE_NEWUSER refuses a caller
    /// with more than one (EINVAL, unshare(2) and setns(2)).
    pub threads: Option<u32>,
    /// `/proc/self/uid_map` has a line: this process's user namespace maps
    /// some uid. A namespace made by `unshare --user` without `-r` has none
    /// until someone writes one; a process there cannot create a nested user
    /// namespace (unshare(2), EPERM).
    pub uid_mapped: Option<bool>,
    /// `/proc/self/setgroups` says `deny`: an unprivileged process may
    /// write its `gid_map` only then (user_namespaces(7)).
    pub setgroups_denied: Option<bool>,
    /// In a chroot: unshare(CLONE_NEWUSER) refuses a chrooted caller
    /// (unshare(2), EPERM). `None` when it cannot be told (see `chrooted`).
    pub chrooted: Option<bool>,
    /// `kernel.unprivileged_userns_clone`: a Debian patch, absent upstream;
    /// 0 refuses CLONE_NEWUSER to unprivileged callers with EPERM.
    pub unprivileged_userns_clone: Option<u32>,
    /// `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu 23.10+): 1 lets
    /// an unconfined, unprivileged program create a user namespace but
    /// AppArmor then denies it every capability there.
    pub apparmor_restrict_userns: Option<u32>,
    /// `kernel.apparmor_restrict_unprivileged_unconfined` (Ubuntu 24.04+):
    /// 1 also restricts unconfined programs that would otherwise change
    /// profile to escape the rule above.
    pub apparmor_restrict_unconfined: Option<u32>,
    /// `user.max_<type>_namespaces`, in [`LIMITED_TYPES`] order.
    pub max_namespaces: [Option<u64>; 8],
    /// The propagation type of `/` in this mount namespace, from
    /// `/proc/self/mountinfo`.
    pub root_propagation: Option<Propagation>,
    /// Which cgroup hierarchy `/sys/fs/cgroup` shows.
    pub cgroup: Option<Cgroup>,
}

/// The propagation type of a mount, from the optional fields of its line in
/// `/proc/PID/mountinfo` (mount_namespaces(7), "Shared subtrees"; proc(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// `shared:N` (perhaps with `master:M` too): mounts made below it
    /// propagate to its peers. systemd makes `/` shared, so a new mount
    /// namespace's copy of `/` would pass its mounts back to the host unless
    /// made private first, as the examples do.
    Shared,
    /// `master:N` only: receives mounts from its master, sends none back.
    Slave,
    /// No optional field: MS_PRIVATE, the kernel's default.
    Private,
    /// `unbindable`: private, and may not be bind mounted.
    Unbindable,
}

/// The cgroup hierarchy mounted at `/sys/fs/cgroup` (cgroups(7), "Cgroups
/// version 1 and version 2"), told the way systemd tells it: statfs(2) of
/// `/sys/fs/cgroup`, then of `/sys/fs/cgroup/unified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cgroup {
    /// `/sys/fs/cgroup` is a cgroup2 filesystem.
    V2,
    /// Version 1 controllers, with the version 2 hierarchy (no
    /// controllers) at `/sys/fs/cgroup/unified`: systemd's "hybrid" mode.
    Hybrid,
    /// Version 1 only.
    V1,
}

/// Read every fact now. Cheap (a dozen small /proc reads); call it when a
/// hint is needed rather than caching, since a test may change a limit.
pub fn facts() -> Facts {
    let status = read("/proc/self/status").unwrap_or_default();
    let field = |name: &str| status_field(&status, name);
    let release = read("/proc/sys/kernel/osrelease").map(|r| r.trim().to_owned());
    let mountinfo = read("/proc/self/mountinfo");
    Facts {
        kernel: release.as_deref().and_then(parse_release),
        release,
        euid: field("Uid:").and_then(|ids| second_number(&ids)),
        cap_sys_admin: field("CapEff:")
            .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
            .is_some_and(|caps| caps & (1 << CAP_SYS_ADMIN) != 0),
        seccomp: field("Seccomp:").and_then(|mode| match mode.as_str() {
            "0" => Some(Seccomp::Disabled),
            "1" => Some(Seccomp::Strict),
            "2" => Some(Seccomp::Filter),
            _ => None,
        }),
        threads: field("Threads:").and_then(|n| n.parse().ok()),
        uid_mapped: read("/proc/self/uid_map").map(|map| !map.trim().is_empty()),
        setgroups_denied: read("/proc/self/setgroups").map(|s| s.trim() == "deny"),
        chrooted: chrooted(mountinfo.as_deref()),
        unprivileged_userns_clone: number(
            "/proc/sys/kernel/unprivileged_userns_clone",
        ),
        apparmor_restrict_userns: number(
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
        ),
        apparmor_restrict_unconfined: number(
            "/proc/sys/kernel/apparmor_restrict_unprivileged_unconfined",
        ),
        max_namespaces: LIMITED_TYPES
            .map(|ty| number(&format!("/proc/sys/user/max_{ty}_namespaces"))),
        root_propagation: mountinfo.as_deref().and_then(root_propagation),
        cgroup: cgroup(),
    }
}

/// True when the effective capability set holds CAP_SYS_ADMIN (`CapEff` in
/// `/proc/self/status`, proc(5)): root in a container may lack it.
pub fn has_cap_sys_admin() -> bool {
    facts().cap_sys_admin
}

/// The thread-group ID (the process's PID) of thread `tid`, from the
/// `Tgid:` line of `/proc/TID/status`: a thread's own directory is there
/// although `ls /proc` does not list it. `None` if there is no such task.
pub fn thread_group_of(tid: u32) -> Option<u32> {
    let status = read(&format!("/proc/{tid}/status"))?;
    status_field(&status, "Tgid:")?.parse().ok()
}

/// `"6.18.44-fc-v657"` → `(6, 18)`.
pub fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

impl Facts {
    /// Whether the kernel is `version` or newer; `None` if unknown.
    pub fn kernel_at_least(&self, version: (u32, u32)) -> Option<bool> {
        self.kernel.map(|k| k >= version)
    }

    /// `user.max_<ns_type>_namespaces`, `ns_type` as in [`LIMITED_TYPES`].
    pub fn limit(&self, ns_type: &str) -> Option<u64> {
        let at = LIMITED_TYPES.iter().position(|ty| *ty == ns_type)?;
        self.max_namespaces[at]
    }

    /// Whether this is the Windows Subsystem for Linux: its kernels name
    /// Microsoft in their release (`5.15.153.1-microsoft-standard-WSL2`;
    /// WSL 1's `4.4.0-19041-Microsoft` is a translation layer, not a Linux
    /// kernel). `None` if the release is unknown.
    pub fn wsl(&self) -> Option<bool> {
        let release = self.release.as_deref()?.to_ascii_lowercase();
        Some(release.contains("microsoft") || release.contains("wsl"))
    }

    /// Whether a filter is installed (`Seccomp: 2`).
    pub fn seccomp_filter(&self) -> bool {
        self.seccomp == Some(Seccomp::Filter)
    }

    /// What, on this machine, stands in the way of the examples: of the
    /// rootless entry (a user namespace of one's own) or of the calls root
    /// makes. In the order a learner should look at them. Empty when
    /// nothing known is in the way, which does not promise that the calls
    /// will work: only trying them tells. In particular a limit that is
    /// reached but not 0 cannot be read from /proc; it shows only as ENOSPC
    /// from the call.
    pub fn blockers(&self) -> Vec<Blocker> {
        let mut found = Vec::new();
        if self.uid_mapped == Some(false) {
            found.push(Blocker::UidUnmapped);
        }
        if self.chrooted == Some(true) {
            found.push(Blocker::Chroot);
        }
        if let Some(n @ 2..) = self.threads {
            found.push(Blocker::Threads(n));
        }
        if self.seccomp_filter() {
            found.push(Blocker::SeccompFilter);
        }
        for (ty, max) in LIMITED_TYPES.iter().zip(self.max_namespaces) {
            if max == Some(0) {
                found.push(Blocker::LimitZero(ty));
            }
        }
        if !self.cap_sys_admin {
            if self.unprivileged_userns_clone == Some(0) {
                found.push(Blocker::DebianUsernsClone);
            }
            if self.apparmor_restrict_userns == Some(1) {
                found.push(Blocker::AppArmor {
                    unconfined: self.apparmor_restrict_unconfined == Some(1),
                });
            }
            found.push(Blocker::NoCapSysAdmin);
        }
        found
    }
}

/// One thing that stops a namespace call here. `Display` gives the cause
/// and the fix in one or two sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocker {
    /// Ubuntu 23.10+: `kernel.apparmor_restrict_unprivileged_userns=1`.
    /// unshare(CLONE_NEWUSER) works, but every capability in the new
    /// namespace is denied, so the first privileged step fails: the workbook
    /// meets EACCES opening `/proc/self/setgroups` for writing. `unconfined`:
    /// `kernel.apparmor_restrict_unprivileged_unconfined=1` too.
    AppArmor { unconfined: bool },
    /// Debian: `kernel.unprivileged_userns_clone=0`; EPERM from
    /// unshare(CLONE_NEWUSER) for anyone without CAP_SYS_ADMIN.
    DebianUsernsClone,
    /// `user.max_<type>_namespaces=0`: ENOSPC creating that type.
    LimitZero(&'static str),
    /// `Seccomp: 2`: a filter (a container's default profile) may refuse
    /// unshare, setns, mount, sethostname with EPERM even to root.
    SeccompFilter,
    /// No CAP_SYS_ADMIN here: only the rootless path (a user namespace of
    /// one's own) is open, and joining a host-owned namespace is not.
    NoCapSysAdmin,
    /// This user namespace has no uid mapping (`unshare --user` without
    /// `--map-root-user`): creating a user namespace inside fails with EPERM.
    UidUnmapped,
    /// A chroot: creating a user namespace fails with EPERM.
    Chroot,
    /// More than one thread: CLONE_NEWUSER fails with EINVAL.
    Threads(u32),
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::AppArmor { unconfined } => {
                write!(
                    f,
                    "AppArmor restricts unprivileged user namespaces \
                     (kernel.apparmor_restrict_unprivileged_userns=1"
                )?;
                if *unconfined {
                    write!(
                        f,
                        ", kernel.apparmor_restrict_unprivileged_unconfined=1"
                    )?;
                }
                write!(
                    f,
                    "): a user namespace can be created, but every capability in it \
                     is denied. Narrow fix: an AppArmor profile for the example, a \
                     file in /etc/apparmor.d/ naming the binary with \
                     `flags=(unconfined)` and a `userns,` rule, loaded with \
                     `sudo apparmor_parser -r FILE`. Broad fix: `sudo sysctl -w \
                     kernel.apparmor_restrict_unprivileged_userns=0` (and \
                     kernel.apparmor_restrict_unprivileged_unconfined=0), or run \
                     as root"
                )
            }
            Blocker::DebianUsernsClone => write!(
                f,
                "this kernel forbids unprivileged user namespaces \
                 (kernel.unprivileged_userns_clone=0, a Debian setting). Fix: `sudo \
                 sysctl -w kernel.unprivileged_userns_clone=1`, or run as root"
            ),
            Blocker::LimitZero(ty) => write!(
                f,
                "/proc/sys/user/max_{ty}_namespaces is 0 (user.max_{ty}_namespaces), \
                 so creating a {ty} namespace fails with ENOSPC. Fix: `sudo sysctl \
                 -w user.max_{ty}_namespaces=10000` (in this user namespace)"
            ),
            Blocker::SeccompFilter => write!(
                f,
                "a seccomp filter is installed (Seccomp: 2 in /proc/self/status), as \
                 container runtimes do; their default profiles refuse unshare, setns, \
                 mount and sethostname with EPERM. Run on the host, or start the \
                 container with `--security-opt seccomp=unconfined`"
            ),
            Blocker::NoCapSysAdmin => write!(
                f,
                "You lack CAP_SYS_ADMIN: run as root (sudo), or in a user namespace \
                 you created (the examples make one when not root; joining a \
                 namespace the host owns needs root)"
            ),
            Blocker::UidUnmapped => write!(
                f,
                "this user namespace maps no uid (/proc/self/uid_map is empty, so \
                 you show as the overflow uid 65534), and a user namespace cannot \
                 be created from an unmapped uid. Fix: start it with a mapping \
                 (`unshare --user --map-root-user`), or run outside it"
            ),
            Blocker::Chroot => write!(
                f,
                "this process is in a chroot (its / is not the root of its mount \
                 namespace), and a chrooted process may not create a user namespace \
                 (unshare(2)). Run outside the chroot"
            ),
            Blocker::Threads(n) => write!(
                f,
                "this process has {n} threads, and only a single-threaded one may \
                 create or join a user namespace: do it before starting any thread"
            ),
        }
    }
}

fn read(path: &str) -> Option<String> {
    fs::read_to_string(path).ok()
}

fn number<T: std::str::FromStr>(path: &str) -> Option<T> {
    read(path)?.trim().parse().ok()
}

/// The value after `name` (e.g. `"Seccomp:"`) on its line of a
/// `/proc/PID/status` text, trimmed.
fn status_field(status: &str, name: &str) -> Option<String> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .map(|value| value.trim().to_owned())
}

/// `Uid:` lists real, effective, saved and filesystem ids; the second.
fn second_number(ids: &str) -> Option<u32> {
    ids.split_whitespace().nth(1)?.parse().ok()
}

/// Whether this process is in a chroot. The kernel's own test
/// (`current_chrooted`) compares the root directory with the root of the
/// mount namespace, which /proc does not show; the nearest looks:
/// - `/` against PID 1's root (`/proc/1/root`), when ptrace access to PID 1
///   allows (root, mostly);
/// - otherwise `/proc/self/mountinfo`: it lists only mounts reachable from
///   the root directory (proc(5)), so no mount at `/` means the root is a
///   plain directory below some mount: a chroot. (A chroot onto a mount
///   point looks like no chroot this way: `None`.)
fn chrooted(mountinfo: Option<&str>) -> Option<bool> {
    let ours = fs::metadata("/").ok()?;
    if let Ok(init) = fs::metadata("/proc/1/root") {
        return Some((ours.dev(), ours.ino()) != (init.dev(), init.ino()));
    }
    match root_line(mountinfo?) {
        Some(_) => None,
        None => Some(true),
    }
}

/// The line of the mount a lookup of `/` lands on: the last one whose mount
/// point (the fifth field, proc(5)) is `/`. Mount points with spaces are
/// escaped (`\040`), so splitting on spaces is safe.
fn root_line(mountinfo: &str) -> Option<&str> {
    mountinfo
        .lines()
        .rfind(|line| line.split(' ').nth(4) == Some("/"))
}

/// The propagation of `/`: the optional fields run from the seventh field
/// to the `-` (proc(5)).
fn root_propagation(mountinfo: &str) -> Option<Propagation> {
    let line = root_line(mountinfo)?;
    let optional: Vec<&str> = line
        .split(' ')
        .skip(6)
        .take_while(|field| *field != "-")
        .collect();
    let has = |tag: &str| optional.iter().any(|field| field.starts_with(tag));
    Some(if has("shared:") {
        Propagation::Shared
    } else if has("master:") {
        Propagation::Slave
    } else if has("unbindable") {
        Propagation::Unbindable
    } else {
        Propagation::Private
    })
}

fn cgroup() -> Option<Cgroup> {
    use nix::sys::statfs::{
        CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, FsType, TMPFS_MAGIC, statfs,
    };
    let kind = |path: &str| -> Option<FsType> {
        Some(statfs(path).ok()?.filesystem_type())
    };
    match kind("/sys/fs/cgroup")? {
        CGROUP2_SUPER_MAGIC => Some(Cgroup::V2),
        _ if kind("/sys/fs/cgroup/unified") == Some(CGROUP2_SUPER_MAGIC) => {
            Some(Cgroup::Hybrid)
        }
        // v1 mounts each hierarchy below a tmpfs (or one hierarchy there).
        TMPFS_MAGIC | CGROUP_SUPER_MAGIC => Some(Cgroup::V1),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn release_is_major_minor() {
        assert_eq!(parse_release("6.18.44-fc-v657\n"), Some((6, 18)));
        assert_eq!(parse_release("5.3.0"), Some((5, 3)));
        assert_eq!(parse_release("6.9-rc1"), Some((6, 9)));
        assert_eq!(parse_release("garbage"), None);
    }

    #[test]
    fn facts_of_this_process() {
        let facts = facts();
        assert!(facts.kernel.is_some(), "{facts:?}");
        assert_eq!(facts.euid, Some(nix::unistd::geteuid().as_raw()));
        // The test harness runs tests on threads of their own.
        assert!(facts.threads.is_some_and(|n| n > 1), "{facts:?}");
        assert_eq!(facts.uid_mapped, Some(true));
        // Not in a chroot: `/` is PID 1's, or is a mount point here.
        assert_ne!(facts.chrooted, Some(true), "{facts:?}");
        assert!(facts.limit("user").is_some(), "{facts:?}");
    }

    #[test]
    fn a_thread_belongs_to_its_process() {
        let me = std::process::id();
        let tid = std::thread::spawn(|| nix::unistd::gettid().as_raw() as u32)
            .join()
            .expect("thread");
        assert_ne!(tid, me);
        assert_eq!(thread_group_of(me), Some(me));
        // The thread has exited and been joined: no such task any more,
        // unless its TID was reused already (then it is someone's).
        if let Some(tgid) = thread_group_of(tid) {
            assert_ne!(tgid, 0);
        }
    }

    #[test]
    fn propagation_of_the_last_mount_on_root() {
        let text = "22 1 8:1 / / rw shared:1 - ext4 /dev/sda1 rw\n\
            23 22 0:4 / /proc rw master:2 - proc proc rw\n";
        assert_eq!(root_propagation(text), Some(Propagation::Shared));
        // A mount stacked on `/` later is the one a lookup sees.
        let stacked = format!("{text}30 22 0:9 / / rw master:7 - tmpfs t rw\n");
        assert_eq!(root_propagation(&stacked), Some(Propagation::Slave));
        let private = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n";
        assert_eq!(root_propagation(private), Some(Propagation::Private));
        let unbindable = "22 1 8:1 / / rw unbindable - ext4 /dev/sda1 rw\n";
        assert_eq!(root_propagation(unbindable), Some(Propagation::Unbindable));
        assert_eq!(root_propagation("23 22 0:4 / /proc rw - proc p rw\n"), None);
    }

    #[test]
    fn propagation_and_cgroup_of_this_machine() {
        let facts = facts();
        let root = crate::mountinfo::top_mount_at(std::path::Path::new("/"))
            .expect("mountinfo")
            .expect("a mount on /");
        assert_eq!(
            facts.root_propagation == Some(Propagation::Shared),
            root.shared
        );
        let v2 = nix::sys::statfs::statfs("/sys/fs/cgroup").is_ok_and(|s| {
            s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC
        });
        assert_eq!(facts.cgroup == Some(Cgroup::V2), v2, "{facts:?}");
    }

    #[test]
    fn wsl_from_the_release() {
        let on = |release: &str| Facts {
            release: Some(release.into()),
            ..Facts::default()
        };
        assert_eq!(on("5.15.153.1-microsoft-standard-WSL2").wsl(), Some(true));
        assert_eq!(on("4.4.0-19041-Microsoft").wsl(), Some(true));
        assert_eq!(on("6.18.44-fc-v657").wsl(), Some(false));
        assert_eq!(Facts::default().wsl(), None);
    }

    #[test]
    fn blockers_in_order() {
        let facts = Facts {
            uid_mapped: Some(true),
            seccomp: Some(Seccomp::Filter),
            unprivileged_userns_clone: Some(0),
            apparmor_restrict_userns: Some(1),
            ..Facts::default()
        };
        assert_eq!(
            facts.blockers(),
            [
                Blocker::SeccompFilter,
                Blocker::DebianUsernsClone,
                Blocker::AppArmor { unconfined: false },
                Blocker::NoCapSysAdmin
            ]
        );
        let root = Facts {
            cap_sys_admin: true,
            ..facts
        };
        assert_eq!(root.blockers(), [Blocker::SeccompFilter]);
    }

    #[test]
    fn apparmor_names_both_sysctls_and_the_profile() {
        let text = Blocker::AppArmor { unconfined: true }.to_string();
        for part in [
            "kernel.apparmor_restrict_unprivileged_userns=1",
            "kernel.apparmor_restrict_unprivileged_unconfined=1",
            "/etc/apparmor.d/",
            "`userns,`",
        ] {
            assert!(text.contains(part), "{part} not in {text}");
        }
    }
}
