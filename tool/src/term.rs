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
        let old_actions = install_handler();
        let mut keys = saved.clone();
        keys.local_flags
            .remove(LocalFlags::ICANON | LocalFlags::ECHO);
        keys.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        keys.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
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
