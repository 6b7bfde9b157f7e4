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
//! hostname inside the child's UTS namespace ([`hostname_in`]), the child's
//! mount table ([`mounts_of`]). Then it releases the child, and checks that
//! the host's hostname, mount table and `/tmp` are as they were. A case
//! therefore cannot pass by printing the expected text, or by doing nothing.
//!
//! The child and the parent talk through the child's stdout (stderr goes to
//! the same pipe): lines that start with `##exercise ` are the harness's,
//! everything else is the learner's output, shown under a failure.
//!
//! Output imitates libtest's (`test NAME ... ok`, `test result: ...`), with
//! each failure explained in one sentence, and the exit status is non-zero
//! when a case failed.

use std::ffi::OsString;
use std::fmt::Display;
use std::fs;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, pipe2, read};
use workbook::ns::{self, NsId, Proc};
use workbook::process::{self, Child, Sender};

use crate::run::{NOBODY, PublicCopy, userns_allowed};
use crate::{HostState, User, in_ci, temp_entries};

/// What a body, a check or a helper returns: `Err` holds one sentence.
pub type Outcome = Result<(), String>;

/// The start of every line the harness itself writes in the child.
const TAG: &str = "##exercise ";
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

// ---------------------------------------------------------------------------
// The child: runs one case's body on its only thread.

static EXERCISE: OnceLock<&'static str> = OnceLock::new();

fn child_main(exercise: &'static str, cases: &[Case], args: &[String]) -> ExitCode {
    let _ = EXERCISE.set(exercise);
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "?".into());
        let payload = info.payload();
        let message = (payload.downcast_ref::<&str>().copied())
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let sentence = match message.strip_prefix("not yet implemented") {
            Some(rest) => {
                let what = rest.trim_start_matches(':').trim();
                match what.is_empty() {
                    true => format!("still todo!() at {at}"),
                    false => format!("still todo!() at {at}: {what}"),
                }
            }
            None => format!("panicked at {at}: {message}"),
        };
        emit("panic", &format!("{} {sentence}", getpid()));
    }));
    let (Some(name), user) = (args.first(), args.get(1).map(String::as_str)) else {
        emit("fail", "the harness started a case without naming it");
        return ExitCode::FAILURE;
    };
    let Some(case) = cases.iter().find(|c| c.name == name) else {
        emit("fail", &format!("no case is named {name:?}"));
        return ExitCode::FAILURE;
    };
    let result = (|| {
        // As the chapters do when not root, but silently: the output shown
        // under a failure is the learner's.
        if user == Some("unprivileged")
            && case.user_ns
            && !workbook::userns::has_cap_sys_admin()
        {
            new_user_namespace()?;
        }
        (case.body)()?;
        // Parked already if the body (or a process it started) called
        // park(): then stdin is at end-of-file and this returns at once.
        park();
        no_children_left()
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(sentence) => {
            emit("fail", &sentence);
            ExitCode::FAILURE
        }
    }
}

/// One line for the parent. A sentence stays on one line.
fn emit(kind: &str, text: &str) {
    let text = text.replace('\n', " ");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{TAG}{kind} {text}");
    let _ = out.flush();
}

/// Tell the parent `key` is `value` (no newline in either).
pub fn report(key: &str, value: impl Display) {
    emit("report", &format!("{key} {value}"));
}

/// Report a namespace identity, for [`Report::ns`].
pub fn report_ns(key: &str, id: NsId) {
    report(key, format!("{} {} {}", id.ns_type, id.dev, id.ino));
}

/// Tell the parent the calling process is ready to be looked at, and wait
/// until the parent has looked (it then closes the child's stdin). Any
/// process the case started may park instead of the case's own process; the
/// first to park is the one the parent's check is given.
pub fn park() {
    emit("ready", &getpid().to_string());
    let mut byte = [0u8; 64];
    loop {
        match read(std::io::stdin().as_fd(), &mut byte) {
            Ok(0) => return,
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => return,
        }
    }
}

/// The learner's code returned: its error becomes the sentence.
pub fn call<T, E: Display>(what: &str, result: Result<T, E>) -> Result<T, String> {
    result.map_err(|err| format!("{what} returned an error: {}", first_line(&err)))
}

/// A step of the test's own: its error says the test could not set up.
pub fn setup<T, E: Display>(what: &str, result: Result<T, E>) -> Result<T, String> {
    result.map_err(|err| {
        format!("the test could not set up ({what}): {}", first_line(&err))
    })
}

/// `Err(why())` unless `ok`.
pub fn ensure(ok: bool, why: impl FnOnce() -> String) -> Outcome {
    match ok {
        true => Ok(()),
        false => Err(why()),
    }
}

/// An error as one sentence: its first line, without the `error: ` prefix
/// (workbook's errors put a hint on the next line).
pub fn sentence(err: &impl Display) -> String {
    first_line(err)
}

fn first_line(err: &impl Display) -> String {
    let text = err.to_string();
    let line = text.lines().next().unwrap_or("").trim();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

/// Move the case's process into new namespaces of `flags` before the
/// learner's code runs, so that a mistake there (a hostname set, a mount made
/// without a new namespace) lands in these throwaway ones, never on the host.
/// With CLONE_NEWNS, `/` is then made recursively private (mount_namespaces(7)).
pub fn isolate(flags: CloneFlags) -> Outcome {
    let before: Vec<NsId> = ns::types_of(flags)
        .into_iter()
        .map(NsId::current)
        .collect::<Result<_, _>>()
        .map_err(|e| first_line(&e))?;
    setup("unshare", unshare(flags))?;
    for old in before {
        let new = setup("reading /proc/self/ns", NsId::current(old.ns_type))?;
        setup("checking the namespace is new", ns::ensure_new(old, new))?;
    }
    if flags.contains(CloneFlags::CLONE_NEWNS) {
        setup(
            "making / private",
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            ),
        )?;
    }
    Ok(())
}

/// A fresh directory `/tmp/<exercise>.XXXXXX`, which the parent removes (with
/// anything left in it) after the case.
pub fn temp_dir() -> Result<PathBuf, String> {
    let exercise = EXERCISE.get().copied().unwrap_or("exercise");
    let template = format!("/tmp/{exercise}.XXXXXX");
    let dir = setup("mkdtemp", nix::unistd::mkdtemp(template.as_str()))?;
    report("cleanup", dir.display());
    Ok(dir)
}

/// Move the calling process into a new user namespace in which its own uid
/// and gid are mapped to root (user_namespaces(7)), whether it is root or
/// not: `deny` to setgroups first, then the two maps.
pub fn new_user_namespace() -> Outcome {
    let uid = nix::unistd::geteuid();
    let gid = nix::unistd::getegid();
    setup("unshare(CLONE_NEWUSER)", unshare(CloneFlags::CLONE_NEWUSER))?;
    setup(
        "writing /proc/self/setgroups",
        fs::write("/proc/self/setgroups", "deny"),
    )?;
    setup(
        "writing /proc/self/uid_map",
        fs::write("/proc/self/uid_map", format!("0 {uid} 1")),
    )?;
    setup(
        "writing /proc/self/gid_map",
        fs::write("/proc/self/gid_map", format!("0 {gid} 1")),
    )
}

/// Fail if the process has a child it has not reaped: every child must be
/// waited for. `__WALL` also finds clone(2) children with no exit signal.
fn no_children_left() -> Outcome {
    match waitpid(None, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
        Err(Errno::ECHILD) => Ok(()),
        Ok(WaitStatus::StillAlive) => Err(
            "a child process was still running when the code returned: wait for every child \
             you start (waitpid(2))"
                .into(),
        ),
        Ok(status) => Err(format!(
            "process {} had ended but nobody had waited for it (a zombie): reap every child \
             with waitpid(2)",
            status.pid().map_or(-1, Pid::as_raw)
        )),
        Err(errno) => Err(format!("waitpid(-1) failed: {errno}")),
    }
}

/// A helper process the case forks: it runs `setup`, then stays parked (in
/// whatever namespaces `setup` moved it to) until [`Parked::finish`] or drop.
#[derive(Debug)]
pub struct Parked {
    // Field order is drop order: closing the pipe releases the helper, then
    // it is reaped.
    release: Sender,
    child: Child,
}

impl Parked {
    pub fn spawn(setup: impl FnOnce() -> Outcome) -> Result<Parked, String> {
        let pipes = process::channel().and_then(|a| Ok((a, process::channel()?)));
        let ((ready_tx, ready_rx), (release_tx, release_rx)) =
            self::setup("pipe()", pipes.map_err(|e| first_line(&e)))?;
        let close = process::raw_ends(&[&release_tx], &[&ready_rx]);
        let child = process::fork_child(&close, move || {
            if let Err(sentence) = setup() {
                emit("fail", &format!("a helper process of the test: {sentence}"));
                return Err(workbook::Error::refused(sentence, ""));
            }
            ready_tx.notify()?;
            release_rx.wait()?;
            Ok(())
        });
        let child = self::setup("fork()", child)?;
        if !self::setup("read(pipe)", ready_rx.wait())? {
            drop(child);
            return Err(
                "a helper process of the test ended before it was ready".into()
            );
        }
        Ok(Parked {
            release: release_tx,
            child,
        })
    }

    pub fn pid(&self) -> Pid {
        self.child.pid()
    }

    /// Release the helper and reap it.
    pub fn finish(self) -> Outcome {
        let Parked { release, child } = self;
        drop(release);
        child.wait().map_err(|e| first_line(&e))
    }
}

// ---------------------------------------------------------------------------
// The parent: starts each case, looks at the kernel, judges.

/// What the case's processes reported, in order.
#[derive(Debug, Default, Clone)]
pub struct Report {
    entries: Vec<(String, String)>,
}

impl Report {
    /// The last value reported for `key`.
    pub fn get(&self, key: &str) -> Result<&str, String> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| {
                format!("the case did not report {key:?} (a bug in the test)")
            })
    }

    pub fn pid(&self, key: &str) -> Result<Pid, String> {
        let value = self.get(key)?;
        value
            .parse()
            .map(Pid::from_raw)
            .map_err(|_| format!("{key} {value:?} is not a PID"))
    }

    pub fn path(&self, key: &str) -> Result<PathBuf, String> {
        self.get(key).map(PathBuf::from)
    }

    /// A namespace identity written by [`report_ns`].
    pub fn ns(&self, key: &str) -> Result<NsId, String> {
        let value = self.get(key)?;
        let mut words = value.split(' ');
        let parsed = (|| {
            let kind = words.next()?;
            let ns_type = ns::TYPES.iter().map(|(t, _)| *t).find(|t| *t == kind)?;
            let dev = words.next()?.parse().ok()?;
            let ino = words.next()?.parse().ok()?;
            Some(NsId { ns_type, dev, ino })
        })();
        parsed.ok_or_else(|| format!("{key} {value:?} is not a namespace identity"))
    }

    fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What a check sees while the case is parked.
#[derive(Debug)]
pub struct Probe<'a> {
    /// Who ran the case; `None` for a [`Case::once`] case.
    pub user: Option<User>,
    /// The case's own process.
    pub child: Pid,
    /// The process that parked (usually `child`).
    pub parked: Pid,
    pub report: &'a Report,
}

impl std::ops::Deref for Probe<'_> {
    type Target = Report;
    fn deref(&self) -> &Report {
        self.report
    }
}

/// The namespace of type `ns_type` process `pid` is in, from the kernel:
/// stat(2) of `/proc/PID/ns/<type>`.
pub fn ns_of(pid: Pid, ns_type: &str) -> Result<NsId, String> {
    NsId::of(Proc::Pid(pid), ns_type).map_err(|e| {
        format!(
            "could not read /proc/{pid}/ns/{ns_type}: {}",
            first_line(&e)
        )
    })
}

/// The namespace of the tests themselves: the host's.
pub fn host_ns(ns_type: &str) -> Result<NsId, String> {
    ns_of(getpid(), ns_type)
}

/// The identity of the nsfs file at `path` as process `pid` sees it (through
/// `/proc/PID/root`, so in its mount namespace).
pub fn ns_file_in(
    pid: Pid,
    ns_type: &'static str,
    path: &Path,
) -> Result<NsId, String> {
    let seen = path_in(pid, path);
    NsId::of_file(ns_type, &seen).map_err(|e| first_line(&e))
}

/// `path` as process `pid` sees it: `/proc/PID/root/<path>` (proc(5)) walks
/// the path in that process's mount namespace.
pub fn path_in(pid: Pid, path: &Path) -> PathBuf {
    let relative = path.strip_prefix("/").unwrap_or(path);
    PathBuf::from(format!("/proc/{pid}/root")).join(relative)
}

/// The hostname in the UTS namespace of process `pid`. There is no file that
/// shows it (`/proc/sys/kernel/hostname` shows the reader's own), so a
/// forked checker joins that namespace with setns(2) and asks gethostname(2);
/// if the namespace belongs to a user namespace where the tests have no
/// privilege, it joins that first.
pub fn hostname_in(pid: Pid) -> Result<String, String> {
    let (read_end, write_end) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe2() failed: {e}"))?;
    // Safety: the parent side of the harness is single-threaded (`harness =
    // false`: `main` is the test, and it starts no thread), so the child is
    // a complete copy; it makes a few system calls and leaves through _exit.
    match unsafe { fork() }.map_err(|e| format!("fork() failed: {e}"))? {
        ForkResult::Child => {
            drop(read_end);
            let answer = match join_uts_of(pid) {
                Ok(name) => format!("ok {name}"),
                Err(why) => format!("err {why}"),
            };
            let _ = nix::unistd::write(&write_end, answer.as_bytes());
            // Safety: ends this process at once, running nothing of the parent's.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(write_end);
            let mut answer = Vec::new();
            let mut buf = [0u8; 256];
            loop {
                match read(&read_end, &mut buf) {
                    Ok(0) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                    Err(Errno::EINTR) => continue,
                    Err(_) => break,
                }
            }
            while let Err(Errno::EINTR) = waitpid(child, None) {}
            let answer = String::from_utf8_lossy(&answer).into_owned();
            match answer.split_once(' ') {
                Some(("ok", name)) => Ok(name.to_owned()),
                Some((_, why)) => Err(format!(
                    "could not read the hostname of process {pid}: {why}"
                )),
                None => Err(format!("could not read the hostname of process {pid}")),
            }
        }
    }
}

fn join_uts_of(pid: Pid) -> Result<String, String> {
    let open = |t: &str| {
        fs::File::open(format!("/proc/{pid}/ns/{t}"))
            .map_err(|e| format!("open /proc/{pid}/ns/{t}: {e}"))
    };
    let uts = open("uts")?;
    let theirs = ns_of(pid, "user")?;
    let ours = ns_of(getpid(), "user")?;
    if theirs != ours && !workbook::userns::has_cap_sys_admin() {
        setns(open("user")?, CloneFlags::CLONE_NEWUSER)
            .map_err(|e| format!("setns(user): {e}"))?;
    }
    setns(uts, CloneFlags::CLONE_NEWUTS).map_err(|e| format!("setns(uts): {e}"))?;
    let name =
        nix::unistd::gethostname().map_err(|e| format!("gethostname: {e}"))?;
    Ok(name.to_string_lossy().into_owned())
}

/// One line of `/proc/PID/mountinfo` (proc(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub point: String,
    pub fstype: String,
    pub source: String,
    /// In a peer group: mounts made below it propagate to its peers.
    pub shared: bool,
}

/// The mount table of process `pid`'s mount namespace.
pub fn mounts_of(pid: Pid) -> Result<Vec<Mount>, String> {
    let path = format!("/proc/{pid}/mountinfo");
    let text = fs::read_to_string(&path)
        .map_err(|e| format!("could not read {path}: {e}"))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let dash = fields.iter().position(|f| *f == "-")?;
            Some(Mount {
                point: unescape(fields.get(4)?),
                fstype: (*fields.get(dash + 1)?).to_owned(),
                source: (*fields.get(dash + 2)?).to_owned(),
                shared: fields[6..dash].iter().any(|f| f.starts_with("shared:")),
            })
        })
        .collect())
}

/// The mount on `path` that process `pid` sees (the last stacked there).
pub fn mount_at(pid: Pid, path: &Path) -> Result<Option<Mount>, String> {
    let point = path.to_string_lossy();
    Ok(mounts_of(pid)?.into_iter().rfind(|m| m.point == point))
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

enum Verdict {
    Pass,
    Skip(String),
    Fail { reason: String, output: Vec<String> },
}

fn parent_main(exercise: &'static str, cases: &[Case], args: &[String]) -> ExitCode {
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
        let host_before = HostState::capture();
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
        let host_after = HostState::capture();
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
