//! The control channel: how a case's processes talk to the runner.
//!
//! A pipe of its own, never stdout: whatever the learner's code prints,
//! `##exercise ...` included, is only output. The runner makes the pipe with
//! O_CLOEXEC, lets the case's process inherit the write end (its number is in
//! `WORKBOOK_CONTROL_FD`), and the case marks it close-on-exec again at once:
//! a program the learner's code execs does not get it, a process it forks
//! does (the harness's own helpers report through it).
//!
//! The number is the one pipe2(2) gave the runner, not a fixed one moved
//! there with dup2(2): between fork and exec, std's spawn still holds
//! descriptors of its own in the child (the pipe that reports a failed
//! exec), and a fixed number could be one of them; the runner's own number
//! is open in the runner, so nothing else in the child has it.
//!
//! One message per line, `KIND TEXT`, the text with `\` and newlines escaped
//! so a multi-line error stays one message. Each message is one write(2) of
//! at most PIPE_BUF bytes, which pipe(7) makes atomic: messages from several
//! processes never interleave.

use std::fs::File;
use std::io::Write;
use std::os::fd::{FromRawFd, RawFd};
use std::sync::OnceLock;

use nix::unistd::Pid;

/// The environment variable that holds the write end's number.
pub(super) const FD_ENV: &str = "WORKBOOK_CONTROL_FD";

/// pipe(7): writes of up to PIPE_BUF (4096 on Linux) bytes are atomic.
const PIPE_BUF: usize = 4096;

/// What a case's process tells the runner.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Message {
    /// `report KEY VALUE`: for the checks.
    Report(String, String),
    /// `ready PID`: process PID is parked; look now.
    Ready(Pid),
    /// `fail SENTENCE`: the case failed, for this reason.
    Fail(String),
    /// `panic PID SENTENCE`.
    Panic(String),
    /// `end PID`: the case's process got to the end of the case (passed or
    /// failed) and returns. Without it, something ended the process early.
    End(Pid),
}

/// The line for one message, escaped, newline-terminated, and cut to fit
/// one atomic write.
pub(super) fn encode(kind: &str, text: &str) -> Vec<u8> {
    let mut line = format!("{kind} ");
    for c in text.chars() {
        let escaped = match c {
            '\\' => "\\\\".to_owned(),
            '\n' => "\\n".to_owned(),
            c => c.to_string(),
        };
        if line.len() + escaped.len() + 1 > PIPE_BUF {
            break;
        }
        line.push_str(&escaped);
    }
    line.push('\n');
    line.into_bytes()
}

/// The message on one line (without its newline); `None` if it is not one.
pub(super) fn decode(line: &str) -> Option<Message> {
    let (kind, escaped) = line.split_once(' ').unwrap_or((line, ""));
    let mut text = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => text.push('\n'),
                Some(other) => text.push(other),
                None => {}
            },
            (c, false) => text.push(c),
        }
    }
    let pid = |s: &str| s.parse().ok().map(Pid::from_raw);
    Some(match kind {
        "report" => {
            let (key, value) = text.split_once(' ').unwrap_or((&text, ""));
            Message::Report(key.to_owned(), value.to_owned())
        }
        "ready" => Message::Ready(pid(&text)?),
        "fail" => Message::Fail(text),
        // `panic PID SENTENCE`: the PID is for someone reading the raw pipe.
        "panic" => {
            Message::Panic(text.split_once(' ').map_or(text.clone(), |x| x.1.into()))
        }
        "end" => Message::End(pid(&text)?),
        _ => return None,
    })
}

/// The case's end of the channel, taken from the environment once.
static CHANNEL: OnceLock<Option<File>> = OnceLock::new();

/// Take the write end named by `WORKBOOK_CONTROL_FD`, and mark it
/// close-on-exec. Called first thing in the case's process, while it has one
/// thread.
pub(super) fn open() {
    CHANNEL.get_or_init(|| {
        let fd: RawFd = std::env::var(FD_ENV).ok()?.parse().ok()?;
        // The variable is for this process only; a program the learner's
        // code runs must not take the number for one of its own.
        // Safety: the case's process is single-threaded here (`main` has
        // started no thread), so nothing reads the environment meanwhile.
        unsafe { std::env::remove_var(FD_ENV) };
        // Safety: fcntl(2) on a plain integer; F_SETFD fails with EBADF if
        // the number is not an open descriptor, and then we do not use it.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
            return None;
        }
        // Safety: the runner gave this process the descriptor for the
        // harness's own use; nothing else in the process owns it.
        Some(unsafe { File::from_raw_fd(fd) })
    });
}

/// Send one message. A case run by hand, without a runner, writes it to
/// stderr instead, where a person can read it.
pub(super) fn send(kind: &str, text: &str) {
    let line = encode(kind, text);
    match CHANNEL.get() {
        Some(Some(channel)) => {
            let _ = (&*channel).write_all(&line);
        }
        _ => {
            let _ = std::io::stderr().write_all(&line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_line_message_survives_the_trip() {
        let text = "setns failed: EINVAL\nhint: a \\ backslash";
        let line = encode("fail", text);
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        let line = String::from_utf8(line).unwrap();
        assert_eq!(
            decode(line.trim_end_matches('\n')),
            Some(Message::Fail(text.into()))
        );
        assert_eq!(
            decode("report dir /tmp/a b"),
            Some(Message::Report("dir".into(), "/tmp/a b".into()))
        );
        assert_eq!(decode("ready x"), None);
        assert!(encode("fail", &"é".repeat(5000)).len() <= PIPE_BUF);
    }
}
