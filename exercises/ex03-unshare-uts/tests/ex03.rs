//! The checks of exercise 3: `cargo test -p ex03-unshare-uts`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user. The harness first moves that process into a throwaway
//! UTS namespace of its own, so that even a wrong answer cannot rename the
//! host; the checks then ask the kernel where the process ended up and what
//! hostname its namespace has.

use std::process::ExitCode;

use ex03_unshare_uts as ex;
use nix::sched::CloneFlags;
use testkit::exercise::{
    self, Case, Outcome, Probe, call, ensure, hostname_in, ns_of,
};
use workbook::ns::NsId;

const NAME: &str = "ex03-ernie";

pub fn main() -> ExitCode {
    exercise::main(
        "ex03",
        &[
            Case::new("unshare_uts_moves_the_caller", moves).check(moved),
            Case::new("hostname_set_in_the_new_namespace", renames).check(renamed),
            Case::new("refuses_when_the_namespace_is_not_new", refuses)
                .check(unchanged),
        ],
    )
}

/// The throwaway UTS namespace the case starts in.
fn start() -> Result<NsId, String> {
    exercise::isolate(CloneFlags::CLONE_NEWUTS)?;
    let uts = exercise::setup("reading /proc/self/ns/uts", NsId::current("uts"))?;
    exercise::report_ns("start", uts);
    Ok(uts)
}

fn moves() -> Outcome {
    start()?;
    let returned = call("unshare_uts()", ex::unshare_uts())?;
    exercise::report_ns("returned", returned);
    Ok(())
}

fn moved(p: &Probe) -> Outcome {
    let now = ns_of(p.child, "uts")?;
    let start = p.ns("start")?;
    ensure(now != start, || {
        format!(
            "after unshare_uts() the process is still in {now}, where it started: no new UTS namespace was made"
        )
    })?;
    let returned = p.ns("returned")?;
    ensure(returned == now, || {
        format!(
            "unshare_uts() returned {returned}, but the kernel shows the process in {now}"
        )
    })?;
    // A new UTS namespace starts with a copy of the hostname.
    let host = testkit::host_hostname();
    let seen = hostname_in(p.child)?;
    ensure(seen == host, || {
        format!(
            "the new UTS namespace should start with a copy of the hostname {host:?}, but has {seen:?}"
        )
    })
}

fn renames() -> Outcome {
    let start = start()?;
    call("unshare_uts()", ex::unshare_uts())?;
    call(
        &format!("set_hostname_if_new({start}, {NAME:?})"),
        ex::set_hostname_if_new(start, NAME),
    )
}

fn renamed(p: &Probe) -> Outcome {
    let now = ns_of(p.child, "uts")?;
    ensure(now != p.ns("start")?, || {
        format!(
            "the process is still in {now}, where it started: unshare_uts() made no new namespace"
        )
    })?;
    let seen = hostname_in(p.child)?;
    ensure(seen == NAME, || {
        format!(
            "the kernel shows hostname {seen:?} in the process's UTS namespace {now}, not {NAME:?}"
        )
    })
}

/// The trap: asked to rename while still in `before`, it must refuse.
fn refuses() -> Outcome {
    let start = start()?;
    let result = ex::set_hostname_if_new(start, "ex03-oops");
    ensure(result.is_err(), || {
        format!(
            "set_hostname_if_new({start}, \"ex03-oops\") returned Ok while the process was still \
             in {start}: it must refuse, or one day it renames the host"
        )
    })
}

fn unchanged(p: &Probe) -> Outcome {
    let host = testkit::host_hostname();
    let seen = hostname_in(p.child)?;
    ensure(seen == host, || {
        format!(
            "set_hostname_if_new refused but still changed the hostname to {seen:?}: check before you call sethostname(2)"
        )
    })
}
