//! Every example's story with a stdout that fails: a pipe whose reader is
//! gone (`| head -1`), and a full device (`> /dev/full`). The example must not
//! panic: a closed pipe ends it by SIGPIPE (or 0, when it finished writing
//! before the reader left), quietly; a full device is one error line naming
//! `write(stdout)`, and exit 1. Either way it leaves nothing in its TMPDIR.
//! As root and as uid 65534; contract 1 in BRIEF.md, issue 7 §5.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod live;

use std::fs::OpenOptions;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use live::{TmpDir, assert_no_panic, describe, start, stories};
use nix::sys::signal::Signal;
use testkit::User;

const USERS: [User; 2] = [User::Root, User::Unprivileged];

/// The reader left before the first line: the first write(2) gives EPIPE, so
/// the end is always SIGPIPE. (On the old code, a panic and exit 101.)
#[test]
fn a_pipe_closed_from_the_start_ends_by_sigpipe() {
    for (name, args) in stories() {
        for user in USERS {
            let what =
                format!("{name} {args:?} as {user}, stdout a pipe with no reader");
            let tmp = TmpDir::new();
            // O_CLOEXEC: a child another test forks meanwhile must not keep the
            // read end open (the write would then succeed).
            let (read_end, write_end) =
                nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe2");
            drop(read_end);
            let Some(live) =
                start(&name, user, &args, &tmp, Some(write_end.into()), false)
            else {
                continue;
            };
            let (status, stderr) = live.finish();
            assert_no_panic(&stderr, &what);
            assert_eq!(
                status.signal(),
                Some(Signal::SIGPIPE as i32),
                "{what}: {}, stderr:\n{stderr}",
                describe(status)
            );
            assert_eq!(stderr, "", "{what}: a closed pipe is no error to report");
            tmp.assert_clean(&what);
        }
    }
}

/// `| head -1`: one line read, then the reader closes its end. Whether the
/// example still had lines to write then is a race, so both endings are
/// right: SIGPIPE, or 0 when everything was already in the pipe.
#[test]
fn a_reader_that_leaves_after_one_line_ends_it_quietly() {
    for (name, args) in stories() {
        for user in USERS {
            let what = format!("{name} {args:?} as {user} | head -1");
            let tmp = TmpDir::new();
            let Some(mut live) = start(&name, user, &args, &tmp, None, false) else {
                continue;
            };
            assert!(live.read_lines(1), "{what}: no first line");
            live.close_stdout();
            let (status, stderr) = live.finish();
            assert_no_panic(&stderr, &what);
            let quiet = status.code() == Some(0)
                || status.signal() == Some(Signal::SIGPIPE as i32);
            assert!(quiet, "{what}: {}, stderr:\n{stderr}", describe(status));
            assert_eq!(stderr, "", "{what}: a closed pipe is no error to report");
            tmp.assert_clean(&what);
        }
    }
}

/// `> /dev/full`: every write(2) gives ENOSPC. One error line naming the call
/// and the errno, exit 1, and the cleanup done all the same.
#[test]
fn a_full_stdout_is_one_error_and_exit_1() {
    for (name, args) in stories() {
        for user in USERS {
            let what = format!("{name} {args:?} as {user} > /dev/full");
            let tmp = TmpDir::new();
            let full = OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("open /dev/full");
            let Some(live) =
                start(&name, user, &args, &tmp, Some(Stdio::from(full)), false)
            else {
                continue;
            };
            let (status, stderr) = live.finish();
            assert_no_panic(&stderr, &what);
            assert_eq!(
                status.code(),
                Some(1),
                "{what}: {}, stderr:\n{stderr}",
                describe(status)
            );
            let errors: Vec<&str> =
                stderr.lines().filter(|l| l.contains("error:")).collect();
            assert_eq!(errors.len(), 1, "{what}: one error line, not:\n{stderr}");
            assert!(
                errors[0].contains("write(stdout)") && errors[0].contains("ENOSPC"),
                "{what}: the error names write(stdout) and ENOSPC:\n{stderr}"
            );
            assert!(stderr.contains("hint: "), "{what}: what to do:\n{stderr}");
            tmp.assert_clean(&what);
        }
    }
}

/// `--help | head -1` and `--help > /dev/full`: the usage text obeys the same
/// rules.
#[test]
fn help_on_a_failing_stdout() {
    for (name, _) in stories() {
        let what = format!("{name} --help");
        let tmp = TmpDir::new();
        // O_CLOEXEC: a child another test forks meanwhile must not keep the
        // read end open (the write would then succeed).
        let (read_end, write_end) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe2");
        drop(read_end);
        let live = start(
            &name,
            User::Root,
            &["--help"],
            &tmp,
            Some(write_end.into()),
            false,
        );
        let Some(live) = live else { continue };
        let (status, stderr) = live.finish();
        assert_no_panic(&stderr, &what);
        assert_eq!(
            status.signal(),
            Some(Signal::SIGPIPE as i32),
            "{what}: {}",
            describe(status)
        );

        let full = OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let live = start(
            &name,
            User::Root,
            &["--help"],
            &tmp,
            Some(full.into()),
            false,
        );
        let Some(live) = live else { continue };
        let (status, stderr) = live.finish();
        assert_no_panic(&stderr, &what);
        assert_eq!(
            status.code(),
            Some(1),
            "{what} > /dev/full: {}",
            describe(status)
        );
        assert!(
            stderr.contains("write(stdout)"),
            "{what} > /dev/full: {stderr}"
        );
    }
}
