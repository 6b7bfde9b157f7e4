//! Running an example binary as root or as an unprivileged user.

use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use std::process::Output;

use assert_cmd::assert::OutputAssertExt;

use crate::{host_hostname, limit, skip};

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
#[derive(Debug, Clone)]
pub struct Example {
    path: PathBuf,
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
}

impl Example {
    pub fn new(path: impl Into<PathBuf>) -> Example {
        Example { path: path.into() }
    }

    /// Run with `args` as `user`, or skip (see [`crate::skip`]) when this
    /// machine cannot run that case.
    pub fn run(&self, user: User, args: &[&str]) -> Option<Ran> {
        let euid = nix::unistd::geteuid().as_raw();
        match user {
            User::Root if euid != 0 => skip(&format!(
                "the tests run as uid {euid}; the root case needs root (`sudo -E cargo test`)"
            )),
            User::Root => Some(self.finish(user, Command::new(&self.path), args)),
            User::Unprivileged if euid == 0 => {
                // nobody must be able to reach the binary: copy it out of the
                // checkout, whose folders may be closed to others.
                let copy = PublicCopy::of(&self.path);
                let (uid, gid) = (NOBODY, NOBODY);
                if let Err(why) = userns_allowed(Some((uid, gid))) {
                    return skip(&why);
                }
                let mut cmd = Command::new(&copy.path);
                cmd.uid(uid).gid(gid).current_dir("/");
                Some(self.finish(user, cmd, args))
            }
            User::Unprivileged => {
                if let Err(why) = userns_allowed(None) {
                    return skip(&why);
                }
                Some(self.finish(user, Command::new(&self.path), args))
            }
        }
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
                    "the tests run as uid {euid}; the root case needs root (`sudo -E cargo test`)"
                ));
            }
            User::Root => (Command::new(&self.path), None),
            User::Unprivileged if euid == 0 => {
                if let Err(why) = userns_allowed(Some((NOBODY, NOBODY))) {
                    return skip(&why);
                }
                let copy = PublicCopy::of(&self.path);
                let mut cmd = Command::new(&copy.path);
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

    fn finish(&self, user: User, mut cmd: Command, args: &[&str]) -> Ran {
        cmd.args(args)
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

    /// stdout, normalised for a snapshot.
    pub fn normalized(&self) -> String {
        workbook::normalize::normalize(&self.stdout, &host_hostname(), "/tmp")
    }

    /// stderr, normalised for a snapshot.
    pub fn normalized_stderr(&self) -> String {
        workbook::normalize::normalize(&self.stderr, &host_hostname(), "/tmp")
    }
}

/// A copy of a binary in a fresh 0755 directory under /tmp, which any user can
/// reach; removed when dropped.
#[derive(Debug)]
pub(crate) struct PublicCopy {
    dir: PathBuf,
    pub(crate) path: PathBuf,
}

impl PublicCopy {
    pub(crate) fn of(binary: &Path) -> PublicCopy {
        let template = format!("/tmp/workbook-test-{}.XXXXXX", std::process::id());
        let dir = nix::unistd::mkdtemp(template.as_str()).expect("mkdtemp");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))
            .expect("chmod dir");
        let path = dir.join(binary.file_name().expect("binary name"));
        // cp(1) writes the copy, not this process: a file this process held
        // open for writing would be inherited by every child another test
        // thread forks, until it execs, and exec of the copy in that window
        // fails with ETXTBSY ("Text file busy").
        let copied = Command::new("cp")
            .arg("--")
            .arg(binary)
            .arg(&path)
            .status()
            .expect("start cp");
        assert!(copied.success(), "cp {} failed", binary.display());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .expect("chmod binary");
        PublicCopy { dir, path }
    }
}

impl Drop for PublicCopy {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Whether an unprivileged user may create a user namespace and map itself
/// to root in it: `None` means the tests' own user, else (uid, gid) from
/// root. Asked once per test process.
pub(crate) fn userns_allowed(as_user: Option<(u32, u32)>) -> Result<(), String> {
    static ANSWER: OnceLock<Result<(), String>> = OnceLock::new();
    ANSWER
        .get_or_init(|| {
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
            match cmd.status() {
                Ok(status) if status.success() => Ok(()),
                Ok(status) => Err(format!("the user namespace probe exited with {status}")),
                Err(err) => Err(format!(
                    "this kernel does not let uid {uid} create a user namespace and map itself \
                     to root ({err}); see the README, \"Running without root\""
                )),
            }
        })
        .clone()
}
