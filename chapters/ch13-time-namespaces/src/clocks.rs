//! Reading the clocks, and proving an offset from readings alone.
//!
//! Raw clock values differ on every run, so the story never prints them. It
//! prints an offset only once the kernel's readings prove it: a reading `c`
//! taken in the new time namespace, and the parent's readings `before` and
//! `after` it in the old one, must satisfy `before <= c - offset <= after`.
//! The tolerance is the time between the parent's two readings, measured,
//! not guessed.

use std::fmt;

use nix::time::{ClockId, clock_gettime};
use workbook::error::Context;
use workbook::{Error, Result};

/// One reading of the clocks a time namespace may shift, and one it may not,
/// in nanoseconds; and /proc/uptime, in hundredths of a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clocks {
    pub monotonic: i128,
    pub boottime: i128,
    pub realtime: i128,
    pub uptime_centis: i128,
}

const NANOS: i128 = 1_000_000_000;
const CENTI: i128 = 10_000_000;

impl Clocks {
    /// clock_gettime(2) of the three clocks, and the first field of
    /// /proc/uptime (proc(5): seconds since boot, CLOCK_BOOTTIME, shifted by
    /// the boottime offset of the reader's time namespace).
    pub fn read() -> Result<Clocks> {
        let uptime_centis = uptime_centis()?;
        Ok(Clocks {
            monotonic: gettime(ClockId::CLOCK_MONOTONIC, "CLOCK_MONOTONIC")?,
            boottime: gettime(ClockId::CLOCK_BOOTTIME, "CLOCK_BOOTTIME")?,
            realtime: gettime(ClockId::CLOCK_REALTIME, "CLOCK_REALTIME")?,
            uptime_centis,
        })
    }

    /// Parse the text `Display` wrote (the child's reading, sent on a pipe).
    pub fn parse(text: &str) -> Option<Clocks> {
        let mut fields = text.split_whitespace().map(|f| f.parse::<i128>().ok());
        let clocks = Clocks {
            monotonic: fields.next()??,
            boottime: fields.next()??,
            realtime: fields.next()??,
            uptime_centis: fields.next()??,
        };
        fields.next().is_none().then_some(clocks)
    }
}

impl fmt::Display for Clocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Clocks {
            monotonic,
            boottime,
            realtime,
            uptime_centis,
        } = self;
        write!(f, "{monotonic} {boottime} {realtime} {uptime_centis}")
    }
}

/// clock_gettime(2), in nanoseconds.
pub fn gettime(clock: ClockId, name: &str) -> Result<i128> {
    let ts = clock_gettime(clock).call(|| format!("clock_gettime({name}, &ts)"))?;
    Ok(i128::from(ts.tv_sec()) * NANOS + i128::from(ts.tv_nsec()))
}

/// /proc/uptime's first field, "12345.67", in hundredths of a second.
fn uptime_centis() -> Result<i128> {
    let text = std::fs::read_to_string("/proc/uptime")
        .call(|| "read(fd of \"/proc/uptime\")".into())?;
    let first = text.split_whitespace().next().unwrap_or("");
    let (secs, centis) = first.split_once('.').unwrap_or((first, ""));
    match (secs.parse::<i128>(), centis.parse::<i128>()) {
        (Ok(secs), Ok(centis)) if centis < 100 => Ok(secs * 100 + centis),
        _ => Err(Error::refused(
            format!("/proc/uptime reads {text:?}, not \"SECONDS.CC IDLE\""),
            "proc(5) describes the file; is /proc a procfs?",
        )),
    }
}

/// Prove that `inside` was read `offset_secs` seconds ahead of a clock that
/// read `before` and then `after` outside (all in nanoseconds; `resolution`
/// is the inside reading's own, 0 for clock_gettime). The error names the
/// clock and what was seen.
pub fn ensure_offset(
    clock: &str,
    (before, inside, after): (i128, i128, i128),
    resolution: i128,
    offset_secs: i64,
) -> Result<()> {
    let shifted = inside - i128::from(offset_secs) * NANOS;
    if before - resolution <= shifted && shifted <= after {
        return Ok(());
    }
    let seen = (inside - before) as f64 / NANOS as f64;
    Err(Error::refused(
        format!(
            "{clock} reads {seen:.3} s ahead of the parent's reading before it, not \
             {offset_secs} s within the {:.6} s between the parent's two readings",
            (after - before) as f64 / NANOS as f64
        ),
        "time_namespaces(7): only CLOCK_MONOTONIC and CLOCK_BOOTTIME (and /proc/uptime, \
         which is CLOCK_BOOTTIME) are shifted, by the offsets written before the first \
         process entered",
    ))
}

/// `ensure_offset` for /proc/uptime, whose reading is truncated to 1/100 s.
pub fn ensure_uptime_offset(
    (before, inside_centis, after): (i128, i128, i128),
    offset_secs: i64,
) -> Result<()> {
    ensure_offset(
        "/proc/uptime",
        (before, inside_centis * CENTI, after),
        CENTI,
        offset_secs,
    )
}

/// "864000 s (10 days)", "90061 s (1 day 1 h 1 min 1 s)".
pub fn human(secs: i64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let mut parts = Vec::new();
    match days {
        0 => {}
        1 => parts.push("1 day".to_string()),
        n => parts.push(format!("{n} days")),
    }
    for (n, unit) in [
        (rest / 3600, "h"),
        (rest % 3600 / 60, "min"),
        (rest % 60, "s"),
    ] {
        if n != 0 {
            parts.push(format!("{n} {unit}"));
        }
    }
    match parts.is_empty() {
        true => format!("{secs} s"),
        false => format!("{secs} s ({})", parts.join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_names_days() {
        assert_eq!(human(864_000), "864000 s (10 days)");
        assert_eq!(human(86_400), "86400 s (1 day)");
        assert_eq!(human(90_061), "90061 s (1 day 1 h 1 min 1 s)");
    }

    #[test]
    fn an_offset_is_proved_within_the_readings() {
        let day = 86_400 * NANOS;
        assert!(ensure_offset("m", (10, 10 + day + 5, 20), 0, 86_400).is_ok());
        assert!(ensure_offset("m", (10, 10 + day + 15, 20), 0, 86_400).is_err());
        assert!(ensure_offset("m", (10, 15, 20), 0, 86_400).is_err());
    }

    #[test]
    fn clocks_survive_the_pipe() {
        let clocks = Clocks {
            monotonic: 1,
            boottime: 2,
            realtime: 3,
            uptime_centis: 4,
        };
        assert_eq!(Clocks::parse(&clocks.to_string()), Some(clocks));
        assert_eq!(Clocks::parse("1 2 3"), None);
    }
}
