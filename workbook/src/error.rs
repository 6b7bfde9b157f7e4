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
    /// One that carries no errno (std made it up, e.g. a short write) says
    /// what std said, rather than a made-up errno 0.
    pub fn io(call: impl Into<String>, err: &std::io::Error) -> Self {
        match err.raw_os_error() {
            Some(raw) => Error::sys(call, Errno::from_raw(raw)),
            None => Error::refused(format!("{} failed: {err}", call.into()), ""),
        }
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

/// `Err(format!("...").into())`: a refusal in the program's own words.
impl From<String> for Error {
    fn from(what: String) -> Self {
        Error::refused(what, "")
    }
}

/// `Err("...".into())`: a refusal in the program's own words.
impl From<&str> for Error {
    fn from(what: &str) -> Self {
        Error::refused(what, "")
    }
}

/// `nix::sched::unshare(...)?`: the errno alone does not say which call
/// failed, so the error says "a system call", with what the errno usually
/// means and how to name the call ([`Context::call`]).
impl From<Errno> for Error {
    fn from(errno: Errno) -> Self {
        Error::Sys {
            call: "a system call".into(),
            errno,
            hint: hint::for_errno(errno),
        }
    }
}

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

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    /// What a learner's answer returning `Result<(), workbook::Error>`
    /// writes first.
    fn natural(step: u8) -> Result<()> {
        match step {
            0 => Err(format!("uts namespace {} is not new", 7).into()),
            1 => Err("not a namespace file".into()),
            _ => {
                nix::unistd::close(-1)?;
                Ok(())
            }
        }
    }

    #[test]
    fn strings_are_refusals_in_the_programs_words() {
        let err = natural(0).expect_err("an error");
        assert_eq!(err.to_string(), "error: uts namespace 7 is not new");
        assert_eq!(err.exit_code(), EXIT_REFUSED);
        let err = natural(1).expect_err("an error");
        assert_eq!(err.to_string(), "error: not a namespace file");
    }

    #[test]
    fn a_bare_errno_keeps_the_error_shape() {
        let err = natural(2).expect_err("close(-1) fails");
        assert_eq!(err.errno(), Some(Errno::EBADF));
        let text = err.to_string();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("error: a system call failed: EBADF: Bad file number")
        );
        let hint = lines.next().unwrap_or_default();
        assert!(hint.starts_with("hint: "), "{text}");
        assert!(hint.contains("Context"), "{text}");
    }

    #[test]
    fn a_bare_einval_says_what_it_usually_means() {
        let text = Error::from(Errno::EINVAL).to_string();
        assert!(
            text.starts_with(
                "error: a system call failed: EINVAL: Invalid argument\nhint: "
            ),
            "{text}"
        );
        assert!(text.contains("flag"), "{text}");
    }

    /// The form the bare-errno hint suggests compiles and names the call.
    #[test]
    fn the_suggested_form_names_the_call() {
        let named: Result<()> = nix::unistd::close(-1).call(|| "close(-1)".into());
        let text = named.expect_err("close(-1) fails").to_string();
        assert!(text.starts_with("error: close(-1) failed: EBADF"), "{text}");
    }

    #[test]
    fn an_io_error_without_errno_is_not_errno_0() {
        let err = std::io::Error::new(std::io::ErrorKind::WriteZero, "short write");
        let text = Error::io("write(/proc/self/uid_map)", &err).to_string();
        assert_eq!(text, "error: write(/proc/self/uid_map) failed: short write");
    }

    #[test]
    fn a_named_call_keeps_its_first_line() {
        let text = Error::sys("unshare(CLONE_NEWUTS)", Errno::EPERM).to_string();
        assert!(
            text.starts_with(
                "error: unshare(CLONE_NEWUTS) failed: EPERM: Operation not permitted\nhint: "
            ),
            "{text}"
        );
    }
}
