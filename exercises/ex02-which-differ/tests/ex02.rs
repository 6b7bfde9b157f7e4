//! The checks of exercise 2: `cargo test -p ex02-which-differ`.
//!
//! Each case starts a helper process, runs your code on it in a fresh process
//! (as root and as an unprivileged user), and compares your answer with what
//! the tests themselves read in `/proc/PID/ns/` of both processes.

use std::fs;
use std::process::ExitCode;

use ex02_which_differ as ex;
use nix::sched::{CloneFlags, unshare};
use nix::unistd::Pid;
use testkit::exercise::{
    self, Case, Outcome, Parked, Probe, call, ensure, ns_of, report,
};

pub fn main() -> ExitCode {
    exercise::main(
        "ex02",
        &[
            Case::new("a_forked_child_differs_in_nothing", forked)
                .check(right_answer),
            Case::new("unshare_changes_some_links_not_others", unshared)
                .check(right_answer),
            Case::new("a_process_that_is_gone_is_an_error", gone),
        ],
    )
}

fn ask(helper: Parked) -> Outcome {
    let pid = helper.pid();
    report("helper", pid);
    let answer = call(&format!("differing_links({pid})"), ex::differing_links(pid))?;
    report("answer", answer.join(","));
    exercise::park();
    helper.finish()
}

fn forked() -> Outcome {
    ask(Parked::spawn(|| Ok(()))?)
}

/// The helper makes new UTS and IPC namespaces, and a time namespace for its
/// future children only: `time` stays, `time_for_children` changes.
fn unshared() -> Outcome {
    let flags = CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::from_bits_retain(libc_newtime());
    ask(Parked::spawn(move || {
        exercise::setup(
            "unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWTIME)",
            unshare(flags),
        )
    })?)
}

/// CLONE_NEWTIME, which nix 0.32's CloneFlags lacks (see workbook::ns::TYPES).
fn libc_newtime() -> i32 {
    workbook::ns::TYPES
        .iter()
        .find(|(t, _)| *t == "time")
        .map_or(0, |(_, flag)| flag.bits())
}

/// The links the tests see differ, read from /proc/PID/ns of both.
fn truth(child: Pid, helper: Pid) -> Result<Vec<String>, String> {
    let dir = format!("/proc/{helper}/ns");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("could not read {dir}: {e}"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut differ = Vec::new();
    for name in names {
        if ns_of(child, &name)? != ns_of(helper, &name)? {
            differ.push(name);
        }
    }
    Ok(differ)
}

fn right_answer(p: &Probe) -> Outcome {
    let expected = truth(p.child, p.pid("helper")?)?.join(",");
    let answer = p.get("answer")?;
    let show = |list: &str| match list {
        "" => "nothing".to_owned(),
        list => format!("[{}]", list.replace(',', ", ")),
    };
    ensure(answer == expected, || {
        format!(
            "differing_links said {}, but /proc shows {} differ",
            show(answer),
            show(&expected)
        )
    })
}

fn gone() -> Outcome {
    let helper = Parked::spawn(|| Ok(()))?;
    let pid = helper.pid();
    helper.finish()?;
    // The helper has exited and been reaped: /proc/PID is gone.
    let result = ex::differing_links(pid);
    ensure(result.is_err(), || {
        format!(
            "differing_links({pid}) returned {result:?} for a process that no longer exists"
        )
    })
}
