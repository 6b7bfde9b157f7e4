//! Chapter 13: a time namespace, clocks ten days ahead.
//!
//! time_namespaces(7): a time namespace shifts CLOCK_MONOTONIC and
//! CLOCK_BOOTTIME (and /proc/uptime, which is CLOCK_BOOTTIME) by offsets of
//! its own; CLOCK_REALTIME is never shifted. unshare(CLONE_NEWTIME) does not
//! move the caller: it changes only `time_for_children`, so that the offsets
//! can be written to /proc/self/timens_offsets before the first process
//! enters. Here the parent makes the namespace, writes the offsets, starts a
//! child in it and proves from the clocks that the child's time is DAYS days
//! ahead; then it joins the namespace itself with setns(2), which, for this
//! type, moves the caller (both links change).
//!
//! `--realtime`, `--late` and `--threaded` make the three mistakes the kernel
//! refuses (EINVAL, EACCES, EUSERS), each one error line with its fix.
//!
//! Read: time_namespaces(7), unshare(2), setns(2), clock_gettime(2), proc(5).

mod clocks;
mod join;
mod steps;

use std::io::Read;
use std::process::ExitCode;

use nix::sched::{CloneFlags, unshare};
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::{Error, Result, say, userns};

use clocks::{Clocks, ensure_offset, ensure_uptime_offset, human};
use steps::{OFFSETS, read_offsets, start_child, write_offsets};

const USAGE: &str = "\
Usage: ch13-time-namespaces [--realtime | --late | --threaded] [DAYS]

Makes a time namespace with unshare(CLONE_NEWTIME), sets its monotonic and
boottime offsets to DAYS days (default 10, at most 36500) before any process
enters, starts a child in it and compares the child's clocks with its own;
then joins it with setns(2). Each option makes one mistake the kernel refuses:

  --realtime   also write a CLOCK_REALTIME offset (EINVAL)
  --late       write the offsets after the child has entered (EACCES)
  --threaded   call setns(2) while a second thread runs (EUSERS)

Needs Linux 5.6. Root runs it directly; anyone else inside a user namespace
the example creates first. Read time_namespaces(7).
";

/// The mistake to make, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mistake {
    None,
    Realtime,
    Late,
    Threaded,
}

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(mut args: Args) -> Result<()> {
    let mistakes = [
        (args.flag("--realtime"), Mistake::Realtime),
        (args.flag("--late"), Mistake::Late),
        (args.flag("--threaded"), Mistake::Threaded),
    ];
    let mut chosen = mistakes.iter().filter(|(on, _)| *on).map(|(_, m)| *m);
    let mistake = chosen.next().unwrap_or(Mistake::None);
    if chosen.next().is_some() {
        return Err(Error::usage("choose at most one of the three mistakes"));
    }
    let days = days(args.next("DAYS")?)?;
    args.finish()?;
    userns::enter_if_unprivileged()?;
    let me = std::process::id();
    let offset = days * 86_400;

    // ANCHOR: before
    let time = NsId::current("time")?;
    let for_children = NsId::current("time_for_children")?;
    say!("process {me} (parent) is in {time}; its children would be too");
    // Forked now, before unshare, so it stays in `time`: a clock for later.
    let mut keeper = join::Keeper::start(time)?;
    // ANCHOR_END: before

    // ANCHOR: unshare
    // A new time namespace, for the children only: the caller stays in
    // `time`, so its clocks do not change now (time_namespaces(7)).
    let newtime = CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);
    unshare(newtime).call(|| "unshare(CLONE_NEWTIME)".into())?;
    let new_time = NsId::current("time_for_children")?;
    ns::ensure_new(for_children, new_time)?;
    let still = NsId::current("time")?;
    if still != time {
        return Err(
            format!("unshare(CLONE_NEWTIME) moved the caller to {still}").into(),
        );
    }
    say!(
        "process {me} (parent): unshare(CLONE_NEWTIME) -> time_for_children {new_time}; \
         the parent stays in {time}, its clocks unshifted"
    );
    // ANCHOR_END: unshare

    // ANCHOR: offsets
    // One line per clock, `<clock> <secs> <nanosecs>`, written while no
    // process is in the namespace yet. It is the caller's time_for_children
    // namespace whose offsets /proc/self/timens_offsets shows and sets.
    let offsets = format!("monotonic {offset} 0\nboottime {offset} 0\n");
    if mistake != Mistake::Late {
        write_offsets(&offsets)?;
        say!("process {me} (parent): write(fd of \"{OFFSETS}\", {offsets:?})");
    }
    if mistake == Mistake::Realtime {
        // The trap: CLOCK_REALTIME is not a clock a time namespace shifts.
        write_offsets(&format!("realtime {offset} 0\n"))?;
    }
    say!("process {me} (parent): {OFFSETS} reads {}", read_offsets()?);
    // ANCHOR_END: offsets

    // ANCHOR: child
    // The parent's clocks before and after the child's reading bracket it.
    let before = Clocks::read()?;
    let (child, mut reply) = start_child(new_time)?;
    let mut text = String::new();
    reply
        .read_to_string(&mut text)
        .call(|| "read(pipe)".into())?;
    if mistake == Mistake::Late {
        // The child is in the namespace: its offsets are frozen.
        write_offsets(&offsets)?;
    }
    child.wait()?;
    let after = Clocks::read()?;
    let inside = Clocks::parse(&text)
        .ok_or_else(|| Error::refused("the child sent no clock readings", ""))?;
    // ANCHOR_END: child

    // ANCHOR: compare
    let bracket =
        |pick: fn(&Clocks) -> i128| (pick(&before), pick(&inside), pick(&after));
    ensure_offset("CLOCK_MONOTONIC", bracket(|c| c.monotonic), 0, offset)?;
    ensure_offset("CLOCK_BOOTTIME", bracket(|c| c.boottime), 0, offset)?;
    ensure_uptime_offset(
        (before.boottime, inside.uptime_centis, after.boottime),
        offset,
    )?;
    ensure_offset("CLOCK_REALTIME", bracket(|c| c.realtime), 0, 0)?;
    let ahead = human(offset);
    say!(
        "process {me} (parent): the child's CLOCK_MONOTONIC is {ahead} ahead of the parent's"
    );
    say!(
        "process {me} (parent): the child's CLOCK_BOOTTIME and /proc/uptime: {ahead} ahead"
    );
    say!(
        "process {me} (parent): the child's CLOCK_REALTIME is the parent's: never shifted"
    );
    // ANCHOR_END: compare

    join::join_for_children(
        new_time,
        offset,
        mistake == Mistake::Threaded,
        &mut keeper,
    )
}

/// DAYS: a whole number from 1 to 36500 (100 years; the kernel's own limit,
/// KTIME_SEC_MAX / 2, is about 146 years, time_namespaces(7)).
fn days(arg: Option<String>) -> Result<i64> {
    let Some(arg) = arg else {
        return Ok(10);
    };
    match arg.parse::<i64>() {
        Ok(days) if (1..=36_500).contains(&days) => Ok(days),
        _ => Err(Error::usage(format!(
            "DAYS is {arg:?}; give a whole number from 1 to 36500"
        ))),
    }
}
