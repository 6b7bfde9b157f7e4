//! The calls of the lesson that are not its point: making the namespaces
//! in a keeper, opening a namespace file, copying a socket.

use std::os::fd::{FromRawFd, OwnedFd};

use std::path::Path;

use nix::fcntl::{OFlag, open};
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::{Error, Result, cleanup, say};

/// In a keeper: unshare(flags), prove each link in `links` changed, and
/// hand back `kept` for the keeper to hold.
pub fn made<T>(flags: CloneFlags, links: &[&str], kept: T) -> Result<(u32, T)> {
    let before: Vec<NsId> = links
        .iter()
        .map(|l| NsId::current(l))
        .collect::<Result<_>>()?;
    unshare(flags).call(|| format!("unshare({})", ns::flag_names(flags)))?;
    if links.contains(&"pid_for_children") {
        // pid_for_children reads ENOENT until the namespace has had its PID
        // 1 (pidns_for_children_get, kernel/pid_namespace.c): start one,
        // which exits at once. After that no process can enter (fork(2) in
        // it: ENOMEM), yet the namespace lives while this process points at
        // it.
        workbook::process::fork_child(&[], || Ok(()))?.wait()?;
    }
    for (link, before) in links.iter().zip(before) {
        ns::ensure_new(before, NsId::current(link)?)?;
    }
    Ok((0, kept))
}

pub fn open_ns(path: &str) -> Result<OwnedFd> {
    let fd = open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        .call(|| format!("open(\"{path}\", O_RDONLY | O_CLOEXEC)"))?;
    say!(
        "process {}: open(\"{path}\", O_RDONLY | O_CLOEXEC) -> fd",
        std::process::id()
    );
    Ok(fd)
}

pub fn same(got: NsId, want: NsId, call: &str) -> Result<()> {
    match got == want {
        true => Ok(()),
        false => Err(Error::refused(format!("{call} gave {got}, not {want}"), "")),
    }
}

/// socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), in the
/// caller's network namespace (netlink(7)).
pub fn netlink_socket() -> Result<OwnedFd> {
    // Safety: socket(2) takes three integers and returns a new fd or -1.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd == -1 {
        let call = "socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)";
        return Err(Error::sys(call, nix::errno::Errno::last()));
    }
    // Safety: a new descriptor that nothing else in this process owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// pidfd_getfd(2) (Linux 5.6): a copy of process `pid`'s fd `number`.
pub fn copy_socket(pid: Pid, number: u32) -> Result<OwnedFd> {
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, pidfd_getfd, pidfd_open};
    let rpid = rustix::process::Pid::from_raw(pid.as_raw())
        .ok_or_else(|| Error::refused(format!("{pid} is not a PID"), ""))?;
    let pidfd = pidfd_open(rpid, PidfdFlags::empty())
        .map_err(|e| Error::sys(format!("pidfd_open({pid}, 0)"), errno(e)))?;
    let fd = pidfd_getfd(&pidfd, number as i32, PidfdGetfdFlags::empty()).map_err(
        |e| Error::sys(format!("pidfd_getfd(pidfd, {number}, 0)"), errno(e)),
    )?;
    Ok(fd)
}

fn errno(e: rustix::io::Errno) -> nix::errno::Errno {
    nix::errno::Errno::from_raw(e.raw_os_error())
}

/// A tmpfs just big enough for one empty file, for this process only.
pub const TMPFS_OPTIONS: &str = "size=16k,mode=0700";

/// mount("tmpfs", dir, "tmpfs", 0, "size=16k,mode=0700"), undone on every
/// path (workbook::cleanup). Only in a private mount namespace of our own.
pub fn mount_tmpfs(dir: &Path) -> Result<cleanup::Mount> {
    let options = TMPFS_OPTIONS;
    cleanup::Mount::new(dir, || {
        mount(
            Some("tmpfs"),
            dir,
            Some("tmpfs"),
            MsFlags::empty(),
            Some(options),
        )
        .call(|| {
            format!(
                "mount(\"tmpfs\", \"{}\", \"tmpfs\", 0, \"{options}\")",
                dir.display()
            )
        })
    })
}
