//! The host check judges only what its own run could have done.
//!
//! While a check is running, a mount and a /tmp entry made elsewhere (here,
//! in another run's directory, as a second `cargo test` on the machine
//! would) are not blamed on the run; the same made inside the run's own
//! directory are. Every test cleans up what it made: the [`RunDir`]s detach
//! their mounts and remove themselves when dropped, also after a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Once;

use nix::mount::{MsFlags, mount};
use testkit::{Example, RunDir, on_host, remove_leftovers, skip};

testkit::cases!(
    what_a_killed_run_left_is_removed_by_the_next,
    a_mount_and_a_temp_entry_elsewhere_are_not_the_runs,
    a_mount_and_an_entry_in_the_runs_directory_are_the_runs,
    each_run_has_its_own_tmpdir_and_is_judged_on_it,
);

/// Mount a small tmpfs on a new directory `dir/name`, in the host's mount
/// namespace (the test's own).
fn mount_tmpfs(dir: &Path, name: &str) {
    let point = dir.join(name);
    fs::create_dir(&point).unwrap();
    mount(
        Some("tmpfs"),
        &point,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("size=64k"),
    )
    .unwrap_or_else(|e| panic!("mount tmpfs on {}: {e}", point.display()));
}

/// A mount needs root in the host's mount namespace.
fn root() -> Option<()> {
    match nix::unistd::geteuid().is_root() {
        true => Some(()),
        false => skip(&format!(
            "mounting on the host needs root (`{}`)",
            workbook::root_cases::COMMAND
        )),
    }
}

thread_local! {
    /// A panic expected on this thread: not printed.
    static EXPECTED: Cell<bool> = const { Cell::new(false) };
}

/// The panic message of `run`, which must panic. The panic is not printed
/// (the harness does not capture output): only the cases' own are.
fn panic_of(run: impl FnOnce()) -> String {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let print = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !EXPECTED.get() {
                print(info);
            }
        }));
    });
    EXPECTED.set(true);
    let result = catch_unwind(AssertUnwindSafe(run));
    EXPECTED.set(false);
    let payload = result.expect_err("the check passed");
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

fn a_mount_and_a_temp_entry_elsewhere_are_not_the_runs() {
    if root().is_none() {
        return;
    }
    let ours = RunDir::new();
    let mut theirs = None;
    on_host(&ours, || {
        // Another run's directory, a new entry of /tmp, with a file and a
        // mount in it.
        let other = RunDir::new();
        mount_tmpfs(other.path(), "mnt");
        fs::write(other.path().join("left"), "").unwrap();
        theirs = Some(other);
        Some(())
    })
    .expect("the check passed");
    let other = theirs.unwrap();
    assert_eq!(other.mounts().len(), 1, "the other mount was up all along");
    let path = other.path().to_owned();
    drop(other);
    assert!(!path.exists(), "{} was not removed", path.display());
}

fn a_mount_and_an_entry_in_the_runs_directory_are_the_runs() {
    if root().is_none() {
        return;
    }
    let ours = RunDir::new();
    let message = panic_of(|| {
        on_host(&ours, || {
            mount_tmpfs(ours.path(), "mnt");
            fs::write(ours.path().join("left"), "").unwrap();
            Some(())
        });
    });
    let point = ours.path().join("mnt");
    assert!(
        message.contains(&format!("{} tmpfs tmpfs", point.display())),
        "{message}"
    );
    assert!(message.contains("left [\"left\", \"mnt\"]"), "{message}");
    // Dropping the directory detaches the mount and removes it all.
    let path = ours.path().to_owned();
    drop(ours);
    assert!(!path.exists(), "{} was not removed", path.display());
}

/// Every example run gets a fresh `TMPDIR` of its own, and is checked on
/// it: a file left there is the run's; one left in /tmp is not.
fn each_run_has_its_own_tmpdir_and_is_judged_on_it() {
    let sh = Example::new("/bin/sh");
    let outside = format!("/tmp/workbook-host-check-{}.outside", std::process::id());
    let ran = sh.run_plain(&["-c", &format!("echo \"$TMPDIR\"; mkdir {outside}")]);
    let tmpdir = ran.success().trim().to_owned();
    assert!(
        tmpdir.starts_with("/tmp/workbook-run."),
        "TMPDIR was {tmpdir:?}"
    );
    assert!(!Path::new(&tmpdir).exists(), "the run's TMPDIR was removed");
    fs::remove_dir(&outside).unwrap();

    let message = panic_of(|| {
        sh.run_plain(&["-c", "mkdir \"$TMPDIR/left\""]);
    });
    assert!(message.contains("changed the host"), "{message}");
    assert!(message.contains("left [\"left\"]"), "{message}");
    // Normalised, the run's TMPDIR reads as /tmp does: `$TMP`.
    let ran = sh.run_plain(&["-c", "echo \"$TMPDIR/ch02-unshare.a8Zk3Q\""]);
    assert_eq!(ran.normalized(), "$TMP/ch02-unshare.XXXXXX\n");
}

/// A test process killed mid-run leaves its run directory, maybe with a
/// mount in it; the next removes it, and never a live run's.
fn what_a_killed_run_left_is_removed_by_the_next() {
    let pid_ns = fs::read_link("/proc/self/ns/pid").unwrap();
    let pid_ns = pid_ns.to_str().unwrap();
    let pid_ns = &pid_ns["pid:[".len()..pid_ns.len() - 1];
    // A process that is gone: its PID, and a start time it never had.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let template = format!("/tmp/workbook-run.{pid_ns}.{}.1.XXXXXX", gone.id());
    let left = nix::unistd::mkdtemp(template.as_str()).unwrap();
    fs::write(left.join("file"), "").unwrap();
    let root = nix::unistd::geteuid().is_root();
    if root {
        mount_tmpfs(&left, "mnt");
    }
    let live = RunDir::new();

    let removed = remove_leftovers();
    // Another test process may have removed it first; either way it is gone.
    assert!(!left.exists(), "{} is still there", left.display());
    if let Some((_, mounts)) = removed.iter().find(|(path, _)| *path == left) {
        assert_eq!(*mounts, usize::from(root), "{removed:?}");
    }
    assert!(live.path().exists(), "a live run's directory was removed");
}
