//! The checks of exercise 7: `cargo test -p ex07-join-proc`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (in a user namespace of its own, where the target is
//! started too). The target is a helper parked in a new UTS namespace with
//! its own hostname; the checks compare `/proc/PID/ns/uts` of both processes
//! and ask the kernel for the hostname in the target's namespace.

use std::process::ExitCode;

use ex07_join_proc as ex;
use nix::sched::CloneFlags;
use testkit::exercise::{
    self, Case, Outcome, Parked, Probe, call, ensure, host_ns, hostname_in, ns_of,
    report, setup,
};
use workbook::ns::NsId;
use workbook::target::Target;

const NAME: &str = "ex07-target";

pub fn main() -> ExitCode {
    exercise::main(
        "ex07",
        &[
            Case::new("joins_the_targets_uts_namespace", joins).check(joined),
            Case::new("a_process_that_is_gone_is_an_error", gone),
        ],
    )
}

fn joins() -> Outcome {
    let target = setup(
        "starting the target",
        Target::spawn(CloneFlags::CLONE_NEWUTS, NAME),
    )?;
    let pid = target.pid();
    report("target", pid);
    let seen = call(&format!("join_uts({pid})"), ex::join_uts(pid))?;
    report("seen", seen);
    exercise::park();
    setup("ending the target", target.finish())
}

fn joined(p: &Probe) -> Outcome {
    let target = p.pid("target")?;
    let (now, theirs) = (ns_of(p.child, "uts")?, ns_of(target, "uts")?);
    ensure(now == theirs, || {
        format!(
            "after join_uts the process is in {now}, not in the target's {theirs}"
        )
    })?;
    ensure(now != host_ns("uts")?, || {
        "the target is in the host's UTS namespace (a bug in the test)".into()
    })?;
    let (seen, there) = (p.get("seen")?, hostname_in(target)?);
    ensure(seen == there, || {
        format!(
            "join_uts returned {seen:?}, but the hostname in the target's namespace is {there:?}"
        )
    })
}

fn gone() -> Outcome {
    let helper = Parked::spawn(|| Ok(()))?;
    let pid = helper.pid();
    helper.finish()?;
    let before = setup("reading /proc/self/ns/uts", NsId::current("uts"))?;
    let result = ex::join_uts(pid);
    ensure(result.is_err(), || {
        format!(
            "join_uts({pid}) returned {result:?} for a process that no longer exists"
        )
    })?;
    let after = setup("reading /proc/self/ns/uts", NsId::current("uts"))?;
    ensure(after == before, || {
        format!(
            "join_uts({pid}) failed, yet the process moved from {before} to {after}"
        )
    })
}
