//! Running an example binary as root or as an unprivileged user.

use std::fmt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use std::process::Output;

use assert_cmd::assert::OutputAssertExt;

use crate::host::{HostState, RunDir, host_hostname};
use crate::public_copy::PublicCopy;
use crate::{limit, skip};

/// The user nobody (uid and gid 65534), who stands for a learner without root
/// when the tests themselves run as root.
pub(crate) const NOBODY: u32 = 65534;

/// Who runs the example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    /// Root, with CAP_SYS_ADMIN: the example runs its lesson directly.
    Root,
    /// Not root: uid 65534 when the tests are root, else the tests' own user.
    /// The example first enters a user namespace of its own.
    Unprivileged,
}

impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            User::Root => "root",
            User::Unprivileged => "unprivileged",
        })
    }
}

/// One example binary, from `env!("CARGO_BIN_EXE_<name>")`.
///
/// Every run gets `TMPDIR` set to a directory of its own: by default a fresh
/// [`RunDir`] per run, checked after the run with the host check
/// ([`HostState`]) and removed; with [`Example::in_dir`], a directory the
/// test owns and checks itself ([`crate::on_host`]).
#[derive(Debug, Clone)]
pub struct Example {
    path: PathBuf,
    dir: Option<PathBuf>,
}

/// A command set up by [`Example::prepare`]; `command` may be changed
/// (arguments, environment, stdout) before it is spawned.
#[derive(Debug)]
pub struct Prepared {
    pub command: Command,
    _copy: Option<PublicCopy>,
}

/// What a run printed, and how it ended.
#[derive(Debug)]
pub struct Ran {
    pub user: User,
    pub stdout: String,
    pub stderr: String,
    output: Output,
    /// The run's `TMPDIR`.
    dir: PathBuf,
}

impl Example {
    pub fn new(path: impl Into<PathBuf>) -> Example {
        Example {
            path: path.into(),
            dir: None,
        }
    }

    /// The same example, run with `dir` as `TMPDIR` and not checked run by
    /// run: the test checks `dir` around all the runs that share it.
    pub fn in_dir(&self, dir: &RunDir) -> Example {
        Example {
            path: self.path.clone(),
            dir: Some(dir.path().to_owned()),
        }
    }

    /// Run with `args` as `user`, or skip (see [`crate::skip`]) when this
    /// machine cannot run that case.
    pub fn run(&self, user: User, args: &[&str]) -> Option<Ran> {
        // `_copy`, the copy of the binary uid 65534 runs, lives until the
        // run has ended.
        let Prepared { command, _copy } = self.prepare(user)?;
        Some(self.finish(user, command, args))
    }

    /// A command that starts the example as `user`, for a test that talks to
    /// the running process (reads its stdout line by line, signals it) rather
    /// than waiting for its output; `None` (a skip) as for [`Example::run`].
    /// Keep the [`Prepared`] until the process has started: it holds the
    /// copy of the binary that uid 65534 runs.
    pub fn prepare(&self, user: User) -> Option<Prepared> {
        let euid = nix::unistd::geteuid().as_raw();
        let (command, copy) = match user {
            User::Root if euid != 0 => {
                return skip(&format!(
                    "the tests run as uid {euid}; the root case needs root (`{}`)",
                    workbook::root_cases::COMMAND
                ));
            }
            User::Root => (Command::new(&self.path), None),
            User::Unprivileged if euid == 0 => {
                if let Err(why) = userns_allowed(Some((NOBODY, NOBODY))) {
                    return skip(&why);
                }
                // nobody must be able to reach the binary: copy it out of the
                // checkout, whose folders may be closed to others.
                let copy = PublicCopy::of(&self.path);
                let mut cmd = Command::new(copy.path());
                cmd.uid(NOBODY).gid(NOBODY).current_dir("/");
                (cmd, Some(copy))
            }
            User::Unprivileged => {
                if let Err(why) = userns_allowed(None) {
                    return skip(&why);
                }
                (Command::new(&self.path), None)
            }
        };
        let mut command = command;
        command
            .stdin(Stdio::null())
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE");
        // SIGINT and SIGQUIT at their default action, as a shell gives them
        // to a job in the foreground. A test run in the background (`&`,
        // as CI's twin run is) starts with both ignored (POSIX, "Signals
        // and Error Handling": asynchronous lists ignore them), and an
        // example keeps an ignored signal ignored, as `nohup` wants: then a
        // test's SIGINT would do nothing.
        // Safety: between fork and exec, sigaction(2) is async-signal-safe
        // (signal-safety(7)); the zeroed struct is SIG_DFL with no flags.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                for signal in [libc::SIGINT, libc::SIGQUIT] {
                    if libc::sigaction(signal, &default, std::ptr::null_mut()) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        Some(Prepared {
            command,
            _copy: copy,
        })
    }

    /// Run as the tests' own user, with no preparation: for `--help` and
    /// argument errors, which need no privilege.
    pub fn run_plain(&self, args: &[&str]) -> Ran {
        let user = match nix::unistd::geteuid().is_root() {
            true => User::Root,
            false => User::Unprivileged,
        };
        self.finish(user, Command::new(&self.path), args)
    }

    /// Run as root of a user namespace of the test's own in which
    /// `max_<ns_type>_namespaces` is 0, so the kernel refuses (ENOSPC) to
    /// create that type of namespace.
    pub fn run_with_zero_limit(&self, ns_type: &str, args: &[&str]) -> Option<Ran> {
        if let Err(why) = userns_allowed(None) {
            return skip(&why);
        }
        let mut cmd = Command::new(&self.path);
        limit::with_zero_limit(&mut cmd, ns_type);
        Some(self.finish(User::Root, cmd, args))
    }

    /// Run without any capability, as uid 65534 of a user namespace whose
    /// `max_user_namespaces` is 0, so the example's own rootless entry is
    /// refused with ENOSPC.
    pub fn run_unprivileged_with_zero_userns_limit(
        &self,
        args: &[&str],
    ) -> Option<Ran> {
        if let Err(why) = userns_allowed(None) {
            return skip(&why);
        }
        let mut cmd = Command::new(&self.path);
        limit::as_nobody_with_zero_userns_limit(&mut cmd, NOBODY);
        Some(self.finish(User::Unprivileged, cmd, args))
    }

    /// Run in the test's directory, or in a fresh one checked after the run.
    fn finish(&self, user: User, cmd: Command, args: &[&str]) -> Ran {
        if let Some(dir) = &self.dir {
            return self.spawn(user, cmd, args, dir);
        }
        let dir = RunDir::new();
        let before = HostState::capture(dir.path());
        let ran = self.spawn(user, cmd, args, dir.path());
        let changes = HostState::capture(dir.path()).changes_since(&before);
        assert!(
            changes.is_empty(),
            "{} {args:?}, run as {user}, changed the host: {}\n{}",
            self.path.display(),
            changes.join("; "),
            ran.stdout
        );
        ran
    }

    fn spawn(&self, user: User, mut cmd: Command, args: &[&str], dir: &Path) -> Ran {
        cmd.args(args)
            .env("TMPDIR", dir)
            .stdin(Stdio::null())
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE");
        let output = cmd.output().unwrap_or_else(|e| {
            panic!("could not start {}: {e}", self.path.display())
        });
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        // Whatever else a test expects, nothing may panic.
        assert!(
            !stderr.contains("panicked at") && !stderr.contains("RUST_BACKTRACE"),
            "the example panicked:\n{stderr}"
        );
        Ran {
            user,
            stdout,
            stderr,
            output,
            dir: dir.to_owned(),
        }
    }
}

impl Ran {
    /// Assert exit status 0, showing stderr if not; returns stdout.
    pub fn success(&self) -> &str {
        self.output
            .clone()
            .assert()
            .append_context("user", self.user)
            .success();
        &self.stdout
    }

    /// Assert the exit code, returning stderr (where errors go).
    pub fn failure(&self, code: i32) -> &str {
        self.output
            .clone()
            .assert()
            .append_context("user", self.user)
            .code(code);
        assert!(
            self.stdout.is_empty() || !self.stderr.is_empty(),
            "no error message"
        );
        &self.stderr
    }

    /// The temporary directory the run printed (`mkdtemp -> PATH`, named
    /// `<stem>.XXXXXX`), if it got that far, is gone. The host check of the
    /// run already found its `TMPDIR` as it was; this names the directory.
    pub fn assert_temp_dir_removed(&self, stem: &str) {
        let Some(line) = self.stdout.lines().find(|l| l.contains("mkdtemp -> "))
        else {
            return;
        };
        let path = line
            .split_whitespace()
            .find(|w| w.contains(&format!("/{stem}.")))
            .unwrap_or_else(|| panic!("no {stem}.XXXXXX path on {line:?}"))
            .trim_end_matches(',');
        assert!(!Path::new(path).exists(), "{path} was left behind");
    }

    /// stdout, normalised for a snapshot.
    pub fn normalized(&self) -> String {
        self.normalize(&self.stdout)
    }

    /// stderr, normalised for a snapshot.
    pub fn normalized_stderr(&self) -> String {
        self.normalize(&self.stderr)
    }

    /// The run's `TMPDIR` reads as `/tmp`, so that both become `$TMP`: a
    /// learner runs the examples with the usual /tmp, and the snapshots and
    /// the book show what they would see.
    fn normalize(&self, text: &str) -> String {
        let text = text.replace(&*self.dir.to_string_lossy(), "/tmp");
        workbook::normalize::normalize(&text, &host_hostname(), "/tmp")
    }
}

/// Whether an unprivileged user may create a user namespace and map itself
/// to root in it: `None` means the tests' own user, else (uid, gid) from
/// root. Asked once per test process and user: the answer is kept by key.
pub(crate) fn userns_allowed(as_user: Option<(u32, u32)>) -> Result<(), String> {
    /// The user asked about (see above), and the answer.
    type Answer = (Option<(u32, u32)>, Result<(), String>);
    static ANSWERS: Mutex<Vec<Answer>> = Mutex::new(Vec::new());
    // A test thread that panicked while holding the lock left only answers.
    let mut answers = ANSWERS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, answer)) = answers.iter().find(|(key, _)| *key == as_user) {
        return answer.clone();
    }
    let answer = probe_userns(as_user);
    answers.push((as_user, answer.clone()));
    answer
}

fn probe_userns(as_user: Option<(u32, u32)>) -> Result<(), String> {
    let (uid, gid) = as_user.unwrap_or_else(|| {
        (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        )
    });
    let mut cmd = Command::new("true");
    if let Some((uid, gid)) = as_user {
        cmd.uid(uid).gid(gid).current_dir("/");
    }
    limit::probe_userns(&mut cmd, uid, gid);
    let see = "see the README, \"Running without root\"";
    match cmd.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!(
            "the user namespace probe as uid {uid} exited with {status}; {see}"
        )),
        Err(err) => Err(format!(
            "this kernel does not let uid {uid} create a user namespace and map itself \
             to root ({err}); {see}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each user gets its own answer: uid -1 ((uid_t)-1, which setuid(2)
    /// refuses with EINVAL) can never pass, whoever was asked first.
    #[test]
    fn userns_allowed_answers_for_the_user_asked_about() {
        let root = nix::unistd::geteuid().is_root();
        let first = match root {
            true => Some((NOBODY, NOBODY)),
            false => None,
        };
        let first_answer = userns_allowed(first);
        assert!(userns_allowed(Some((u32::MAX, u32::MAX))).is_err());
        assert_eq!(userns_allowed(first), first_answer, "the answer is kept");
    }
}
