//! The runner: which cases run as whom, and the libtest-like report.
//!
//! Each case's run is a `session` (start, listen, check, kill and reap),
//! then the host check and cleanup of `rundir`, then the `verdict`.

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};
use std::time::Instant;

use super::rundir::RunDir;
use super::{
    CASE_ARG, CASE_DIR_ENV, Case, OUTPUT_LINES, reap, results, session, verdict,
};
use crate::public_copy::PublicCopy;
use crate::run::{NOBODY, userns_allowed};
use crate::{User, in_ci};

enum Verdict {
    Pass,
    Skip(String),
    /// The reason: one sentence, then maybe lines that explain it (a
    /// workbook error's hint).
    Fail {
        reason: String,
        output: Vec<String>,
    },
}

/// How to run the cases that need root: builds as the learner, runs only
/// the test binaries through sudo (workbook::root_cases).
pub(super) fn as_root(package: &str) -> String {
    format!("`{} -p {package}`", workbook::root_cases::COMMAND)
}

/// Print a line; a closed stdout must not panic the runner, which still has
/// processes to end and directories to remove.
macro_rules! tell {
    ($($arg:tt)*) => {{
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, $($arg)*);
        let _ = out.flush();
    }};
}

pub(super) fn parent_main(
    exercise: &'static str,
    cases: &[Case],
    args: &[String],
) -> ExitCode {
    let wake = match reap::guard_run() {
        Ok(wake) => wake,
        Err(why) => {
            tell!("the exercise harness cannot start: {why}");
            return ExitCode::FAILURE;
        }
    };
    let dir = match RunDir::new() {
        Ok(dir) => dir,
        Err(why) => {
            tell!("the exercise harness cannot make its directory: {why}");
            return ExitCode::FAILURE;
        }
    };
    let package =
        std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| exercise.into());
    let mut runner = Runner {
        exercise,
        package,
        dir,
        copy: None,
        wake,
    };
    let code = runner.run_all(cases, args);
    // Every directory goes before the process does, also on a signal.
    drop(runner);
    if let Some(signal) = reap::interrupted() {
        reap::die_of(signal);
    }
    code
}

struct Runner {
    exercise: &'static str,
    package: String,
    dir: RunDir,
    /// The test binary, copied where uid 65534 can run it (tests as root).
    copy: Option<PublicCopy>,
    /// Readable once a signal asked the run to stop.
    wake: OwnedFd,
}

impl Runner {
    fn run_all(&mut self, cases: &[Case], args: &[String]) -> ExitCode {
        let start = Instant::now();
        let quiet = args.iter().any(|a| a == "-q" || a == "--quiet");
        let filter = args.iter().find(|a| !a.starts_with('-'));
        let mut runs = Vec::new();
        for case in cases {
            if filter.is_some_and(|f| !case.name.contains(f.as_str())) {
                continue;
            }
            match case.once {
                true => runs.push((*case, None)),
                false => {
                    runs.push((*case, Some(User::Root)));
                    runs.push((*case, Some(User::Unprivileged)));
                }
            }
        }
        let every: usize = cases.iter().map(|c| if c.once { 1 } else { 2 }).sum();
        let filtered = every - runs.len();
        tell!("\nrunning {} tests", runs.len());
        let (mut passed, mut ignored) = (0, 0);
        let mut failures = Vec::new();
        for (case, user) in runs {
            if reap::interrupted().is_some() {
                return ExitCode::FAILURE;
            }
            let label = match user {
                Some(user) => format!("{} ({user})", case.name),
                None => case.name.to_owned(),
            };
            if !quiet {
                let mut out = std::io::stdout().lock();
                let _ = write!(out, "test {label} ... ");
                let _ = out.flush();
            }
            let verdict = self.run(&case, user);
            if let Some(signal) = reap::interrupted() {
                // No summary: the run did not finish; parent_main dies of
                // the signal once the directories are gone.
                tell!("interrupted by {signal}: the case's processes were killed");
                return ExitCode::FAILURE;
            }
            let word = match &verdict {
                Verdict::Pass => "ok".to_owned(),
                Verdict::Skip(why) => format!("ignored, {why}"),
                Verdict::Fail { .. } => "FAILED".to_owned(),
            };
            match quiet {
                false => tell!("{word}"),
                true if matches!(verdict, Verdict::Fail { .. }) => {
                    tell!("test {label} ... {word}")
                }
                true => {}
            }
            let (kind, sentence) = match &verdict {
                Verdict::Pass => ("pass", ""),
                Verdict::Skip(why) => ("skip", why.as_str()),
                Verdict::Fail { reason, .. } => ("fail", reason.as_str()),
            };
            let who = user.map_or("once".to_owned(), |u| u.to_string());
            results::append(self.exercise, case.name, &who, kind, sentence);
            match verdict {
                Verdict::Pass => passed += 1,
                Verdict::Skip(_) => ignored += 1,
                Verdict::Fail { reason, output } => {
                    failures.push((label, reason, output))
                }
            }
        }
        if !failures.is_empty() {
            tell!("\nfailures:\n");
            for (label, reason, output) in &failures {
                tell!("---- {label} ----");
                print_reason(reason);
                if !output.is_empty() {
                    tell!("output of the case's processes:");
                    for line in output.iter().take(OUTPUT_LINES) {
                        tell!("    {line}");
                    }
                    if output.len() > OUTPUT_LINES {
                        tell!("    ({} more lines)", output.len() - OUTPUT_LINES);
                    }
                }
                tell!();
            }
            tell!("failures:");
            for (label, _, _) in &failures {
                tell!("    {label}");
            }
            // The next step for a learner who does not see why.
            tell!(
                "\nstuck? `cargo workbook hint {}` gives a hint",
                self.exercise
            );
        }
        let result = match failures.is_empty() {
            true => "ok",
            false => "FAILED",
        };
        tell!(
            "\ntest result: {result}. {passed} passed; {} failed; {ignored} ignored; 0 measured; \
             {filtered} filtered out; finished in {:.2}s\n",
            failures.len(),
            start.elapsed().as_secs_f64()
        );
        match failures.is_empty() {
            true => ExitCode::SUCCESS,
            false => ExitCode::FAILURE,
        }
    }

    fn skip(&self, why: String) -> Verdict {
        match in_ci() {
            true => fail(format!("CI=true, and this case cannot run here: {why}")),
            false => Verdict::Skip(why),
        }
    }

    /// Who runs the case: the command, and the owner of its directory.
    fn command(
        &mut self,
        user: Option<User>,
    ) -> Result<(Command, Option<(u32, u32)>), Verdict> {
        let exe = std::env::current_exe()
            .map_err(|err| fail(format!("cannot find the test binary: {err}")))?;
        let euid = nix::unistd::geteuid();
        match user {
            None => Ok((Command::new(&exe), None)),
            Some(User::Root) if euid.is_root() => Ok((Command::new(&exe), None)),
            Some(User::Root) => Err(self.skip(format!(
                "the tests run as uid {euid}; this case needs root: {}",
                as_root(&self.package)
            ))),
            Some(User::Unprivileged) if euid.is_root() => {
                if let Err(why) = userns_allowed(Some((NOBODY, NOBODY))) {
                    return Err(self.skip(why));
                }
                if self.copy.is_none() {
                    self.copy = Some(PublicCopy::try_of(&exe).map_err(fail)?);
                }
                let copy = self.copy.as_ref().map_or(exe, |c| c.path.clone());
                let mut cmd = Command::new(copy);
                cmd.uid(NOBODY).gid(NOBODY).current_dir("/");
                Ok((cmd, Some((NOBODY, NOBODY))))
            }
            Some(User::Unprivileged) => match userns_allowed(None) {
                Ok(()) => Ok((Command::new(&exe), None)),
                Err(why) => Err(self.skip(why)),
            },
        }
    }

    fn run(&mut self, case: &Case, user: Option<User>) -> Verdict {
        let (mut cmd, owner) = match self.command(user) {
            Ok(cmd) => cmd,
            Err(verdict) => return verdict,
        };
        let case_dir = match self.dir.case_dir(owner) {
            Ok(dir) => dir,
            Err(why) => return fail(why),
        };
        let user_arg: OsString =
            user.map_or("once".into(), |u| u.to_string().into());
        cmd.arg(CASE_ARG)
            .arg(case.name)
            .arg(user_arg)
            .env("TMPDIR", &case_dir)
            .env(CASE_DIR_ENV, &case_dir);
        let before = self.dir.before();
        let transcript = session::run(cmd, case, user, &self.wake);
        // The host first: what the case did there, and what was undone, all
        // of it in the first reason.
        let host = self.dir.after(&before, &case_dir);
        let mut reasons = match host.is_empty() {
            true => Vec::new(),
            false => vec![host.join("\n")],
        };
        let output = match transcript {
            Ok(t) => {
                reasons.extend(verdict::reasons(case, &t));
                t.output
            }
            Err(why) => {
                reasons.push(why);
                Vec::new()
            }
        };
        match reasons.into_iter().next() {
            None => Verdict::Pass,
            Some(reason) => Verdict::Fail { reason, output },
        }
    }
}

fn fail(reason: String) -> Verdict {
    Verdict::Fail {
        reason,
        output: Vec::new(),
    }
}

/// The reason's first line as it is (tools read the line under the
/// `---- case ----` header), the lines that explain it indented below.
fn print_reason(reason: &str) {
    let mut lines = reason.lines();
    tell!("{}", lines.next().unwrap_or(""));
    for line in lines {
        tell!("    {line}");
    }
}
