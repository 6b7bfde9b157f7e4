//! Chapter 12 against the kernel: after unshare(CLONE_NEWCGROUP) the child
//! sees itself in `/`, its parent (outside the root) with `/..`, and the
//! cgroup2 mount's root from the new root; moved back out, it sees `/..`.
//! Every cgroup a run makes is gone after it, whatever happened.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::PathBuf;

use testkit::{
    Example, Ran, User, assert_help, assert_usage_error, host_ns, line_with,
    ns_on_line, quoted_after,
};
use workbook::cgroup::{self, Layout};

testkit::cases!(
    as_root,
    unprivileged,
    two_runs_at_once,
    a_dead_runs_cgroup_is_removed_and_a_live_ones_is_not,
    a_signal_mid_story_leaves_no_cgroup,
    a_sigkill_mid_story_leaves_no_cgroup,
    help_exits_0,
    extra_argument_is_a_usage_error,
    cgroup_namespace_limit_reached,
);

fn example() -> Example {
    testkit::example!()
}

/// The cgroup2 mount and its root field, as this test process sees them.
fn v2() -> Option<(PathBuf, String)> {
    Layout::current().unwrap().v2
}

/// The directory of this test's own v2 cgroup: where the example (our
/// child, in our cgroup) makes its child cgroup.
fn our_cgroup_dir() -> Option<PathBuf> {
    let (mount, root) = v2()?;
    let own = cgroup::read("self").unwrap();
    cgroup::dir_of(&mount, &root, cgroup::v2_path(&own)?)
}

/// The PID the run printed for `role` (`(parent)`, `(child)`).
fn pid_of(out: &str, role: &str) -> String {
    let line = line_with(out, role);
    let rest = line.strip_prefix("process ").unwrap();
    rest.split(' ').next().unwrap().to_owned()
}

/// No cgroup named after this run's parent is left, anywhere below ours.
fn assert_no_cgroup_left(ran: &Ran) {
    let Some(dir) = our_cgroup_dir() else { return };
    let text = format!("{}{}", ran.stdout, ran.stderr);
    let Some(line) = text.lines().find(|l| l.contains("(parent)")) else {
        return;
    };
    let pid = line.split(' ').nth(1).unwrap();
    let left: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ch12.") && n.split('.').nth(2) == Some(pid))
        .collect();
    assert!(
        left.is_empty(),
        "cgroups left in {}: {left:?}",
        dir.display()
    );
}

/// How a cgroup namespace rooted at `root` shows `path`: the rule the
/// example's output must follow (cgroup_namespaces(7)).
fn relative(root: &str, path: &str) -> String {
    let parts = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    };
    let (root, path) = (parts(root), parts(path));
    let common = root.iter().zip(&path).take_while(|(a, b)| a == b).count();
    let mut seen = vec!["..".to_string(); root.len() - common];
    seen.extend(path[common..].iter().cloned());
    format!("/{}", seen.join("/"))
}

/// The snapshot, free of what differs between machines and layouts: the
/// layout line, the v1 line (hybrid only), the cgroup2 mount point, the
/// starting cgroup on host-view lines (those without " sees "), and the
/// owner part of the child cgroup's name.
fn layout_free(ran: &Ran, start: &str) -> String {
    let mut text = String::new();
    for line in ran.normalized().lines() {
        if line.contains("cgroup v1 lines") {
            continue;
        }
        let mut line = if line.starts_with("cgroup layout: ") {
            "cgroup layout: <layout>".to_string()
        } else {
            line.to_string()
        };
        if let Some(ours) = our_cgroup_dir() {
            let ours = format!("\"{}/", ours.display());
            line = line.replace(&ours, "\"<our cgroup dir>/");
        }
        if let Some((mount, _)) = v2() {
            line =
                line.replace(&format!("\"{}\"", mount.display()), "\"<cgroup2>\"");
        }
        line = pid_written_free(&line);
        if line.contains(" sees root \"") {
            line = mount_root_from_start(&line, start);
        }
        if !line.contains(" sees ") {
            line =
                line.replace(&format!("cgroup \"{start}\""), "cgroup \"<start>\"");
            let prefix = start.trim_end_matches('/');
            line = line.replace(
                &format!("cgroup \"{prefix}/ch12."),
                "cgroup \"<start>/ch12.",
            );
        }
        text.push_str(&owner_free(&line));
        text.push('\n');
    }
    text
}

/// The cgroup2 mount's root seen from a namespace, written from `<start>`
/// as the host-view lines are: the `/..` that climb from the starting
/// cgroup to the mount's root are left out, so a run from `/` and one from
/// `/user.slice/x` read the same.
fn mount_root_from_start(line: &str, start: &str) -> String {
    let depth = |p: &str| p.split('/').filter(|c| !c.is_empty()).count();
    let Some((_, mount_root)) = v2() else {
        return line.to_owned();
    };
    if relative(&mount_root, start).starts_with("/..") {
        return line.to_owned();
    }
    let up = depth(start) - depth(&mount_root);
    let seen = quoted_after(line, "sees root ");
    let Some(rest) = seen
        .get(3 * up..)
        .filter(|_| seen.starts_with(&"/..".repeat(up)))
    else {
        return line.to_owned();
    };
    let rest = if rest.is_empty() { "/" } else { rest };
    line.replace(
        &format!("sees root \"{seen}\""),
        &format!("sees root \"{rest}\""),
    )
}

/// `write(fd of "...", "4242")` -> `write(fd of "...", "<P3>")`: the
/// parent writes the child's PID, which `workbook::normalize` does not see.
fn pid_written_free(line: &str) -> String {
    let Some(at) = line.find("\", \"") else {
        return line.to_owned();
    };
    let tail = &line[at + 4..];
    let digits = tail.chars().take_while(char::is_ascii_digit).count();
    // "0" is what the child writes for itself: no PID.
    if digits == 0 || &tail[..digits] == "0" || !tail[digits..].starts_with("\")") {
        return line.to_owned();
    }
    // <P1> the parent, <P2> its guardian, <P3> the child.
    format!("{}\", \"<P3>{}", &line[..at], &tail[digits..])
}

/// `ch12.4026531836.42.9001.Ab3dE9` -> `ch12.<owner>.<random>`.
fn owner_free(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("ch12.") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 5..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let parts: Vec<&str> = name.split('.').collect();
        if parts.len() == 4 && parts[..3].iter().all(|p| p.parse::<u64>().is_ok()) {
            let random = if parts[3] == "XXXXXX" {
                "XXXXXX"
            } else {
                "<random>"
            };
            out.push_str(&format!("ch12.<owner>.{random}"));
        } else {
            out.push_str(&format!("ch12.{name}"));
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// What both users' runs show.
fn common(ran: &Ran) -> (String, String) {
    let out = &ran.stdout;
    let layout = Layout::current().unwrap();
    assert!(
        out.contains(&format!("cgroup layout: {}", layout.describe())),
        "{out}"
    );
    // The v1 line is there exactly when /proc/self/cgroup lists v1
    // hierarchies (hybrid; the kernel lists a hierarchy even where it is
    // not mounted), and each reads "/" after the unshare.
    let v1_lines = cgroup::read("self")
        .unwrap()
        .iter()
        .filter(|l| !l.is_v2())
        .count();
    assert_eq!(
        out.contains(&format!(
            "the {v1_lines} cgroup v1 lines: sees \"/\" in each"
        )),
        v1_lines > 0,
        "{out}"
    );
    let parent_ns = ns_on_line(out, "(parent)", "cgroup");
    let child_ns = ns_on_line(out, "unshare(CLONE_NEWCGROUP) ->", "cgroup");
    assert_eq!(
        parent_ns,
        host_ns("cgroup"),
        "the parent stays in the host's"
    );
    assert_ne!(child_ns, parent_ns, "the child's cgroup namespace is new");
    let start = quoted_after(line_with(out, "(parent): cgroup:["), "cgroup ");
    let own = cgroup::read("self").unwrap();
    assert_eq!(start, cgroup::v2_path(&own).unwrap_or(&own[0].path));
    let seen_self = quoted_after(
        line_with(out, "unshare(CLONE_NEWCGROUP) ->"),
        "sees cgroup ",
    );
    assert_eq!(
        seen_self, "/",
        "after the unshare a process sees itself in /"
    );
    let parent = pid_of(out, "(parent)");
    let seen_parent = quoted_after(
        line_with(out, &format!("/proc/{parent}/cgroup: sees")),
        "sees cgroup ",
    );
    (start, seen_parent)
}

fn as_root() {
    let Some(ran) = example().run(User::Root, &[]) else {
        return;
    };
    let out = ran.success();
    assert_no_cgroup_left(&ran);
    let (start, seen_parent) = common(&ran);
    let Some((mount, mount_root)) = v2() else {
        assert!(out.contains("no child cgroup"), "{out}");
        return;
    };
    if out.contains("no child cgroup") {
        // Root, yet no cgroup: a read-only cgroup filesystem (a container).
        // The example said why; the test says it cannot show the rest.
        let _ = testkit::skip::<()>(&format!(
            "root may not create a cgroup here: {}",
            line_with(out, "no child cgroup")
        ));
        return;
    }
    insta::assert_snapshot!("root", layout_free(&ran, &start));
    // Root makes the child cgroup in ours, and removes it.
    let made = quoted_after(line_with(out, "-> a child cgroup"), "a child cgroup ");
    let name = made.rsplit('/').next().unwrap();
    assert!(name.starts_with("ch12."), "{made}");
    assert_eq!(relative(&start, &made), format!("/{name}"), "below ours");
    assert!(
        !our_cgroup_dir().unwrap().join(name).exists(),
        "{made} left"
    );
    let moved = quoted_after(line_with(out, "\"0\") ->"), "cgroup ");
    assert_eq!(moved, made, "the child moved into it before the unshare");
    // From the new root (the child cgroup), its parent is one level up.
    assert_eq!(seen_parent, relative(&made, &start));
    assert_eq!(seen_parent, "/..");
    let mount_line = line_with(out, "(child): mountinfo:");
    assert!(mount_line.contains(&format!("\"{}\"", mount.display())));
    assert_eq!(
        quoted_after(mount_line, "sees root "),
        relative(&made, &mount_root)
    );
    // Moved back to the parent's cgroup, it still has its root at `made`.
    let back = line_with(out, "is in cgroup");
    assert_eq!(quoted_after(back, "is in cgroup "), start);
    let after = quoted_after(line_with(out, "still the cgroup"), "sees cgroup ");
    assert_eq!(after, relative(&made, &start));
    assert!(out.contains("rmdir(\""), "{out}");
}

fn unprivileged() {
    let Some(ran) = example().run(User::Unprivileged, &[]) else {
        return;
    };
    let out = ran.success();
    assert_no_cgroup_left(&ran);
    let (start, seen_parent) = common(&ran);
    insta::assert_snapshot!("unprivileged", layout_free(&ran, &start));
    assert!(out.contains("not root (uid "), "{out}");
    // No delegation here: the refusal is one line with the call and the
    // errno, then one with the fix.
    if v2().is_some() {
        let refused = line_with(out, "no child cgroup");
        assert!(refused.contains("mkdtemp(\""), "{refused}");
        assert!(
            refused.contains("failed: EACCES") || refused.contains("failed: EPERM")
        );
        let hint = line_with(out, "(parent): hint: ");
        assert!(hint.contains("delegated"), "{hint}");
        assert_eq!(ran.stderr, "", "the story goes on: no error on stderr");
    }
    // Same cgroup as the root: its parent is seen in "/" too, and so is the
    // mount's root from there.
    assert_eq!(seen_parent, "/");
    if let Some((_, mount_root)) = v2() {
        let mount_line = line_with(out, "(child): mountinfo:");
        assert_eq!(
            quoted_after(mount_line, "sees root "),
            relative(&start, &mount_root)
        );
    }
    assert!(!out.contains("rmdir("), "{out}");
}

/// Two runs at once: each makes and removes its own cgroup.
fn two_runs_at_once() {
    let runs: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(|| example().run(User::Root, &[])))
        .collect();
    let mut made = Vec::new();
    for run in runs {
        let Some(ran) = run.join().unwrap() else {
            return;
        };
        let out = ran.success().to_owned();
        assert_no_cgroup_left(&ran);
        if out.contains("a child cgroup") {
            made.push(quoted_after(
                line_with(&out, "a child cgroup"),
                "a child cgroup ",
            ));
        }
    }
    if made.len() == 2 {
        assert_ne!(made[0], made[1], "each run names its own cgroup");
    }
}

/// Directories this test made in a cgroup2 hierarchy, removed (deepest
/// first) when it ends, even by a panic: any process still in one is moved
/// to its parent first.
struct Made(Vec<PathBuf>);

impl Drop for Made {
    fn drop(&mut self) {
        for dir in self.0.iter().rev() {
            let _ = workbook::cleanup::empty_cgroup(dir);
            let _ = fs::remove_dir(dir);
        }
    }
}

/// A cgroup named after a gone owner (this test's PID with another start
/// time) is removed by the next run; one named after a live owner (this
/// test, with its own start time) is not. The run is started in a cgroup
/// made by this case, where no other run sweeps (a run sweeps only the
/// cgroup it is in), so the removal its stderr reports is its own.
fn a_dead_runs_cgroup_is_removed_and_a_live_ones_is_not() {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;

    if !nix::unistd::geteuid().is_root() {
        let _ = testkit::skip::<()>("makes cgroups: a root case");
        return;
    }
    let Some(dir) = our_cgroup_dir() else {
        let _ = testkit::skip::<()>("no cgroup2 mount");
        return;
    };
    let me = workbook::owner::Owner::me().unwrap();
    let own = dir.join(format!("ch12-sweep-test.{}", me.name_part()));
    if fs::create_dir(&own).is_err() {
        let _ = testkit::skip::<()>("this cgroup2 hierarchy is not writable");
        return;
    }
    let mut made = Made(vec![own.clone()]);
    let gone = workbook::owner::Owner {
        start: me.start + 1,
        ..me
    };
    let dead = own.join(format!("ch12.{}.Dead01", gone.name_part()));
    let live = own.join(format!("ch12.{}.Live01", me.name_part()));
    fs::create_dir(&dead).unwrap();
    made.0.push(dead.clone());
    fs::create_dir(&live).unwrap();
    made.0.push(live.clone());
    let Some(prepared) = example().prepare(User::Root) else {
        return;
    };
    let mut command = prepared.command;
    let procs =
        CString::new(own.join("cgroup.procs").as_os_str().as_bytes()).unwrap();
    // Safety: between fork and exec, only open(2), write(2) and close(2),
    // async-signal-safe, on a C string made before the fork.
    unsafe {
        command.pre_exec(move || {
            let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let written = libc::write(fd, b"0".as_ptr().cast(), 1);
            let err = std::io::Error::last_os_error();
            libc::close(fd);
            if written == 1 { Ok(()) } else { Err(err) }
        });
    }
    let output = command.output().unwrap();
    let dead_left = dead.exists();
    let live_left = live.exists();
    drop(made);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // It ran where we put it: its own child cgroup is in ours.
    let child =
        quoted_after(line_with(&stdout, "-> a child cgroup"), "a child cgroup ");
    let own_name = own.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(child.rsplit('/').nth(1), Some(own_name.as_str()), "{child}");
    assert!(!dead_left, "{} was not removed", dead.display());
    assert!(live_left, "{} (a live owner's) was removed", live.display());
    let said = format!(
        "removed cgroup {}, left by process {}",
        dead.display(),
        me.pid
    );
    assert!(
        stderr.contains(&said),
        "its stderr does not say it: {stderr}"
    );
    assert!(!own.exists(), "{} left", own.display());
}

/// SIGKILL to the example alone (not its process group), at each of four
/// points while its cgroup exists: made; the child in it; the child
/// unshared; the child moved back out. The guardian the example forked
/// before the mkdir removes the cgroup. The test waits for the guardian's
/// exit on a pidfd, then reads the directory: no cgroup named after this
/// run is left. A run that had already removed its cgroup is not counted.
fn a_sigkill_mid_story_leaves_no_cgroup() {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let Some(dir) = our_cgroup_dir() else {
        let _ = testkit::skip::<()>("no cgroup2 mount");
        return;
    };
    let points = [
        "(guardian), forked",
        "\"0\") -> cgroup",
        "unshare(CLONE_NEWCGROUP) ->",
        "is in cgroup",
    ];
    for point in points {
        let mut caught = false;
        for _ in 0..30 {
            let Some(prepared) = example().prepare(User::Root) else {
                return;
            };
            let mut command = prepared.command;
            let mut child = command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let pid = Pid::from_raw(child.id() as i32);
            let mut stderr = child.stderr.take().unwrap();
            // Kept open to the end: a closed stdout would end the example
            // by SIGPIPE, not by our SIGKILL.
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let (mut name, mut guardian) = (None, None);
            for line in lines.by_ref() {
                let line = line.unwrap();
                if line.contains("no child cgroup") {
                    let _ = child.wait();
                    let _ = testkit::skip::<()>(&format!(
                        "root may not create a cgroup here: {line}"
                    ));
                    return;
                }
                if line.contains("-> a child cgroup") {
                    assert_eq!(pid_of(&line, "(parent)"), pid.to_string());
                    let path = quoted_after(&line, "a child cgroup ");
                    name = Some(path.rsplit('/').next().unwrap().to_owned());
                }
                if line.contains("(guardian), forked") {
                    let at = line.find(" (guardian)").unwrap();
                    let g: i32 =
                        line[..at].rsplit(' ').next().unwrap().parse().unwrap();
                    guardian = Some((g, guardian_pidfd(g, pid.as_raw())));
                }
                if line.contains(point) {
                    kill(pid, Signal::SIGSTOP).unwrap();
                    break;
                }
            }
            let name = name.expect("no child cgroup line");
            let (g, pidfd) = guardian.expect("no guardian line");
            let made = dir.join(&name);
            let Some(pidfd) = pidfd else {
                // The guardian had already been released: not mid-story.
                kill(pid, Signal::SIGCONT).unwrap();
                child.wait().unwrap();
                continue;
            };
            if !made.exists() {
                // Already removed by the example: not mid-story.
                kill(pid, Signal::SIGCONT).unwrap();
                child.wait().unwrap();
                wait_exit(&pidfd);
                continue;
            }
            kill(pid, Signal::SIGKILL).unwrap();
            wait_exit(&pidfd);
            let status = child.wait().unwrap();
            assert_eq!(status.signal(), Some(libc::SIGKILL), "at {point}: {status}");
            let mut errors = String::new();
            stderr.read_to_string(&mut errors).unwrap();
            assert!(
                errors.contains(&format!(
                    "process {g} (guardian): process {pid} ended without removing \
                     cgroup \"{}\": moved what was in it to the parent cgroup and \
                     removed it",
                    made.display()
                )),
                "at {point}: {errors}"
            );
            // Every cgroup named after this run's parent: its owner part.
            let owner = name.rsplit_once('.').unwrap().0.to_owned();
            let left: Vec<_> = fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&format!("{owner}.")))
                .collect();
            assert!(
                left.is_empty(),
                "at {point}: left in {}: {left:?}",
                dir.display()
            );
            drop(lines);
            caught = true;
            break;
        }
        assert!(caught, "never caught with the cgroup there at {point}");
    }
}

/// pidfd_open(2) of the guardian `pid`, a child of `parent`: a descriptor
/// that becomes readable when it exits. `None` if it is gone (released by a
/// run that had already removed its cgroup, and reaped): no such process,
/// or the PID is now another's, whose parent is not `parent`.
fn guardian_pidfd(pid: i32, parent: i32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // Safety: pidfd_open(2) takes a PID and flags, returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        let err = std::io::Error::last_os_error();
        assert_eq!(
            err.raw_os_error(),
            Some(libc::ESRCH),
            "pidfd_open({pid}, 0): {err}"
        );
        return None;
    }
    // Safety: just returned to us, owned by nothing else.
    let pidfd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) };
    // Field 4 of /proc/PID/stat, after the command in parentheses.
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ppid = stat[stat.rfind(')')? + 1..].split_whitespace().nth(1)?;
    (ppid == parent.to_string()).then_some(pidfd)
}

/// Block until the process of `pidfd` has exited (poll(2), POLLIN).
fn wait_exit(pidfd: &std::os::fd::OwnedFd) {
    use std::os::fd::AsRawFd;
    let mut fd = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // Safety: one pollfd on this stack; -1: no timeout.
    while unsafe { libc::poll(&mut fd, 1, -1) } != 1 {}
}

/// SIGTERM, SIGINT or SIGHUP while the child cgroup exists, with the child
/// in it or about to be: the handler moves every process out, removes the
/// cgroup, and the example still dies of the signal. The example is stopped
/// (SIGSTOP) as soon as it prints the cgroup's name, so the signal lands
/// mid-story; a run that had already finished is not counted.
fn a_signal_mid_story_leaves_no_cgroup() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let Some(dir) = our_cgroup_dir() else {
        let _ = testkit::skip::<()>("no cgroup2 mount");
        return;
    };
    let signals = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP];
    let mut caught = Vec::new();
    for attempt in 0..30 {
        if caught.len() == signals.len() {
            break;
        }
        let signal = signals[caught.len()];
        let Some(prepared) = example().prepare(User::Root) else {
            return;
        };
        let mut command = prepared.command;
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        let mut made = None;
        let reader = BufReader::new(child.stdout.take().unwrap());
        for line in reader.lines() {
            let line = line.unwrap();
            if line.contains("-> a child cgroup") {
                kill(pid, Signal::SIGSTOP).unwrap();
                let path = quoted_after(&line, "a child cgroup ");
                made = Some(dir.join(path.rsplit('/').next().unwrap()));
                break;
            }
            if line.contains("no child cgroup") {
                let _ = child.wait();
                let _ = testkit::skip::<()>(&format!(
                    "root may not create a cgroup here: {line}"
                ));
                return;
            }
        }
        let Some(made) = made else {
            panic!("attempt {attempt}: no child cgroup line");
        };
        let mid_story = made.exists();
        if mid_story {
            kill(pid, signal).unwrap();
        }
        kill(pid, Signal::SIGCONT).unwrap();
        let status = child.wait().unwrap();
        assert!(!made.exists(), "{} left after {signal}", made.display());
        if mid_story {
            assert_eq!(status.signal(), Some(signal as i32), "{status}");
            caught.push(signal);
        }
    }
    assert_eq!(caught, signals, "never caught mid-story with each signal");
}

fn help_exits_0() {
    assert_help(&example(), "Usage: ch12-cgroup-namespaces");
}

fn extra_argument_is_a_usage_error() {
    assert_usage_error(&example(), &["x"], "unexpected argument \"x\"");
}

/// A kernel that refuses: max_cgroup_namespaces is 0 in the user namespace
/// the test made. The child's unshare fails; the cgroup is removed anyway.
fn cgroup_namespace_limit_reached() {
    let Some(ran) = example().run_with_zero_limit("cgroup", &[]) else {
        return;
    };
    let err = ran.failure(1);
    assert!(
        err.contains("unshare(CLONE_NEWCGROUP) failed: ENOSPC"),
        "{err}"
    );
    assert!(err.contains("max_cgroup_namespaces"), "{err}");
    assert!(!ran.stdout.contains("sees"), "{}", ran.stdout);
    assert_no_cgroup_left(&ran);
    if let Some(line) = ran.stdout.lines().find(|l| l.contains("a child cgroup")) {
        let made = quoted_after(line, "a child cgroup ");
        let name = made.rsplit('/').next().unwrap();
        assert!(!our_cgroup_dir().unwrap().join(name).exists());
    }
}
