//! Single keys from a terminal: [`KeyMode`] turns off canonical mode and
//! echo on stdin's terminal, so a key arrives without Enter and is not
//! printed, and puts the saved settings back on every way out.
//!
//! termios(3): with ICANON off, read(2) returns as soon as VMIN bytes are
//! there (VMIN=1, VTIME=0: each key, no timer); ECHO off stops the terminal
//! printing the key. ISIG stays on, so Ctrl-C still sends SIGINT; ICRNL and
//! OPOST stay on, so Enter still reads as `\n` and output is unchanged.
//!
//! The way out: the guard's Drop restores (a return, an error, a panic that
//! unwinds). SIGINT, SIGTERM, SIGHUP and SIGQUIT, whose default action ends
//! the process without unwinding, run a handler that restores, then dies of
//! the signal as if there were none (default action, raise(3)); tcsetattr(3)
//! is in signal-safety(7)'s list. SIGKILL cannot be caught; `stty sane` (or
//! `reset`) then puts the terminal right.
//!
//! Ctrl-Z (SIGTSTP) and `fg` (SIGCONT): the shell gets its terminal back as
//! it was, and key mode comes back when the job does. The SIGTSTP handler
//! restores the saved settings, then stops the process with the default
//! action (the classic pattern of less(1) and vi: reset to SIG_DFL, raise);
//! the SIGCONT handler puts key mode back and the SIGTSTP handler with it,
//! but only when the process is in the terminal's foreground (tcgetpgrp(3)),
//! since `bg` continues it in the background, where tcsetattr would stop it
//! again with SIGTTOU.

use std::os::fd::AsFd;
use std::ptr;
use std::sync::OnceLock;

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::sys::termios::{
    LocalFlags, SetArg, SpecialCharacterIndices, Termios, tcgetattr, tcsetattr,
};

const SIGNALS: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// The settings to put back, for the signal handler: set before the
/// handler is installed, and only read after (a plain C struct, no lock).
static SAVED: OnceLock<libc::termios> = OnceLock::new();

/// Key mode's settings, for the SIGCONT handler; set like SAVED.
static KEYS: OnceLock<libc::termios> = OnceLock::new();

/// The job-control signals: SIGTSTP stops with the terminal restored,
/// SIGCONT comes back into key mode.
const JOB_SIGNALS: [Signal; 2] = [Signal::SIGTSTP, Signal::SIGCONT];

/// Stdin's terminal in key mode while this lives.
#[derive(Debug)]
pub struct KeyMode {
    saved: Termios,
    old_actions: Vec<(Signal, SigAction)>,
}

impl KeyMode {
    /// Key mode on stdin's terminal. Err names the call that failed.
    pub fn enter() -> Result<KeyMode, String> {
        let stdin = std::io::stdin();
        let saved = tcgetattr(stdin.as_fd())
            .map_err(|errno| format!("tcgetattr(stdin) failed: {errno}"))?;
        let raw: libc::termios = saved.clone().into();
        // The handler restores the settings of the first KeyMode of this
        // process; a later one (there is none today) sees the same terminal.
        let _ = SAVED.set(raw);
        let mut keys = saved.clone();
        keys.local_flags
            .remove(LocalFlags::ICANON | LocalFlags::ECHO);
        keys.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        keys.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        // Built on the C struct itself: nix's `Termios` into `libc::termios`
        // gives the struct as tcgetattr filled it, without changes made to
        // the public fields since (nix 0.32 syncs them only on its own calls).
        let mut raw_keys = raw;
        raw_keys.c_lflag &= !(libc::ICANON | libc::ECHO);
        raw_keys.c_cc[libc::VMIN] = 1;
        raw_keys.c_cc[libc::VTIME] = 0;
        let _ = KEYS.set(raw_keys);
        let mut old_actions = install_handler();
        old_actions.extend(install_job_control());
        let mode = KeyMode { saved, old_actions };
        // TCSANOW: keys typed before this are kept, not flushed.
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &keys)
            .map_err(|errno| format!("tcsetattr(stdin, TCSANOW) failed: {errno}"))?;
        Ok(mode)
    }
}

impl Drop for KeyMode {
    fn drop(&mut self) {
        let stdin = std::io::stdin();
        let _ = tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &self.saved);
        for (signal, old) in &self.old_actions {
            // Safety: putting back the action that was there before
            // `install_handler`.
            let _ = unsafe { sigaction(*signal, old) };
        }
    }
}

/// Install `on_signal` for SIGNALS, but not where the signal is ignored
/// (`nohup`, a shell's background job): keep ignoring it. Returns the
/// actions to put back.
fn install_handler() -> Vec<(Signal, SigAction)> {
    let mut mask = SigSet::empty();
    for signal in SIGNALS {
        mask.add(signal);
    }
    // While the handler runs, the other signals wait: one restore.
    let action =
        SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, mask);
    let mut old_actions = Vec::new();
    for signal in SIGNALS {
        // Safety: `on_signal` calls only async-signal-safe functions
        // (signal-safety(7)) and reads SAVED, set before this.
        let Ok(old) = (unsafe { sigaction(signal, &action) }) else {
            continue;
        };
        if matches!(old.handler(), SigHandler::SigIgn) {
            // Safety: restoring the action that was there.
            let _ = unsafe { sigaction(signal, &old) };
        } else {
            old_actions.push((signal, old));
        }
    }
    old_actions
}

/// Install `on_stop` for SIGTSTP and `on_continue` for SIGCONT, unless
/// SIGTSTP is ignored (an orphaned process group: no job control, no
/// stop). Returns the actions to put back.
fn install_job_control() -> Vec<(Signal, SigAction)> {
    let mut mask = SigSet::empty();
    for signal in SIGNALS.iter().chain(&JOB_SIGNALS) {
        mask.add(*signal);
    }
    let stop =
        SigAction::new(SigHandler::Handler(on_stop), SaFlags::SA_RESTART, mask);
    let cont =
        SigAction::new(SigHandler::Handler(on_continue), SaFlags::SA_RESTART, mask);
    // Safety: both handlers call only async-signal-safe functions
    // (signal-safety(7)) and read SAVED and KEYS, set before this.
    let Ok(old_stop) = (unsafe { sigaction(Signal::SIGTSTP, &stop) }) else {
        return Vec::new();
    };
    if matches!(old_stop.handler(), SigHandler::SigIgn) {
        // Safety: restoring the action that was there.
        let _ = unsafe { sigaction(Signal::SIGTSTP, &old_stop) };
        return Vec::new();
    }
    let mut old_actions = vec![(Signal::SIGTSTP, old_stop)];
    // Safety: as above.
    if let Ok(old_cont) = unsafe { sigaction(Signal::SIGCONT, &cont) } {
        old_actions.push((Signal::SIGCONT, old_cont));
    }
    old_actions
}

/// Ctrl-Z: give the terminal back as it was, then stop. The raised SIGTSTP
/// is blocked while this handler runs, and stops the process (its default
/// action) as soon as the handler returns.
extern "C" fn on_stop(_: libc::c_int) {
    if let Some(saved) = SAVED.get() {
        // Safety: tcsetattr(3) is async-signal-safe (signal-safety(7));
        // `saved` is a termios that tcgetattr filled.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved) };
    }
    // Safety: sigaction(2) and raise(3) are async-signal-safe; `default` is
    // a zeroed sigaction with SIG_DFL (0) as its handler.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(libc::SIGTSTP, &default, ptr::null_mut());
        libc::raise(libc::SIGTSTP);
    }
}

/// `fg`: key mode again, and the SIGTSTP handler for the next Ctrl-Z. In
/// the background (`bg`) nothing changes: the terminal belongs to another
/// job, and SIGTSTP keeps its default action until watch ends.
extern "C" fn on_continue(_: libc::c_int) {
    // Safety: tcgetpgrp(3), getpgrp(2), tcsetattr(3) and sigaction(2) are
    // async-signal-safe (signal-safety(7)); `keys` is a termios built from
    // tcgetattr's; the action is filled as `install_job_control` does.
    unsafe {
        if libc::tcgetpgrp(libc::STDIN_FILENO) != libc::getpgrp() {
            return;
        }
        if let Some(keys) = KEYS.get() {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, keys);
        }
        let mut stop: libc::sigaction = std::mem::zeroed();
        stop.sa_sigaction =
            on_stop as extern "C" fn(libc::c_int) as libc::sighandler_t;
        stop.sa_flags = libc::SA_RESTART;
        libc::sigfillset(&mut stop.sa_mask);
        libc::sigaction(libc::SIGTSTP, &stop, ptr::null_mut());
    }
}

/// The handler: restore the terminal, then die of the signal as if there
/// had been no handler.
extern "C" fn on_signal(signal: libc::c_int) {
    if let Some(saved) = SAVED.get() {
        // Safety: tcsetattr(3) is async-signal-safe (signal-safety(7));
        // `saved` is a termios that tcgetattr filled.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved) };
    }
    // Safety: sigaction(2) and raise(3) are async-signal-safe
    // (signal-safety(7)); `default` is a zeroed sigaction with SIG_DFL (0)
    // as its handler. The signal is blocked while its handler runs, so the
    // raised one is delivered, with the default action (death), as soon as
    // this handler returns.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(signal, &default, ptr::null_mut());
        libc::raise(signal);
    }
}
