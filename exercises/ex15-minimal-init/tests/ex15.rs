//! The checks of exercise 15: `cargo test -p ex15-minimal-init`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (then inside a user namespace of its own). The PIDs a
//! process has inside a new PID namespace mean nothing to the checker's
//! /proc, so the processes report what the kernel tells them (getpid(2),
//! the `NSpid:` line of /proc/self/status, their namespace's identity) and
//! the checks judge that.

use std::process::ExitCode;

use ex15_minimal_init as ex;
use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::{Signal, raise};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, getpid, getppid};
use testkit::exercise::{
    self, Case, Outcome, Report, call, ensure, report, report_ns, setup,
};
use workbook::ns::NsId;
use workbook::process;

/// The status the main child exits with, and the orphan's.
const MAIN_STATUS: i32 = 7;
const ORPHAN_STATUS: i32 = 3;
/// What a shell says of a child SIGKILL killed: 128 + 9.
const KILLED_STATUS: i32 = 128 + Signal::SIGKILL as i32;

pub fn main() -> ExitCode {
    exercise::main(
        "ex15",
        &[
            Case::new("init_is_pid_1_of_a_new_pid_namespace", spawns)
                .after(is_pid_1),
            Case::new("reap_all_returns_the_main_childs_status", with_orphan)
                .after(main_status),
            Case::new("reap_all_leaves_no_zombie", with_orphan).after(no_zombie),
            Case::new("reap_all_returns_128_plus_the_signal", with_killed_main)
                .after(killed_status),
        ],
    )
}

/// The first lines of /proc/self/status's `NSpid:`, as text: "4242 1".
fn nspid() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .map(|rest| rest.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_default()
}

fn spawns() -> Outcome {
    report("case_pid", getpid());
    report_ns(
        "start",
        setup("reading /proc/self/ns/pid", NsId::current("pid"))?,
    );
    let init = call(
        "spawn_init(init)",
        ex::spawn_init(|| {
            report("init_getpid", getpid());
            report("init_getppid", getppid());
            report("init_nspid", nspid());
            report_ns("init_ns", NsId::current("pid")?);
            Ok(())
        }),
    )?;
    call("waiting for the process spawn_init returned", init.wait())
}

fn is_pid_1(r: &Report) -> Outcome {
    let Ok(pid) = r.get("init_getpid") else {
        return Err(
            "init was never run: spawn_init must run it in the child it forks"
                .into(),
        );
    };
    let start = r.ns("start")?;
    let init_ns = r.ns("init_ns")?;
    if pid == r.get("case_pid")? {
        return Err(format!(
            "init ran in the calling process (PID {pid}): unshare(CLONE_NEWPID) does not move \
             the caller; fork after it and run init in the child, which is PID 1"
        ));
    }
    ensure(init_ns != start, || {
        format!(
            "init ran as PID {pid} in the caller's PID namespace {start}: call \
             unshare(CLONE_NEWPID) in the parent, before the fork; only children born after \
             it are in the new namespace"
        )
    })?;
    ensure(pid == "1", || {
        format!(
            "init ran as PID {pid} of a new PID namespace, not PID 1: it must be the first \
             process forked after unshare(CLONE_NEWPID)"
        )
    })?;
    let nspid = r.get("init_nspid")?;
    ensure(
        nspid.split(' ').count() == 2 && nspid.ends_with(" 1"),
        || {
            format!(
                "init's /proc/self/status says NSpid: {nspid}, not \"<host PID> 1\""
            )
        },
    )?;
    ensure(r.get("init_getppid")? == "0", || {
        "init's parent should be outside its namespace (getppid() -> 0)".into()
    })
}

/// PID 1 of a new namespace (the test's own) forks the main child, which
/// forks an orphan and exits with MAIN_STATUS at once; the orphan waits for
/// it to be gone (end-of-file on a pipe only the main child held), then
/// exits with ORPHAN_STATUS. PID 1 runs reap_all, then looks for what is
/// left.
fn with_orphan() -> Outcome {
    setup("unshare(CLONE_NEWPID)", unshare(CloneFlags::CLONE_NEWPID))?;
    let init = setup("fork()", process::fork_child(&[], init_life))?;
    setup("waitpid()", init.wait())
}

fn init_life() -> workbook::Result<()> {
    let (gone_tx, gone_rx) = process::channel()?;
    let main = process::fork_child(&[], move || {
        let orphan = process::fork_child(&[&gone_tx], move || {
            gone_rx.wait()?;
            std::process::exit(ORPHAN_STATUS)
        })?;
        report("orphan", orphan.pid());
        // Left on purpose, for PID 1 to adopt.
        std::mem::forget(orphan);
        // gone_tx is closed by this exit: the orphan wakes.
        let _ = &gone_tx;
        std::process::exit(MAIN_STATUS)
    })?;
    report("main", main.pid());
    let main_pid = main.pid();
    std::mem::forget(main);
    match call(&format!("reap_all({main_pid})"), ex::reap_all(main_pid)) {
        Ok(status) => report("status", status),
        Err(sentence) => report("failed", sentence),
    }
    // What reap_all left: a child it did not wait for.
    loop {
        match waitpid(None::<Pid>, None) {
            Err(Errno::EINTR) => continue,
            Ok(WaitStatus::Exited(pid, code)) => {
                report("left", format!("{pid} {code}"))
            }
            Ok(other) => report(
                "left",
                format!("{} ?", other.pid().unwrap_or(Pid::from_raw(0))),
            ),
            Err(_) => break,
        }
    }
    Ok(())
}

fn main_status(r: &Report) -> Outcome {
    if let Ok(sentence) = r.get("failed") {
        return Err(sentence.to_owned());
    }
    let status = r.get("status")?;
    let (main, orphan) = (r.get("main")?, r.get("orphan")?);
    ensure(status != ORPHAN_STATUS.to_string(), || {
        format!(
            "reap_all returned {status}, the status of PID {orphan} (an orphan), not \
             {MAIN_STATUS}, that of PID {main}: keep the status of `main` only"
        )
    })?;
    ensure(status == MAIN_STATUS.to_string(), || {
        format!("reap_all returned {status}; PID {main} exited with {MAIN_STATUS}")
    })
}

fn no_zombie(r: &Report) -> Outcome {
    if let Ok(sentence) = r.get("failed") {
        return Err(sentence.to_owned());
    }
    let orphan = r.get("orphan")?;
    match r.get("left") {
        Err(_) => Ok(()),
        Ok(left) => Err(format!(
            "reap_all returned while PID {} (an orphan PID 1 adopted, the child of PID {}) \
             was not reaped, a zombie to be: an init must wait for every child, \
             waitpid(-1) until ECHILD, not only for the one it started",
            left.split(' ').next().unwrap_or(orphan),
            r.get("main")?
        )),
    }
}

/// PID 1 of a new namespace forks a main child that SIGKILL kills (it sends
/// the signal to itself), then runs reap_all.
fn with_killed_main() -> Outcome {
    setup("unshare(CLONE_NEWPID)", unshare(CloneFlags::CLONE_NEWPID))?;
    let init = setup("fork()", process::fork_child(&[], killed_init_life))?;
    setup("waitpid()", init.wait())
}

fn killed_init_life() -> workbook::Result<()> {
    let main = process::fork_child(&[], || {
        let _ = raise(Signal::SIGKILL);
        // Not reached: SIGKILL cannot be caught or ignored.
        std::process::exit(MAIN_STATUS)
    })?;
    report("main", main.pid());
    let main_pid = main.pid();
    std::mem::forget(main);
    match call(&format!("reap_all({main_pid})"), ex::reap_all(main_pid)) {
        Ok(status) => report("status", status),
        Err(sentence) => report("failed", sentence),
    }
    Ok(())
}

fn killed_status(r: &Report) -> Outcome {
    let main = r.get("main")?;
    if let Ok(sentence) = r.get("failed") {
        return Err(format!(
            "reap_all failed when SIGKILL killed PID {main} ({sentence}): waitpid reports it \
             as WaitStatus::Signaled, not Exited; keep 128 + the signal's number for it \
             ({KILLED_STATUS})"
        ));
    }
    let status = r.get("status")?;
    ensure(status == KILLED_STATUS.to_string(), || {
        format!(
            "reap_all returned {status}, but SIGKILL killed PID {main}: return 128 + the \
             signal's number, {KILLED_STATUS}, as a shell does (WaitStatus::Signaled)"
        )
    })
}
