//! The parent's side of PID 1: its handle, and what /proc says of PIDs and
//! PID namespaces.

use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use workbook::error::Context;
use workbook::ns::NsId;
use workbook::process::{Child, Sender};
use workbook::{Error, Result};

/// The namespace /proc/self/ns/pid_for_children names, or `None` when it
/// names none: after unshare(CLONE_NEWPID) and before the first child,
/// stat(2) of the link fails with ENOENT (checked on Linux 6.18).
pub(crate) fn pid_for_children() -> Result<Option<NsId>> {
    match NsId::current("pid_for_children") {
        Ok(ns) => Ok(Some(ns)),
        Err(err) if err.errno() == Some(Errno::ENOENT) => Ok(None),
        Err(err) => Err(err),
    }
}

/// `NSpid:` in /proc/PROC/status (proc(5)): the process's PID in each PID
/// namespace it is visible in, from the reading /proc's namespace down to
/// its own. Read through the host's /proc, which shows every level.
pub(crate) fn nspid_line(proc: &str, levels: &[NsId]) -> Result<String> {
    let path = format!("/proc/{proc}/status");
    let status =
        std::fs::read_to_string(&path).call(|| format!("read(fd of \"{path}\")"))?;
    let numbers: Vec<&str> = status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .map(|rest| rest.split_whitespace().collect())
        .unwrap_or_default();
    if numbers.len() != levels.len() {
        return Err(Error::refused(
            format!("{path}: NSpid {numbers:?} has not one PID per level"),
            "NSpid exists since Linux 4.1; is /proc the host's?",
        ));
    }
    // The host's as `process N` (labelled in the book's output), the others
    // as PIDs inside.
    let mut words = vec![format!("process {} in {}", numbers[0], levels[0])];
    for (number, level) in numbers.iter().zip(levels).skip(1) {
        words.push(format!("PID {number} in {level}"));
    }
    Ok(format!("/proc/{proc}/status NSpid: {}", words.join(", ")))
}

/// PID 1 and our end of its pipe. Field order is drop order: on an error
/// path `go` closes first, PID 1 sees end-of-file and exits (taking its
/// namespace with it), and only then does `child` reap it.
#[derive(Debug)]
pub(crate) struct Pid1 {
    pub go: Sender,
    pub child: Child,
}

impl Pid1 {
    /// Reap PID 1, which we killed: its status, not an error.
    pub fn reap(self) -> Result<WaitStatus> {
        let Pid1 { go, child } = self;
        let pid = child.pid();
        loop {
            match waitpid(pid, None) {
                Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => {
                    // Reaped: the handle must not wait a second time.
                    std::mem::forget(child);
                    drop(go);
                    return Ok(status);
                }
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(errno) => {
                    return Err(Error::sys(
                        format!("waitpid({pid}, &status, 0)"),
                        errno,
                    ));
                }
            }
        }
    }
}
