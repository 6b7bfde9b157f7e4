//! What an errno most likely means for a namespace call on this machine, and
//! what to do about it. The facts come from the man pages named in each arm
//! and from reading the machine's own settings, so the hint names the setting
//! that is actually in the way.

use nix::errno::Errno;

/// The hint for `call` (as written in the error, e.g. `unshare(CLONE_NEWUTS)`)
/// failing with `errno`. Empty when there is nothing useful to add.
pub(crate) fn for_call(call: &str, errno: Errno) -> String {
    let name = call.split('(').next().unwrap_or(call).trim();
    match (name, errno) {
        // namespaces(7), "/proc/sys/user": each user namespace caps how many
        // namespaces of each type its users may create.
        (_, Errno::ENOSPC) if creates_namespaces(name) => {
            let files: Vec<String> = limited_types(call)
                .iter()
                .map(|ty| format!("/proc/sys/user/max_{ty}_namespaces"))
                .collect();
            let first = limited_types(call).first().copied().unwrap_or("uts");
            format!(
                "a namespace limit is reached: {} caps how many such namespaces may exist (it is \
                 set per user namespace, and may be 0). Read it with `cat {}`; as root, raise it \
                 with `sysctl -w user.max_{first}_namespaces=10000`",
                files.join(" or "),
                files.join(" ")
            )
        }
        (_, Errno::EPERM) if creates_namespaces(name) && call.contains("CLONE_NEWUSER") => {
            userns_blocked()
        }
        (_, Errno::EPERM) if creates_namespaces(name) => format!(
            "creating a namespace other than a user namespace needs CAP_SYS_ADMIN. {}",
            privilege_situation()
        ),
        // user_namespaces(7): CLONE_NEWUSER needs a single-threaded caller.
        (_, Errno::EINVAL) if creates_namespaces(name) && call.contains("CLONE_NEWUSER") => {
            "a process with more than one thread cannot create or join a user namespace \
             (user_namespaces(7)); do it before starting any thread"
                .into()
        }
        ("write", Errno::EPERM) if call.contains("_map") || call.contains("setgroups") => {
            apparmor_or_generic()
        }
        ("write", Errno::EACCES) if call.contains("_map") => {
            "the process is not dumpable (a root process that called setuid itself is not); \
             start the example as the user directly (e.g. with `sudo -u nobody`), which exec()s \
             a fresh program"
                .into()
        }
        // setns(2): CAP_SYS_ADMIN in the caller's user namespace and in the one
        // that owns the namespace joined.
        ("setns", Errno::EPERM) => format!(
            "joining a namespace needs CAP_SYS_ADMIN in your own user namespace and in the user \
             namespace that owns the namespace you join (setns(2)). {}",
            privilege_situation()
        ),
        ("setns", Errno::EINVAL) => {
            "setns(2) gives EINVAL when the fd is not a namespace of the type asked for, when \
             re-entering your own user namespace, or when a pidfd comes with no flags"
                .into()
        }
        ("setns", Errno::EUSERS) => {
            "joining a time namespace (or a user namespace) needs a single-threaded caller".into()
        }
        ("setns", Errno::ESRCH) => "the process has exited and been reaped".into(),
        ("pidfd_open", Errno::ESRCH) => "no process has that PID (it may have exited)".into(),
        ("pidfd_open" | "setns", Errno::ENOSYS) => {
            "this kernel is too old: pidfd_open needs Linux 5.3, setns with a pidfd Linux 5.8 \
             (`uname -r`)"
                .into()
        }
        ("sethostname", Errno::EINVAL) => "a hostname is at most 64 bytes (HOST_NAME_MAX)".into(),
        ("sethostname", Errno::EPERM) => format!(
            "setting the hostname needs CAP_SYS_ADMIN in the user namespace that owns the UTS \
             namespace. {}",
            privilege_situation()
        ),
        ("mount" | "umount2", Errno::EPERM) => format!(
            "mounting needs CAP_SYS_ADMIN in the user namespace that owns the mount namespace; \
             unprivileged users can mount only in a mount namespace their own user namespace \
             owns. {}",
            privilege_situation()
        ),
        ("open" | "readlink" | "stat", Errno::ENOENT) if call.contains("/proc/") => {
            "no process has that PID (it may have exited)".into()
        }
        ("open" | "readlink" | "stat", Errno::EACCES | Errno::EPERM) if call.contains("/proc/") => {
            "reading another process's /proc/PID/ns needs ptrace read access to it (same user, \
             or root; see proc(5)); run as root or pick a process of your own"
                .into()
        }
        _ => String::new(),
    }
}

fn creates_namespaces(name: &str) -> bool {
    matches!(name, "unshare" | "clone" | "libc::clone")
}

/// The namespace types whose CLONE_NEW* flag `call` names: `uts` for
/// `clone(CLONE_NEWUTS | SIGCHLD)`. Their limits are
/// `/proc/sys/user/max_<type>_namespaces` (namespaces(7)).
fn limited_types(call: &str) -> Vec<&'static str> {
    const TYPES: [(&str, &str); 8] = [
        ("CLONE_NEWUSER", "user"),
        ("CLONE_NEWNS", "mnt"),
        ("CLONE_NEWUTS", "uts"),
        ("CLONE_NEWNET", "net"),
        ("CLONE_NEWIPC", "ipc"),
        ("CLONE_NEWPID", "pid"),
        ("CLONE_NEWCGROUP", "cgroup"),
        ("CLONE_NEWTIME", "time"),
    ];
    let words: Vec<&str> = call
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    TYPES
        .iter()
        .filter(|(flag, _)| words.contains(flag))
        .map(|(_, ty)| *ty)
        .collect()
}

fn read_setting(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// True when `/proc/self/status` shows a seccomp filter (`Seccomp: 2`), as in
/// a container started with a default profile.
fn seccomp_filtered() -> bool {
    read_setting("/proc/self/status").is_some_and(|status| {
        status
            .lines()
            .any(|l| l.starts_with("Seccomp:") && l.ends_with('2'))
    })
}

/// Which of the known blockers of unprivileged user namespaces is set here.
fn userns_blocked() -> String {
    if read_setting("/proc/sys/kernel/unprivileged_userns_clone").as_deref()
        == Some("0")
    {
        return "this kernel forbids unprivileged user namespaces \
                (kernel.unprivileged_userns_clone=0, a Debian setting). Fix: \
                `sudo sysctl -w kernel.unprivileged_userns_clone=1`, or run as root"
            .into();
    }
    if read_setting("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return "user namespaces are switched off (user.max_user_namespaces=0). Fix: \
                `sudo sysctl -w user.max_user_namespaces=10000`, or run as root"
            .into();
    }
    if seccomp_filtered() {
        return "a seccomp filter refuses the call (Seccomp: 2 in /proc/self/status), as \
                container runtimes' default profiles do. Run on the host, or start the \
                container with `--security-opt seccomp=unconfined` (or run it privileged)"
            .into();
    }
    apparmor_or_generic()
}

fn apparmor_or_generic() -> String {
    if read_setting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
        .as_deref()
        == Some("1")
    {
        return "AppArmor lets unprivileged programs create a user namespace but takes every \
                capability in it (kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu \
                23.10+). Fix: `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, \
                or run as root"
            .into();
    }
    if seccomp_filtered() {
        return "a seccomp filter refuses the call (Seccomp: 2 in /proc/self/status). Run on \
                the host, or start the container with `--security-opt seccomp=unconfined`"
            .into();
    }
    "the kernel refused an unprivileged user namespace; check `sysctl \
     kernel.unprivileged_userns_clone user.max_user_namespaces` and any AppArmor/SELinux \
     policy, or run as root"
        .into()
}

/// One sentence on why privilege is missing here and how to get it.
fn privilege_situation() -> String {
    if seccomp_filtered() {
        return "A seccomp filter is active (Seccomp: 2 in /proc/self/status), as in a \
                container: run on the host, or with `--security-opt seccomp=unconfined`."
            .into();
    }
    if crate::userns::has_cap_sys_admin() {
        "You have CAP_SYS_ADMIN here, so the target belongs to a user namespace where you \
         do not; run as root in the initial user namespace."
            .into()
    } else {
        "You lack CAP_SYS_ADMIN: run as root (sudo), or in a user namespace you created.".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enospc_names_the_limit_file_of_the_flag() {
        let hint = for_call("clone(CLONE_NEWUTS | SIGCHLD)", Errno::ENOSPC);
        assert!(hint.contains("/proc/sys/user/max_uts_namespaces"), "{hint}");
        assert!(
            hint.contains("sysctl -w user.max_uts_namespaces="),
            "{hint}"
        );
    }

    #[test]
    fn enospc_with_two_flags_names_both() {
        let hint = for_call("unshare(CLONE_NEWNS | CLONE_NEWUTS)", Errno::ENOSPC);
        assert!(
            hint.contains(
                "`cat /proc/sys/user/max_mnt_namespaces /proc/sys/user/max_uts_namespaces`"
            ),
            "{hint}"
        );
        assert!(
            hint.contains("`sysctl -w user.max_mnt_namespaces=10000`"),
            "{hint}"
        );
        assert!(!hint.contains("max_user_namespaces"), "{hint}");
    }

    #[test]
    fn setns_eperm_mentions_cap_sys_admin() {
        assert!(
            for_call("setns(fd, CLONE_NEWUTS)", Errno::EPERM)
                .contains("CAP_SYS_ADMIN")
        );
    }

    #[test]
    fn unknown_pairs_give_no_hint() {
        assert_eq!(for_call("uname()", Errno::EFAULT), "");
    }
}
