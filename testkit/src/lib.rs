//! Test plumbing for the chapters: run an example against the real kernel as
//! root or as an unprivileged user, normalise its output for a snapshot, read
//! the facts a structural assertion compares, and check the host is unchanged.
//!
//! Skips: a case that cannot run here (the root case when the tests are not
//! root, the unprivileged case where the kernel blocks user namespaces) prints
//! why and passes, except under `CI=true`, where it fails: CI must run all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

pub mod exercise;
mod host;
mod limit;
mod run;
mod target;

pub use host::{HostState, host_hostname, host_ns, temp_entries};
pub use run::{Example, Prepared, Ran, User};
pub use target::ExternalTarget;

/// True under `CI=true` (or `CI=1`): nothing may be skipped.
pub fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
}

/// Skip a case that cannot run on this machine, saying why; under CI, fail.
pub fn skip<T>(why: &str) -> Option<T> {
    if in_ci() {
        panic!("CI=true, and this case cannot run here: {why}");
    }
    // Straight to the stderr handle, not eprintln!: the test harness
    // captures eprintln! of a passing test, and a skip must be seen.
    // The harness names each test's thread after the test.
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    None
}

/// Run `run` (which may skip, returning `None`), then check that the host's
/// hostname and mount table are as they were before it.
pub fn on_host<T>(run: impl FnOnce() -> Option<T>) -> Option<T> {
    let before = HostState::capture();
    let ran = run()?;
    HostState::capture().assert_unchanged_since(&before);
    Some(ran)
}

/// The first `type:[inode]` on the first line of `text` that contains
/// `marker`, e.g. `ns_on_line(out, "(child)", "uts")`. Panics, with the text,
/// if there is none: the example no longer prints what the test reads.
pub fn ns_on_line(text: &str, marker: &str, ns_type: &str) -> String {
    let line = line_with(text, marker);
    let key = format!("{ns_type}:[");
    let start = line
        .find(&key)
        .unwrap_or_else(|| panic!("no {key}...] on line {line:?}\nin:\n{text}"));
    let end = line[start..].find(']').expect("closing ]") + start + 1;
    line[start..end].to_owned()
}

/// The first line of `text` containing `marker`; panics if none does.
pub fn line_with<'a>(text: &'a str, marker: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no line contains {marker:?} in:\n{text}"))
}

/// The text between the first pair of double quotes after `marker` on the
/// first line containing it: `quoted_after(out, "hostname ")`.
pub fn quoted_after(line: &str, marker: &str) -> String {
    let at = line
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in {line:?}"));
    let rest = &line[at + marker.len()..];
    let open = rest.find('"').expect("opening quote") + 1;
    let close = rest[open..].find('"').expect("closing quote") + open;
    rest[open..close].to_owned()
}
