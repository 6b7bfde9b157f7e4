//! The doctor on machines described by hand: for each thing that can stand
//! in the way, the doctor says the very sentence an error's hint says.

use nix::errno::Errno;
use workbook::machine::{Blocker, Facts, LIMITED_TYPES, Seccomp};

use super::probe::{As, Refusal, refusal};
use super::report::{self, Report};
use super::{Runs, Tried, explain, runs};

/// An unprivileged learner on a plain machine.
fn plain() -> Facts {
    Facts {
        release: Some("6.18.44".into()),
        kernel: Some((6, 18)),
        euid: Some(1000),
        seccomp: Some(Seccomp::Disabled),
        threads: Some(1),
        uid_mapped: Some(true),
        setgroups_denied: Some(false),
        chrooted: Some(false),
        max_namespaces: [Some(1000); 8],
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

fn zero(ty: &str, facts: Facts) -> Facts {
    let mut max_namespaces = facts.max_namespaces;
    for (at, t) in LIMITED_TYPES.iter().enumerate() {
        if *t == ty {
            max_namespaces[at] = Some(0);
        }
    }
    Facts {
        max_namespaces,
        ..facts
    }
}

fn inside(call: &str, errno: Errno) -> Refusal {
    Refusal {
        in_new_userns: true,
        ..refusal(call, errno)
    }
}

/// Every [`Blocker`]: a machine that has it, who the doctor's probe runs
/// as, and the refusal the kernel gives that probe there.
fn cases() -> Vec<(Blocker, Facts, As, Refusal)> {
    let userns_eperm = || refusal("unshare(CLONE_NEWUSER)", Errno::EPERM);
    vec![
        (
            Blocker::UidUnmapped,
            Facts {
                uid_mapped: Some(false),
                euid: Some(65534),
                ..plain()
            },
            As::MeRootless,
            userns_eperm(),
        ),
        (
            Blocker::Chroot,
            Facts {
                chrooted: Some(true),
                ..plain()
            },
            As::MeRootless,
            userns_eperm(),
        ),
        (
            Blocker::Threads(3),
            Facts {
                threads: Some(3),
                ..plain()
            },
            As::MeRootless,
            refusal("unshare(CLONE_NEWUSER)", Errno::EINVAL),
        ),
        (
            Blocker::SeccompFilter,
            Facts {
                seccomp: Some(Seccomp::Filter),
                ..root()
            },
            As::Me,
            refusal("unshare(CLONE_NEWUTS)", Errno::EPERM),
        ),
        // Rootless, the filter refuses in the user namespace just made,
        // where the example holds CAP_SYS_ADMIN: its hint says so.
        (
            Blocker::SeccompFilter,
            Facts {
                seccomp: Some(Seccomp::Filter),
                ..plain()
            },
            As::MeRootless,
            inside("unshare(CLONE_NEWNS)", Errno::EPERM),
        ),
        (
            Blocker::LimitZero("uts"),
            zero("uts", root()),
            As::Me,
            refusal("unshare(CLONE_NEWUTS)", Errno::ENOSPC),
        ),
        (
            Blocker::LimitZero("net"),
            zero("net", plain()),
            As::MeRootless,
            inside("unshare(CLONE_NEWNET)", Errno::ENOSPC),
        ),
        (
            Blocker::LimitZero("user"),
            zero("user", plain()),
            As::MeRootless,
            refusal("unshare(CLONE_NEWUSER)", Errno::ENOSPC),
        ),
        (
            Blocker::LimitZero("user"),
            zero("user", root()),
            As::Nobody,
            refusal("unshare(CLONE_NEWUSER)", Errno::ENOSPC),
        ),
        (
            Blocker::DebianUsernsClone,
            Facts {
                unprivileged_userns_clone: Some(0),
                ..plain()
            },
            As::MeRootless,
            userns_eperm(),
        ),
        // Root's tests as uid 65534 meet Debian's switch too, though root
        // does not: the doctor explains it as uid 65534 sees it.
        (
            Blocker::DebianUsernsClone,
            Facts {
                unprivileged_userns_clone: Some(0),
                ..root()
            },
            As::Nobody,
            userns_eperm(),
        ),
        (
            Blocker::AppArmor { unconfined: true },
            Facts {
                apparmor_restrict_userns: Some(1),
                apparmor_restrict_unconfined: Some(1),
                ..plain()
            },
            As::MeRootless,
            refusal("write(\"/proc/self/setgroups\", \"deny\")", Errno::EACCES),
        ),
        (
            Blocker::NoCapSysAdmin,
            plain(),
            As::Me,
            refusal("unshare(CLONE_NEWUTS)", Errno::EPERM),
        ),
    ]
}

#[test]
fn the_doctor_and_the_hint_give_the_same_fix_for_each_blocker() {
    let cases = cases();
    for blocker in [
        Blocker::UidUnmapped,
        Blocker::Chroot,
        Blocker::Threads(3),
        Blocker::SeccompFilter,
        Blocker::LimitZero("uts"),
        Blocker::DebianUsernsClone,
        Blocker::AppArmor { unconfined: true },
        Blocker::NoCapSysAdmin,
    ] {
        assert!(
            cases.iter().any(|(b, ..)| *b == blocker),
            "no case for {blocker:?}"
        );
    }
    for (blocker, facts, who, refused) in cases {
        let sentence = blocker.to_string();
        let said = explain(&facts, who, &refused);
        assert!(
            said.contains(&sentence),
            "{blocker:?}, {refused:?}: the doctor says\n{said}\nnot\n{sentence}"
        );
        // What the learner's error would say, made where the refusal was.
        let seen = Facts {
            cap_sys_admin: refused.in_new_userns
                || (facts.cap_sys_admin && who != As::Nobody),
            ..facts.clone()
        };
        let hint = workbook::hint::for_call_on(&refused.call, refused.errno, &seen);
        assert_eq!(said, hint, "{blocker:?}, {refused:?}");
        // The doctor lists it among what is in the way, in the same words
        // (unless only uid 65534 meets it, not the doctor's user).
        if who != As::Nobody {
            let mut out = Report::default();
            report::blockers(&mut out, &facts);
            let listed = out.text().split_whitespace().collect::<Vec<_>>().join(" ");
            let words = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(listed.contains(&words), "{blocker:?}:\n{listed}");
        }
    }
}

#[test]
fn a_refused_user_namespace_makes_rootless_work_root_only() {
    let mut tried = Tried::new();
    tried.insert(
        "user",
        Err(refusal("unshare(CLONE_NEWUSER)", Errno::ENOSPC)),
    );
    tried.insert("uts", Ok(()));
    assert_eq!(
        runs(&tried, &["uts"], true, "`sudo`"),
        Runs::OnlyAsRoot("`sudo`".into())
    );
    // Code that makes no user namespace of its own is not held back.
    assert_eq!(
        runs(&tried, &[], false, "`sudo`"),
        Runs::Will(String::new())
    );
}

#[test]
fn a_wrapped_hint_keeps_each_command_on_one_line() {
    let mut long = Report::default();
    report::blockers(&mut long, &zero("uts", root()));
    let text = long.text();
    assert!(
        text.contains("`sudo sysctl -w user.max_uts_namespaces=10000`"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.len() <= 80), "{text}");
}
