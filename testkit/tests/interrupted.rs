//! Examples interrupted in the middle of their story leave nothing behind.
//!
//! - SIGINT and SIGTERM, to the example alone or to its whole process group
//!   (what Ctrl-C does), after each line of ch02's, ch06's and ch11's story: the
//!   process dies of that signal, and its TMPDIR holds no entry and no mount.
//! - SIGKILL, which no handler sees: ch02 leaves at most one empty directory
//!   named after it, and the next run removes it and says so; a run never
//!   removes a directory whose owner is alive, or that belongs to another
//!   user, or that is not empty.
//!
//! The test synchronises on the lines the example prints (read line N, then
//! signal), never on time. Each run gets a fresh TMPDIR of its own, so two
//! test runs never see each other's entries. As root and as uid 65534.
//! Issue 7 §2; contract 2 in BRIEF.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod live;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use live::{Live, TmpDir, assert_no_panic, describe, start};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use testkit::User;

const USERS: [User; 2] = [User::Root, User::Unprivileged];
/// The stories that make something under TMPDIR.
const STORIES: [&str; 3] = [
    "ch02-unshare",
    "ch06-persist-bind-mount",
    "ch11-ipc-namespaces",
];

/// How many lines the story prints when left alone.
fn story_length(name: &str, user: User) -> Option<usize> {
    let tmp = TmpDir::new();
    let mut live = start(name, user, &[], &tmp, None, false)?;
    live.read_lines(usize::MAX);
    let lines = live.lines.len();
    let (status, stderr) = live.finish();
    assert!(status.success(), "{name} as {user}: {stderr}");
    tmp.assert_clean(name);
    Some(lines)
}

/// The line on which a story names its directory:
/// `mkdtemp("TEMPLATE") -> "PATH",`.
const MKDTEMP: &str = ": mkdtemp(\"";

/// The directory the story named on its mkdtemp line, if it got that far:
/// under TMPDIR (contract 2), and gone.
fn assert_story_dir_gone(lines: &[String], tmp: &TmpDir, what: &str) {
    let Some(line) = lines.iter().find(|l| l.contains(MKDTEMP)) else {
        return;
    };
    let result = line.split_once(") -> \"").map(|(_, after)| after);
    let path = result
        .and_then(|after| after.split_once('"'))
        .map(|(p, _)| p);
    let Some(path) = path.map(Path::new) else {
        panic!("{what}: no `-> \"PATH\"` on its mkdtemp line: {line}");
    };
    assert!(!path.exists(), "{what}: left {} behind", path.display());
    assert!(
        path.starts_with(&tmp.path),
        "{what}: made {} outside its TMPDIR {}",
        path.display(),
        tmp.path.display()
    );
}

fn signal(live: &Live, sig: Signal, group: bool) {
    let pid = Pid::from_raw(live.pid());
    // ESRCH cannot happen: the process is not reaped until `finish`.
    match group {
        true => killpg(pid, sig).expect("killpg"),
        false => kill(pid, sig).expect("kill"),
    }
}

#[test]
fn sigint_and_sigterm_at_every_line_leave_nothing() {
    // Runs, and runs that died of the signal, for SIGINT and for SIGTERM.
    let (mut runs, mut killed) = (0, [0usize; 2]);
    for name in STORIES {
        for user in USERS {
            let Some(length) = story_length(name, user) else {
                continue;
            };
            assert!(length >= 8, "{name} as {user}: only {length} lines");
            for (which, sig) in
                [Signal::SIGINT, Signal::SIGTERM].into_iter().enumerate()
            {
                for group in [false, true] {
                    // After line n, for every line but the last: the process
                    // has more to print, so it is still running.
                    for n in 1..length {
                        let what = format!(
                            "{name} as {user}, {sig} to the {} after line {n}",
                            if group { "process group" } else { "process" }
                        );
                        let tmp = TmpDir::new();
                        let mut live = start(name, user, &[], &tmp, None, group)
                            .expect("started");
                        assert!(live.read_lines(n), "{what}: ended early");
                        signal(&live, sig, group);
                        let live_lines = live.lines.clone();
                        let (status, stderr) = live.finish();
                        assert_no_panic(&stderr, &what);
                        // It may have finished its story just before the
                        // signal came (the rest of the lines were already
                        // in the pipe): then it exited 0.
                        let died_of_it = status.signal() == Some(sig as i32);
                        assert!(
                            died_of_it || status.code() == Some(0),
                            "{what}: {}, stderr:\n{stderr}",
                            describe(status)
                        );
                        assert_story_dir_gone(&live_lines, &tmp, &what);
                        tmp.assert_clean(&what);
                        runs += 1;
                        killed[which] += usize::from(died_of_it);
                    }
                }
            }
        }
    }
    assert!(runs > 0 || !testkit::in_ci(), "nothing ran");
    // A test whose signals all came too late (or were ignored) would test
    // nothing: each signal must have interrupted some run.
    eprintln!(
        "{} (SIGINT) and {} (SIGTERM) of {runs} runs died of the signal; the others \
         had finished",
        killed[0], killed[1]
    );
    assert!(
        runs == 0 || killed.iter().all(|&k| k > 0),
        "a signal interrupted no run: {killed:?} of {runs}"
    );
}

/// The PID namespace inode, the PID and the start time (proc_pid_stat(5),
/// field 22) of a process: what `workbook::cleanup` writes in a name.
fn owner_of(pid: u32) -> (u64, u32, u64) {
    let pid_ns = fs::metadata("/proc/self/ns/pid").expect("pid ns").ino();
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after = &stat[stat.rfind(')').expect(")") + 1..];
    let start = after.split_whitespace().nth(19).expect("field 22");
    (pid_ns, pid, start.parse().expect("start time"))
}

/// A directory in `tmp` named as a run of ch02 owned by `owner` would name
/// it; owned by `uid`.
fn fake_leftover(
    tmp: &TmpDir,
    owner: (u64, u32, u64),
    random: &str,
    uid: u32,
) -> String {
    let (pid_ns, pid, start) = owner;
    let name = format!("ch02-unshare.{pid_ns}.{pid}.{start}.{random}");
    let path = tmp.path.join(&name);
    fs::create_dir(&path).expect("mkdir");
    std::os::unix::fs::chown(&path, Some(uid), Some(uid)).expect("chown");
    name
}

/// A process that existed and is gone: its PID and start time, read while
/// it was a zombie, then reaped.
fn dead_owner() -> (u64, u32, u64) {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    // A zombie keeps its /proc/PID/stat until it is reaped; read before.
    let owner = owner_of(child.id());
    child.wait().expect("reap");
    owner
}

fn uid_of(user: User) -> u32 {
    match (user, nix::unistd::geteuid().is_root()) {
        (User::Unprivileged, true) => 65534,
        _ => nix::unistd::geteuid().as_raw(),
    }
}

#[test]
fn sigkill_leaves_at_most_what_the_next_run_removes() {
    for user in USERS {
        let tmp = TmpDir::new();
        let what = format!("ch02-unshare as {user}, SIGKILL after its mkdtemp line");
        let Some(mut live) = start("ch02-unshare", user, &[], &tmp, None, true)
        else {
            continue;
        };
        // Read until the line that names the directory, then SIGKILL the
        // whole group (the witness too).
        while live.read_lines(live.lines.len() + 1) {
            if live.lines.last().is_some_and(|l| l.contains(MKDTEMP)) {
                break;
            }
        }
        assert!(
            live.lines.last().is_some_and(|l| l.contains(MKDTEMP)),
            "{what}: no line with {MKDTEMP} in {:?}",
            live.lines
        );
        signal(&live, Signal::SIGKILL, true);
        let (status, stderr) = live.finish();
        assert_no_panic(&stderr, &what);
        // SIGKILL leaves no mount: the tmpfs was in the example's own mount
        // namespace, gone with its last process.
        assert_eq!(
            tmp.mounts(),
            Vec::<String>::new(),
            "{what}: a mount was left"
        );
        let left = tmp.entries();
        assert!(left.len() <= 1, "{what}: left {left:?}");
        if status.signal() != Some(Signal::SIGKILL as i32) {
            // The story ended before the signal: nothing may be left.
            assert_eq!(left, Vec::<String>::new(), "{what}: {}", describe(status));
        }

        // Whatever it left, plus a leftover that is certainly a dead run's,
        // and three that are not the next run's to remove.
        let uid = uid_of(user);
        let dead = fake_leftover(&tmp, dead_owner(), "aaaaaa", uid);
        let alive = fake_leftover(&tmp, owner_of(std::process::id()), "bbbbbb", uid);
        let other_uid = if uid == 0 { 65534 } else { 0 };
        let others = nix::unistd::geteuid()
            .is_root()
            .then(|| fake_leftover(&tmp, dead_owner(), "cccccc", other_uid));
        let full = fake_leftover(&tmp, dead_owner(), "dddddd", uid);
        let full_file = tmp.path.join(&full).join("kept");
        fs::write(&full_file, "not empty").expect("write");
        std::os::unix::fs::chown(&full_file, Some(uid), Some(uid)).expect("chown");

        let what = format!("the next ch02-unshare as {user}");
        let next =
            start("ch02-unshare", user, &[], &tmp, None, false).expect("started");
        let (status, stderr) = next.finish();
        assert_no_panic(&stderr, &what);
        assert_eq!(status.code(), Some(0), "{what}: {stderr}");
        let mut expected = vec![alive.clone(), full.clone()];
        expected.extend(others.clone());
        expected.sort();
        assert_eq!(tmp.entries(), expected, "{what}: removed the wrong ones");
        for removed in left.iter().chain([&dead]) {
            assert!(
                stderr.contains(&format!(
                    "removed {}",
                    tmp.path.join(removed).display()
                )),
                "{what}: did not say it removed {removed}:\n{stderr}"
            );
        }
        // The test's own entries go; the directory is then empty again.
        fs::remove_file(&full_file).expect("rm");
        for name in tmp.entries() {
            fs::remove_dir(tmp.path.join(name)).expect("rmdir");
        }
        assert!(!Path::new(&tmp.path.join(&dead)).exists());
    }
}
