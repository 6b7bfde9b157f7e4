//! The child: runs one case's body on its only thread.

use std::fmt::Display;
use std::fs;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;

use super::control;
use super::{CASE_DIR_ENV, Case, Outcome};
use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpid, read};
use workbook::ns::{self, NsId};
use workbook::process::{self, Child, Sender};

static EXERCISE: OnceLock<&'static str> = OnceLock::new();

pub(super) fn child_main(
    exercise: &'static str,
    cases: &[Case],
    args: &[String],
) -> ExitCode {
    // First, while this process has one thread: the channel to the runner.
    control::open();
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
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(sentence) => {
            emit("fail", &sentence);
            ExitCode::FAILURE
        }
    };
    // The case got here: if the runner does not hear this, something ended
    // the process before (std::process::exit in the learner's code).
    emit("end", &getpid().to_string());
    code
}

/// One message for the runner, on the control channel (see `control`).
fn emit(kind: &str, text: &str) {
    control::send(kind, text);
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

/// The learner's code returned: its error becomes the sentence, and the
/// error's further lines (a workbook error's `hint: ...`) follow it.
pub fn call<T, E: Display>(what: &str, result: Result<T, E>) -> Result<T, String> {
    result.map_err(|err| format!("{what} returned an error: {}", whole(&err)))
}

/// A step of the test's own: its error says the test could not set up.
pub fn setup<T, E: Display>(what: &str, result: Result<T, E>) -> Result<T, String> {
    result.map_err(|err| {
        format!("the test could not set up ({what}): {}", whole(&err))
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

pub(super) fn first_line(err: &impl Display) -> String {
    let text = err.to_string();
    let line = text.lines().next().unwrap_or("").trim();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

/// An error whole: its first line without `error: `, then its other lines
/// (the runner shows them indented under the first).
fn whole(err: &impl Display) -> String {
    let text = err.to_string();
    let text = text.trim();
    text.strip_prefix("error: ").unwrap_or(text).to_owned()
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
        setup("making / private", workbook::mountinfo::make_root_private())?;
    }
    Ok(())
}

/// A fresh directory `<exercise>.XXXXXX` in the case's own directory, which
/// the runner made for this case (`WORKBOOK_CASE_DIR`, also `TMPDIR`) and
/// removes, with everything in it, after the case.
pub fn temp_dir() -> Result<PathBuf, String> {
    let exercise = EXERCISE.get().copied().unwrap_or("exercise");
    let Some(case_dir) = std::env::var_os(CASE_DIR_ENV) else {
        return Err(format!(
            "{CASE_DIR_ENV} is not set: the case runs only under the harness"
        ));
    };
    let template = PathBuf::from(case_dir).join(format!("{exercise}.XXXXXX"));
    setup("mkdtemp", nix::unistd::mkdtemp(&template))
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
        let child = process::fork_child(&[&release_tx, &ready_rx], move || {
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
