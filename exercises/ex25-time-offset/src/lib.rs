//! Exercise 25 (chapter 13, time namespaces): children ten days ahead.
//!
//! Write [`offset_children_clocks`]: it makes a new time namespace with
//! unshare(2), and sets that namespace's CLOCK_MONOTONIC and CLOCK_BOOTTIME
//! offsets to `secs` seconds, so that every child the caller starts from then
//! on reads both clocks (and /proc/uptime) `secs` seconds ahead of the host.
//! The caller itself keeps the host's clocks.
//!
//! Read: time_namespaces(7) ("/proc/PID/timens_offsets"), unshare(2).
//!
//! The traps: unshare(CLONE_NEWTIME) does not move the caller; only its
//! `time_for_children` link changes, so reading the clock right after it
//! shows no offset, and that is right. The offsets are written to
//! `/proc/self/timens_offsets` (the caller's time_for_children namespace),
//! one line per clock, `<clock> <secs> <nanosecs>`, and only before the first
//! process enters (a fork, or since Linux 6.2 an execve, first: EACCES).
//! CLOCK_REALTIME cannot be offset (EINVAL). /proc/uptime follows
//! CLOCK_BOOTTIME, not CLOCK_MONOTONIC.
//!
//! nix 0.32 has no CLONE_NEWTIME in `CloneFlags`: build it with
//! `CloneFlags::from_bits_retain(libc::CLONE_NEWTIME)`.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a call,
//! `.call(|| "unshare(CLONE_NEWTIME)".into())?` returns its error naming the
//! call (use `workbook::error::Context`).
//!
//! Check your work with `cargo test -p ex25-time-offset` (the root cases too:
//! `cargo test-root -p ex25-time-offset`); stuck, `cargo workbook hint ex25`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex25-time-offset/src/`; `cargo workbook
//! solution ex25` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use std::fs::OpenOptions;
use std::io::Write;

use nix::sched::{CloneFlags, unshare};
use workbook::Result;
use workbook::error::Context;

/// The offsets file of the caller's time_for_children namespace.
pub const OFFSETS: &str = "/proc/self/timens_offsets";

/// Make the caller's future children start in a new time namespace whose
/// CLOCK_MONOTONIC and CLOCK_BOOTTIME are `secs` seconds ahead.
pub fn offset_children_clocks(secs: i64) -> Result<()> {
    todo!("unshare(CLONE_NEWTIME), then write both offsets ({secs} s)")
}
