//! What an errno most likely means for a namespace call on this machine, and
//! what to do about it. The facts come from the man pages named in each arm
//! and from [`crate::machine`], so a hint names the setting that is actually
//! in the way, and agrees with `workbook doctor`.
//!
//! A hint is chosen by the call's name (the text before `(`, without a
//! `libc::` or `nix::...::` path) through [`KNOWN`], then by the errno, and
//! for some calls by a flag or a path in the rest of the text.

use nix::errno::Errno;

use crate::machine::{self, Blocker, Facts};

mod userns;

/// The calls that have hints, by what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Creates namespaces: unshare(2), clone(2), clone3(2).
    Creates,
    Setns,
    PidfdOpen,
    Sethostname,
    Mount,
    /// Opens or looks up a path: open, readlink, stat.
    Open,
    Write,
}

/// Every call name a hint knows.
const KNOWN: [(&str, Kind); 15] = [
    ("unshare", Kind::Creates),
    ("clone", Kind::Creates),
    ("clone3", Kind::Creates),
    ("setns", Kind::Setns),
    ("pidfd_open", Kind::PidfdOpen),
    ("sethostname", Kind::Sethostname),
    ("mount", Kind::Mount),
    ("umount", Kind::Mount),
    ("umount2", Kind::Mount),
    ("open", Kind::Open),
    ("openat", Kind::Open),
    ("readlink", Kind::Open),
    ("stat", Kind::Open),
    ("lstat", Kind::Open),
    ("write", Kind::Write),
];

/// The hint for `call` (as written in the error, e.g. `unshare(CLONE_NEWUTS)`)
/// failing with `errno`, on this machine. Empty when there is nothing
/// useful to add.
pub(crate) fn for_call(call: &str, errno: Errno) -> String {
    for_call_on(call, errno, &machine::facts())
}

/// The hint for an errno whose call is not known (`nix::...(...)?` in a
/// learner's code): what the errno usually means for namespace calls, and
/// how to get a precise hint.
pub(crate) fn for_errno(errno: Errno) -> String {
    let facts = machine::facts();
    let meaning = match errno {
        Errno::EPERM => needs_cap(
            "most namespace calls need CAP_SYS_ADMIN (unshare(2), setns(2), mount(2))",
            &facts,
        ),
        Errno::EINVAL => "a flag or an argument is not one the call accepts (for \
                          setns(2): an fd of another namespace type than the flag names)"
            .into(),
        Errno::ENOSPC => "a namespace limit is reached: see \
                          /proc/sys/user/max_*_namespaces (namespaces(7))"
            .into(),
        Errno::ESRCH => "the process has exited".into(),
        Errno::ENOENT => "no such file, or no such process in /proc".into(),
        _ => String::new(),
    };
    let how = "name the call to get a precise hint: end it in `.call(|| \
               format!(\"...\"))?` instead of a bare `?` (use \
               workbook::error::Context), e.g. `setns(&fd, \
               CloneFlags::CLONE_NEWUTS).call(|| format!(\"setns(fd of {path:?}, \
               CLONE_NEWUTS)\"))?`";
    match meaning.is_empty() {
        true => how.into(),
        false => format!("{}. To be sure, {how}", meaning.trim_end_matches('.')),
    }
}

/// `for_call` with the machine's facts given: what `workbook doctor`
/// says of a refusal its probes meet (so the doctor and an error's hint say
/// the same), and what the tests call with facts made up.
pub fn for_call_on(call: &str, errno: Errno, facts: &Facts) -> String {
    if let Some(hint) = netlink::for_request(call, errno) {
        return hint;
    }
    if let Some(hint) = relations::hint(call, errno) {
        return hint;
    }
    if let Some(hint) = userns::for_call(call, errno) {
        return hint;
    }
    if let Some(hint) = pid::hint(call, errno) {
        return hint;
    }
    if let Some(hint) = container::hint(call, errno) {
        return hint;
    }
    if let Some(hint) = propagation::hint(call, errno, facts) {
        return hint;
    }
    if let Some(hint) = ipc::hint(call, errno, facts) {
        return hint;
    }
    if let Some(hint) = cgroup::hint(call, errno) {
        return hint;
    }
    if let Some(hint) = lifetime::hint(call, errno, facts) {
        return hint;
    }
    let Some(kind) = kind_of(call) else {
        return String::new();
    };
    if let Some(hint) = time::hint(call, errno, facts) {
        return hint;
    }
    let new_user = has_word(call, "CLONE_NEWUSER");
    let path_has = |part: &str| call.contains(part);
    match (kind, errno) {
        // namespaces(7), "The /proc/sys/user directory": each user namespace
        // caps how many namespaces of each type its users may create, and
        // "clone(2) and unshare(2) fail with the error ENOSPC" beyond.
        (Kind::Creates, Errno::ENOSPC) => limit_reached(call, facts),
        (Kind::Creates, Errno::EPERM) if new_user => userns_refused(facts),
        // The AppArmor hook that refuses the creation outright (no
        // unprivileged_userns profile to move to) returns EACCES.
        (Kind::Creates, Errno::EACCES) if new_user => format!(
            "a security module refused to create the user namespace. {}",
            apparmor(facts)
        ),
        (Kind::Creates, Errno::EPERM) => needs_cap(&what_creates(call), facts),
        // unshare(2), EINVAL: CLONE_NEWUSER implies CLONE_THREAD, refused to
        // a multithreaded caller.
        (Kind::Creates, Errno::EINVAL) if new_user => threaded(facts),
        // clone(2), "VERSIONS": clone3() first appeared in Linux 5.3.
        (Kind::Creates, Errno::ENOSYS) if call_name(call) == "clone3" => {
            too_old("clone3(2) needs Linux 5.3", facts)
        }
        // user_namespaces(7), "The /proc/pid/setgroups file": writing it
        // needs CAP_SYS_ADMIN in the namespace; the kernel checks at open
        // (fs/proc/base.c, proc_setgroups_open: EACCES).
        (Kind::Open | Kind::Write, Errno::EACCES) if path_has("/setgroups") => {
            caps_denied(facts)
        }
        // user_namespaces(7), "Defining user and group ID mappings": the
        // writer needs CAP_SETUID (CAP_SETGID) in the parent, or to map only
        // its own id, plus CAP_SYS_ADMIN over the namespace; EPERM otherwise.
        (Kind::Write, Errno::EPERM)
            if path_has("/gid_map") && facts.setgroups_denied == Some(false) =>
        {
            "an unprivileged process may write its gid_map only after writing `deny` to \
             /proc/self/setgroups (user_namespaces(7)): write that first"
                .into()
        }
        (Kind::Write, Errno::EPERM) if path_has("_map") || path_has("/setgroups") => {
            caps_denied(facts)
        }
        // proc(5): /proc/PID files of a non-dumpable process belong to root.
        (Kind::Open | Kind::Write, Errno::EACCES) if path_has("_map") => {
            "the process is not dumpable (a root process that called setuid itself is not); \
             start the example as the user directly (e.g. with `sudo -u nobody`), which \
             exec()s a fresh program"
                .into()
        }
        (Kind::Setns, Errno::EPERM) => setns_eperm(facts),
        (Kind::Setns, Errno::EINVAL) => {
            setns_type_mismatch(call).unwrap_or_else(|| setns_einval(facts))
        }
        // setns(2) lists no EUSERS: it comes from joining a time namespace
        // (kernel/time/namespace.c, timens_install(): `if
        // (!current_is_single_threaded()) return -EUSERS;`); a threaded caller
        // joining a user namespace gets EINVAL instead.
        (Kind::Setns, Errno::EUSERS) => {
            "joining a time namespace needs a single-threaded caller (kernel/time/namespace.c, \
             timens_install(); setns(2) does not say it); do it before starting any thread"
                .into()
        }
        // setns(2) says "exited and been reaped"; the kernel already answers
        // ESRCH once the process has exited (its namespaces are released in
        // do_exit, before it becomes a zombie).
        (Kind::Setns, Errno::ESRCH) => "the process has exited".into(),
        (Kind::PidfdOpen, Errno::ESRCH) => "no process has that PID (it may have exited)".into(),
        (Kind::PidfdOpen, Errno::EINVAL | Errno::ENOENT) => {
            let pid = first_arg(call).and_then(|arg| arg.parse().ok());
            pidfd_thread(pid, pid.and_then(machine::thread_group_of), errno)
        }
        // pidfd_open(2), VERSIONS: Linux 5.3.
        (Kind::PidfdOpen, Errno::ENOSYS) => too_old("pidfd_open(2) needs Linux 5.3", facts),
        // sethostname(2), EINVAL: len is greater than HOST_NAME_MAX (64).
        (Kind::Sethostname, Errno::EINVAL) => {
            "a hostname is at most 64 bytes (HOST_NAME_MAX)".into()
        }
        (Kind::Sethostname, Errno::EPERM) => needs_cap(
            "setting the hostname needs CAP_SYS_ADMIN in the user namespace that owns the \
             UTS namespace (sethostname(2))",
            facts,
        ),
        (Kind::Mount, Errno::EPERM) => needs_cap(
            "mounting needs CAP_SYS_ADMIN in the user namespace that owns the mount \
             namespace (mount(2)); unprivileged users can mount only in a mount namespace \
             their own user namespace owns",
            facts,
        ),
        (Kind::Open, Errno::ENOENT) if path_has("/proc/") => {
            "no process has that PID (it may have exited)".into()
        }
        // namespaces(7): a PTRACE_MODE_READ_FSCREDS check governs
        // /proc/PID/ns; a non-dumpable process of the same user fails it too.
        (Kind::Open, Errno::EACCES | Errno::EPERM) if path_has("/proc/") => {
            "reading another process's /proc/PID/ns needs ptrace read access to it (same user \
             and dumpable, or root; see proc(5)); run as root or pick a process of your own"
                .into()
        }
        _ => String::new(),
    }
}

/// `unshare` for `unshare(CLONE_NEWUTS)`, `clone` for `libc::clone(...)`.
fn call_name(call: &str) -> &str {
    let name = call.split('(').next().unwrap_or(call).trim();
    name.rsplit("::").next().unwrap_or(name)
}

fn kind_of(call: &str) -> Option<Kind> {
    let name = call_name(call);
    KNOWN
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, kind)| *kind)
}

/// Whether `word` (e.g. `CLONE_NEWUSER`) appears in `call` as a whole word.
fn has_word(call: &str, word: &str) -> bool {
    call.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w == word)
}

/// The text of the first argument: `1234` in `pidfd_open(1234, 0)`.
fn first_arg(call: &str) -> Option<&str> {
    let args = call.split_once('(')?.1;
    Some(args.split([',', ')']).next()?.trim())
}

/// Each CLONE_NEW* flag and the name of its type in /proc/PID/ns.
const FLAG_TYPES: [(&str, &str); 8] = [
    ("CLONE_NEWUSER", "user"),
    ("CLONE_NEWNS", "mnt"),
    ("CLONE_NEWUTS", "uts"),
    ("CLONE_NEWNET", "net"),
    ("CLONE_NEWIPC", "ipc"),
    ("CLONE_NEWPID", "pid"),
    ("CLONE_NEWCGROUP", "cgroup"),
    ("CLONE_NEWTIME", "time"),
];

/// setns(2), ERRORS, EINVAL: "fd refers to a namespace whose type does not
/// match that specified in nstype". Named when the call shows both: a
/// `/proc/PID/ns/TYPE` file and one CLONE_NEW* flag of another type.
fn setns_type_mismatch(call: &str) -> Option<String> {
    let [flag_type] = limited_types(call)[..] else {
        return None;
    };
    let after = call.split_once("/ns/")?.1;
    let file: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let file_type = file.strip_suffix("_for_children").unwrap_or(&file);
    let (right, _) = FLAG_TYPES.iter().find(|(_, ty)| *ty == file_type)?;
    let (wrong, _) = FLAG_TYPES.iter().find(|(_, ty)| *ty == flag_type)?;
    (file_type != flag_type).then(|| {
        format!(
            "the fd is a {file_type} namespace (ns/{file}) and the flag asks for \
             {wrong}: setns(2) refuses a namespace of another type than the flag \
             names. Pass {right}, or 0 to accept whatever type the fd is"
        )
    })
}

/// The namespace types whose CLONE_NEW* flag `call` names: `uts` for
/// `clone(CLONE_NEWUTS | SIGCHLD)`. Their limits are
/// `/proc/sys/user/max_<type>_namespaces` (namespaces(7)).
fn limited_types(call: &str) -> Vec<&'static str> {
    FLAG_TYPES
        .iter()
        .filter(|(flag, _)| has_word(call, flag))
        .map(|(_, ty)| *ty)
        .collect()
}

/// ENOSPC from creating namespaces: a limit of 0 here is the cause
/// [`Blocker::LimitZero`] names (as `workbook doctor` does); a limit reached
/// but not 0 cannot be seen in /proc, so the hint says where to look. (In a
/// user namespace of one's own the files show that namespace's limits, which
/// start at 2147483647, `unshare -r cat /proc/sys/user/max_uts_namespaces`
/// on 6.18; the limits of the namespaces above it still count.)
fn limit_reached(call: &str, facts: &Facts) -> String {
    let types = limited_types(call);
    if let Some(ty) = types.iter().find(|ty| facts.limit(ty) == Some(0)) {
        return Blocker::LimitZero(ty).to_string();
    }
    let files: Vec<String> = types
        .iter()
        .map(|ty| format!("/proc/sys/user/max_{ty}_namespaces"))
        .collect();
    let first = types.first().copied().unwrap_or("uts");
    format!(
        "a namespace limit is reached: {} caps how many such namespaces may exist (it is \
         set per user namespace, and may be 0). Read it with `cat {}`; as root, raise it \
         with `sysctl -w user.max_{first}_namespaces=10000`",
        files.join(" or "),
        files.join(" ")
    )
}

/// "creating a UTS namespace" for `unshare(CLONE_NEWUTS)`.
fn what_creates(call: &str) -> String {
    let types = limited_types(call);
    let what = match types.is_empty() {
        true => "a namespace".into(),
        false => format!("a {} namespace", types.join(" and ")),
    };
    format!(
        "creating {what} needs CAP_SYS_ADMIN (unshare(2); a user namespace does not)"
    )
}

/// EPERM from unshare(CLONE_NEWUSER) (or clone): unshare(2), ERRORS, lists
/// an unmapped euid or egid and a chroot; distributions add their own
/// switches; a seccomp filter can refuse anything. Not the namespace limit:
/// that is ENOSPC.
fn userns_refused(facts: &Facts) -> String {
    if facts.uid_mapped == Some(false) {
        return Blocker::UidUnmapped.to_string();
    }
    if facts.chrooted == Some(true) {
        return Blocker::Chroot.to_string();
    }
    // Root needs no permission for a user namespace: a filter is the cause.
    if facts.seccomp_filter() && facts.cap_sys_admin {
        return Blocker::SeccompFilter.to_string();
    }
    if facts.unprivileged_userns_clone == Some(0) {
        return Blocker::DebianUsernsClone.to_string();
    }
    if facts.seccomp_filter() {
        return Blocker::SeccompFilter.to_string();
    }
    if facts.apparmor_restrict_userns == Some(1) {
        return apparmor(facts);
    }
    "the kernel refused a user namespace. unshare(2) gives EPERM when your uid or gid has \
     no mapping in your user namespace, or in a chroot; Debian's \
     kernel.unprivileged_userns_clone=0, a seccomp filter or an AppArmor/SELinux policy \
     also refuse. Check `sysctl kernel.unprivileged_userns_clone`, or run as root"
        .into()
}

/// The new user namespace holds no capability for us, although its creator
/// holds every one there (user_namespaces(7), "Capabilities"): something
/// denies them, as AppArmor does on Ubuntu.
fn caps_denied(facts: &Facts) -> String {
    format!(
        "the new user namespace gave this process no capabilities, though its creator \
         should hold every one there (user_namespaces(7)); the workbook's first write that \
         needs one is `deny` to /proc/self/setgroups (CAP_SYS_ADMIN; EACCES), util-linux's \
         is uid_map (EPERM). (A map line other than your own id, `0 UID 1`, is refused \
         too.) {}",
        apparmor(facts)
    )
}

/// AppArmor's restriction, said as what this machine shows.
fn apparmor(facts: &Facts) -> String {
    let unconfined = facts.apparmor_restrict_unconfined == Some(1);
    match facts.apparmor_restrict_userns {
        Some(1) => format!("Here: {}", Blocker::AppArmor { unconfined }),
        _ => format!(
            "This is what Ubuntu 23.10+ does: {}. (This machine does not show \
             kernel.apparmor_restrict_unprivileged_userns=1; look for another security \
             module's policy, e.g. SELinux)",
            Blocker::AppArmor { unconfined }
        ),
    }
}

/// Why a call that needs CAP_SYS_ADMIN got EPERM; `rule` says which
/// capability the call checks, and where (the man page's words).
fn needs_cap(rule: &str, facts: &Facts) -> String {
    if facts.seccomp_filter() && facts.cap_sys_admin {
        return format!(
            "you hold CAP_SYS_ADMIN, so most likely no privilege is missing: {}. (The \
             rule: {rule}.)",
            Blocker::SeccompFilter
        );
    }
    let situation = if facts.cap_sys_admin {
        "You have CAP_SYS_ADMIN here, so the target belongs to a user namespace where you \
         do not (or a security module refused); run as root in the initial user namespace."
            .to_owned()
    } else {
        format!("{}.", Blocker::NoCapSysAdmin)
    };
    let filter = match facts.seccomp_filter() {
        true => {
            " A seccomp filter is installed too (Seccomp: 2), which may refuse the call \
                 even to root."
        }
        false => "",
    };
    format!("{rule}. {situation}{filter}")
}

/// setns(2), "Details for specific namespace types", and kernel/nsproxy.c
/// (validate_nsset) for the ptrace check on a pidfd's process.
fn setns_eperm(facts: &Facts) -> String {
    needs_cap(
        "joining a namespace needs CAP_SYS_ADMIN in the user namespace that owns it and in \
         your own user namespace (setns(2)); a user namespace needs it only in the target, a \
         mount namespace also CAP_SYS_CHROOT, and with a pidfd you also need ptrace access \
         to the process",
        facts,
    )
}

/// setns(2), ERRORS, EINVAL; pidfds since Linux 5.8.
fn setns_einval(facts: &Facts) -> String {
    let causes = "setns(2) gives EINVAL when the fd is not a namespace of the type asked for \
                  (or a regular file), when re-entering your own user namespace, when a \
                  multithreaded process joins a user namespace, or when a pidfd comes with no \
                  flags";
    match facts.kernel_at_least((5, 8)) {
        Some(false) => format!(
            "setns with a pidfd needs Linux 5.8, and this kernel is older (`uname -r`); \
             before 5.8 a pidfd gives EINVAL. Otherwise: {causes}"
        ),
        _ => format!("{causes} (and, before Linux 5.8, for any pidfd)"),
    }
}

/// pidfd_open(2) without PIDFD_THREAD (Linux 6.9) opens only a process (a
/// thread-group leader). Given another thread's ID it gave EINVAL, and
/// since Linux 6.16 ("pidfd: improve uapi when task isn't found") ENOENT.
/// `tgid` is the thread group `pid` belongs to, if /proc knew.
fn pidfd_thread(pid: Option<u32>, tgid: Option<u32>, errno: Errno) -> String {
    let versions = "pidfd_open(2) opens a process, not one of its other threads: that gives \
                    EINVAL before Linux 6.16 and ENOENT since (PIDFD_THREAD, Linux 6.9, opens \
                    a thread on purpose)";
    match (pid, tgid) {
        (Some(pid), Some(tgid)) if pid != tgid => format!(
            "{pid} is a thread of process {tgid}, not a process: give {tgid}. {versions}"
        ),
        _ => match errno {
            Errno::ENOENT => format!(
                "no process has that PID; if it was a thread's ID, give its process's PID \
                 (the Tgid line of /proc/PID/status). {versions}"
            ),
            _ => format!(
                "the flags are not valid, or the PID is a thread's: give its process's PID \
                 (the Tgid line of /proc/PID/status). {versions}"
            ),
        },
    }
}

/// unshare(2), ERRORS: CLONE_NEWUSER implies CLONE_THREAD, and a
/// multithreaded caller gets EINVAL (setns(2) likewise).
fn threaded(facts: &Facts) -> String {
    match facts.threads {
        Some(n) if n > 1 => Blocker::Threads(n).to_string(),
        _ => "a process with more than one thread cannot create or join a user namespace \
              (unshare(2), EINVAL); do it before starting any thread"
            .into(),
    }
}

fn too_old(need: &str, facts: &Facts) -> String {
    match facts.kernel {
        Some((major, minor)) => format!("{need}; this kernel is {major}.{minor}"),
        None => format!("{need} (`uname -r` shows this one)"),
    }
}

mod cgroup;
mod container;
mod ipc;
mod lifetime;
mod netlink;
mod pid;
mod propagation;
mod relations;
mod time;

#[cfg(test)]
mod tests;
