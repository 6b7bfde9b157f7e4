//! The checks of exercise 5: `cargo test -p ex05-clone-child`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user. The child you clone runs the tests' closure: it parks
//! while the tests look at it in /proc (its UTS namespace, its parent), then
//! exits with a status your `wait_for` must return. That closure uses 64 KiB
//! of stack. A child left unreaped fails the case.

use std::fs;
use std::process::ExitCode;

use ex05_clone_child as ex;
use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::{Pid, getpid};
use testkit::exercise::{self, Case, Outcome, Probe, call, ensure, ns_of, report};

/// How much stack the child's closure uses, at least.
const STACK_USE: usize = 64 * 1024;

pub fn main() -> ExitCode {
    exercise::main(
        "ex05",
        &[
            Case::new("the_child_runs_in_a_new_uts_namespace", clones)
                .check(child_in_new_uts)
                .after(returned_its_pid),
            Case::new("wait_for_returns_the_exit_status", statuses),
        ],
    )
}

fn clones() -> Outcome {
    let pid = call(
        "clone_new_uts(child)",
        ex::clone_new_uts(|| {
            // 64 KiB of stack, written: a stack much smaller than that
            // overflows, and the child most likely dies of SIGSEGV.
            std::hint::black_box([1u8; STACK_USE]);
            report("child", getpid());
            exercise::park();
            7
        }),
    )?;
    report("returned", pid);
    let status = wait(pid)?;
    ensure(status == 7, || {
        format!(
            "wait_for({pid}) returned {status}, but the child exited with status 7"
        )
    })
}

/// The learner's wait_for, and proof that it waited: the child is gone.
fn wait(pid: Pid) -> Result<i32, String> {
    let status = ex::wait_for(pid).map_err(|err| {
        let err = exercise::sentence(&err);
        let hint = match err.contains("SIGSEGV") {
            true => " (a stack too small for the child?)",
            false => "",
        };
        format!("wait_for({pid}) returned an error: {err}{hint}")
    })?;
    // Signal 0 only asks whether the process exists: reaped, it does not.
    ensure(kill(pid, None) == Err(Errno::ESRCH), || {
        format!(
            "wait_for({pid}) returned {status} before process {pid} had ended and been reaped"
        )
    })?;
    Ok(status)
}

/// The parent of a process: field 4 of /proc/PID/stat (proc(5)).
fn parent_of(pid: Pid) -> Result<Pid, String> {
    let path = format!("/proc/{pid}/stat");
    let stat = fs::read_to_string(&path)
        .map_err(|e| format!("could not read {path}: {e}"))?;
    // The command name, field 2, is in parentheses and may hold spaces.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after_name
        .split_whitespace()
        .nth(1)
        .and_then(|ppid| ppid.parse().ok())
        .map(Pid::from_raw)
        .ok_or_else(|| format!("could not read the parent in {path}"))
}

fn child_in_new_uts(p: &Probe) -> Outcome {
    let child = p.parked;
    ensure(child != p.child, || {
        "the calling process went on before the child had run: did the closure run in a new \
         process, and did wait_for wait for it?"
            .into()
    })?;
    let parent = parent_of(child)?;
    ensure(parent == p.child, || {
        format!(
            "the child's parent is process {parent}, not the caller {}",
            p.child
        )
    })?;
    let (theirs, ours) = (ns_of(child, "uts")?, ns_of(p.child, "uts")?);
    ensure(theirs != ours, || {
        format!(
            "the child is in {theirs}, its parent's UTS namespace: clone without CLONE_NEWUTS?"
        )
    })
}

fn returned_its_pid(r: &exercise::Report) -> Outcome {
    let (returned, child) = (r.pid("returned")?, r.pid("child")?);
    ensure(returned == child, || {
        format!(
            "clone_new_uts returned {returned}, but the child is process {child}"
        )
    })
}

fn statuses() -> Outcome {
    for expected in [3, 0, 42] {
        let pid = call(
            "clone_new_uts(child)",
            ex::clone_new_uts(move || expected as isize),
        )?;
        let status = wait(pid)?;
        ensure(status == expected, || {
            format!(
                "wait_for({pid}) returned {status}, but the child exited with status {expected}"
            )
        })?;
    }
    Ok(())
}
