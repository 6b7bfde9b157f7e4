//! The hint arms, each on a machine described by hand ([`Facts`]), and
//! the thread arm against a real thread of this process.
#![allow(clippy::expect_used)]

use super::*;
use crate::machine::Seccomp;

/// An unprivileged learner on a plain machine.
fn plain() -> Facts {
    Facts {
        kernel: Some((6, 18)),
        euid: Some(1000),
        seccomp: Some(Seccomp::Disabled),
        threads: Some(1),
        uid_mapped: Some(true),
        chrooted: Some(false),
        ..Facts::default()
    }
}

fn root() -> Facts {
    Facts {
        euid: Some(0),
        cap_sys_admin: true,
        ..plain()
    }
}

fn hint(call: &str, errno: Errno, facts: &Facts) -> String {
    for_call_on(call, errno, facts)
}

#[test]
fn enospc_names_the_limit_file_of_the_flag() {
    let hint = hint("clone(CLONE_NEWUTS | SIGCHLD)", Errno::ENOSPC, &plain());
    assert!(hint.contains("/proc/sys/user/max_uts_namespaces"), "{hint}");
    assert!(
        hint.contains("sysctl -w user.max_uts_namespaces="),
        "{hint}"
    );
}

#[test]
fn enospc_with_two_flags_names_both() {
    let hint = hint(
        "unshare(CLONE_NEWNS | CLONE_NEWUTS)",
        Errno::ENOSPC,
        &plain(),
    );
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
fn the_call_name_is_looked_up_whatever_its_path() {
    for call in [
        "clone3(CLONE_NEWUTS)",
        "libc::clone(CLONE_NEWUTS | SIGCHLD)",
        "nix::sched::unshare(CLONE_NEWUTS)",
    ] {
        let hint = hint(call, Errno::ENOSPC, &plain());
        assert!(hint.contains("max_uts_namespaces"), "{call}: {hint}");
    }
    // A word that merely contains a known name is not that call.
    assert_eq!(hint("unshared(CLONE_NEWUTS)", Errno::ENOSPC, &plain()), "");
    assert_eq!(
        hint("clone(CLONE_NEWUSERS)", Errno::EINVAL, &plain()),
        "",
        "CLONE_NEWUSERS is not CLONE_NEWUSER"
    );
}

// E9: EUSERS is the time namespace's alone (setns(2), ERRORS).
#[test]
fn eusers_is_about_time_namespaces_only() {
    let hint = hint("setns(fd, CLONE_NEWTIME)", Errno::EUSERS, &plain());
    assert!(hint.contains("time namespace"), "{hint}");
    assert!(!hint.contains("user namespace"), "{hint}");
}

// E9: setns exists since Linux 3.0; an old kernel answers a pidfd with
// EINVAL, never ENOSYS.
#[test]
fn setns_has_no_enosys_and_einval_names_the_pidfd_version() {
    assert_eq!(
        hint("setns(pidfd, CLONE_NEWUTS)", Errno::ENOSYS, &plain()),
        ""
    );
    let old = Facts {
        kernel: Some((5, 4)),
        ..plain()
    };
    let hint_old = hint(
        "setns(pidfd of process 7, CLONE_NEWUTS)",
        Errno::EINVAL,
        &old,
    );
    assert!(
        hint_old.starts_with("setns with a pidfd needs Linux 5.8"),
        "{hint_old}"
    );
    let new = hint("setns(fd, CLONE_NEWUTS)", Errno::EINVAL, &plain());
    assert!(new.contains("before Linux 5.8"), "{new}");
    assert!(new.contains("multithreaded"), "{new}");
}

// E9: a zero user-namespace limit is ENOSPC; EPERM never blames it.
#[test]
fn userns_eperm_never_blames_the_limit() {
    let zero = Facts {
        max_namespaces: [Some(0); 8],
        ..plain()
    };
    let hint = hint("unshare(CLONE_NEWUSER)", Errno::EPERM, &zero);
    assert!(!hint.contains("max_user_namespaces"), "{hint}");
    let enospc = for_call_on("unshare(CLONE_NEWUSER)", Errno::ENOSPC, &zero);
    assert!(enospc.contains("max_user_namespaces"), "{enospc}");
}

#[test]
fn userns_eperm_names_the_cause_this_machine_shows() {
    let cases = [
        (
            Facts {
                uid_mapped: Some(false),
                euid: Some(65534),
                unprivileged_userns_clone: Some(0),
                ..plain()
            },
            "maps no uid",
        ),
        (
            Facts {
                chrooted: Some(true),
                ..plain()
            },
            "chroot",
        ),
        (
            Facts {
                unprivileged_userns_clone: Some(0),
                ..plain()
            },
            "kernel.unprivileged_userns_clone=0",
        ),
        (
            Facts {
                seccomp: Some(Seccomp::Filter),
                ..plain()
            },
            "seccomp",
        ),
        (
            Facts {
                seccomp: Some(Seccomp::Filter),
                unprivileged_userns_clone: Some(0),
                ..root()
            },
            "seccomp",
        ),
        (plain(), "no mapping"),
    ];
    for (facts, expected) in cases {
        let hint = hint("unshare(CLONE_NEWUSER)", Errno::EPERM, &facts);
        assert!(
            hint.contains(expected),
            "{expected} not in {hint} for {facts:?}"
        );
    }
}

#[test]
fn an_unmapped_namespace_is_not_blamed_on_sysctls() {
    let unmapped = Facts {
        uid_mapped: Some(false),
        euid: Some(65534),
        ..plain()
    };
    let hint = hint("unshare(CLONE_NEWUSER)", Errno::EPERM, &unmapped);
    assert!(hint.contains("/proc/self/uid_map is empty"), "{hint}");
    assert!(hint.contains("--map-root-user"), "{hint}");
    assert!(!hint.contains("sysctl"), "{hint}");
}

// Issue 7 §6: root under a seccomp filter is not told it lacks the
// capability it has.
#[test]
fn seccomp_comes_first_for_root() {
    let filtered = Facts {
        seccomp: Some(Seccomp::Filter),
        ..root()
    };
    for call in [
        "unshare(CLONE_NEWUTS)",
        "sethostname(\"x\")",
        "mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL)",
        "setns(fd, CLONE_NEWUTS)",
    ] {
        let hint = hint(call, Errno::EPERM, &filtered);
        assert!(hint.starts_with("you hold CAP_SYS_ADMIN"), "{call}: {hint}");
        assert!(hint.contains("Seccomp: 2"), "{call}: {hint}");
        assert!(!hint.contains("You lack"), "{call}: {hint}");
    }
    // Without the capability, that is said first.
    let hint = hint(
        "unshare(CLONE_NEWUTS)",
        Errno::EPERM,
        &Facts {
            seccomp: Some(Seccomp::Filter),
            ..plain()
        },
    );
    assert!(hint.contains("You lack CAP_SYS_ADMIN"), "{hint}");
    assert!(hint.contains("seccomp filter is installed too"), "{hint}");
}

// E1: under AppArmor's restriction the first failure is EACCES opening
// setgroups for writing.
#[test]
fn setgroups_eacces_names_apparmor_both_sysctls_and_the_profile() {
    let ubuntu = Facts {
        apparmor_restrict_userns: Some(1),
        apparmor_restrict_unconfined: Some(1),
        ..plain()
    };
    for facts in [ubuntu, plain()] {
        for (call, errno) in [
            ("open(\"/proc/self/setgroups\", O_WRONLY)", Errno::EACCES),
            (
                "write(fd of \"/proc/self/uid_map\", \"0 1000 1\")",
                Errno::EPERM,
            ),
        ] {
            let hint = hint(call, errno, &facts);
            for part in [
                "kernel.apparmor_restrict_unprivileged_userns",
                "kernel.apparmor_restrict_unprivileged_unconfined",
                "/etc/apparmor.d/",
                "userns,",
            ] {
                assert!(hint.contains(part), "{part} not in {hint}");
            }
        }
    }
}

#[test]
fn gid_map_before_setgroups_deny_says_so() {
    let allowed = Facts {
        setgroups_denied: Some(false),
        ..plain()
    };
    let call = "write(fd of \"/proc/self/gid_map\", \"0 1000 1\")";
    let hint = hint(call, Errno::EPERM, &allowed);
    assert!(hint.contains("`deny` to /proc/self/setgroups"), "{hint}");
    assert!(!hint.contains("AppArmor"), "{hint}");
    let denied = Facts {
        setgroups_denied: Some(true),
        ..plain()
    };
    let hint = super::for_call_on(call, Errno::EPERM, &denied);
    assert!(hint.contains("AppArmor"), "{hint}");
}

// AppArmor without an unprivileged_userns profile to move to refuses the
// creation itself (its userns_create hook: EACCES).
#[test]
fn userns_eacces_is_a_security_module() {
    let hint = hint("unshare(CLONE_NEWUSER)", Errno::EACCES, &plain());
    assert!(hint.starts_with("a security module refused"), "{hint}");
    assert!(hint.contains("/etc/apparmor.d/"), "{hint}");
}

#[test]
fn a_threaded_caller_hears_its_thread_count() {
    let threaded = Facts {
        threads: Some(3),
        ..plain()
    };
    let hint = hint("unshare(CLONE_NEWUSER)", Errno::EINVAL, &threaded);
    assert!(hint.contains("3 threads"), "{hint}");
}

#[test]
fn pidfd_open_of_a_thread_names_its_process() {
    for errno in [Errno::EINVAL, Errno::ENOENT] {
        let hint = pidfd_thread(Some(1235), Some(1234), errno);
        assert!(
            hint.starts_with("1235 is a thread of process 1234"),
            "{hint}"
        );
        assert!(hint.contains("ENOENT since"), "{hint}");
        assert!(hint.contains("6.16"), "{hint}");
        assert!(hint.contains("PIDFD_THREAD, Linux 6.9"), "{hint}");
    }
    // The thread is gone: the errno still points at the Tgid line.
    let gone = pidfd_thread(Some(1235), None, Errno::EINVAL);
    assert!(gone.contains("Tgid"), "{gone}");
}

// Issue 7 §6 / E4: a real thread of this test process, through the
// whole path (the TID read from the call text, the Tgid from /proc).
#[test]
fn pidfd_open_einval_with_a_real_thread() {
    let me = std::process::id();
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let _ = tid_tx.send(nix::unistd::gettid().as_raw());
        let _ = done_rx.recv();
    });
    let tid = tid_rx.recv().expect("the thread's TID");
    let hint = for_call(&format!("pidfd_open({tid}, 0)"), Errno::EINVAL);
    drop(done_tx);
    thread.join().expect("thread");
    assert!(
        hint.starts_with(&format!("{tid} is a thread of process {me}")),
        "{hint}"
    );
}

#[test]
fn pidfd_open_enosys_names_the_version() {
    let old = Facts {
        kernel: Some((4, 19)),
        ..plain()
    };
    let hint = hint("pidfd_open(1, 0)", Errno::ENOSYS, &old);
    assert_eq!(hint, "pidfd_open(2) needs Linux 5.3; this kernel is 4.19");
}

#[test]
fn setns_eperm_mentions_cap_sys_admin() {
    let hint = hint("setns(fd, CLONE_NEWUTS)", Errno::EPERM, &plain());
    assert!(hint.contains("CAP_SYS_ADMIN"), "{hint}");
    assert!(hint.contains("You lack CAP_SYS_ADMIN"), "{hint}");
}

#[test]
fn unknown_pairs_give_no_hint() {
    assert_eq!(hint("uname()", Errno::EFAULT, &plain()), "");
    assert_eq!(hint("setns(fd, 0)", Errno::EFAULT, &plain()), "");
}

#[test]
fn a_bare_errno_says_how_to_get_more() {
    let hint = for_errno(Errno::EINVAL);
    assert!(hint.contains("flag"), "{hint}");
    assert!(hint.contains(".call(||"), "{hint}");
    assert!(for_errno(Errno::EFAULT).contains(".call(||"));
}

// setns(2), EINVAL: an fd of one type with the flag of another is named as
// such, with the flag to pass; a call that shows no file type keeps the
// general list.
#[test]
fn setns_with_the_flag_of_another_type_names_both() {
    let hint = hint(
        "setns(fd of \"/proc/42/ns/uts\", CLONE_NEWNET)",
        Errno::EINVAL,
        &plain(),
    );
    assert!(
        hint.starts_with(
            "the fd is a uts namespace (ns/uts) and the flag asks for CLONE_NEWNET"
        ),
        "{hint}"
    );
    assert!(hint.contains("Pass CLONE_NEWUTS, or 0"), "{hint}");
    let same = hint_of_same_type();
    assert!(
        same.contains("not a namespace of the type asked for"),
        "{same}"
    );
}

fn hint_of_same_type() -> String {
    hint(
        "setns(fd of \"/proc/42/ns/uts\", CLONE_NEWUTS)",
        Errno::EINVAL,
        &plain(),
    )
}

// Chapter 11: IPC calls (hint/ipc.rs).

#[test]
fn msgget_enoent_says_keys_are_per_namespace() {
    let hint = hint("msgget(0x0c110001, 0)", Errno::ENOENT, &plain());
    assert!(hint.contains("per IPC namespace"), "{hint}");
    assert!(hint.contains("IPC_CREAT"), "{hint}");
}

#[test]
fn msgget_eexist_names_ipc_excl_and_the_fixes() {
    let hint = hint(
        "msgget(0x0c110001, IPC_CREAT | IPC_EXCL | 0600)",
        Errno::EEXIST,
        &plain(),
    );
    assert!(hint.contains("IPC_EXCL"), "{hint}");
    assert!(
        hint.contains("IPC_RMID") && hint.contains("CLONE_NEWIPC"),
        "{hint}"
    );
}

#[test]
fn mq_open_enoent_says_queues_are_per_namespace() {
    let hint = hint("mq_open(\"/ch11\", O_RDONLY)", Errno::ENOENT, &plain());
    assert!(hint.contains("mq_overview(7)"), "{hint}");
}

#[test]
fn an_mqueue_mount_refused_asks_for_an_ipc_namespace_first() {
    let call = "mount(\"mqueue\", \"/tmp/d\", \"mqueue\", 0, NULL)";
    for facts in [plain(), root()] {
        let hint = hint(call, Errno::EPERM, &facts);
        assert!(hint.contains("unshare(CLONE_NEWIPC) first"), "{hint}");
        assert!(hint.contains("owns that IPC namespace"), "{hint}");
    }
    // Another mount keeps the general hint.
    let other = hint(
        "mount(\"tmpfs\", \"/tmp/d\", \"tmpfs\", 0, NULL)",
        Errno::EPERM,
        &plain(),
    );
    assert!(!other.contains("CLONE_NEWIPC"), "{other}");
}

#[test]
fn an_ipc_namespace_limit_of_0_is_named() {
    let mut facts = plain();
    // LIMITED_TYPES: cgroup, ipc, ...
    facts.max_namespaces[1] = Some(0);
    let hint = hint("unshare(CLONE_NEWIPC | CLONE_NEWNS)", Errno::ENOSPC, &facts);
    assert!(hint.contains("max_ipc_namespaces is 0"), "{hint}");
}
