//! A target process that a test starts itself, for an example to join by PID
//! (ch04, ch05): a command line, usually util-linux's unshare(1) running
//! `sh -c 'hostname NAME; echo ready; exec cat'` ([`ExternalTarget::unshare`]),
//! with piped stdin and stdout.
//!
//! Its "ready" line says its namespaces are set up; closing its stdin ends
//! `cat`, so it exits. No sleeping, no signals.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::run::NOBODY;
use crate::{User, skip};

/// A running target; closing it (or dropping it, on a panic) ends it and
/// waits for it.
#[derive(Debug)]
pub struct ExternalTarget {
    child: Child,
    stdin: Option<ChildStdin>,
    // Kept open until the end, so the target never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl ExternalTarget {
    /// Start `command` (program and arguments) as `user`: `Root` is the
    /// tests' own user, which must be root (skipped otherwise); `Unprivileged`
    /// is uid/gid 65534 in `/` when the tests are root, else the tests' user.
    /// Returns once the target printed its first line, which must be `ready`.
    /// If it cannot start, the `Root` case panics and the `Unprivileged` one
    /// skips (the kernel may refuse unprivileged user namespaces here).
    pub fn start(user: User, command: &[&str]) -> Option<ExternalTarget> {
        let root = nix::unistd::geteuid().is_root();
        if user == User::Root && !root {
            return skip("the root target needs the tests to run as root");
        }
        let (program, args) = command.split_first().expect("a command");
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if user == User::Unprivileged && root {
            cmd.uid(NOBODY).gid(NOBODY).current_dir("/");
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {command:?}: {e}"));
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        if line.trim_end() != "ready" {
            drop(stdin);
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut err);
            }
            let status = child.wait().expect("wait for the target");
            let why = format!(
                "the target {command:?} did not start ({status}): {line}{err}"
            );
            match user {
                User::Root => panic!("{why}"),
                User::Unprivileged => return skip(&why),
            }
        }
        Some(ExternalTarget {
            child,
            stdin,
            _stdout: stdout,
        })
    }

    /// util-linux's unshare(1) with `flags` (`--uts`, `--net`), running
    /// `sh -c 'hostname NAME; echo ready; exec cat'` (no `hostname` without
    /// a name). `Unprivileged`, it first makes a user namespace of its own
    /// (`--user --map-root-user`), as a learner without root would.
    pub fn unshare(
        user: User,
        flags: &[&str],
        hostname: Option<&str>,
    ) -> Option<ExternalTarget> {
        let park = match hostname {
            Some(name) => format!("hostname {name}; echo ready; exec cat"),
            None => "echo ready; exec cat".to_owned(),
        };
        let mut command = vec!["unshare"];
        if user == User::Unprivileged {
            command.extend(["--user", "--map-root-user"]);
        }
        command.extend(flags);
        command.extend(["sh", "-c", &park]);
        ExternalTarget::start(user, &command)
    }

    /// A process of uid and gid 65534 in namespaces of `flags` that root
    /// made (owned by the host's user namespace): an unprivileged joiner may
    /// open its namespace files, but not join them.
    pub fn host_owned_as_nobody(flags: &[&str]) -> Option<ExternalTarget> {
        let mut ids = vec!["--setgid", "65534", "--setuid", "65534"];
        ids.splice(0..0, flags.iter().copied());
        ExternalTarget::unshare(User::Root, &ids, None)
    }

    /// The target's PID, as the example's argument.
    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// readlink of `/proc/PID/ns/<ns_type>`: `uts:[4026532247]`.
    pub fn ns(&self, ns_type: &str) -> String {
        let path = format!("/proc/{}/ns/{ns_type}", self.child.id());
        std::fs::read_link(&path)
            .unwrap_or_else(|e| panic!("readlink {path}: {e}"))
            .to_string_lossy()
            .into_owned()
    }

    /// Close its stdin, wait for it, and check it exited with status 0.
    pub fn finish(mut self) {
        self.stdin.take();
        let status = self.child.wait().expect("wait for the target");
        assert!(status.success(), "the target exited with {status}");
    }
}

impl Drop for ExternalTarget {
    fn drop(&mut self) {
        // After `finish` this waits again, harmlessly: std returns the
        // status it already has.
        self.stdin.take();
        let _ = self.child.wait();
    }
}
