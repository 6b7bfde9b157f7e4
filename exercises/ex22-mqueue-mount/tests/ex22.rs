//! The checks of exercise 22: `cargo test -p ex22-mqueue-mount`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user. The harness first moves that process into a throwaway
//! mount namespace (made private) and a throwaway IPC namespace, so that
//! even a wrong answer can neither mount on the host nor leave a queue in
//! the host's IPC namespace. The checks then ask the kernel what is mounted
//! on the directory and what that mount lists, through /proc/PID/root.

use std::fs;
use std::process::ExitCode;

use ex22_mqueue_mount as ex;
use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, mq_close, mq_open};
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use testkit::exercise::{
    self, Case, Outcome, Probe, call, ensure, mount_at, ns_of, path_in,
};
use workbook::ns::NsId;

const QUEUE: &str = "/ex22";
/// Made by the case after the learner's queue: sorted, it comes last; the
/// kernel lists it first (6.18: newest first).
const SECOND: &str = "/z-ex22";

pub fn main() -> ExitCode {
    exercise::main(
        "ex22",
        &[
            Case::new("queue_listed_by_its_own_mount", listed).check(shows_queue),
            Case::new("mount_refused_without_a_new_ipc_namespace", refused)
                .check(nothing_mounted),
        ],
    )
}

fn listed() -> Outcome {
    exercise::isolate(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWIPC)?;
    let ipc = exercise::setup("reading /proc/self/ns/ipc", NsId::current("ipc"))?;
    exercise::report_ns("start", ipc);
    let dir = exercise::temp_dir()?;
    exercise::report("dir", dir.display());
    call(
        &format!("queue_in_own_mount({dir:?}, {QUEUE:?})"),
        ex::queue_in_own_mount(&dir, QUEUE),
    )?;
    // A second queue, the test's own, so that the order of the list shows.
    let oflag = MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDWR;
    let attr = MqAttr::new(0, 1, 8, 0);
    let mode = Mode::from_bits_truncate(0o600);
    let second = mq_open(SECOND, oflag, mode, Some(&attr));
    let mqd = exercise::setup(&format!("mq_open({SECOND:?})"), second)?;
    exercise::setup("mq_close", mq_close(mqd))?;
    let names = call(&format!("queues_in({dir:?})"), ex::queues_in(&dir))?;
    exercise::report("listed", format!("{names:?}"));
    Ok(())
}

fn shows_queue(p: &Probe) -> Outcome {
    let now = ns_of(p.child, "ipc")?;
    let start = p.ns("start")?;
    ensure(now != start, || {
        format!(
            "the process is still in {now}, where it started: queue_in_own_mount made no new \
             IPC namespace"
        )
    })?;
    let dir = p.path("dir")?;
    let mounted = mount_at(p.child, &dir)?;
    let fstype = mounted.map(|m| m.fstype);
    ensure(fstype.as_deref() == Some("mqueue"), || match &fstype {
        None => format!("nothing is mounted on {}", dir.display()),
        Some(other) => {
            format!("{other} is mounted on {}, not mqueue", dir.display())
        }
    })?;
    let seen = path_in(p.child, &dir);
    let mut names: Vec<String> = fs::read_dir(&seen)
        .map_err(|e| format!("could not list {}: {e}", seen.display()))?
        .filter_map(|entry| {
            Some(entry.ok()?.file_name().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    let name = &QUEUE[1..];
    ensure(names.iter().any(|n| n == name), || {
        format!(
            "the mqueue mount on {} lists {names:?}, not {name:?}: a mount shows the IPC \
             namespace its mounter was in at mount(2), so both the queue and the mount must \
             come after unshare(CLONE_NEWIPC)",
            dir.display()
        )
    })?;
    let reported = p.get("listed")?;
    let expected = format!("{names:?}");
    ensure(reported == expected, || {
        format!(
            "queues_in returned {reported}, but the mount lists {expected}: the names of the \
             directory's entries, sorted"
        )
    })
}

/// Root of a user namespace of its own, in a mount namespace it owns, but
/// in an IPC namespace an ancestor user namespace owns: the kernel refuses
/// the mqueue mount.
fn refused() -> Outcome {
    let dir = exercise::temp_dir()?;
    exercise::report("dir", dir.display());
    exercise::new_user_namespace()?;
    exercise::isolate(CloneFlags::CLONE_NEWNS)?;
    match ex::mount_mqueue(&dir) {
        Ok(()) => Err(format!(
            "mount_mqueue({dir:?}) succeeded in an IPC namespace this user namespace does not \
             own: it must only mount (no unshare of its own), and the kernel should refuse"
        )),
        Err(err) if err.errno() == Some(Errno::EPERM) => {
            let text = err.to_string();
            ensure(text.contains("mount("), || {
                format!(
                    "the error does not name the call: {}",
                    exercise::sentence(&err)
                )
            })
        }
        Err(err) => Err(format!(
            "mount_mqueue should fail with EPERM here, but it said: {}",
            exercise::sentence(&err)
        )),
    }
}

fn nothing_mounted(p: &Probe) -> Outcome {
    let dir = p.path("dir")?;
    let mounted = mount_at(p.child, &dir)?;
    ensure(mounted.is_none(), || {
        format!(
            "something is mounted on {} although the mount was refused",
            dir.display()
        )
    })
}
