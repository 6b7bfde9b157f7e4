//! The checks of exercise 33: `cargo test -p ex33-forwarding-init`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (then in a user namespace of its own), as PID 1 of a
//! new PID namespace. PID 1 forks `main` (PID 2), which leaves two orphans
//! to PID 1: one that has ended at once, one that never ends (a daemon),
//! and then waits for a signal. Then PID 1 calls your `supervise(main)`.
//! From outside, the checker reads what the kernel says of PID 1 (its
//! caught signals, `SigCgt` in /proc/PID/status; its children and their
//! states), sends it SIGTERM, and watches `main` end, then PID 1.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ex33_forwarding_init as ex;
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, pause};
use testkit::exercise::{
    self, Case, Outcome, Probe, Report, call, ensure, report, setup,
};
use workbook::process;

/// How long the checker waits for the kernel to show a change.
const PATIENCE: Duration = Duration::from_secs(3);

pub fn main() -> ExitCode {
    exercise::main(
        "ex33",
        &[Case::new(
            "forwards_sigterm_reaps_orphans_returns_mains_status",
            as_pid_1,
        )
        .check(forwarded)
        .after(status)],
    )
}

fn as_pid_1() -> Outcome {
    setup("unshare(CLONE_NEWPID)", unshare(CloneFlags::CLONE_NEWPID))?;
    // PID 1 says when it has reported main, so that the check, which
    // starts when this process parks, finds the report.
    let (told_tx, told_rx) = setup("pipe()", process::channel())?;
    let init = setup(
        "fork()",
        process::fork_child(&[&told_rx], move || init_life(&told_tx)),
    )?;
    report("init", init.pid());
    setup("read(pipe)", told_rx.wait())?;
    exercise::park();
    setup("waitpid()", init.wait())
}

/// PID 1: fork main, then supervise it.
fn init_life(told: &process::Sender) -> workbook::Result<()> {
    let main = process::fork_child(&[], || {
        // PID 3 leaves PID 4 (ends at once) and PID 5 (never ends) behind.
        let leaver = process::fork_child(&[], || {
            std::mem::forget(process::fork_child(&[], || Ok(()))?);
            std::mem::forget(process::fork_child(&[], || {
                loop {
                    pause();
                }
            })?);
            Ok(())
        })?;
        leaver.wait()?;
        // Waits for a signal; SIGTERM's default action ends it.
        loop {
            pause();
        }
    })?;
    let main_pid = main.pid();
    report("main", main_pid);
    told.notify()?;
    // supervise reaps it (or the kernel does, when PID 1 exits).
    std::mem::forget(main);
    match call(&format!("supervise({main_pid})"), ex::supervise(main_pid)) {
        Ok(status) => report("status", status),
        Err(sentence) => report("failed", sentence),
    }
    Ok(())
}

/// A line of /proc/PID/status, if the process is there.
fn status_line(pid: Pid, name: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .map(|v| v.trim().to_owned())
}

/// The process's state letter (proc(5), /proc/PID/stat): `Z` for a zombie.
fn state(pid: Pid) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Whether PID 1 has a handler for `signal` (bit N-1 of `SigCgt`).
fn catches(pid: Pid, signal: Signal) -> bool {
    status_line(pid, "SigCgt:")
        .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
        .is_some_and(|mask| mask & (1 << (signal as i32 - 1)) != 0)
}

/// The children of `pid`, as host PIDs (proc(5), /proc/PID/task/TID/children).
fn children(pid: Pid) -> Vec<Pid> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|n| n.parse().ok().map(Pid::from_raw))
        .collect()
}

/// Poll until `done` holds, for at most PATIENCE.
fn within_patience(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done()
}

/// On a failure, PID 1 is killed (and with it its namespace), so that the
/// case ends and the sentence is shown.
fn forwarded(p: &Probe) -> Outcome {
    let init = p.pid("init")?;
    let verdict = judge(p, init);
    if verdict.is_err() {
        let _ = kill(init, Signal::SIGKILL);
    }
    verdict
}

fn judge(p: &Probe, init: Pid) -> Outcome {
    let main_inside = p.get("main")?.to_owned();
    // main is the child whose PID in the new namespace (NSpid's last) is
    // the one PID 1 reported.
    let is_main = |child: &Pid| {
        status_line(*child, "NSpid:").is_some_and(|nspid| {
            nspid.split_whitespace().last() == Some(main_inside.as_str())
        })
    };
    let init_gone = || state(init).is_none_or(|s| s == 'Z');
    let settled = within_patience(|| {
        let kids = children(init);
        init_gone()
            || (catches(init, Signal::SIGTERM)
                && kids.len() == 2
                && kids.iter().all(|k| state(*k).is_some_and(|s| s != 'Z')))
    });
    if !settled || init_gone() {
        if let Ok(sentence) = p.get("failed") {
            return Err(sentence.to_owned());
        }
        if let Ok(status) = p.get("status") {
            return Err(format!(
                "supervise returned {status} before main ended: the first child to end \
                 was an orphan, not main; return only when waitpid(-1) gives main's PID"
            ));
        }
        // PID 1 ended without a word (a todo!(), a panic, an exit()): the
        // harness names why; judging its handlers now would blame the dead.
        if init_gone() {
            return Ok(());
        }
        ensure(catches(init, Signal::SIGTERM), || {
            "PID 1 has no handler for SIGTERM (SigCgt in /proc/PID/status): the kernel drops \
             every signal PID 1 has no handler for, so nothing would reach main; install one \
             with sigaction(2) that sends the signal on to main"
                .into()
        })?;
        let kids = children(init);
        if let Some(zombie) = kids.iter().find(|k| state(**k) == Some('Z')) {
            return Err(format!(
                "process {zombie}, {} PID 1, is a zombie after {} s: wait for any child \
                 (waitpid(-1)), not only for main",
                match is_main(zombie) {
                    true => "main, a child of",
                    false => "an orphan adopted by",
                },
                PATIENCE.as_secs()
            ));
        }
        return Err(format!(
            "PID 1's children are {kids:?}, not main and one daemon"
        ));
    }
    let main = children(init)
        .into_iter()
        .find(is_main)
        .ok_or("main is not a child of PID 1")?;
    kill(init, Signal::SIGTERM).map_err(|e| format!("kill(PID 1, SIGTERM): {e}"))?;
    let main_ended = within_patience(|| state(main).is_none_or(|s| s == 'Z'));
    ensure(main_ended, || {
        "PID 1 caught SIGTERM, but main did not get it: the handler must send it on, \
         kill(main, signal)"
            .into()
    })?;
    let init_ended = within_patience(|| state(init).is_none_or(|s| s == 'Z'));
    ensure(init_ended, || {
        format!(
            "main has ended, but supervise has not returned after {} s: return as soon as \
             main has ended; waiting until no child is left waits forever for a daemon",
            PATIENCE.as_secs()
        )
    })
}

fn status(r: &Report) -> Outcome {
    if let Ok(sentence) = r.get("failed") {
        return Err(sentence.to_owned());
    }
    let status = r.get("status")?;
    ensure(status == "143", || {
        format!(
            "supervise returned {status}; main was killed by SIGTERM (15): return 128 + 15 = \
             143, as a shell does"
        )
    })
}
