//! From what a case's run showed to the reasons it failed, most telling
//! first. (What the runner found on the host comes before all of these.)

use std::os::unix::process::ExitStatusExt;

use nix::sys::signal::Signal;

use super::session::Transcript;
use super::{Case, TIMEOUT};

/// Why the case failed, in order; empty if it passed.
pub(super) fn reasons(case: &Case, t: &Transcript) -> Vec<String> {
    let mut all = Vec::new();
    if t.timed_out {
        all.push(format!(
            "the case did not finish within {} s and was killed: a process waits for \
             something that never comes (a child never reaped, a pipe end left open?)",
            TIMEOUT.as_secs()
        ));
    }
    all.extend(t.reasons.iter().cloned());
    if let (true, Some(status)) = (all.is_empty(), t.status) {
        all.extend(how_it_ended(t, status));
    }
    if all.is_empty() && t.parked.is_none() {
        all.push("the case ended without being checked (a bug in the test)".into());
    }
    if let (true, Some(after)) = (all.is_empty(), case.after) {
        if let Err(why) = after(&t.report) {
            all.push(why);
        }
    }
    all
}

/// A reason in how the case's process ended, if there is one.
fn how_it_ended(t: &Transcript, status: std::process::ExitStatus) -> Option<String> {
    let pid = t.pid.map_or_else(|| "?".into(), |p| p.to_string());
    if let Some(signal) = status.signal() {
        let name = Signal::try_from(signal)
            .map_or_else(|_| format!("signal {signal}"), |s| s.to_string());
        let why = match signal {
            libc::SIGSEGV => {
                " (a stack overflow? a clone(2) child needs a big enough stack)"
            }
            _ => "",
        };
        return Some(format!("process {pid} was killed by {name}{why}"));
    }
    let code = status.code()?;
    if !t.ended {
        // The harness always gets to say `end`; only exit(3) or _exit(2)
        // called in the case's own process skip it.
        let instead = match code {
            0 => "return `Ok(...)` with your result instead",
            _ => "return an error instead (`Err(format!(\"...\").into())`)",
        };
        return Some(format!(
            "your code called exit({code}) before returning: std::process::exit \
             (or libc::_exit) ends the whole process, test included; {instead}"
        ));
    }
    (code != 0).then(|| format!("the case's process exited with {status}"))
}
