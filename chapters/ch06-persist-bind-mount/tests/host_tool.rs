//! ch06's host subcommands (`create`, `join`, `remove`) against hostile
//! paths, races and kills: they change the host's mount table on purpose,
//! so they must change nothing that is not their own.
//!
//! Every test needs root (it skips otherwise, and fails under CI), makes its
//! host mounts only inside a fresh directory of its own under /tmp, judges
//! only that directory (and the one pseudo-file it names), proves its mounts
//! are gone at the end, and removes the directory even when it fails.
//! Nothing here sleeps: tests wait on a child's lines, its exit, or the
//! directory lock it holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};

use nix::fcntl::{Flock, FlockArg, OFlag};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use testkit::{Example, Ran, RunDir, User, skip};

testkit::cases!(
    create_refuses_kernel_pseudo_files,
    empty_arguments_are_usage_errors,
    of_50_concurrent_creates_exactly_one_mounts,
    remove_leaves_a_file_create_did_not_make,
    remove_deletes_the_file_create_made,
    remove_refuses_an_nsfs_mount_create_did_not_make,
    remove_finishes_what_a_killed_create_left,
    create_killed_at_any_line_is_undone_by_remove,
    sigint_lands_after_create_is_done_or_undone,
    create_undoes_its_work_when_the_kernel_refuses,
);

const BIN: &str = env!("CARGO_BIN_EXE_ch06-persist-bind-mount");
/// The mark `create` leaves, as the book and the usage text name it.
const MARK: &str = "trusted.ch06-persist-bind-mount";

/// Root, or skip: these tests mount on the host.
fn root() -> Option<()> {
    if nix::unistd::geteuid().is_root() {
        return Some(());
    }
    skip(&format!(
        "the host subcommands need root (`{} -p ch06-persist-bind-mount`)",
        workbook::root_cases::COMMAND
    ))
}

fn run(args: &[&str]) -> Ran {
    Example::new(BIN)
        .run(User::Root, args)
        .expect("root checked")
}

/// How many mounts sit exactly on `path` in the host's mount table.
fn mounts_at(path: &Path) -> usize {
    host_mounts()
        .iter()
        .filter(|m| m.mount_point == path)
        .count()
}

fn host_mounts() -> Vec<workbook::mountinfo::Mount> {
    workbook::mountinfo::read("/proc/thread-self/mountinfo").expect("mountinfo")
}

/// create's mark on `path` (not following a symlink), if any.
fn mark_of(path: &Path) -> Option<String> {
    let mut value = [0u8; 64];
    let len = rustix::fs::lgetxattr(path, MARK, &mut value[..]).ok()?;
    Some(String::from_utf8_lossy(&value[..len]).into_owned())
}

/// A directory of the test's own ([`RunDir`]: under /tmp, removed by the
/// next test process if this one is killed). Dropped, even by a failed
/// assertion, it detaches every mount left under it, then removes it all,
/// never across a mount.
struct TestDir {
    run: RunDir,
}

impl TestDir {
    fn new() -> TestDir {
        TestDir { run: RunDir::new() }
    }

    fn file(&self, name: &str) -> PathBuf {
        PathBuf::from(self.run.file(name))
    }

    /// Mounts under the directory (not the directory itself).
    fn mounts(&self) -> Vec<PathBuf> {
        let own = self.run.path();
        self.run.mounts().into_iter().filter(|m| m != own).collect()
    }

    /// The proof every test ends with: none of its mounts is left.
    fn assert_no_mounts(&self) {
        assert_eq!(self.mounts(), Vec::<PathBuf>::new(), "a mount was left");
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.run.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Wait until no process holds the directory's lock: create's forked
    /// child keeps it (a copy of the descriptor) until it exits, also when
    /// its parent was killed first.
    fn wait_for_lock(&self) {
        let dir = File::open(self.run.path()).expect("open dir");
        let _locked = Flock::lock(dir, FlockArg::LockExclusive).expect("flock");
    }
}

/// A pseudo-file the test points `create` at. Should a broken `create`
/// cover it after all, the drop takes that mount away again at once.
struct Watched {
    path: PathBuf,
    mounts: usize,
}

impl Drop for Watched {
    fn drop(&mut self) {
        while mounts_at(&self.path) > self.mounts {
            if umount2(&self.path, MntFlags::MNT_DETACH).is_err() {
                break;
            }
        }
    }
}

fn to_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn create_refuses_kernel_pseudo_files() {
    if root().is_none() {
        return;
    }
    let dir = TestDir::new();
    // A cgroup2 mount of the test's own: its cgroup.procs is the same kernel
    // interface as /sys/fs/cgroup's, on any cgroup layout, and a broken
    // create would cover only this mount's copy of it.
    let cgroup = dir.file("cgroup");
    fs::create_dir(&cgroup).unwrap();
    mount(
        Some("cgroup2"),
        &cgroup,
        Some("cgroup2"),
        MsFlags::empty(),
        None::<&str>,
    )
    .expect("mount -t cgroup2");
    let pseudo = [
        PathBuf::from("/proc/sys/kernel/hostname"),
        PathBuf::from("/proc/sys/net/ipv4/ip_forward"),
        cgroup.join("cgroup.procs"),
    ];
    for path in &pseudo {
        let watched = Watched {
            path: path.clone(),
            mounts: mounts_at(path),
        };
        assert_eq!(
            fs::metadata(path).unwrap().len(),
            0,
            "{path:?} reports size 0"
        );
        let ran = run(&["create", to_str(path)]);
        let err = ran.failure(1);
        assert!(err.contains("kernel pseudo-file"), "{path:?}: {err}");
        assert!(
            err.contains("covering it would hide a kernel interface"),
            "{path:?}: {err}"
        );
        assert!(ran.stdout.is_empty(), "{path:?}: {}", ran.stdout);
        assert_eq!(mounts_at(path), watched.mounts, "{path:?} was covered");
    }
    umount2(&cgroup, MntFlags::empty()).expect("umount cgroup2");
    dir.assert_no_mounts();
}

fn empty_arguments_are_usage_errors() {
    for command in ["create", "join", "remove"] {
        let ran = Example::new(BIN).run_plain(&[command, ""]);
        let err = ran.failure(2);
        assert!(err.contains("PATH is empty"), "{command}: {err}");
        assert!(err.contains("Usage:"), "{command}: {err}");
    }
}

fn of_50_concurrent_creates_exactly_one_mounts() {
    if root().is_none() {
        return;
    }
    let dir = TestDir::new();
    let path = dir.file("ns");
    // A starting gate: each shell waits for its line on one pipe, then
    // becomes create; the 50 lines go in one write, so all start at once.
    let (gate, opener) = nix::unistd::pipe2(OFlag::O_CLOEXEC).expect("pipe2");
    let children: Vec<_> = (0..50)
        .map(|_| {
            Command::new("/bin/sh")
                .args(["-c", "read -r _ && exec \"$0\" create \"$1\""])
                .args([BIN, to_str(&path)])
                .stdin(gate.try_clone().expect("dup"))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn create")
        })
        .collect();
    drop(gate);
    nix::unistd::write(&opener, "\n".repeat(50).as_bytes()).expect("open the gate");
    drop(opener);
    let outputs: Vec<_> = children
        .into_iter()
        .map(|child| child.wait_with_output().expect("wait"))
        .collect();
    let won = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(won, 1, "exactly one create succeeds");
    for lost in outputs.iter().filter(|o| !o.status.success()) {
        let err = String::from_utf8_lossy(&lost.stderr);
        assert_eq!(lost.status.code(), Some(1), "{err}");
        assert!(
            err.contains("another process holds the lock")
                || err.contains("is already a mount point (of nsfs)"),
            "a refusal names its reason: {err}"
        );
    }
    assert_eq!(mounts_at(&path), 1, "one nsfs mount");
    run(&["remove", to_str(&path)]).success();
    assert!(
        fs::symlink_metadata(&path).is_err(),
        "the file create made is gone"
    );
    dir.assert_no_mounts();
}

fn remove_leaves_a_file_create_did_not_make() {
    if root().is_none() {
        return;
    }
    let dir = TestDir::new();
    let marker = dir.file("marker");
    fs::write(&marker, "").unwrap();
    let created = run(&["create", to_str(&marker)]);
    created.success();
    assert_eq!(mounts_at(&marker), 1);
    let removed = run(&["remove", to_str(&marker)]);
    removed.success();
    assert!(fs::metadata(&marker).unwrap().is_file(), "the file stays");
    assert_eq!(mark_of(&marker), None, "and its mark is gone");
    dir.assert_no_mounts();
    // And both said so.
    assert!(
        created.stdout.contains("create did not make it"),
        "{}",
        created.stdout
    );
    assert!(
        removed.stdout.contains("beneath lies create's file"),
        "{}",
        removed.stdout
    );
    assert!(removed.stdout.contains("left"), "{}", removed.stdout);
}

fn remove_deletes_the_file_create_made() {
    if root().is_none() {
        return;
    }
    let dir = TestDir::new();
    let path = dir.file("ns");
    run(&["create", to_str(&path), "made"]).success();
    assert_eq!(mounts_at(&path), 1);
    let removed = run(&["remove", to_str(&path)]);
    let out = removed.success();
    assert!(out.contains("beneath lies create's file"), "{out}");
    assert!(out.contains("\"made\""), "{out}");
    assert!(fs::symlink_metadata(&path).is_err(), "the file is gone");
    assert_eq!(dir.entries(), Vec::<String>::new());
    dir.assert_no_mounts();
}

fn remove_refuses_an_nsfs_mount_create_did_not_make() {
    if root().is_none() {
        return;
    }
    let dir = TestDir::new();
    // What `mount --bind /proc/self/ns/uts FILE` or `ip netns add` leave.
    let theirs = dir.file("theirs");
    fs::write(&theirs, "").unwrap();
    bind_own_uts(&theirs);
    let ran = run(&["remove", to_str(&theirs)]);
    let err = ran.failure(1);
    assert!(err.contains("is not create's"), "{err}");
    assert_eq!(mounts_at(&theirs), 1, "their mount stays");
    umount2(&theirs, MntFlags::empty()).unwrap();
    assert!(fs::metadata(&theirs).unwrap().is_file(), "their file stays");

    // Theirs on top of create's: the top one is not create's either.
    let ours = dir.file("ours");
    run(&["create", to_str(&ours)]).success();
    bind_own_uts(&ours);
    let err = run(&["remove", to_str(&ours)]).failure(1).to_owned();
    assert!(err.contains("sits on another mount"), "{err}");
    assert_eq!(mounts_at(&ours), 2, "both mounts stay");
    umount2(&ours, MntFlags::empty()).unwrap();
    run(&["remove", to_str(&ours)]).success();
    assert_eq!(dir.entries(), ["theirs"]);
    dir.assert_no_mounts();
}

/// Bind the test process's own UTS namespace (the host's) onto `file`.
fn bind_own_uts(file: &Path) {
    mount(
        Some("/proc/self/ns/uts"),
        file,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .expect("mount --bind /proc/self/ns/uts");
}

fn remove_finishes_what_a_killed_create_left() {
    if root().is_none() {
        return;
    }
    let dir = TestDir::new();
    // The two states SIGKILL can leave between mark and mount, made by hand.
    let made = dir.file("made");
    let found = dir.file("found");
    for (path, mark) in [(&made, "made"), (&found, "found")] {
        fs::write(path, "").unwrap();
        rustix::fs::lsetxattr(
            path,
            MARK,
            mark.as_bytes(),
            rustix::fs::XattrFlags::CREATE,
        )
        .expect("setxattr");
        // create will not start over it: that is remove's to finish.
        let err = run(&["create", to_str(path)]).failure(1).to_owned();
        assert!(err.contains("carries create's mark"), "{err}");
        assert_eq!(mounts_at(path), 0);
        let ran = run(&["remove", to_str(path)]);
        let out = ran.success();
        assert!(out.contains("killed halfway"), "{out}");
    }
    assert!(
        fs::symlink_metadata(&made).is_err(),
        "create's file is gone"
    );
    assert_eq!(dir.entries(), ["found"]);
    assert_eq!(mark_of(&found), None);
    dir.assert_no_mounts();
}

/// A create started in a process group of its own, its stdout read line by
/// line.
fn start_create(path: &Path) -> (std::process::Child, BufReader<ChildStdout>) {
    let mut child = Command::new(BIN)
        .args(["create", to_str(path)])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn create");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    (child, stdout)
}

/// Read up to `n` lines (fewer if create ends first).
fn read_lines(stdout: &mut BufReader<ChildStdout>, n: usize) -> String {
    let mut text = String::new();
    for _ in 0..n {
        if stdout.read_line(&mut text).expect("read") == 0 {
            break;
        }
    }
    text
}

/// The file create was given: absent, or (made beforehand) still there.
fn prepare(dir: &TestDir, found: bool) -> PathBuf {
    let path = dir.file(if found { "found" } else { "made" });
    if found {
        fs::write(&path, "").unwrap();
    }
    path
}

/// After `remove` (if anything was left), the directory is as before.
fn assert_undone(dir: &TestDir, path: &Path, found: bool, what: &str) {
    dir.assert_no_mounts();
    if found {
        assert_eq!(dir.entries(), ["found"], "{what}");
        assert_eq!(mark_of(path), None, "{what}: the mark is gone");
    } else {
        assert_eq!(dir.entries(), Vec::<String>::new(), "{what}");
    }
}

fn create_killed_at_any_line_is_undone_by_remove() {
    if root().is_none() {
        return;
    }
    let dir = TestDir::new();
    for found in [false, true] {
        for lines in 0..=5 {
            // The whole group (create and its child), or create alone,
            // whose child then finishes the mount with nobody to report it.
            for group in [true, false] {
                let path = prepare(&dir, found);
                let what = format!(
                    "found {found}, SIGKILL after {lines} lines, group {group}"
                );
                let (mut child, mut stdout) = start_create(&path);
                let before = read_lines(&mut stdout, lines);
                let what = format!("{what}; create had printed:\n{before}");
                let pid = Pid::from_raw(child.id() as i32);
                if group {
                    let _ = killpg(pid, Signal::SIGKILL);
                } else {
                    let _ = kill(pid, Signal::SIGKILL);
                }
                child.wait().expect("wait");
                dir.wait_for_lock();
                drop(stdout);
                // Left: nothing, or what remove must undo completely.
                let made_left = !found && fs::symlink_metadata(&path).is_ok();
                if made_left || mounts_at(&path) > 0 || mark_of(&path).is_some() {
                    let ran = run(&["remove", to_str(&path)]);
                    ran.success();
                }
                assert_undone(&dir, &path, found, &what);
            }
        }
    }
}

fn sigint_lands_after_create_is_done_or_undone() {
    if root().is_none() {
        return;
    }
    let dir = TestDir::new();
    for found in [false, true] {
        for lines in 0..=4 {
            let path = prepare(&dir, found);
            let what = format!("found {found}, SIGINT after {lines} lines");
            let (mut child, mut stdout) = start_create(&path);
            let mut out = read_lines(&mut stdout, lines);
            // Ctrl-C: the whole foreground group gets it.
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGINT);
            out += &read_lines(&mut stdout, usize::MAX);
            child.wait().expect("wait");
            dir.wait_for_lock();
            let mounted = mounts_at(&path) == 1;
            // Never a mount nobody reported, nor a file without its mount.
            assert_eq!(
                mounted,
                out.contains("the bind mount holds it"),
                "{what}:\n{out}"
            );
            if !found {
                assert_eq!(
                    fs::symlink_metadata(&path).is_ok(),
                    mounted,
                    "{what}: a file without a mount:\n{out}"
                );
            }
            if mounted {
                run(&["remove", to_str(&path)]).success();
            }
            assert_undone(&dir, &path, found, &what);
        }
    }
}

/// Run create as root with a seccomp filter that makes unshare(2) fail with
/// EPERM, as a container's profile would: the kernel refuses the namespace
/// after create made and marked its file, so create must undo both.
/// Returns the exit code and stderr.
fn create_where_unshare_is_refused(path: &Path) -> (Option<i32>, String) {
    // struct seccomp_data starts with the system call number (seccomp(2)).
    // A filter for this test only, not for security: it does not check the
    // architecture.
    let filter = [
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: libc::SYS_unshare as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        },
    ];
    let mut cmd = Command::new(BIN);
    cmd.args(["create", to_str(path)]).stdin(Stdio::null());
    // Safety: the hook runs in the forked child before exec and makes one
    // system call, prctl(2), on the filter copied into the child with the
    // closure; the program points into it only for that call.
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr().cast_mut(),
            };
            let mode = libc::SECCOMP_MODE_FILTER as libc::c_ulong;
            if libc::prctl(libc::PR_SET_SECCOMP, mode, &prog) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = cmd.output().expect("run create");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (output.status.code(), stderr)
}

fn create_undoes_its_work_when_the_kernel_refuses() {
    if root().is_none() {
        return;
    }
    let dir = TestDir::new();
    for found in [false, true] {
        let path = prepare(&dir, found);
        let (code, err) = create_where_unshare_is_refused(&path);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("unshare(CLONE_NEWUTS) failed: EPERM"), "{err}");
        assert!(err.contains("undid create"), "{err}");
        assert_undone(&dir, &path, found, &format!("found {found}"));
    }
}
