//! The checks of the exercises: a fresh process per case, as root and as an
//! unprivileged user, judged by what the kernel shows.
//!
//! An exercise's test file is a `harness = false` test whose `main` calls
//! [`main`] with its cases. For each case and each user, the harness starts
//! the test binary again (`--exercise-case NAME USER`). In that process, on
//! its only thread (unshare(2) and setns(2) act on the calling thread, and
//! CLONE_NEWUSER refuses a threaded caller), the case's body calls the
//! learner's code, [`report`]s what the parent needs to know, and [`park`]s.
//! While it is parked, the parent looks for itself: `/proc/PID/ns/*`, the
//! hostname inside the child's UTS namespace ([`hostname_in`]), the System V
//! message queues of its IPC namespace ([`msg_keys_in`]), the child's
//! mount table ([`mounts_of`]). Then it releases the child, ends every
//! process the case left (`reap`), and checks what this run alone could have
//! changed: the host's hostname, mounts and entries in the run's own
//! directory (`rundir`), putting back what it finds. A case therefore cannot
//! pass by printing the expected text, or by doing nothing.
//!
//! The child talks to the parent on a pipe of its own (`control`); its
//! stdout and stderr are the learner's output, shown under a failure, and
//! nothing in them is ever obeyed. Each case gets a directory of its own
//! ([`temp_dir`] makes directories in it), made and removed by the parent.
//!
//! Output imitates libtest's (`test NAME ... ok`, `test result: ...`), with
//! each failure explained in one sentence, and the exit status is non-zero
//! when a case failed.

mod child;
mod control;
mod probe;
mod reap;
mod results;
mod rundir;
mod runner;
mod session;
mod verdict;

use child::child_main;
pub use child::{
    Parked, call, ensure, isolate, new_user_namespace, park, report, report_ns,
    sentence, setup, temp_dir,
};
use runner::parent_main;

pub use probe::{
    Mount, Probe, Report, host_ns, hostname_in, mount_at, mounts_of, msg_keys_in,
    ns_file_in, ns_of, path_in,
};

use std::process::ExitCode;
use std::time::Duration;

/// What a body, a check or a helper returns: `Err` holds one sentence.
pub type Outcome = Result<(), String>;

/// The environment variable naming the case's own directory (also its
/// `TMPDIR`), made by the runner.
const CASE_DIR_ENV: &str = "WORKBOOK_CASE_DIR";
/// The argument that makes the test binary run one case.
const CASE_ARG: &str = "--exercise-case";
/// A case that takes longer is killed: its code is waiting for something
/// that will never come.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Lines of the child's own output shown under a failure.
const OUTPUT_LINES: usize = 20;

/// One check of an exercise.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    name: &'static str,
    body: fn() -> Outcome,
    check: Option<fn(&Probe) -> Outcome>,
    after: Option<fn(&Report) -> Outcome>,
    once: bool,
    user_ns: bool,
}

impl Case {
    /// A case whose `body` runs in a fresh process, as root and as an
    /// unprivileged user. Unprivileged, the harness first moves that process
    /// into a user namespace of its own where it is root (as the chapters
    /// do), unless [`Case::as_is`].
    pub fn new(name: &'static str, body: fn() -> Outcome) -> Case {
        Case {
            name,
            body,
            check: None,
            after: None,
            once: false,
            user_ns: true,
        }
    }

    /// Run `check` in the parent while the body is parked: it reads the
    /// kernel's view of the child.
    pub fn check(mut self, check: fn(&Probe) -> Outcome) -> Case {
        self.check = Some(check);
        self
    }

    /// Run `after` in the parent once the child has exited, on everything it
    /// reported.
    pub fn after(mut self, after: fn(&Report) -> Outcome) -> Case {
        self.after = Some(after);
        self
    }

    /// Unprivileged, run the body as the plain user, without a user
    /// namespace: for code that must cope with that itself.
    pub fn as_is(mut self) -> Case {
        self.user_ns = false;
        self
    }

    /// Needs no privilege: run once, as the tests' own user.
    pub fn once(mut self) -> Case {
        self.once = true;
        self.user_ns = false;
        self
    }
}

/// Run the cases of exercise `exercise` (`"ex03"`): the test binary's `main`.
pub fn main(exercise: &'static str, cases: &[Case]) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == CASE_ARG) {
        return child_main(exercise, cases, &args[at + 1..]);
    }
    parent_main(exercise, cases, &args)
}
