//! The checks of exercise 10: `cargo test -p ex10-all-or-nothing`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (in a user namespace of its own, where the target is
//! started too). The target is a helper parked in new namespaces; the checks
//! compare `/proc/PID/ns/*` of both processes, after a call that works and
//! after one the kernel must refuse.

use std::process::ExitCode;

use ex10_all_or_nothing as ex;
use nix::sched::CloneFlags;
use nix::unistd::getpid;
use testkit::exercise::{
    self, Case, Outcome, Probe, call, ensure, ns_of, report, report_ns, setup,
};
use workbook::ns::NsId;
use workbook::target::Target;

pub fn main() -> ExitCode {
    exercise::main(
        "ex10",
        &[
            Case::new("joins_every_type_asked_for", joins).check(joined),
            Case::new("a_refused_call_moves_nothing", refused).check(moved_nothing),
            Case::new("an_unknown_type_is_an_error", unknown).once(),
        ],
    )
}

const ASKED: [&str; 3] = ["uts", "ipc", "net"];

fn joins() -> Outcome {
    let flags = CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWNET;
    let target = setup("starting the target", Target::spawn(flags, "ex10-target"))?;
    let pid = target.pid();
    report("target", pid);
    call(
        &format!("join_all({pid}, {ASKED:?})"),
        ex::join_all(pid, &ASKED),
    )?;
    exercise::park();
    setup("ending the target", target.finish())
}

fn joined(p: &Probe) -> Outcome {
    let target = p.pid("target")?;
    for ns_type in ASKED {
        let (now, theirs) = (ns_of(p.child, ns_type)?, ns_of(target, ns_type)?);
        ensure(now == theirs, || {
            format!("the process is in {now}, not in the target's {theirs}")
        })?;
    }
    Ok(())
}

/// The target shares the caller's user namespace: setns(2) refuses to
/// "join" it (EINVAL), so the whole call must fail and move nothing.
fn refused() -> Outcome {
    let flags = CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWNET;
    let target = setup("starting the target", Target::spawn(flags, "ex10-target"))?;
    let pid = target.pid();
    report("target", pid);
    for ns_type in ["uts", "net", "user"] {
        report_ns(
            ns_type,
            setup("reading /proc/self/ns", NsId::current(ns_type))?,
        );
    }
    let asked = ["uts", "net", "user"];
    let result = ex::join_all(pid, &asked);
    ensure(result.is_err(), || {
        format!(
            "join_all({pid}, {asked:?}) returned Ok, but the target is in the caller's own user \
             namespace, which setns(2) refuses to join"
        )
    })?;
    exercise::park();
    setup("ending the target", target.finish())
}

fn moved_nothing(p: &Probe) -> Outcome {
    for ns_type in ["uts", "net", "user"] {
        let (now, before) = (ns_of(p.child, ns_type)?, p.ns(ns_type)?);
        ensure(now == before, || {
            format!(
                "join_all failed, yet the process moved from {before} to {now}: join in ONE \
                 setns(2) call on a pidfd, so that the kernel does all or nothing"
            )
        })?;
    }
    Ok(())
}

fn unknown() -> Outcome {
    let pid = getpid();
    let before = setup("reading /proc/self/ns/uts", NsId::current("uts"))?;
    let asked = ["uts", "hostname"];
    let result = ex::join_all(pid, &asked);
    ensure(result.is_err(), || {
        format!(
            "join_all({pid}, {asked:?}) returned Ok: \"hostname\" is not a namespace type"
        )
    })?;
    let after = setup("reading /proc/self/ns/uts", NsId::current("uts"))?;
    ensure(after == before, || {
        format!("the process moved from {before} to {after}")
    })
}
