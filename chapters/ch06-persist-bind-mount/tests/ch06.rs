//! Chapter 6 against the kernel: the namespace bound onto a file is the one
//! process A made, process B joins that same one through the file, and the
//! host keeps its hostname and its mounts.
//!
//! `create` and `remove` mount and unmount in the host's mount namespace, on
//! purpose: each test that runs them does so on a path in a [`RunDir`] of
//! its own, where no other run looks, and checks that directory around all
//! its runs ([`on_host`]). The directory detaches what is left in it when
//! dropped, even when one of the test's assertions fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use testkit::{
    Example, RunDir, User, assert_help, assert_usage_error, host_hostname, host_ns,
    line_with, ns_on_line, on_host, quoted_after,
};

testkit::cases!(
    story_as_root,
    story_unprivileged,
    create_join_remove_round_trip_as_root,
    create_refuses_a_symlink,
    create_refuses_a_file_with_content,
    create_refuses_a_directory,
    create_twice_refuses_the_second_time,
    join_refuses_a_regular_file,
    join_refuses_a_fifo_without_blocking,
    join_refuses_a_namespace_of_another_type,
    remove_refuses_a_regular_file,
    remove_refuses_mounts_that_are_not_nsfs,
    subcommands_unprivileged_need_root,
    kernel_refuses_a_uts_namespace,
    kernel_refuses_a_mount_namespace,
    create_in_a_user_namespace_refuses_before_making_anything,
    usage_errors_exit_2,
    help_exits_0,
);

fn example() -> Example {
    testkit::example!()
}

fn story(user: User) {
    let host = host_hostname();
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    ran.assert_temp_dir_removed("ch06-persist");
    let out = ran.success();

    let host_uts = host_ns("uts");
    let made_by_a = ns_on_line(out, "(A): unshare(CLONE_NEWUTS)", "uts");
    let held_by_file = ns_on_line(out, "  stat(", "uts");
    // B's line goes on, indented: `  setns(fd of "PATH", CLONE_NEWUTS) -> ...`.
    let b_setns = "  setns(fd of \"";
    line_with(out, "(B): open(");
    let joined_by_b = ns_on_line(out, b_setns, "uts");
    assert_ne!(made_by_a, host_uts, "A's namespace is a new one");
    assert_eq!(held_by_file, made_by_a, "the file is A's namespace, A gone");
    assert_eq!(joined_by_b, made_by_a, "B joined A's namespace");
    let b_line = line_with(out, b_setns);
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
    assert_eq!(host_hostname(), host);
    insta::assert_snapshot!(user.to_string(), ran.normalized());
}

fn story_as_root() {
    story(User::Root);
}

fn story_unprivileged() {
    story(User::Unprivileged);
}

fn create_join_remove_round_trip_as_root() {
    let dir = RunDir::new();
    let path = dir.file("ns");
    let host_uts = host_ns("uts");
    let host = host_hostname();
    let example = example().in_dir(&dir);
    on_host(&dir, || {
        let created = example.run(User::Root, &["create", &path, "roundtrip"])?;
        let out = created.success();
        let held = ns_on_line(out, "stat(", "uts");
        assert_ne!(held, host_uts, "create made a new namespace");
        assert_eq!(ns_on_line(out, "unshare(CLONE_NEWUTS)", "uts"), held);
        assert_eq!(
            dir.mounts(),
            [PathBuf::from(&path)],
            "create left one mount, on PATH"
        );
        // The namespace is the file: its inode is the namespace's.
        let ino = fs::metadata(&path).expect("stat").ino();
        assert_eq!(held, format!("uts:[{ino}]"));
        assert_eq!(host_hostname(), host);
        insta::assert_snapshot!("root_create", created.normalized());

        let joined = example.run(User::Root, &["join", &path]).expect("root ran");
        let out = joined.success();
        assert_eq!(ns_on_line(out, "is an nsfs file", "uts"), held);
        assert_eq!(ns_on_line(out, "CLONE_NEWUTS) ->", "uts"), held);
        let setns_line = line_with(out, "CLONE_NEWUTS) ->");
        assert_eq!(quoted_after(setns_line, "hostname "), "roundtrip");
        assert_eq!(ns_on_line(out, "still in", "uts"), host_uts);
        assert_eq!(host_hostname(), host);
        insta::assert_snapshot!("root_join", joined.normalized());

        let removed = example
            .run(User::Root, &["remove", &path])
            .expect("root ran");
        let out = removed.success();
        assert_eq!(ns_on_line(out, "nsfs mount point", "uts"), held);
        assert!(dir.mounts().is_empty(), "remove left a mount");
        assert!(
            fs::symlink_metadata(&path).is_err(),
            "remove left the file behind"
        );
        insta::assert_snapshot!("root_remove", removed.normalized());
        Some(())
    });
}

/// Run a subcommand as root on the files a test made in `dir`; it must
/// refuse: exit 1, `expected` in stderr, `dir` as it was. Returns stderr.
fn refused(dir: &RunDir, args: &[&str], expected: &str) -> Option<String> {
    on_host(dir, || {
        let ran = example().in_dir(dir).run(User::Root, args)?;
        let err = ran.failure(1).to_owned();
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(ran.stdout.is_empty(), "{args:?} printed:\n{}", ran.stdout);
        Some(err)
    })
}

fn create_refuses_a_symlink() {
    let dir = RunDir::new();
    let real = dir.file("real");
    let link = dir.file("link");
    fs::write(&real, "").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let Some(err) = refused(&dir, &["create", &link], "is a symbolic link") else {
        return;
    };
    assert!(err.contains("refusing to bind a namespace onto"), "{err}");
    assert_eq!(fs::read_link(&link).unwrap(), Path::new(&real));
    assert!(fs::metadata(&real).unwrap().len() == 0);
    assert!(dir.mounts().is_empty());
}

fn create_refuses_a_file_with_content() {
    let dir = RunDir::new();
    let file = dir.file("notes");
    fs::write(&file, "keep me\n").unwrap();
    if refused(&dir, &["create", &file], "has 8 bytes of content").is_none() {
        return;
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep me\n");
    assert!(dir.mounts().is_empty());
}

fn create_refuses_a_directory() {
    let dir = RunDir::new();
    let sub = dir.file("sub");
    fs::create_dir(&sub).unwrap();
    if refused(&dir, &["create", &sub], "is a directory").is_none() {
        return;
    }
    assert!(fs::metadata(&sub).unwrap().is_dir());
    assert_eq!(fs::read_dir(&sub).unwrap().count(), 0);
    assert!(dir.mounts().is_empty());
}

fn create_twice_refuses_the_second_time() {
    let dir = RunDir::new();
    let path = dir.file("ns");
    let example = example().in_dir(&dir);
    on_host(&dir, || {
        let first = example.run(User::Root, &["create", &path])?;
        let held = ns_on_line(first.success(), "stat(", "uts");

        let second = example
            .run(User::Root, &["create", &path, "other"])
            .expect("root ran");
        let err = second.failure(1);
        assert!(err.contains("is already a mount point (of nsfs)"), "{err}");
        // The first namespace is still there, still the only mount.
        assert_eq!(dir.mounts(), [PathBuf::from(&path)]);
        let ino = fs::metadata(&path).unwrap().ino();
        assert_eq!(held, format!("uts:[{ino}]"));

        example
            .run(User::Root, &["remove", &path])
            .expect("root ran")
            .success();
        Some(())
    });
}

fn join_refuses_a_regular_file() {
    let dir = RunDir::new();
    let file = dir.file("plain");
    fs::write(&file, "").unwrap();
    if refused(&dir, &["join", &file], "is not a namespace file").is_none() {
        return;
    }
    assert!(fs::metadata(&file).unwrap().is_file());
}

fn join_refuses_a_fifo_without_blocking() {
    let dir = RunDir::new();
    let fifo = dir.file("fifo");
    nix::unistd::mkfifo(
        fifo.as_str(),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    if refused(&dir, &["join", &fifo], "is not a namespace file").is_none() {
        return;
    }
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

fn join_refuses_a_namespace_of_another_type() {
    refused(
        &RunDir::new(),
        &["join", "/proc/self/ns/net"],
        "is a net namespace (ioctl NS_GET_NSTYPE), not a uts one",
    );
}

fn remove_refuses_a_regular_file() {
    let dir = RunDir::new();
    let file = dir.file("plain");
    fs::write(&file, "").unwrap();
    if refused(&dir, &["remove", &file], "is not a mount point").is_none() {
        return;
    }
    assert!(fs::metadata(&file).unwrap().is_file(), "the file is kept");
}

fn remove_refuses_mounts_that_are_not_nsfs() {
    for mount_point in ["/", "/proc"] {
        refused(&RunDir::new(), &["remove", mount_point], "not of nsfs");
    }
    assert!(Path::new("/proc/self/ns/uts").exists(), "/proc is mounted");
}

fn subcommands_unprivileged_need_root() {
    let dir = RunDir::new();
    let path = dir.file("ns");
    on_host(&dir, || {
        for command in ["create", "join", "remove"] {
            let ran = example()
                .in_dir(&dir)
                .run(User::Unprivileged, &[command, &path])?;
            let err = ran.failure(1);
            assert!(err.contains(&format!("`{command}` needs root")), "{err}");
            assert!(err.contains("CAP_SYS_ADMIN"), "{err}");
            assert!(ran.stdout.is_empty(), "{}", ran.stdout);
            assert!(fs::symlink_metadata(&path).is_err(), "{command} made PATH");
        }
        Some(())
    });
}

/// The story where the kernel refuses to make the namespace: exit 1, the
/// error names the call, ENOSPC and the limit, and nothing is left behind.
fn zero_limit(ns_type: &str, call: &str) {
    let Some(ran) = example().run_with_zero_limit(ns_type, &[]) else {
        return;
    };
    ran.assert_temp_dir_removed("ch06-persist");
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
}

fn kernel_refuses_a_uts_namespace() {
    zero_limit("uts", "unshare(CLONE_NEWUTS)");
}

fn kernel_refuses_a_mount_namespace() {
    zero_limit("mnt", "unshare(CLONE_NEWNS)");
}

/// As root of a user namespace (here one whose uts limit is 0), `create`
/// refuses before it makes anything: there it could neither mark its file
/// (a `trusted.` xattr) nor mount on the host. (The undo after the kernel
/// refuses the namespace is tested as root in host_tool.rs.)
fn create_in_a_user_namespace_refuses_before_making_anything() {
    let dir = RunDir::new();
    let path = dir.file("ns");
    on_host(&dir, || {
        let ran = example()
            .in_dir(&dir)
            .run_with_zero_limit("uts", &["create", &path])?;
        let err = ran.failure(1);
        assert!(err.contains("`create` needs root of the host"), "{err}");
        assert!(ran.stdout.is_empty(), "{}", ran.stdout);
        assert!(fs::symlink_metadata(&path).is_err(), "create made its file");
        Some(())
    });
}

fn usage_errors_exit_2() {
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
        assert_usage_error(&example(), args, expected);
    }
}

fn help_exits_0() {
    let out = assert_help(&example(), "Usage: ch06-persist-bind-mount");
    assert!(out.contains("remove PATH"), "{out}");
}
