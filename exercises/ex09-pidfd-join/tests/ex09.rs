//! The checks of exercise 9: `cargo test -p ex09-pidfd-join`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (in a user namespace of its own, where the target is
//! started too). The target is a helper parked in new UTS and network
//! namespaces; the checks compare `/proc/PID/ns/*` of both processes.

use std::process::ExitCode;

use ex09_pidfd_join as ex;
use nix::sched::CloneFlags;
use testkit::exercise::{
    self, Case, Outcome, Parked, Probe, call, ensure, ns_of, report, setup,
};
use workbook::ns::NsId;
use workbook::target::Target;

pub fn main() -> ExitCode {
    exercise::main(
        "ex09",
        &[
            Case::new("joins_uts_and_net_together", joins).check(joined),
            Case::new("a_process_that_is_gone_is_an_error", gone),
        ],
    )
}

fn joins() -> Outcome {
    let flags = CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWNET;
    let target = setup("starting the target", Target::spawn(flags, "ex09-target"))?;
    let pid = target.pid();
    report("target", pid);
    call(
        &format!("join_uts_and_net({pid})"),
        ex::join_uts_and_net(pid),
    )?;
    exercise::park();
    setup("ending the target", target.finish())
}

fn joined(p: &Probe) -> Outcome {
    let target = p.pid("target")?;
    for ns_type in ["uts", "net"] {
        let (now, theirs) = (ns_of(p.child, ns_type)?, ns_of(target, ns_type)?);
        ensure(now == theirs, || {
            format!("the process is in {now}, not in the target's {theirs}")
        })?;
    }
    // Nothing else: the target's other namespaces are the process's anyway,
    // but a setns with more flags (CLONE_NEWUSER) would have failed.
    let (now, theirs) = (ns_of(p.child, "mnt")?, ns_of(target, "mnt")?);
    ensure(now == theirs, || {
        format!("the mount namespace changed to {now}")
    })
}

fn gone() -> Outcome {
    let helper = Parked::spawn(|| Ok(()))?;
    let pid = helper.pid();
    helper.finish()?;
    let before = setup("reading /proc/self/ns/uts", NsId::current("uts"))?;
    let result = ex::join_uts_and_net(pid);
    ensure(result.is_err(), || {
        format!(
            "join_uts_and_net({pid}) returned {result:?} for a process that no longer exists"
        )
    })?;
    let after = setup("reading /proc/self/ns/uts", NsId::current("uts"))?;
    ensure(after == before, || {
        format!(
            "join_uts_and_net({pid}) failed, yet the process moved from {before} to {after}"
        )
    })
}
