//! The checks of exercise 25: `cargo test -p ex25-time-offset`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (then inside a user namespace of its own, where the
//! time namespace you make belongs to it). The case reads the host's clocks,
//! calls your function, then forks a child, which reads CLOCK_MONOTONIC,
//! CLOCK_BOOTTIME and /proc/uptime and parks. The tests then read the host's
//! clocks again: the child's readings, less the offset, must fall between
//! the two host readings (the tolerance is that interval, measured on each
//! run), and the kernel must show the child, not the caller, in a new time
//! namespace.

use std::process::ExitCode;

use ex25_time_offset as ex;
use nix::time::{ClockId, clock_gettime};
use nix::unistd::getpid;
use testkit::exercise::{
    self, Case, Outcome, Probe, call, ensure, host_ns, ns_of, report, setup,
};
use workbook::process;

const NANOS: i128 = 1_000_000_000;
/// /proc/uptime shows hundredths of a second, truncated.
const CENTI: i128 = 10_000_000;

pub fn main() -> ExitCode {
    exercise::main(
        "ex25",
        &[
            Case::new("children_start_ten_days_ahead", ten_days)
                .check(ten_days_ahead),
            Case::new("children_start_three_days_ahead", three_days)
                .check(three_days_ahead),
        ],
    )
}

fn gettime(clock: ClockId) -> Result<i128, String> {
    let ts = setup("clock_gettime", clock_gettime(clock))?;
    Ok(i128::from(ts.tv_sec()) * NANOS + i128::from(ts.tv_nsec()))
}

/// /proc/uptime's first field in nanoseconds (a multiple of 1/100 s).
fn uptime() -> Result<i128, String> {
    let text = setup(
        "reading /proc/uptime",
        std::fs::read_to_string("/proc/uptime"),
    )?;
    let first = text.split_whitespace().next().unwrap_or("");
    let (secs, centis) = first.split_once('.').unwrap_or((first, "0"));
    match (secs.parse::<i128>(), centis.parse::<i128>()) {
        (Ok(secs), Ok(centis)) => Ok(secs * NANOS + centis * CENTI),
        _ => Err(format!("the test could not parse /proc/uptime: {text:?}")),
    }
}

fn body(secs: i64) -> Outcome {
    // The host's clocks, before anything: the lower bound.
    report("before_monotonic", gettime(ClockId::CLOCK_MONOTONIC)?);
    report("before_boottime", gettime(ClockId::CLOCK_BOOTTIME)?);
    call(
        &format!("offset_children_clocks({secs})"),
        ex::offset_children_clocks(secs),
    )?;
    // The caller's own clock: it must still be the host's.
    report("caller_monotonic", gettime(ClockId::CLOCK_MONOTONIC)?);
    let child = process::fork_child(&[], || {
        let read = || -> Result<(), String> {
            report("child_monotonic", gettime(ClockId::CLOCK_MONOTONIC)?);
            report("child_boottime", gettime(ClockId::CLOCK_BOOTTIME)?);
            report("child_uptime", uptime()?);
            report("child", getpid());
            Ok(())
        };
        read().map_err(workbook::Error::from)?;
        exercise::park();
        Ok(())
    });
    let child = setup("fork()", child)?;
    setup("waitpid(child)", child.wait())
}

fn ten_days() -> Outcome {
    body(864_000)
}

fn three_days() -> Outcome {
    body(259_200)
}

fn ten_days_ahead(p: &Probe) -> Outcome {
    ahead(p, 864_000)
}

fn three_days_ahead(p: &Probe) -> Outcome {
    ahead(p, 259_200)
}

fn value(p: &Probe, key: &str) -> Result<i128, String> {
    let text = p.get(key)?;
    text.parse()
        .map_err(|_| format!("{key} {text:?} is not a number (a bug in the test)"))
}

fn ahead(p: &Probe, secs: i64) -> Outcome {
    // The host's clocks now: the upper bound of every reading above.
    let now_monotonic = gettime(ClockId::CLOCK_MONOTONIC)?;
    let now_boottime = gettime(ClockId::CLOCK_BOOTTIME)?;
    let host = host_ns("time")?;
    let child = p.pid("child")?;
    let caller = ns_of(p.child, "time")?;
    ensure(caller == host, || {
        format!(
            "the calling process itself moved to {caller}: only its children should (unshare(CLONE_NEWTIME) leaves the caller in the host's {host}; do not setns(2))"
        )
    })?;
    let born_in = ns_of(child, "time")?;
    ensure(born_in != host, || {
        format!(
            "the child was born in the host's time namespace {host}: offset_children_clocks must unshare(CLONE_NEWTIME) first"
        )
    })?;
    let for_children = ns_of(p.child, "time_for_children")?;
    ensure(for_children == born_in, || {
        format!(
            "the caller's time_for_children is {for_children}, but its child is in {born_in}"
        )
    })?;
    let caller_monotonic = value(p, "caller_monotonic")?;
    let before_monotonic = value(p, "before_monotonic")?;
    ensure(caller_monotonic <= now_monotonic, || {
        "the caller's own CLOCK_MONOTONIC reads ahead of the host's: only its children's clocks should move".into()
    })?;
    within(
        "CLOCK_MONOTONIC",
        (
            before_monotonic,
            value(p, "child_monotonic")?,
            now_monotonic,
        ),
        0,
        secs,
    )?;
    let before_boottime = value(p, "before_boottime")?;
    within(
        "CLOCK_BOOTTIME",
        (before_boottime, value(p, "child_boottime")?, now_boottime),
        0,
        secs,
    )?;
    within(
        "/proc/uptime (CLOCK_BOOTTIME)",
        (before_boottime, value(p, "child_uptime")?, now_boottime),
        CENTI,
        secs,
    )
}

/// The child's reading `inside`, less `secs`, must lie between the host's
/// readings `before` and `after` (less `resolution`, the reading's own).
fn within(
    clock: &str,
    (before, inside, after): (i128, i128, i128),
    resolution: i128,
    secs: i64,
) -> Outcome {
    let offset = i128::from(secs) * NANOS;
    if before - resolution <= inside - offset && inside - offset <= after {
        return Ok(());
    }
    let seen = (inside - before) as f64 / NANOS as f64;
    let window = (after - before) as f64 / NANOS as f64;
    if inside <= after {
        return Err(format!(
            "the child's {clock} is the host's (no offset, within the {window:.6} s the test took): write its line to /proc/self/timens_offsets after unshare(CLONE_NEWTIME) and before any child starts"
        ));
    }
    Err(format!(
        "the child's {clock} is {seen:.3} s ahead of the host's, not {secs} s (give the offset in seconds, then nanoseconds: `<clock> <secs> <nanosecs>`)"
    ))
}
