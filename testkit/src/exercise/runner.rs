//! The parent: starts each case, looks at the kernel, judges.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, pipe2, read};

use super::probe::{Probe, Report};
use super::{CASE_ARG, Case, OUTPUT_LINES, TAG, TIMEOUT};
use crate::run::{NOBODY, PublicCopy, userns_allowed};
use crate::{HostState, User, in_ci, temp_entries};

enum Verdict {
    Pass,
    Skip(String),
    Fail { reason: String, output: Vec<String> },
}

pub(super) fn parent_main(
    exercise: &'static str,
    cases: &[Case],
    args: &[String],
) -> ExitCode {
    let start = Instant::now();
    let quiet = args.iter().any(|a| a == "-q" || a == "--quiet");
    let filter = args.iter().find(|a| !a.starts_with('-'));
    let package =
        std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| exercise.into());
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
    println!("\nrunning {} tests", runs.len());
    let mut runner = Runner {
        exercise,
        package,
        copy: None,
    };
    let (mut passed, mut ignored) = (0, 0);
    let mut failures = Vec::new();
    for (case, user) in runs {
        let label = match user {
            Some(user) => format!("{} ({user})", case.name),
            None => case.name.to_owned(),
        };
        if !quiet {
            print!("test {label} ... ");
            let _ = std::io::stdout().flush();
        }
        let verdict = runner.run(&case, user);
        let word = match &verdict {
            Verdict::Pass => "ok".to_owned(),
            Verdict::Skip(why) => format!("ignored, {why}"),
            Verdict::Fail { .. } => "FAILED".to_owned(),
        };
        match quiet {
            false => println!("{word}"),
            true if matches!(verdict, Verdict::Fail { .. }) => {
                println!("test {label} ... {word}")
            }
            true => {}
        }
        match verdict {
            Verdict::Pass => passed += 1,
            Verdict::Skip(_) => ignored += 1,
            Verdict::Fail { reason, output } => {
                failures.push((label, reason, output))
            }
        }
    }
    if !failures.is_empty() {
        println!("\nfailures:\n");
        for (label, reason, output) in &failures {
            println!("---- {label} ----");
            println!("{reason}");
            if !output.is_empty() {
                println!("output of the case's processes:");
                for line in output.iter().take(OUTPUT_LINES) {
                    println!("    {line}");
                }
                if output.len() > OUTPUT_LINES {
                    println!("    ({} more lines)", output.len() - OUTPUT_LINES);
                }
            }
            println!();
        }
        println!("failures:");
        for (label, _, _) in &failures {
            println!("    {label}");
        }
    }
    let result = match failures.is_empty() {
        true => "ok",
        false => "FAILED",
    };
    println!(
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

struct Runner {
    exercise: &'static str,
    package: String,
    /// The test binary, copied where uid 65534 can run it (tests as root).
    copy: Option<PublicCopy>,
}

/// What came out of the child's pipe.
enum Event {
    Line(String),
    /// End of file: every process that had the pipe has closed it.
    Eof,
    /// The case's process has ended (some other process may still hold the
    /// pipe open: one it started and did not wait for).
    Exited,
    Timeout,
}

/// The read end of the child's stdout and stderr, and a pidfd of the child,
/// watched together with poll(2): no sleeping, no thread.
struct Watch {
    pipe: OwnedFd,
    pidfd: OwnedFd,
    buf: Vec<u8>,
    eof: bool,
}

impl Watch {
    fn new(pipe: OwnedFd, pid: Pid) -> Result<Watch, String> {
        // pidfd_open(2) (Linux 5.3): readable once the process has ended.
        // Safety: a plain system call with two integer arguments.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
        if fd < 0 {
            return Err(format!("pidfd_open({pid}) failed: {}", Errno::last()));
        }
        // Safety: the kernel just returned this descriptor; nothing else owns it.
        let pidfd =
            unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
        Ok(Watch {
            pipe,
            pidfd,
            buf: Vec::new(),
            eof: false,
        })
    }

    /// Wait until the child has exited, or the deadline.
    fn exited(&self, deadline: Instant) -> bool {
        poll(&[&self.pidfd], deadline).first() == Some(&true)
    }

    fn next(&mut self, deadline: Instant) -> Event {
        loop {
            if let Some(at) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=at).collect();
                return Event::Line(
                    String::from_utf8_lossy(&line[..at]).into_owned(),
                );
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Event::Eof;
                }
                let line = std::mem::take(&mut self.buf);
                return Event::Line(String::from_utf8_lossy(&line).into_owned());
            }
            match poll(&[&self.pipe, &self.pidfd], deadline)[..] {
                // Output first: a child that wrote and exited is read to the end.
                [true, _] => {
                    let mut chunk = [0u8; 4096];
                    match read(&self.pipe, &mut chunk) {
                        Ok(0) | Err(_) => self.eof = true,
                        Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                    }
                }
                [false, true] => return Event::Exited,
                _ => return Event::Timeout,
            }
        }
    }
}

/// poll(2) for input on `fds` until one is ready or the deadline; which are.
fn poll(fds: &[&OwnedFd], deadline: Instant) -> Vec<bool> {
    let mut pollfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        // Safety: `pollfds` is a valid array of `len` pollfd structures.
        let n = unsafe {
            libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, ms)
        };
        if n < 0 && Errno::last() == Errno::EINTR {
            continue;
        }
        return pollfds.iter().map(|p| p.revents != 0).collect();
    }
}

impl Runner {
    fn skip(&self, why: String) -> Verdict {
        match in_ci() {
            true => Verdict::Fail {
                reason: format!("CI=true, and this case cannot run here: {why}"),
                output: Vec::new(),
            },
            false => Verdict::Skip(why),
        }
    }

    fn run(&mut self, case: &Case, user: Option<User>) -> Verdict {
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(err) => return fail(format!("cannot find the test binary: {err}")),
        };
        let euid = nix::unistd::geteuid();
        let mut cmd = match user {
            None => Command::new(&exe),
            Some(User::Root) if !euid.is_root() => {
                return self.skip(format!(
                    "the tests run as uid {euid}; this case needs root (`sudo -E cargo test -p {}`)",
                    self.package
                ));
            }
            Some(User::Root) => Command::new(&exe),
            Some(User::Unprivileged) if euid.is_root() => {
                if let Err(why) = userns_allowed(Some((NOBODY, NOBODY))) {
                    return self.skip(why);
                }
                let copy = self.copy.get_or_insert_with(|| PublicCopy::of(&exe));
                let mut cmd = Command::new(&copy.path);
                cmd.uid(NOBODY).gid(NOBODY).current_dir("/");
                cmd
            }
            Some(User::Unprivileged) => {
                if let Err(why) = userns_allowed(None) {
                    return self.skip(why);
                }
                Command::new(&exe)
            }
        };
        let user_arg: OsString = match user {
            Some(user) => user.to_string().into(),
            None => "once".into(),
        };
        cmd.arg(CASE_ARG).arg(case.name).arg(user_arg);
        self.judge(case, user, cmd)
    }

    fn judge(&self, case: &Case, user: Option<User>, mut cmd: Command) -> Verdict {
        let host_before = HostState::capture(std::path::Path::new("/"));
        let temp_prefix = format!("{}.", self.exercise);
        let temp_before = temp_entries(&temp_prefix);

        let (read_end, write_end) = match pipe2(OFlag::O_CLOEXEC) {
            Ok(ends) => ends,
            Err(err) => return fail(format!("pipe2() failed: {err}")),
        };
        let stderr_end = match write_end.try_clone() {
            Ok(fd) => fd,
            Err(err) => return fail(format!("dup() failed: {err}")),
        };
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::from(write_end))
            .stderr(Stdio::from(stderr_end))
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            // A process group of its own: whatever the case leaves running
            // is killed with it.
            .process_group(0);
        let spawned = cmd.spawn();
        // Our copies of the write end must go, or the pipe never ends.
        drop(cmd);
        let mut child = match spawned {
            Ok(child) => child,
            Err(err) => {
                return fail(format!("could not start the test binary: {err}"));
            }
        };
        let child_pid = Pid::from_raw(child.id() as i32);
        let mut watch = match Watch::new(read_end, child_pid) {
            Ok(watch) => watch,
            Err(why) => {
                let _ = killpg(child_pid, Signal::SIGKILL);
                let _ = child.wait();
                return fail(why);
            }
        };
        let deadline = Instant::now() + TIMEOUT;
        let mut report = Report::default();
        let mut output = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        let mut parked = None;
        let mut timed_out = false;

        loop {
            match watch.next(deadline) {
                Event::Line(line) => {
                    // After a learner's print! without a newline, the tag
                    // comes mid-line.
                    let Some(at) = line.find(TAG) else {
                        output.push(line);
                        continue;
                    };
                    if at > 0 {
                        output.push(line[..at].to_owned());
                    }
                    let rest = &line[at + TAG.len()..];
                    let (kind, text) = rest.split_once(' ').unwrap_or((rest, ""));
                    match kind {
                        "report" => {
                            let (key, value) =
                                text.split_once(' ').unwrap_or((text, ""));
                            report.entries.push((key.to_owned(), value.to_owned()));
                        }
                        // `panic PID sentence`
                        "panic" => reasons.push(
                            text.split_once(' ').map_or(text, |(_, s)| s).to_owned(),
                        ),
                        "fail" => reasons.push(text.to_owned()),
                        "ready" if parked.is_none() => {
                            let pid = text.parse().map_or(child_pid, Pid::from_raw);
                            parked = Some(pid);
                            if let Some(check) = case.check {
                                let probe = Probe {
                                    user,
                                    child: child_pid,
                                    parked: pid,
                                    report: &report,
                                };
                                if let Err(why) = check(&probe) {
                                    reasons.push(why);
                                }
                            }
                            // End of file on stdin releases every parked process.
                            drop(child.stdin.take());
                        }
                        _ => {}
                    }
                }
                Event::Eof | Event::Exited => break,
                Event::Timeout => {
                    timed_out = true;
                    break;
                }
            }
        }
        drop(child.stdin.take());
        if !timed_out && !watch.exited(deadline) {
            timed_out = true;
        }
        // Anything still running in the case's process group goes now; a
        // process the case left running has already failed it.
        let _ = killpg(child_pid, Signal::SIGKILL);
        let status = child.wait().ok();

        let mut all = Vec::new();
        if timed_out {
            all.push(format!(
                "the case did not finish within {} s and was killed: a process waits for \
                 something that never comes (a child never reaped, a pipe end left open?)",
                TIMEOUT.as_secs()
            ));
        }
        all.extend(reasons);
        if let Some(status) = status.filter(|s| !s.success() && all.is_empty()) {
            all.push(match status.signal() {
                Some(signal) => format!(
                    "process {child_pid} was killed by {}{}",
                    signal_name(signal),
                    match signal {
                        libc::SIGSEGV =>
                            " (a stack overflow? a clone(2) child needs a big enough stack)",
                        _ => "",
                    }
                ),
                None => format!("the case's process exited with {status}"),
            });
        }
        if all.is_empty() && parked.is_none() {
            all.push(
                "the case ended without being checked (a bug in the test)".into(),
            );
        }
        if let (true, Some(after)) = (all.is_empty(), case.after) {
            if let Err(why) = after(&report) {
                all.push(why);
            }
        }

        // The case's temporary directories; then the host must be as it was.
        for path in report.all("cleanup") {
            let _ = fs::remove_dir_all(path);
        }
        let host_after = HostState::capture(std::path::Path::new("/"));
        if host_after.hostname != host_before.hostname {
            all.push(format!(
                "the host's hostname changed from {:?} to {:?}: a hostname was set outside a \
                 new UTS namespace (set it back with `hostname {}`)",
                host_before.hostname, host_after.hostname, host_before.hostname
            ));
        }
        if host_after.mounts != host_before.mounts {
            let added: Vec<_> = host_after
                .mounts
                .iter()
                .filter(|m| !host_before.mounts.contains(m))
                .collect();
            all.push(format!(
                "the host's mount table changed (added {added:?}): a mount reached the host"
            ));
        }
        let temp_after = temp_entries(&temp_prefix);
        if temp_after != temp_before {
            let left: Vec<_> = temp_after
                .iter()
                .filter(|e| !temp_before.contains(e))
                .collect();
            all.push(format!("temporary files were left in /tmp: {left:?}"));
        }
        match all.into_iter().next() {
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

fn signal_name(signal: i32) -> String {
    Signal::try_from(signal)
        .map_or_else(|_| format!("signal {signal}"), |s| s.to_string())
}
