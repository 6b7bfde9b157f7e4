//! Chapter 6 against the kernel: the namespace bound onto a file is the one
//! process A made, process B joins that same one through the file, and the
//! host keeps its hostname, its mount table and its /tmp.
//!
//! `create` and `remove` mount and unmount in the host's mount namespace, and
//! the story checks the host's mount table and /tmp: every test that runs the
//! binary on a path holds `HOST`, so no test sees another's mount or
//! temporary directory. A test that mounts cleans up through `TestDir`'s Drop
//! even when one of its assertions fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use nix::mount::{MntFlags, umount2};
use testkit::{
    Example, HostState, User, host_hostname, host_ns, line_with, ns_on_line,
    quoted_after, temp_entries,
};

fn example() -> Example {
    Example::new(env!("CARGO_BIN_EXE_ch06-persist-bind-mount"))
}

/// Held by every test that runs the binary: `create` and `remove` change the
/// host's mount table and /tmp on purpose, and each test compares those
/// before and after its own runs, so no two may overlap.
static HOST: Mutex<()> = Mutex::new(());

fn host_lock() -> MutexGuard<'static, ()> {
    // A test that failed while holding it poisons it; the next may go on.
    HOST.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Mount points of the host's nsfs mounts (mountinfo field 5).
fn nsfs_mounts() -> Vec<String> {
    fs::read_to_string("/proc/thread-self/mountinfo")
        .expect("mountinfo")
        .lines()
        .filter(|line| line.contains(" - nsfs "))
        .map(|line| line.split(' ').nth(4).expect("mount point").to_owned())
        .collect()
}

fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = format!("{}/", dir.display());
    fs::read_to_string("/proc/thread-self/mountinfo")
        .expect("mountinfo")
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|mount_point| mount_point.starts_with(&prefix))
        .map(str::to_owned)
        .collect()
}

/// A directory of the test's own under /tmp. Dropped, even by a failed
/// assertion, it detaches every mount left under it and removes it all.
struct TestDir {
    path: PathBuf,
}

impl TestDir {
    fn new() -> TestDir {
        let path = nix::unistd::mkdtemp("/tmp/ch06-test.XXXXXX").expect("mkdtemp");
        TestDir { path }
    }

    fn file(&self, name: &str) -> String {
        self.path
            .join(name)
            .to_str()
            .expect("utf-8 path")
            .to_owned()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        // Stacked mounts come off one at a time; a few rounds are plenty.
        for _ in 0..8 {
            let left = mounts_under(&self.path);
            if left.is_empty() {
                break;
            }
            for mount_point in left.iter().rev() {
                let _ = umount2(mount_point.as_str(), MntFlags::MNT_DETACH);
            }
        }
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// What the host looks like, to compare after a run.
struct Before {
    host: HostState,
    nsfs: Vec<String>,
    temp: Vec<String>,
}

impl Before {
    fn capture() -> Before {
        Before {
            host: HostState::capture(),
            nsfs: nsfs_mounts(),
            temp: temp_entries("ch06-persist."),
        }
    }

    /// nsfs mounts on the host now that were not there before.
    fn added_nsfs(&self) -> Vec<String> {
        nsfs_mounts()
            .into_iter()
            .filter(|m| !self.nsfs.contains(m))
            .collect()
    }

    fn assert_unchanged(&self) {
        HostState::capture().assert_unchanged_since(&self.host);
        assert_eq!(
            nsfs_mounts(),
            self.nsfs,
            "an nsfs mount was left on the host"
        );
        assert!(
            !nsfs_mounts().iter().any(|m| m.contains("ch06")),
            "a ch06 nsfs mount is on the host: {:?}",
            nsfs_mounts()
        );
        assert_eq!(
            temp_entries("ch06-persist."),
            self.temp,
            "a /tmp/ch06-persist.* directory was left behind"
        );
    }
}

fn story(user: User) {
    let _host = host_lock();
    let before = Before::capture();
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    let out = ran.success();

    let host_uts = host_ns("uts");
    let made_by_a = ns_on_line(out, "(A): unshare(CLONE_NEWUTS)", "uts");
    let held_by_file = ns_on_line(out, "  stat(", "uts");
    let joined_by_b = ns_on_line(out, "(B): open(", "uts");
    assert_ne!(made_by_a, host_uts, "A's namespace is a new one");
    assert_eq!(held_by_file, made_by_a, "the file is A's namespace, A gone");
    assert_eq!(joined_by_b, made_by_a, "B joined A's namespace");
    let b_line = line_with(out, "(B): open(");
    assert_eq!(quoted_after(b_line, "hostname "), "ch06-persisted");
    // The story moved from the host's mount namespace to one of its own.
    let mnt_line = line_with(out, "unshare(CLONE_NEWNS): ");
    let (from, to) = mnt_line
        .split_once(" -> ")
        .expect("unshare(CLONE_NEWNS): FROM -> TO");
    assert_eq!(ns_on_line(from, "", "mnt"), host_ns("mnt"), "{mnt_line}");
    assert_ne!(ns_on_line(to, "", "mnt"), host_ns("mnt"), "{mnt_line}");
    // The parent stays in the host's UTS namespace, with its hostname.
    for marker in ["(parent): in ", "(parent): still in "] {
        assert_eq!(ns_on_line(out, marker, "uts"), host_uts, "{marker}");
        let line = line_with(out, marker);
        assert_eq!(quoted_after(line, "hostname "), host_hostname(), "{marker}");
    }
    assert_eq!(host_hostname(), before.host.hostname);
    insta::assert_snapshot!(user.to_string(), ran.normalized());
    before.assert_unchanged();
}

#[test]
fn story_as_root() {
    story(User::Root);
}

#[test]
fn story_unprivileged() {
    story(User::Unprivileged);
}

#[test]
fn create_join_remove_round_trip_as_root() {
    let _host = host_lock();
    let dir = TestDir::new();
    let before = Before::capture();
    let path = dir.file("ns");
    let host_uts = host_ns("uts");

    let Some(created) = example().run(User::Root, &["create", &path, "roundtrip"])
    else {
        return;
    };
    let out = created.success();
    let held = ns_on_line(out, "stat(", "uts");
    assert_ne!(held, host_uts, "create made a new namespace");
    assert_eq!(ns_on_line(out, "unshare(CLONE_NEWUTS)", "uts"), held);
    assert_eq!(
        before.added_nsfs(),
        [path.as_str()],
        "create left one nsfs mount"
    );
    // The namespace is the file: its inode is the namespace's.
    let ino = fs::metadata(&path).expect("stat").ino();
    assert_eq!(held, format!("uts:[{ino}]"));
    assert_eq!(host_hostname(), before.host.hostname);
    insta::assert_snapshot!("root_create", created.normalized());

    let joined = example()
        .run(User::Root, &["join", &path])
        .expect("root ran");
    let out = joined.success();
    assert_eq!(ns_on_line(out, "is an nsfs file", "uts"), held);
    assert_eq!(ns_on_line(out, "CLONE_NEWUTS) ->", "uts"), held);
    let setns_line = line_with(out, "CLONE_NEWUTS) ->");
    assert_eq!(quoted_after(setns_line, "hostname "), "roundtrip");
    assert_eq!(ns_on_line(out, "still in", "uts"), host_uts);
    assert_eq!(host_hostname(), before.host.hostname);
    insta::assert_snapshot!("root_join", joined.normalized());

    let removed = example()
        .run(User::Root, &["remove", &path])
        .expect("root ran");
    let out = removed.success();
    assert_eq!(ns_on_line(out, "nsfs mount point", "uts"), held);
    assert!(mounts_under(&dir.path).is_empty(), "remove left a mount");
    assert!(
        fs::symlink_metadata(&path).is_err(),
        "remove left the file behind"
    );
    insta::assert_snapshot!("root_remove", removed.normalized());
    before.assert_unchanged();
}

/// Run a subcommand as root that must refuse: exit 1, `expected` in stderr,
/// the host unchanged. Returns stderr.
fn refused(args: &[&str], expected: &str) -> Option<String> {
    let before = Before::capture();
    let ran = example().run(User::Root, args)?;
    let err = ran.failure(1).to_owned();
    assert!(err.contains(expected), "{args:?}: {err}");
    assert!(ran.stdout.is_empty(), "{args:?} printed:\n{}", ran.stdout);
    before.assert_unchanged();
    Some(err)
}

#[test]
fn create_refuses_a_symlink() {
    let _host = host_lock();
    let dir = TestDir::new();
    let real = dir.file("real");
    let link = dir.file("link");
    fs::write(&real, "").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let Some(err) = refused(&["create", &link], "is a symbolic link") else {
        return;
    };
    assert!(err.contains("refusing to bind a namespace onto"), "{err}");
    assert_eq!(fs::read_link(&link).unwrap(), Path::new(&real));
    assert!(fs::metadata(&real).unwrap().len() == 0);
    assert!(mounts_under(&dir.path).is_empty());
}

#[test]
fn create_refuses_a_file_with_content() {
    let _host = host_lock();
    let dir = TestDir::new();
    let file = dir.file("notes");
    fs::write(&file, "keep me\n").unwrap();
    if refused(&["create", &file], "has 8 bytes of content").is_none() {
        return;
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep me\n");
    assert!(mounts_under(&dir.path).is_empty());
}

#[test]
fn create_refuses_a_directory() {
    let _host = host_lock();
    let dir = TestDir::new();
    let sub = dir.file("sub");
    fs::create_dir(&sub).unwrap();
    if refused(&["create", &sub], "is a directory").is_none() {
        return;
    }
    assert!(fs::metadata(&sub).unwrap().is_dir());
    assert_eq!(fs::read_dir(&sub).unwrap().count(), 0);
    assert!(mounts_under(&dir.path).is_empty());
}

#[test]
fn create_twice_refuses_the_second_time() {
    let _host = host_lock();
    let dir = TestDir::new();
    let before = Before::capture();
    let path = dir.file("ns");
    let Some(first) = example().run(User::Root, &["create", &path]) else {
        return;
    };
    let held = ns_on_line(first.success(), "stat(", "uts");

    let second = example()
        .run(User::Root, &["create", &path, "other"])
        .expect("root ran");
    let err = second.failure(1);
    assert!(err.contains("is already a mount point (of nsfs)"), "{err}");
    // The first namespace is still there, still the only mount.
    assert_eq!(before.added_nsfs(), [path.as_str()]);
    let ino = fs::metadata(&path).unwrap().ino();
    assert_eq!(held, format!("uts:[{ino}]"));

    example()
        .run(User::Root, &["remove", &path])
        .expect("root ran")
        .success();
    before.assert_unchanged();
}

#[test]
fn join_refuses_a_regular_file() {
    let _host = host_lock();
    let dir = TestDir::new();
    let file = dir.file("plain");
    fs::write(&file, "").unwrap();
    if refused(&["join", &file], "is not a namespace file").is_none() {
        return;
    }
    assert!(fs::metadata(&file).unwrap().is_file());
}

#[test]
fn join_refuses_a_fifo_without_blocking() {
    let _host = host_lock();
    let dir = TestDir::new();
    let fifo = dir.file("fifo");
    nix::unistd::mkfifo(
        fifo.as_str(),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    if refused(&["join", &fifo], "is not a namespace file").is_none() {
        return;
    }
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn join_refuses_a_namespace_of_another_type() {
    let _host = host_lock();
    refused(
        &["join", "/proc/self/ns/net"],
        "is a net namespace (ioctl NS_GET_NSTYPE), not a uts one",
    );
}

#[test]
fn remove_refuses_a_regular_file() {
    let _host = host_lock();
    let dir = TestDir::new();
    let file = dir.file("plain");
    fs::write(&file, "").unwrap();
    if refused(&["remove", &file], "is not a mount point").is_none() {
        return;
    }
    assert!(fs::metadata(&file).unwrap().is_file(), "the file is kept");
}

#[test]
fn remove_refuses_mounts_that_are_not_nsfs() {
    let _host = host_lock();
    for mount_point in ["/", "/proc"] {
        refused(&["remove", mount_point], "not of nsfs");
    }
    assert!(Path::new("/proc/self/ns/uts").exists(), "/proc is mounted");
}

#[test]
fn subcommands_unprivileged_need_root() {
    let _host = host_lock();
    let dir = TestDir::new();
    let path = dir.file("ns");
    let before = Before::capture();
    for command in ["create", "join", "remove"] {
        let Some(ran) = example().run(User::Unprivileged, &[command, &path]) else {
            return;
        };
        let err = ran.failure(1);
        assert!(err.contains(&format!("`{command}` needs root")), "{err}");
        assert!(err.contains("CAP_SYS_ADMIN"), "{err}");
        assert!(ran.stdout.is_empty(), "{}", ran.stdout);
        assert!(fs::symlink_metadata(&path).is_err(), "{command} made PATH");
    }
    before.assert_unchanged();
}

/// The story where the kernel refuses to make the namespace: exit 1, the
/// error names the call, ENOSPC and the limit, and nothing is left behind.
fn zero_limit(ns_type: &str, call: &str) {
    let _host = host_lock();
    let before = Before::capture();
    let Some(ran) = example().run_with_zero_limit(ns_type, &[]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(err.contains(&format!("{call} failed: ENOSPC")), "{err}");
    assert!(
        err.contains(&format!("/proc/sys/user/max_{ns_type}_namespaces")),
        "{err}"
    );
    assert!(
        !ran.stdout.contains("B)"),
        "nothing joined:\n{}",
        ran.stdout
    );
    before.assert_unchanged();
}

#[test]
fn kernel_refuses_a_uts_namespace() {
    zero_limit("uts", "unshare(CLONE_NEWUTS)");
}

#[test]
fn kernel_refuses_a_mount_namespace() {
    zero_limit("mnt", "unshare(CLONE_NEWNS)");
}

/// As root of a user namespace (here one whose uts limit is 0), `create`
/// refuses before it makes anything: there it could neither mark its file
/// (a `trusted.` xattr) nor mount on the host. (The undo after the kernel
/// refuses the namespace is tested as root in host_tool.rs.)
#[test]
fn create_in_a_user_namespace_refuses_before_making_anything() {
    let _host = host_lock();
    let dir = TestDir::new();
    let path = dir.file("ns");
    let before = Before::capture();
    let Some(ran) = example().run_with_zero_limit("uts", &["create", &path]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(err.contains("`create` needs root of the host"), "{err}");
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
    assert!(fs::symlink_metadata(&path).is_err(), "create made its file");
    before.assert_unchanged();
}

#[test]
fn usage_errors_exit_2() {
    let _host = host_lock();
    let long = "h".repeat(65);
    let cases: [(&[&str], &str); 8] = [
        (&["persist"], "unknown subcommand \"persist\""),
        (&["create"], "missing PATH"),
        (&["join"], "missing PATH"),
        (&["remove"], "missing PATH"),
        (
            &["create", "/nonexistent/ns", "host", "extra"],
            "unexpected argument \"extra\"",
        ),
        (
            &["join", "/nonexistent/ns", "extra"],
            "unexpected argument \"extra\"",
        ),
        (
            &["remove", "/nonexistent/ns", "extra"],
            "unexpected argument \"extra\"",
        ),
        (
            &["create", "/nonexistent/ns", &long],
            "the hostname is 65 bytes",
        ),
    ];
    for (args, expected) in cases {
        let ran = example().run_plain(args);
        let err = ran.failure(2);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(err.contains("Usage:"), "{args:?}: {err}");
    }
}

#[test]
fn help_exits_0() {
    let _host = host_lock();
    let ran = example().run_plain(&["--help"]);
    let out = ran.success();
    assert!(out.starts_with("Usage: ch06-persist-bind-mount"), "{out}");
    assert!(out.contains("remove PATH"), "{out}");
}
