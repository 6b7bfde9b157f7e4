//! Opening a process's namespace file, with the errors a learner meets.

use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use workbook::{Error, Result};

/// open(2) `/proc/PID/ns/<ns_type>` read-only, close-on-exec. Reading another
/// process's namespace files needs ptrace read access to it (namespaces(7):
/// a PTRACE_MODE_READ_FSCREDS check): EACCES for another user's process, or
/// for a non-dumpable one of your own.
pub fn open_ns(pid: Pid, ns_type: &str) -> Result<OwnedFd> {
    let path = format!("/proc/{pid}/ns/{ns_type}");
    match open(
        path.as_str(),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => Ok(fd),
        // No /proc/PID: no process (or thread) has that PID. ENOENT also
        // comes for a zombie: it has released its namespaces at exit.
        Err(errno @ (Errno::ENOENT | Errno::ESRCH)) => Err(Error::refused(
            format!(
                "no process {pid}: open(\"{path}\", O_RDONLY | O_CLOEXEC) failed: {errno}"
            ),
            "check the PID with `ps -p PID`; the process may have exited",
        )),
        Err(errno) => Err(Error::sys(
            format!("open(\"{path}\", O_RDONLY | O_CLOEXEC)"),
            errno,
        )),
    }
}
