//! Leaving no process behind: on every path, also Ctrl-C.
//!
//! The choice, for root and for uid-65534 cases alike:
//! - The runner is a child subreaper (PR_SET_CHILD_SUBREAPER, prctl(2)): a
//!   process the case started and left, even one that called setsid(2) to
//!   leave the case's process group, is re-parented to the runner when its
//!   parent dies, instead of to init. So after a case, "kill every child of
//!   the runner, reap, repeat until it has none" ends only when no process of
//!   the case's tree is left: a living descendant always has a living
//!   ancestor chain up to a child of ours. As root the runner may kill uid
//!   65534's processes; unprivileged, they are its own uid's.
//! - SIGINT, SIGTERM and SIGHUP (Ctrl-C, `kill`, a closed terminal) run a
//!   handler that only records the signal and writes a byte to a pipe the
//!   runner polls with the case's pipes; the runner then kills and reaps as
//!   above, removes its directories, and dies of the same signal
//!   (signal-safety(7): write(2) is async-signal-safe).
//! - The case's process gets PR_SET_PDEATHSIG(SIGKILL) before exec: if the
//!   runner is SIGKILLed, which nothing can catch, the kernel kills the case.
//!   Its own children are then re-parented to init and may live on; the
//!   runner's directories are swept by a later run (see `run_dir`).
//! - Not a PID namespace per case: PIDs the case reports (a child, a helper)
//!   would then be numbers of another namespace, and the checks read
//!   `/proc/PID` with them.

use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, Signal, kill, killpg, sigaction,
};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, pipe2};

/// The signals that end a run early, and so must clean up first.
const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// The write end of the pipe the handler writes to (-1: none).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
/// The signal that arrived (0: none).
static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // The handler returns into the runner, which may be reading errno right
    // then: keep it as it was (signal-safety(7), "errno").
    let saved = nix::errno::Errno::last_raw();
    CAUGHT.store(signal, Ordering::SeqCst);
    let byte = [0u8];
    // Safety: write(2) is async-signal-safe; the fd is a non-blocking pipe
    // kept open for the whole run, and `byte` lives on this stack. A full
    // pipe (EAGAIN) already wakes the runner.
    unsafe { libc::write(WAKE_FD.load(Ordering::SeqCst), byte.as_ptr().cast(), 1) };
    nix::errno::Errno::set_raw(saved);
}

/// Make the runner the subreaper of what its cases start, and catch the
/// signals that end a run. Returns the pipe that becomes readable when one
/// arrives.
pub(super) fn guard_run() -> Result<OwnedFd, String> {
    nix::sys::prctl::set_child_subreaper(true)
        .map_err(|e| format!("prctl(PR_SET_CHILD_SUBREAPER) failed: {e}"))?;
    let (wake_rx, wake_tx) = pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
        .map_err(|e| format!("pipe2() failed: {e}"))?;
    // The write end is the handler's until the process ends.
    WAKE_FD.store(wake_tx.as_raw_fd(), Ordering::SeqCst);
    std::mem::forget(wake_tx);
    // SA_RESTART: other blocking calls of the runner (a read, a waitpid)
    // go on; poll(2) is never restarted (signal(7)) and sees the pipe.
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in SIGNALS {
        // Safety: the handler only stores to an atomic and calls write(2),
        // both async-signal-safe.
        unsafe { sigaction(signal, &action) }
            .map_err(|e| format!("sigaction({signal}) failed: {e}"))?;
    }
    Ok(wake_rx)
}

/// The signal that asked the run to stop, if one did.
pub(super) fn interrupted() -> Option<Signal> {
    Signal::try_from(CAUGHT.load(Ordering::SeqCst)).ok()
}

/// Die of `signal`, as the run would have without the handler, so that
/// cargo and the shell see what happened. Call once everything is cleaned.
pub(super) fn die_of(signal: Signal) -> ! {
    // Safety: restoring the default action is always sound.
    let _ = unsafe {
        sigaction(
            signal,
            &SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty()),
        )
    };
    let _ = nix::sys::signal::raise(signal);
    // Not reached for these three signals; just in case, the shell's code.
    std::process::exit(128 + signal as i32)
}

/// The pre_exec part: run in the case's process between fork and exec, so
/// only raw system calls. `runner` is the runner's PID, read before fork.
pub(super) fn die_with_runner(runner: libc::pid_t) -> std::io::Result<()> {
    // Safety: prctl(2) with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // The runner may have died between fork and the prctl: then our parent
    // is already someone else and no signal will come (prctl(2)).
    // Safety: getppid(2) cannot fail.
    if unsafe { libc::getppid() } != runner {
        return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
    }
    Ok(())
}

/// Kill the case's process group at once, then every process of the case's
/// tree (see the module's comment), and reap them all. `case` must not be
/// reaped yet (so its PID is still its own); it is reaped here too, and its
/// wait status is returned.
pub(super) fn kill_all(
    case: &mut std::process::Child,
) -> Option<std::process::ExitStatus> {
    let pid = Pid::from_raw(case.id() as i32);
    // The case's process leads its own group (process_group(0)).
    let _ = killpg(pid, Signal::SIGKILL);
    let _ = kill(pid, Signal::SIGKILL);
    let status = case.wait().ok();
    loop {
        let children = children();
        let killed = (children.iter())
            .filter(|child| kill(**child, Signal::SIGKILL).is_ok())
            .count();
        // Every child killed is dying: wait for one, then look again, since
        // each death may re-parent its own children to us. A child we may
        // not kill (EPERM: it ran a set-user-ID program) is not waited for.
        let flags = match killed {
            0 if !children.is_empty() => WaitPidFlag::__WALL | WaitPidFlag::WNOHANG,
            _ => WaitPidFlag::__WALL,
        };
        match waitpid(None::<Pid>, Some(flags)) {
            Ok(WaitStatus::StillAlive) => break,
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => break, // ECHILD: no child left, so no descendant.
        }
    }
    status
}

/// The runner's children: processes whose parent (field 4 of
/// /proc/PID/stat, proc(5)) is the runner.
fn children() -> Vec<Pid> {
    let me = std::process::id().to_string();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rfind(')')
                    .and_then(|at| stat[at + 1..].split_whitespace().nth(1))
                    == Some(me.as_str())
            })
        })
        .map(Pid::from_raw)
        .collect()
}

/// Adopt a descriptor number returned by a raw system call.
///
/// # Safety
/// `fd` must be open and owned by nothing else.
pub(super) unsafe fn own(fd: i32) -> OwnedFd {
    // Safety: as the caller promised.
    unsafe { OwnedFd::from_raw_fd(fd) }
}
