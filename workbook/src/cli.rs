//! The command line every chapter shares: `--help`, a few positional
//! arguments, and `main` that turns an error into a message and an exit code.
//!
//! Hand-written rather than clap: each example takes at most three plain
//! arguments, and the lesson should not sit behind a derive macro.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use nix::unistd::Pid;

use crate::error::{EXIT_USAGE, Error, Result};
use crate::say;

/// Run an example: print `usage` for `-h`/`--help`, otherwise call `lesson`
/// with the arguments; print any error with its hint and exit 1, or 2 for a
/// usage error (after the usage text).
pub fn main(usage: &str, lesson: impl FnOnce(Args) -> Result<()>) -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let help = args.iter().any(|a| a == "-h" || a == "--help");
    run(usage, args, help, lesson)
}

/// [`main`] for an example that runs a command, `[OPTIONS] COMMAND
/// [ARGS...]`: `-h`/`--help` is its own only among the options before
/// COMMAND (or before `--`); after, it is the command's (`ls --help`).
/// `with_value` names the options that take the next argument as a value.
pub fn main_with_command(
    usage: &str,
    with_value: &[&str],
    lesson: impl FnOnce(Args) -> Result<()>,
) -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let help = help_before_command(&args, with_value);
    run(usage, args, help, lesson)
}

/// Whether `-h` or `--help` comes among the options, before COMMAND.
fn help_before_command(args: &[OsString], with_value: &[&str]) -> bool {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return true;
        }
        if arg == "--" || !arg.to_string_lossy().starts_with('-') {
            return false;
        }
        if with_value.iter().any(|v| arg == *v) {
            args.next();
        }
    }
    false
}

fn run(
    usage: &str,
    args: Vec<OsString>,
    help: bool,
    lesson: impl FnOnce(Args) -> Result<()>,
) -> ExitCode {
    if help {
        // `--help | head -1` must not panic either.
        return match std::io::stdout().write_all(usage.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {
                say::die_of_sigpipe();
                ExitCode::from(141)
            }
            Err(err) => {
                let errno =
                    nix::errno::Errno::from_raw(err.raw_os_error().unwrap_or(0));
                let _ = writeln!(std::io::stderr(), "{}", say::error(errno));
                ExitCode::FAILURE
            }
        };
    }
    let result = lesson(Args { rest: args.into() });
    // Whatever happened, what was printed so far reaches the reader first.
    let _ = std::io::stdout().flush();
    // The lesson has returned: every guard of it has run (see `cleanup`).
    // Only now may a closed stdout end the process.
    let result = match (result, say::ending()) {
        (Err(err), _) => Err(err),
        (Ok(()), say::Ending::Written) => Ok(()),
        (Ok(()), say::Ending::Failed(errno)) => Err(say::error(errno)),
        (Ok(()), say::Ending::Closed) => {
            say::die_of_sigpipe();
            // Still here: SIGPIPE is held off by whoever started us. The
            // shell's number for "killed by SIGPIPE", 128 + 13.
            return ExitCode::from(141);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // eprintln! would panic if stderr failed too; there is nowhere
            // left to say anything then.
            let _ = writeln!(std::io::stderr(), "{err}");
            if err.exit_code() == EXIT_USAGE {
                let _ = writeln!(std::io::stderr(), "\n{usage}");
            }
            ExitCode::from(err.exit_code())
        }
    }
}

/// The positional arguments, taken one at a time.
#[derive(Debug)]
pub struct Args {
    rest: std::collections::VecDeque<OsString>,
}

impl Args {
    /// Take `--name` from anywhere among the arguments: true if it was there.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.rest.len();
        self.rest.retain(|arg| arg != name);
        self.rest.len() != before
    }

    /// The next argument as UTF-8 text, if there is one.
    pub fn next(&mut self, what: &str) -> Result<Option<String>> {
        let Some(arg) = self.rest.pop_front() else {
            return Ok(None);
        };
        let text = arg.into_string().map_err(|arg| {
            Error::usage(format!("{what} {arg:?} is not valid UTF-8"))
        })?;
        if text.starts_with('-') && text.len() > 1 && text.parse::<i64>().is_err() {
            return Err(Error::usage(format!("unknown option {text:?}")));
        }
        Ok(Some(text))
    }

    /// The next argument, which must be there.
    pub fn required(&mut self, what: &str) -> Result<String> {
        self.next(what)?
            .ok_or_else(|| Error::usage(format!("missing {what}")))
    }

    /// The arguments not taken yet, as given (options included): a command
    /// line to run (chapter 16's `COMMAND [ARGS...]`).
    pub fn rest(self) -> Vec<OsString> {
        self.rest.into()
    }

    /// Refuse arguments nobody asked for.
    pub fn finish(mut self) -> Result<()> {
        match self.rest.pop_front() {
            None => Ok(()),
            Some(extra) => {
                Err(Error::usage(format!("unexpected argument {extra:?}")))
            }
        }
    }
}

/// HOST_NAME_MAX (sethostname(2)): the kernel's limit on a hostname, in bytes.
pub const HOST_NAME_MAX: usize = 64;

/// A hostname checked before any call is made, so a learner gets a usage
/// error rather than EINVAL halfway through the story. The kernel's only rule
/// is the length, at most HOST_NAME_MAX bytes (sethostname(2)); refusing an
/// empty name or a control character is this workbook's own policy.
pub fn hostname(arg: Option<String>, default: &str) -> Result<String> {
    let name = arg.unwrap_or_else(|| default.to_owned());
    if name.is_empty() {
        return Err(Error::usage("the hostname is empty"));
    }
    if name.len() > HOST_NAME_MAX {
        return Err(Error::usage(format!(
            "the hostname is {} bytes; the kernel takes at most {HOST_NAME_MAX} (HOST_NAME_MAX)",
            name.len()
        )));
    }
    if name.bytes().any(|b| b == 0 || b.is_ascii_control()) {
        return Err(Error::usage("the hostname contains a control character"));
    }
    Ok(name)
}

/// A PID argument: a positive number. Whether that process exists is for the
/// kernel to say when it is opened.
pub fn pid(arg: &str) -> Result<Pid> {
    match arg.parse::<i32>() {
        Ok(n) if n > 0 => Ok(Pid::from_raw(n)),
        _ => Err(Error::usage(format!(
            "{arg:?} is not a PID (a positive whole number)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_limits() {
        assert_eq!(hostname(None, "ernie").ok().as_deref(), Some("ernie"));
        assert!(hostname(Some("a".repeat(64)), "x").is_ok());
        assert!(matches!(
            hostname(Some("a".repeat(65)), "x"),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            hostname(Some(String::new()), "x"),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn help_is_the_examples_only_before_its_command() {
        let args = |line: &[&str]| -> Vec<OsString> {
            line.iter().map(OsString::from).collect()
        };
        let with_value = ["--hostname"];
        let asks = |line: &[&str]| help_before_command(&args(line), &with_value);
        assert!(asks(&["--help"]));
        assert!(asks(&["--quiet", "-h", "/bin/sh"]));
        assert!(asks(&["--hostname", "box", "--help"]));
        assert!(!asks(&["/bin/ls", "--help"]));
        assert!(!asks(&["--quiet", "--", "/bin/echo", "-h"]));
        assert!(
            !asks(&["--hostname", "-h", "/bin/true"]),
            "-h is the hostname here"
        );
        assert!(!asks(&[]));
    }

    #[test]
    fn flags_are_taken_wherever_they_are() {
        let mut args = Args {
            rest: ["ernie", "--libc"].map(OsString::from).into(),
        };
        assert!(args.flag("--libc"));
        assert!(!args.flag("--libc"));
        assert_eq!(
            args.next("hostname").ok().flatten().as_deref(),
            Some("ernie")
        );
        assert!(args.finish().is_ok());
    }

    #[test]
    fn pids() {
        assert_eq!(pid("42").ok(), Some(Pid::from_raw(42)));
        for bad in ["0", "-3", "abc", "99999999999"] {
            assert!(matches!(pid(bad), Err(Error::Usage(_))), "{bad}");
        }
    }
}
