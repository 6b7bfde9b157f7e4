//! The checks of exercise 31: `cargo test -p ex31-userns-first`.
//!
//! Each case runs your code in a fresh process, as root and as uid 65534
//! with no privilege at all (no user namespace of the harness's: making one
//! is your job). `body` reports what the kernel tells it: its uid and PID,
//! its namespaces, and which user namespace owns its UTS namespace
//! (ioctl(NS_GET_USERNS), ioctl_ns(2)). The checks judge that. Before
//! anything else, `body` reads `/proc/self/uid_map`: empty, it started
//! before your parent wrote the maps. To make that mistake show every time,
//! the check holds your parent right after its fork(2) until `body` starts,
//! or 0.3 s pass (a right answer's `body` cannot start before the maps).

use std::fs::File;
use std::process::ExitCode;

use ex31_userns_first as ex;
use nix::errno::Errno;
use nix::unistd::{getpid, getuid};
use testkit::exercise::{
    self, Case, Outcome, Report, call, ensure, report, report_ns, setup,
};
use workbook::ns::NsId;
use workbook::nsfs;
use workbook::process::{self, Child};

pub fn main() -> ExitCode {
    exercise::main(
        "ex31",
        &[Case::new(
            "body_is_root_and_pid_1_in_namespaces_its_user_ns_owns",
            spawns,
        )
        .as_is()
        .after(judged)],
    )
}

/// How many times the case calls `spawn`: a second chance for the race
/// below to show, should a busy machine keep `body` off a CPU for the whole
/// hold.
const RUNS: u32 = 2;

/// How long the parent is held after its fork, at most, for `body` to show
/// it started (milliseconds). A right answer's `body` never starts before
/// the maps, so it pays the whole hold, once per run.
const HOLD_MS: i32 = 300;

/// What `body` tells first: it started before the parent wrote the maps.
const BEFORE_THE_MAPS: &str =
    "body ran before the parent wrote the maps: wait on the pipe first";

fn spawns() -> Outcome {
    for ns_type in ["user", "uts", "pid"] {
        let id = setup("reading /proc/self/ns", NsId::current(ns_type))?;
        report_ns(&format!("start_{ns_type}"), id);
    }
    for _ in 1..RUNS {
        spawn_once(false)?;
    }
    spawn_once(true)
}

/// Call `spawn` once; `body` first notes whether its user namespace has a
/// uid_map yet (user_namespaces(7): empty until the parent writes it), then,
/// if `full`, reports what the kernel tells it.
fn spawn_once(full: bool) -> Outcome {
    let (early_tx, early_rx) = setup("pipe()", process::channel())?;
    let (started_tx, started_rx) = setup("pipe()", process::channel())?;
    hold::arm(&started_rx);
    let spawned = ex::spawn(move || {
        let map = std::fs::read_to_string("/proc/self/uid_map")
            .map_err(|e| e.to_string())?;
        started_tx.notify()?;
        if map.trim().is_empty() {
            early_tx.notify()?;
            return Err(BEFORE_THE_MAPS.into());
        }
        drop(early_tx);
        if full {
            tell()?;
        }
        Ok(())
    });
    hold::disarm();
    let waited = spawned.and_then(Child::wait);
    // EOF once every copy of early_tx is closed: spawn's processes are gone.
    if setup("reading the pipe from body", early_rx.wait())? {
        return Err(BEFORE_THE_MAPS.into());
    }
    call(
        "spawn(body), then waiting for the child it returned",
        waited,
    )
}

/// The race made visible: the parent is held right after its fork(2), until
/// `body` says it started or [`HOLD_MS`] pass, so a child that does not wait
/// for the maps reaches `body` before the parent can write them. A
/// pthread_atfork(3) handler, in the case's process only: spawn's own code
/// is the learner's, and the maps are written with workbook's `write_proc`.
mod hold {
    use std::os::fd::{AsFd, AsRawFd};
    use std::sync::Once;
    use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

    use nix::libc;
    use workbook::process::Receiver;

    /// The pipe `body` writes to when it starts; -1 when not armed.
    static STARTED_FD: AtomicI32 = AtomicI32::new(-1);
    /// The case's process: the only one held.
    static CASE_PID: AtomicU32 = AtomicU32::new(0);

    pub(super) fn arm(started: &Receiver) {
        static REGISTER: Once = Once::new();
        REGISTER.call_once(|| {
            // Safety: registers a plain extern "C" fn, no prepare or child
            // handler; the case's process has one thread.
            unsafe { libc::pthread_atfork(None, Some(after_fork), None) };
        });
        CASE_PID.store(std::process::id(), Ordering::SeqCst);
        STARTED_FD.store(started.as_fd().as_raw_fd(), Ordering::SeqCst);
    }

    pub(super) fn disarm() {
        STARTED_FD.store(-1, Ordering::SeqCst);
    }

    /// In the parent after each fork: the first one after `arm` waits for
    /// `body` to start, or HOLD_MS.
    extern "C" fn after_fork() {
        if CASE_PID.load(Ordering::SeqCst) != std::process::id() {
            return;
        }
        let fd = STARTED_FD.swap(-1, Ordering::SeqCst);
        if fd < 0 {
            return;
        }
        let mut pollfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // Safety: one live pollfd for the whole call; `fd` is the read end
        // of a pipe that spawn_once keeps open until after spawn returns.
        unsafe { libc::poll(&raw mut pollfd, 1, super::HOLD_MS) };
    }
}

/// What `body` reports: its uid and PID, its namespaces, and the owner of
/// its UTS namespace.
fn tell() -> workbook::Result<()> {
    report("uid", getuid());
    report("pid", getpid());
    report_ns("user", NsId::current("user")?);
    report_ns("uts", NsId::current("uts")?);
    report_ns("pid_ns", NsId::current("pid")?);
    let uts = File::open("/proc/self/ns/uts").map_err(|e| e.to_string())?;
    // ioctl_ns(2): EPERM when the owner is above the caller's user
    // namespace, out of its sight.
    match nsfs::owner_id(&uts, "fd of /proc/self/ns/uts") {
        Ok(owner) => report_ns("uts_owner", owner),
        Err(err) if err.errno() == Some(Errno::EPERM) => {
            report("uts_owner_above", "yes")
        }
        Err(err) => return Err(err),
    }
    Ok(())
}

fn judged(r: &Report) -> Outcome {
    let Ok(uid) = r.get("uid") else {
        return Err(
            "body was never run: spawn must run it in the process it starts".into(),
        );
    };
    let (user, uts, pid_ns) = (r.ns("user")?, r.ns("uts")?, r.ns("pid_ns")?);
    ensure(user != r.ns("start_user")?, || {
        format!(
            "body ran in the caller's user namespace {user}: create a new one first \
             (unshare(CLONE_NEWUSER) in the child)"
        )
    })?;
    ensure(uts != r.ns("start_uts")?, || {
        format!(
            "body ran in the caller's UTS namespace {uts}: create a new one (CLONE_NEWUTS)"
        )
    })?;
    ensure(r.get("uts_owner_above").is_err(), || {
        format!(
            "body's UTS namespace {uts} belongs to a user namespace above its own {user}: a \
             namespace belongs to the user namespace its creator was in at that moment, so \
             create the user namespace first"
        )
    })?;
    let owner = r.ns("uts_owner")?;
    ensure(owner == user, || {
        format!(
            "body's UTS namespace {uts} belongs to {owner}, not to its user namespace {user}: \
             a namespace belongs to the user namespace its creator was in at that moment, so \
             create the user namespace first"
        )
    })?;
    ensure(pid_ns != r.ns("start_pid")?, || {
        format!(
            "body ran in the caller's PID namespace {pid_ns}: unshare(CLONE_NEWPID), then fork; \
             the caller itself never moves"
        )
    })?;
    let pid = r.get("pid")?;
    ensure(pid == "1", || {
        format!(
            "body ran as PID {pid} of a new PID namespace, not PID 1: run it in the first \
             child forked after unshare(CLONE_NEWPID)"
        )
    })?;
    ensure(uid == "0", || {
        match uid {
        "65534" => "body ran as uid 65534, the overflow uid: its user namespace had no uid_map \
                    yet. The parent writes /proc/PID/uid_map and gid_map; the child waits on a \
                    pipe until it has"
            .into(),
        _ => format!(
            "body ran as uid {uid}, not 0: map 0 inside to the parent's own uid (\"0 UID 1\")"
        ),
    }
    })
}
