//! Errors a learner can act on.
//!
//! Every failing system call becomes an [`Error::Sys`] that names the call as
//! the program made it (`unshare(CLONE_NEWUTS)`), the errno the kernel gave,
//! and a hint: the likely cause on this machine and the command that fixes it.
//! Nothing here panics; `main` prints the error and exits with its code.

use std::fmt;

use nix::errno::Errno;

use crate::hint;

/// Exit code for a command line that is wrong (like `sysexits`' EX_USAGE, but
/// the common shell convention of 2).
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the kernel or the example refused to go on.
pub const EXIT_REFUSED: u8 = 1;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum Error {
    /// The arguments are malformed: exit 2, with the usage line.
    Usage(String),
    /// A system call failed.
    Sys {
        /// The call as the program made it, e.g. `setns(/proc/42/ns/uts, CLONE_NEWUTS)`.
        call: String,
        errno: Errno,
        /// What probably caused it here, and what to do.
        hint: String,
    },
    /// The example will not go on, to keep the machine safe or because the
    /// input is not what it must be (not a namespace file, not our mount...).
    Refused { what: String, hint: String },
}

impl Error {
    /// A failed system call, with the hint chosen for that call and errno.
    pub fn sys(call: impl Into<String>, errno: Errno) -> Self {
        let call = call.into();
        let hint = hint::for_call(&call, errno);
        Error::Sys { call, errno, hint }
    }

    /// A failed system call whose hint the caller knows better.
    pub fn sys_with_hint(
        call: impl Into<String>,
        errno: Errno,
        hint: impl Into<String>,
    ) -> Self {
        Error::Sys {
            call: call.into(),
            errno,
            hint: hint.into(),
        }
    }

    /// A std::io error from a call std made for us (open, write, read...).
    pub fn io(call: impl Into<String>, err: &std::io::Error) -> Self {
        let errno = Errno::from_raw(err.raw_os_error().unwrap_or(0));
        Error::sys(call, errno)
    }

    pub fn refused(what: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Refused {
            what: what.into(),
            hint: hint.into(),
        }
    }

    pub fn usage(what: impl Into<String>) -> Self {
        Error::Usage(what.into())
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Sys { .. } | Error::Refused { .. } => EXIT_REFUSED,
        }
    }

    /// The errno, for callers that react to one (e.g. ENOENT means "no such
    /// process" when opening `/proc/PID/...`).
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Sys { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(what) => write!(f, "error: {what}"),
            Error::Sys { call, errno, hint } => {
                // `Errno`'s Display is "EPERM: Operation not permitted".
                write!(f, "error: {call} failed: {errno}")?;
                if !hint.is_empty() {
                    write!(f, "\nhint: {hint}")?;
                }
                Ok(())
            }
            Error::Refused { what, hint } => {
                write!(f, "error: {what}")?;
                if !hint.is_empty() {
                    write!(f, "\nhint: {hint}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand: map a nix result to an [`Error::sys`] naming `call`.
pub trait Context<T> {
    fn call(self, call: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for nix::Result<T> {
    fn call(self, call: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|errno| Error::sys(call(), errno))
    }
}

impl<T> Context<T> for std::io::Result<T> {
    fn call(self, call: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|err| Error::io(call(), &err))
    }
}
