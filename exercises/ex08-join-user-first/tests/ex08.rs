//! The checks of exercise 8: `cargo test -p ex08-join-user-first`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user. In the first case the unprivileged process is a plain
//! uid 65534 (or your own user), with no privilege at all, and its target
//! sits in a user namespace it created: the order of your calls matters.
//! The checks compare `/proc/PID/ns/{user,uts}` of both processes.

use std::process::ExitCode;

use ex08_join_user_first as ex;
use nix::sched::{CloneFlags, unshare};
use nix::unistd::sethostname;
use testkit::exercise::{
    self, Case, Outcome, Parked, Probe, call, ensure, hostname_in, ns_of, report,
    report_ns, setup,
};
use workbook::ns::NsId;

const NAME: &str = "ex08-target";

pub fn main() -> ExitCode {
    exercise::main(
        "ex08",
        &[
            Case::new("joins_a_user_namespace_then_its_uts", other_user)
                .as_is()
                .check(joined_both),
            Case::new("stays_in_its_own_user_namespace", same_user)
                .check(joined_uts_only),
        ],
    )
}

/// A target in new UTS namespace named NAME; with `own_user`, in a new user
/// namespace (created first, so that it owns the UTS namespace) as well.
fn target(own_user: bool) -> Result<Parked, String> {
    Parked::spawn(move || {
        if own_user {
            exercise::new_user_namespace()?;
        }
        setup("unshare(CLONE_NEWUTS)", unshare(CloneFlags::CLONE_NEWUTS))?;
        setup("sethostname", sethostname(NAME))
    })
}

fn join(target: Parked) -> Outcome {
    let pid = target.pid();
    report("target", pid);
    report_ns(
        "user_before",
        setup("reading /proc/self/ns/user", NsId::current("user"))?,
    );
    call(
        &format!("join_user_then_uts({pid})"),
        ex::join_user_then_uts(pid),
    )?;
    exercise::park();
    target.finish()
}

fn other_user() -> Outcome {
    join(target(true)?)
}

fn same_user() -> Outcome {
    join(target(false)?)
}

fn same_uts(p: &Probe) -> Outcome {
    let target = p.pid("target")?;
    let (now, theirs) = (ns_of(p.child, "uts")?, ns_of(target, "uts")?);
    ensure(now == theirs, || {
        format!("the process is in {now}, not in the target's {theirs}")
    })?;
    let seen = hostname_in(p.child)?;
    ensure(seen == NAME, || {
        format!(
            "the hostname the process now sees is {seen:?}, not the target's {NAME:?}"
        )
    })
}

fn joined_both(p: &Probe) -> Outcome {
    let target = p.pid("target")?;
    let (now, theirs) = (ns_of(p.child, "user")?, ns_of(target, "user")?);
    ensure(now == theirs, || {
        format!(
            "the process is in {now}, not in the target's user namespace {theirs}"
        )
    })?;
    same_uts(p)
}

fn joined_uts_only(p: &Probe) -> Outcome {
    let (now, before) = (ns_of(p.child, "user")?, p.ns("user_before")?);
    ensure(now == before, || {
        format!(
            "the process left its user namespace {before} for {now}, though the target shares it"
        )
    })?;
    same_uts(p)
}
