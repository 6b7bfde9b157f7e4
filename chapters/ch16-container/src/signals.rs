//! Forwarding signals to one process: what the parent does for the whole
//! container, and what the tiny init does for the command.
//!
//! A handler may call only async-signal-safe functions (signal-safety(7)):
//! this one reads an atomic and calls kill(2), and records the signal for
//! the story, which the interrupted waitpid(2) then tells.
//!
//! The race: a signal that comes after fork or clone but before the new
//! PID is stored would be lost (or, with the default action, kill the
//! forwarder and orphan the container). So the signals are blocked before
//! the fork, and unblocked only once the handler knows where to send them
//! (sigprocmask(2)); a signal that came meanwhile is pending, and is
//! delivered then.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction,
    sigprocmask,
};
use workbook::Result;
use workbook::error::Context;

/// The signals forwarded: the ones a terminal, a service manager or a user
/// sends to stop or poke a program.
pub const FORWARDED: [Signal; 6] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

/// Where the handler sends a signal; 0 while nobody is there yet.
static TARGET: AtomicI32 = AtomicI32::new(0);
/// The last signal forwarded, for the story (0: none since the last look).
static FORWARDED_LAST: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int) {
    let target = TARGET.load(Ordering::Relaxed);
    if target > 0 {
        // Safety: kill(2) is async-signal-safe; a wrong target is at worst
        // ESRCH (it was reaped), which a handler cannot report anyway.
        unsafe { libc::kill(target, signal) };
        FORWARDED_LAST.store(signal, Ordering::Relaxed);
    }
}

fn set() -> SigSet {
    let mut set = SigSet::empty();
    for signal in FORWARDED {
        set.add(signal);
    }
    set
}

/// Block the forwarded signals: call before fork(2) or clone(2).
pub fn block() -> Result<()> {
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set()), None).call(|| {
        "sigprocmask(SIG_BLOCK, {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}, NULL)"
            .into()
    })
}

/// Unblock every signal: the child's first act, since the mask survives
/// execve(2) and the command must receive what is sent to it.
pub fn unblock_all() -> Result<()> {
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .call(|| "sigprocmask(SIG_SETMASK, {}, NULL)".into())
}

/// From now on, send the forwarded signals to `target`; then unblock them.
/// No SA_RESTART: the waitpid(2) they interrupt returns EINTR, and the
/// forwarder says what it did.
pub fn forward_to(target: nix::unistd::Pid) -> Result<()> {
    TARGET.store(target.as_raw(), Ordering::Relaxed);
    let action = SigAction::new(
        SigHandler::Handler(forward),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in FORWARDED {
        // Safety: `forward` is async-signal-safe (see above) and touches
        // only atomics.
        unsafe { sigaction(signal, &action) }
            .call(|| format!("sigaction({signal}, {{forward}}, NULL)"))?;
    }
    sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set()), None)
        .call(|| "sigprocmask(SIG_UNBLOCK, {SIGINT, SIGTERM, ...}, NULL)".into())
}

/// Stop forwarding: the target has ended. Called while it is still a
/// zombie (waitid(2) with WNOWAIT), so its PID cannot have been given to
/// another process yet; the handler runs on this same thread, so none is
/// half-way through a kill(2) when this returns.
pub fn stop_forwarding() {
    TARGET.store(0, Ordering::Relaxed);
}

/// The signal forwarded since the last call, if any.
pub fn take_forwarded() -> Option<Signal> {
    match FORWARDED_LAST.swap(0, Ordering::Relaxed) {
        0 => None,
        n => Signal::try_from(n).ok(),
    }
}

/// Whether process `pid` has a handler for `signal`: bit N-1 of `SigCgt`
/// in /proc/PID/status (proc(5)). PID 1 of a PID namespace receives only
/// the signals it has a handler for, from inside and from outside, SIGKILL
/// and SIGSTOP aside (pid_namespaces(7), "The namespace init process").
pub fn caught_by(pid: nix::unistd::Pid, signal: Signal) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let hex = status.lines().find_map(|l| l.strip_prefix("SigCgt:"))?;
            u64::from_str_radix(hex.trim(), 16).ok()
        })
        .is_some_and(|mask| mask & (1 << (signal as i32 - 1)) != 0)
}
