//! The hints reach the learner, end to end: each example, refused by the
//! kernel the way a real machine refuses it, says the call, the errno and
//! the cause this machine shows (issue 7 §6, issue 9 E1/E4).
//!
//! The binaries are the ones `cargo test` at the root builds next to this
//! test (target/<profile>/), as in host_unchanged.rs. Each run gets a fresh
//! TMPDIR of its own, which must be empty afterwards: the refusals come
//! before any namespace is made, and leave nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;

use testkit::workspace::built;
use testkit::{PublicCopy, RunDir, copy_executable, limit, skip};

testkit::cases!(
    a_user_namespace_without_capabilities_gets_the_apparmor_hint,
    seccomp_refusal_as_root_names_seccomp_first,
    seccomp_refusal_unprivileged_names_seccomp,
    an_unmapped_user_namespace_hears_about_the_uid_map,
    a_chroot_is_named_as_the_cause,
    ch05_given_a_thread_names_its_process,
);

/// uid and gid of nobody, the learner without root when the tests are root.
const NOBODY: u32 = 65534;

/// The chapters whose example enters a user namespace of its own when not
/// root: all but ch01, which creates no namespace.
const ROOTLESS: [&str; 6] = [
    "ch02-unshare",
    "ch03-clone-uts",
    "ch04-join-proc",
    "ch05-join-pidfd",
    "ch06-persist-bind-mount",
    "ch09-mount-propagation",
];

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Run `cmd` from `/` with a fresh TMPDIR of its own (a [`RunDir`]);
/// check the run left nothing in it and panicked nowhere.
fn run(mut cmd: Command) -> Output {
    let tmp = RunDir::new();
    cmd.env("TMPDIR", tmp.path())
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .current_dir("/");
    let out = cmd.output().expect("start the example");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked at"), "{stderr}");
    let left: Vec<_> = fs::read_dir(tmp.path()).expect("read tmp").collect();
    assert!(left.is_empty(), "the run left {left:?} in its TMPDIR");
    out
}

/// `cmd` as nobody when the tests are root (then `program` must be a
/// [`PublicCopy`]), else as the tests' own user.
fn unprivileged(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    if is_root() {
        cmd.uid(NOBODY).gid(NOBODY);
    }
    cmd
}

/// Exit status 1 and the error on stderr; returns stderr.
fn refused(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    stderr
}

/// The `hint:` line of an error.
fn hint_of(stderr: &str) -> &str {
    stderr
        .lines()
        .find_map(|line| line.strip_prefix("hint: "))
        .unwrap_or_else(|| panic!("no hint in:\n{stderr}"))
}

/// E1: under a restriction like Ubuntu's AppArmor (a user namespace with
/// every capability denied), the rootless entry fails opening
/// /proc/self/setgroups for writing with EACCES, and the hint names both
/// sysctls and the per-program profile.
fn a_user_namespace_without_capabilities_gets_the_apparmor_hint() {
    for name in ROOTLESS {
        let Some(path) = built(name) else { return };
        let program = PublicCopy::of(&path);
        let library = PublicCopy::of(limit::deny_caps_library());
        let mut cmd = unprivileged(program.path());
        limit::with_userns_caps_denied(&mut cmd, library.path());
        let out = run(cmd);
        let stderr = refused(&out, name);
        if stderr.contains("unshare(CLONE_NEWUSER) failed") {
            skip::<()>(&format!(
                "this kernel refuses the user namespace itself: {stderr}"
            ));
            return;
        }
        assert!(
            stderr.starts_with(
                "error: open(\"/proc/self/setgroups\", O_WRONLY) failed: EACCES: Permission denied\n"
            ),
            "{name}: {stderr}"
        );
        let hint = hint_of(&stderr);
        for part in [
            "kernel.apparmor_restrict_unprivileged_userns",
            "kernel.apparmor_restrict_unprivileged_unconfined",
            "/etc/apparmor.d/",
            "`userns,`",
        ] {
            assert!(hint.contains(part), "{name}: {part} not in {hint}");
        }
    }
}

/// Issue 7 §6: root under a seccomp filter that refuses unshare hears of
/// the filter first, not that it lacks CAP_SYS_ADMIN (which it has).
fn seccomp_refusal_as_root_names_seccomp_first() {
    if !is_root() {
        return skip("the root case needs root").unwrap_or(());
    }
    let Some(path) = built("ch02-unshare") else {
        return;
    };
    let mut cmd = Command::new(&path);
    limit::with_seccomp_eperm(&mut cmd, &[libc::SYS_unshare]);
    let stderr = refused(&run(cmd), "ch02 as root under seccomp");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: unshare(CLONE_NEW"), "{stderr}");
    assert!(
        first.ends_with("failed: EPERM: Operation not permitted"),
        "{stderr}"
    );
    let hint = hint_of(&stderr);
    assert!(hint.starts_with("you hold CAP_SYS_ADMIN"), "{hint}");
    assert!(
        hint.contains("seccomp") && hint.contains("Seccomp: 2"),
        "{hint}"
    );
    assert!(!hint.contains("You lack"), "{hint}");
}

/// The same filter, unprivileged: the rootless entry's
/// unshare(CLONE_NEWUSER) is refused, and the hint names the filter.
fn seccomp_refusal_unprivileged_names_seccomp() {
    let Some(path) = built("ch02-unshare") else {
        return;
    };
    let program = PublicCopy::of(&path);
    let mut cmd = unprivileged(program.path());
    limit::with_seccomp_eperm(&mut cmd, &[libc::SYS_unshare]);
    let stderr = refused(&run(cmd), "ch02 unprivileged under seccomp");
    assert!(
        stderr.starts_with("error: unshare(CLONE_NEWUSER) failed: EPERM"),
        "{stderr}"
    );
    let hint = hint_of(&stderr);
    assert!(hint.contains("Seccomp: 2"), "{hint}");
    assert!(!hint.contains("max_user_namespaces"), "{hint}");
}

/// Issue 7 §6: `unshare --user EXAMPLE` (util-linux; no map written) leaves
/// the example as the overflow uid in a namespace that maps nobody; its own
/// unshare(CLONE_NEWUSER) fails with EPERM, and the hint is about the
/// missing map, not about sysctls. As root and as nobody.
fn an_unmapped_user_namespace_hears_about_the_uid_map() {
    let Some(path) = built("ch02-unshare") else {
        return;
    };
    if Command::new("unshare").arg("--version").output().is_err() {
        return skip("util-linux unshare(1) is not installed").unwrap_or(());
    }
    let mut users = vec![false];
    if is_root() {
        users.push(true);
    }
    let program = PublicCopy::of(&path);
    for as_nobody in users {
        let mut cmd = Command::new("unshare");
        if as_nobody {
            cmd.uid(NOBODY).gid(NOBODY);
        }
        cmd.args(["--user", "--"]).arg(program.path());
        let stderr = refused(&run(cmd), "ch02 under unshare --user");
        assert!(
            stderr.starts_with("error: unshare(CLONE_NEWUSER) failed: EPERM"),
            "nobody {as_nobody}: {stderr}"
        );
        let hint = hint_of(&stderr);
        assert!(hint.contains("/proc/self/uid_map is empty"), "{hint}");
        assert!(hint.contains("--map-root-user"), "{hint}");
        assert!(!hint.contains("sysctl"), "{hint}");
    }
}

/// Issue 9 P2: a chrooted learner gets EPERM from unshare(CLONE_NEWUSER)
/// (unshare(2)), and the hint says it is the chroot, not a sysctl.
fn a_chroot_is_named_as_the_cause() {
    if !is_root() {
        return skip("making a chroot needs root").unwrap_or(());
    }
    let Some(path) = built("ch02-unshare") else {
        return;
    };
    // The chroot's root, in a run directory of this test's own: the
    // program at /ch02-unshare, its libraries where ldd(1) finds them.
    let dir = RunDir::new();
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("proc")).expect("mkdir root/proc");
    let mut files = vec![(path.clone(), root.join("ch02-unshare"))];
    for library in libraries(&path) {
        let inside = root.join(library.strip_prefix("/").expect("an absolute path"));
        files.push((library, inside));
    }
    for (file, inside) in &files {
        fs::create_dir_all(inside.parent().expect("a folder")).expect("mkdir");
        copy_executable(file, inside).unwrap_or_else(|why| panic!("{why}"));
    }
    let mut cmd = Command::new("/ch02-unshare");
    limit::in_chroot_as(&mut cmd, &root, NOBODY);
    // Inside the chroot, TMPDIR and the current directory are "/".
    let out = cmd
        .env("TMPDIR", "/")
        .stdin(Stdio::null())
        .output()
        .expect("start the example");
    let stderr = refused(&out, "ch02 in a chroot");
    assert!(
        stderr.starts_with("error: unshare(CLONE_NEWUSER) failed: EPERM"),
        "{stderr}"
    );
    let hint = hint_of(&stderr);
    assert!(hint.contains("chroot"), "{hint}");
    assert!(!hint.contains("sysctl"), "{hint}");
}

/// The shared libraries `program` loads, from ldd(1): `/lib/...so` paths.
fn libraries(program: &Path) -> Vec<PathBuf> {
    let out = Command::new("ldd")
        .arg(program)
        .output()
        .expect("start ldd");
    assert!(out.status.success(), "ldd {}", program.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|word| word.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

/// Issue 7 §6 / E4: ch05 given a thread's ID, not a process's. This
/// kernel's answer depends on its version (EINVAL before 6.16, ENOENT
/// since); either way the hint names the process to give instead. The
/// thread is one of this test process's, alive for the whole run.
fn ch05_given_a_thread_names_its_process() {
    let Some(path) = built("ch05-join-pidfd") else {
        return;
    };
    let (tid_tx, tid_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        tid_tx
            .send(nix::unistd::gettid().as_raw())
            .expect("send the TID");
        let _ = done_rx.recv();
    });
    let tid = tid_rx.recv().expect("the thread's TID");
    let me = std::process::id();
    let errno = match workbook::machine::facts().kernel_at_least((6, 16)) {
        Some(true) => "ENOENT",
        _ => "EINVAL",
    };

    let mut users = vec![false];
    if is_root() {
        users.push(true);
    }
    let program = PublicCopy::of(&path);
    for as_nobody in users {
        let mut cmd = match as_nobody {
            true => unprivileged(program.path()),
            false => Command::new(&path),
        };
        cmd.arg(tid.to_string());
        let stderr = refused(&run(cmd), "ch05 given a TID");
        let error = stderr
            .lines()
            .find(|line| line.starts_with("error: "))
            .unwrap_or_default();
        assert!(
            error.starts_with(&format!(
                "error: pidfd_open({tid}, 0) failed: {errno}"
            )),
            "nobody {as_nobody}: {stderr}"
        );
        let hint = hint_of(&stderr);
        assert!(
            hint.starts_with(&format!(
                "{tid} is a thread of process {me}, not a process"
            )),
            "{hint}"
        );
        assert!(hint.contains("6.16") && hint.contains("6.9"), "{hint}");
    }
    drop(done_tx);
    thread.join().expect("the thread");
}
