//! Chapter 11 against the kernel: the queues made in the new IPC namespace
//! are not found from the old one (msgget and mq_open give the witness
//! ENOENT), and nothing is left in the tests' own IPC namespace, the host's:
//! no queue with the key in /proc/sysvipc/msg, no POSIX queue `/ch11`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::process::CommandExt;

use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, mq_close, mq_open};
use nix::sys::stat::Mode;
use testkit::{
    Example, RunDir, User, assert_help, assert_usage_error, host_ns, line_with,
    ns_on_line, on_host,
};

testkit::cases!(
    as_root,
    unprivileged,
    as_root_with_a_decimal_key,
    help_exits_0,
    key_0_is_ipc_private,
    key_not_a_number,
    extra_argument_is_a_usage_error,
    ipc_namespace_limit_reached,
    a_key_taken_where_it_starts_is_refused,
);

fn example() -> Example {
    testkit::example!()
}

/// The default key, 0x0c110001, as /proc/sysvipc/msg prints it (decimal).
const KEY: i32 = 0x0c11_0001;

/// The host (the tests' IPC namespace) has no queue with `key` and no POSIX
/// queue `/ch11`: asked the kernel, from this process, which is there.
fn host_has_none(key: i32) {
    let msg = std::fs::read_to_string("/proc/sysvipc/msg").unwrap();
    let key = key.to_string();
    assert!(
        !msg.lines()
            .skip(1)
            .any(|l| l.split_whitespace().next() == Some(&key)),
        "a queue with key {key} exists on the host:\n{msg}"
    );
    match mq_open("/ch11", MQ_OFlag::O_RDONLY, Mode::empty(), None) {
        Err(Errno::ENOENT) => {}
        Err(errno) => panic!("mq_open(\"/ch11\") on the host: {errno}"),
        Ok(mqd) => {
            mq_close(mqd).unwrap();
            panic!("the POSIX queue /ch11 exists on the host");
        }
    }
}

fn check(user: User, args: &[&str], key_text: &str, snapshot: Option<&str>) {
    host_has_none(KEY);
    let Some(ran) = example().run(user, args) else {
        return;
    };
    ran.assert_temp_dir_removed("ch11-ipc-namespaces");
    let out = ran.success();

    for ns in ["ipc", "mnt"] {
        assert_eq!(ns_on_line(out, " starts in ", ns), host_ns(ns), "{ns}");
        let after = ns_on_line(out, ": unshare(CLONE_NEWIPC | CLONE_NEWNS) -> ", ns);
        assert_ne!(after, host_ns(ns), "{ns} after unshare");
        assert_eq!(ns_on_line(out, "(witness) looks from", ns), host_ns(ns));
    }
    let new_ipc = ns_on_line(out, ": unshare(", "ipc");
    let made = line_with(out, ": msgget(");
    assert!(
        made.contains(&format!(
            "msgget({key_text}, IPC_CREAT | IPC_EXCL | 0600) -> msqid "
        )),
        "{made}"
    );
    assert!(made.contains(&format!("lists key {key_text}")), "{made}");
    assert!(made.ends_with("qnum 1"), "{made}");
    assert!(line_with(out, ") again -> EEXIST").contains(&new_ipc));
    assert!(
        line_with(out, "/ch11 reads").contains("\"QSIZE:5 "),
        "{out}"
    );

    let witness = &out[out.find("(witness) looks from").unwrap()..];
    assert!(line_with(witness, "  msgget(").ends_with(&format!(
        "ENOENT: no queue with that key in {}",
        host_ns("ipc")
    )));
    assert!(line_with(witness, "  mq_open(").ends_with("-> ENOENT"));
    assert!(line_with(witness, "mountinfo:").contains(": nothing mounted on"));
    assert!(!out.contains("LEAKED"), "{out}");
    assert_eq!(out.contains("not root (uid "), user == User::Unprivileged);

    // What it made died with its IPC namespace; none of it was the host's.
    host_has_none(KEY);
    if let Some(name) = snapshot {
        insta::assert_snapshot!(name, ran.normalized());
    }
}

fn as_root() {
    check(User::Root, &[], "0x0c110001", Some("root"));
}

fn unprivileged() {
    check(User::Unprivileged, &[], "0x0c110001", Some("unprivileged"));
}

fn as_root_with_a_decimal_key() {
    check(User::Root, &["202440706"], "0x0c110002", None);
}

fn help_exits_0() {
    assert_help(&example(), "Usage: ch11-ipc-namespaces [KEY]");
}

fn key_0_is_ipc_private() {
    assert_usage_error(&example(), &["0"], "KEY 0 is IPC_PRIVATE");
    assert_usage_error(&example(), &["0x0"], "KEY 0 is IPC_PRIVATE");
}

fn key_not_a_number() {
    for bad in ["abc", "0x1ffffffff", "-1", "0x"] {
        assert_usage_error(&example(), &[bad], "is not a number");
    }
}

fn extra_argument_is_a_usage_error() {
    assert_usage_error(&example(), &["0x1", "2"], "unexpected argument \"2\"");
}

/// max_ipc_namespaces is 0 in the user namespace the test runs it in: the
/// one unshare fails with ENOSPC, before any queue is made.
fn ipc_namespace_limit_reached() {
    let Some(ran) = example().run_with_zero_limit("ipc", &[]) else {
        return;
    };
    ran.assert_temp_dir_removed("ch11-ipc-namespaces");
    let err = ran.failure(1);
    assert!(
        err.contains("error: unshare(CLONE_NEWIPC | CLONE_NEWNS) failed: ENOSPC"),
        "{err}"
    );
    assert!(
        err.contains("hint: /proc/sys/user/max_ipc_namespaces is 0"),
        "{err}"
    );
    assert!(!ran.stdout.contains("msgget("), "{}", ran.stdout);
    host_has_none(KEY);
}

/// As root, started in a throwaway IPC namespace that already holds a queue
/// with the key: the example refuses before it forks or creates anything,
/// since its witness could not tell that queue from its own.
fn a_key_taken_where_it_starts_is_refused() {
    let Some(mut prepared) = example().prepare(User::Root) else {
        return;
    };
    // Safety: the hook runs in the forked child before exec, and makes two
    // plain system calls with integer arguments (no allocation, no lock).
    unsafe {
        prepared.command.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWIPC) == -1
                || libc::msgget(KEY, libc::IPC_CREAT | 0o600) == -1
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let dir = RunDir::new();
    prepared.command.env("TMPDIR", dir.path());
    let output = on_host(&dir, || Some(prepared.command.output().unwrap())).unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "error: a message queue with key 0x0c110001 already exists in ipc:["
        ),
        "{err}"
    );
    assert!(err.contains("give another KEY"), "{err}");
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    host_has_none(KEY);
}
