//! pidfd_open(2), with the errors a learner meets.

use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::unistd::Pid;
use rustix::process::{PidfdFlags, pidfd_open};
use workbook::{Error, Result};

// ANCHOR: open_pidfd
/// pidfd_open(2) with no flags. nix 0.32 has no pidfd_open, so this is
/// rustix's; the descriptor is a std `OwnedFd`, which nix's setns accepts.
pub fn open_pidfd(pid: Pid) -> Result<OwnedFd> {
    let call = || format!("pidfd_open({pid}, 0)");
    let rustix_pid = rustix::process::Pid::from_raw(pid.as_raw())
        .ok_or_else(|| Error::usage(format!("{pid} is not a PID")))?;
    pidfd_open(rustix_pid, PidfdFlags::empty()).map_err(|err| {
        match Errno::from_raw(err.raw_os_error()) {
            Errno::ESRCH => Error::refused(
                format!("no process {pid}: {} failed: ESRCH", call()),
                "check the PID with `ps -p PID`; the process may have exited",
            ),
            // A thread's ID, not a process's: EINVAL before Linux 6.16,
            // ENOENT since (pidfd_open(2); PIDFD_THREAD, 6.9, opens a thread
            // on purpose). The hint reads the Tgid of /proc/PID/status.
            errno => Error::sys(call(), errno),
        }
    })
}
// ANCHOR_END: open_pidfd
