//! The checks of exercise 26: `cargo test -p ex26-join-time`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (then inside a user namespace of its own). A helper
//! process of the tests makes a time namespace whose CLOCK_MONOTONIC is two
//! days ahead and moves into it; your code joins it. The tests ask the
//! kernel where the caller is (both links), and compare the caller's clock
//! after the join with the host's before and after it: less the offset, it
//! must lie between them (the tolerance is that interval, measured).

use std::fs::File;
use std::process::ExitCode;
use std::sync::mpsc;

use ex26_join_time as ex;
use nix::sched::{CloneFlags, setns, unshare};
use nix::time::{ClockId, clock_gettime};
use testkit::exercise::{
    self, Case, Outcome, Parked, Probe, call, ensure, host_ns, ns_of, report,
    report_ns, setup,
};
use workbook::ns::NsId;

const NANOS: i128 = 1_000_000_000;
/// The helper's offset: two days.
const OFFSET: i64 = 172_800;

pub fn main() -> ExitCode {
    exercise::main(
        "ex26",
        &[
            Case::new("the_caller_moves_into_the_namespace", joins).check(moved),
            Case::new("a_threaded_caller_gets_the_kernels_error", threaded),
        ],
    )
}

fn newtime() -> CloneFlags {
    CloneFlags::from_bits_retain(libc::CLONE_NEWTIME)
}

fn monotonic() -> Result<i128, String> {
    let ts = setup("clock_gettime", clock_gettime(ClockId::CLOCK_MONOTONIC))?;
    Ok(i128::from(ts.tv_sec()) * NANOS + i128::from(ts.tv_nsec()))
}

/// The helper: a time namespace two days ahead, which it then enters itself.
fn two_days_ahead() -> Outcome {
    setup("unshare(CLONE_NEWTIME)", unshare(newtime()))?;
    let offsets = format!("monotonic {OFFSET} 0\nboottime {OFFSET} 0\n");
    setup(
        "writing /proc/self/timens_offsets",
        std::fs::write("/proc/self/timens_offsets", offsets),
    )?;
    let link = "/proc/self/ns/time_for_children";
    let fd = setup("opening time_for_children", File::open(link))?;
    setup("setns(time_for_children)", setns(&fd, newtime()))
}

fn joins() -> Outcome {
    let helper = Parked::spawn(two_days_ahead)?;
    report("helper", helper.pid());
    report("before", monotonic()?);
    let returned = call(
        &format!("join_time_of({})", helper.pid()),
        ex::join_time_of(helper.pid()),
    )?;
    report("after", monotonic()?);
    report_ns("returned", returned);
    // Looked at while the helper, and so its namespace, is still there.
    exercise::park();
    helper.finish()
}

fn moved(p: &Probe) -> Outcome {
    let host_now = monotonic()?;
    let host = host_ns("time")?;
    let theirs = ns_of(p.pid("helper")?, "time")?;
    let time = ns_of(p.child, "time")?;
    ensure(time == theirs, || {
        if time == host {
            format!(
                "the caller is still in the host's time namespace {time}, not the helper's {theirs}: setns(2) into /proc/PID/ns/time moves the caller (unshare(2) would not)"
            )
        } else {
            format!("the caller is in {time}, not the helper's {theirs}")
        }
    })?;
    let for_children = ns_of(p.child, "time_for_children")?;
    ensure(for_children == theirs, || {
        format!(
            "the caller's time_for_children is {for_children}, not {theirs}: after setns(2) both links name the joined namespace"
        )
    })?;
    let returned = p.ns("returned")?;
    ensure(returned == theirs, || {
        format!(
            "join_time_of returned {returned}, but the kernel shows the caller in {theirs}"
        )
    })?;
    let (before, after) = (value(p, "before")?, value(p, "after")?);
    let shifted = after - i128::from(OFFSET) * NANOS;
    ensure(before <= shifted && shifted <= host_now, || {
        format!(
            "after the join the caller's CLOCK_MONOTONIC moved {:.3} s, not the namespace's {OFFSET} s",
            (after - before) as f64 / NANOS as f64
        )
    })
}

fn value(p: &Probe, key: &str) -> Result<i128, String> {
    let text = p.get(key)?;
    text.parse()
        .map_err(|_| format!("{key} {text:?} is not a number (a bug in the test)"))
}

/// The trap: with a second thread running, the kernel refuses (EUSERS);
/// join_time_of must say so, and the caller stays where it was.
fn threaded() -> Outcome {
    let helper = Parked::spawn(two_days_ahead)?;
    let start = setup("reading /proc/self/ns/time", NsId::current("time"))?;
    let (release, parked) = mpsc::channel::<()>();
    let thread = setup(
        "starting a thread",
        std::thread::Builder::new().spawn(move || {
            let _ = parked.recv();
        }),
    )?;
    let result = ex::join_time_of(helper.pid());
    drop(release);
    let _ = thread.join();
    let now = setup("reading /proc/self/ns/time", NsId::current("time"))?;
    ensure(now == start, || {
        format!("with two threads the caller still moved, to {now}")
    })?;
    match result {
        Ok(id) => Err(format!(
            "join_time_of returned Ok({id}) from a process with two threads, where setns(2) fails with EUSERS: return the kernel's error instead of ignoring it"
        )),
        Err(err) => {
            let err = exercise::sentence(&err);
            ensure(err.contains("EUSERS"), || {
                format!(
                    "from a process with two threads join_time_of returned \"{err}\", not setns(2)'s own EUSERS: return the kernel's error as it is"
                )
            })?;
            helper.finish()
        }
    }
}
