//! Running an example as a live process: stdout read line by line, the
//! process signalled at a chosen line, and its own temporary directory
//! judged afterwards. Shared by `stdout.rs` and `interrupted.rs`.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, ExitStatus, Stdio};

use testkit::{Example, User};

/// The chapter packages (testkit::workspace), at least the six of the
/// seed.
pub fn chapters() -> Vec<String> {
    let names = testkit::workspace::chapters();
    assert!(
        names.len() >= 6,
        "expected the six chapters, found {names:?}"
    );
    names
}

/// The example built next to this test, or a skip saying it is not built
/// (a failure under CI=true): see testkit::workspace::built.
pub fn example(name: &str) -> Option<Example> {
    testkit::workspace::built(name).map(Example::new)
}

/// Every example's story (no PID, no subcommand), with each way it has.
pub fn stories() -> Vec<(String, Vec<&'static str>)> {
    let mut runs = Vec::new();
    for name in chapters() {
        if name.starts_with("ch03") {
            runs.push((name.clone(), vec!["--libc"]));
        }
        let args = testkit::workspace::story_args(&name).to_vec();
        runs.push((name, args));
    }
    runs
}

/// A fresh directory of this test's own, given to the example as TMPDIR:
/// mode 1777 like /tmp, so uid 65534 can make its directory there. Only
/// what appears in it is this run's.
#[derive(Debug)]
pub struct TmpDir {
    pub path: PathBuf,
}

impl TmpDir {
    pub fn new() -> TmpDir {
        let template = format!("/tmp/workbook-live-{}.XXXXXX", std::process::id());
        let path = nix::unistd::mkdtemp(template.as_str()).expect("mkdtemp");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o1777))
            .expect("chmod 1777");
        TmpDir { path }
    }

    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.path)
            .expect("read TMPDIR")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Mounts on or under this directory, in the test's (the host's) mount
    /// namespace.
    pub fn mounts(&self) -> Vec<String> {
        let mounts = workbook::mountinfo::current().expect("mountinfo");
        mounts
            .into_iter()
            .filter(|m| m.mount_point.starts_with(&self.path))
            .map(|m| format!("{} on {}", m.fstype, m.mount_point.display()))
            .collect()
    }

    /// Nothing left: no entry, no mount.
    pub fn assert_clean(&self, what: &str) {
        assert_eq!(
            self.mounts(),
            Vec::<String>::new(),
            "{what}: a mount was left"
        );
        assert_eq!(
            self.entries(),
            Vec::<String>::new(),
            "{what}: an entry was left"
        );
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        // rmdir only: what a failed test left is empty directories at most,
        // and a mount must never be deleted through.
        for name in self.entries() {
            let _ = fs::remove_dir(self.path.join(name));
        }
        let _ = fs::remove_dir(&self.path);
    }
}

/// A running example.
#[derive(Debug)]
pub struct Live {
    pub child: Child,
    pub stdout: Option<BufReader<ChildStdout>>,
    pub lines: Vec<String>,
}

/// Start `name` with `args` as `user`, TMPDIR set to `tmp`, stdout as given
/// (`None`: a pipe the test reads). `None` if this machine skips `user`.
pub fn start(
    name: &str,
    user: User,
    args: &[&str],
    tmp: &TmpDir,
    stdout: Option<Stdio>,
    own_group: bool,
) -> Option<Live> {
    let mut prepared = example(name)?.prepare(user)?;
    let piped = stdout.is_none();
    let cmd = &mut prepared.command;
    cmd.args(args)
        .env("TMPDIR", &tmp.path)
        .stdout(stdout.unwrap_or_else(Stdio::piped))
        .stderr(Stdio::piped());
    if own_group {
        std::os::unix::process::CommandExt::process_group(cmd, 0);
    }
    let mut child = cmd.spawn().expect("spawn the example");
    let stdout = piped.then(|| BufReader::new(child.stdout.take().expect("stdout")));
    Some(Live {
        child,
        stdout,
        lines: Vec::new(),
    })
}

impl Live {
    /// Read stdout until it has given `n` lines in all; false if it ended
    /// first.
    pub fn read_lines(&mut self, n: usize) -> bool {
        let stdout = self.stdout.as_mut().expect("a piped stdout");
        while self.lines.len() < n {
            let mut line = String::new();
            match stdout.read_line(&mut line) {
                Ok(0) | Err(_) => return false,
                Ok(_) => self.lines.push(line),
            }
        }
        true
    }

    /// Close the test's end of the stdout pipe: the reader is gone.
    pub fn close_stdout(&mut self) {
        self.stdout.take();
    }

    /// Read the rest of stdout (if still open), then reap; returns the
    /// status and stderr.
    pub fn finish(mut self) -> (ExitStatus, String) {
        if let Some(mut stdout) = self.stdout.take() {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
            self.lines.extend(rest.lines().map(|l| format!("{l}\n")));
        }
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut stderr);
        }
        let status = self.child.wait().expect("wait for the example");
        (status, stderr)
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // A failed assertion must not leave the example running. After
        // `finish` it is reaped already, and these do nothing.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// "exit 0", "exit 1", "killed by SIGPIPE": for assertion messages.
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => match nix::sys::signal::Signal::try_from(signal) {
            Ok(s) => format!("killed by {s}"),
            Err(_) => format!("killed by signal {signal}"),
        },
        _ => format!("{status}"),
    }
}

/// Nothing panicked, with stderr shown if something did.
pub fn assert_no_panic(stderr: &str, what: &str) {
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{what}: the example panicked:\n{stderr}"
    );
}
