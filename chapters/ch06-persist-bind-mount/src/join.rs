//! `join PATH`: a new process joins the UTS namespace bound at PATH. Also
//! the check every subcommand makes of a namespace file: nsfs, and UTS.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::Mode;
use nix::sys::statfs::{NSFS_MAGIC, fstatfs};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::say;
use workbook::{Error, Result, process};

/// `join PATH`: a new process joins the namespace bound at PATH.
pub(crate) fn join(path: &Path) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: join_path
    // The checks run on an open fd, and the child setns(2)es with that same
    // fd (fork(2) copies it): what was checked is what is joined.
    let (ns_fd, uts_ns) = open_uts_ns_file(path)?;
    say!(
        "process {me}: {} is an nsfs file of a UTS namespace: {uts_ns}",
        path.display()
    );
    let host_uts = NsId::current("uts")?;
    say!(
        "process {me}: in {host_uts}, hostname \"{}\"",
        ns::hostname()?
    );
    let child = process::fork_child(&[], || {
        setns(&ns_fd, CloneFlags::CLONE_NEWUTS)
            .call(|| format!("setns(fd of \"{}\", CLONE_NEWUTS)", path.display()))?;
        // Proved, not assumed: the namespace we are in now is the one checked.
        let now = NsId::current("uts")?;
        ns::ensure_joined(uts_ns, now)?;
        say!(
            "process {}: setns(fd of \"{}\", CLONE_NEWUTS) -> {now}; hostname \"{}\"",
            std::process::id(),
            path.display(),
            ns::hostname()?
        );
        Ok(())
    })?;
    let pid = child.pid();
    child.wait()?;
    say!(
        "process {me}: reaped process {pid}; still in {}, hostname \"{}\"",
        NsId::current("uts")?,
        ns::hostname()?
    );
    // ANCHOR_END: join_path
    Ok(())
}

// ANCHOR: check_ns_file
/// Open `path`, which should be a namespace file, and prove it is one of a
/// UTS namespace. Returns the fd and the namespace's identity.
pub(crate) fn open_uts_ns_file(path: &Path) -> Result<(OwnedFd, NsId)> {
    // O_NONBLOCK: were PATH a FIFO, open(2) would wait for a writer forever.
    let flags =
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let ns_fd = open(path, flags, Mode::empty())
        .call(|| format!("open(\"{}\", O_RDONLY)", path.display()))?;
    // statfs(2): namespace files live on the kernel's nsfs, f_type NSFS_MAGIC.
    let fs =
        fstatfs(&ns_fd).call(|| format!("fstatfs(fd of \"{}\")", path.display()))?;
    if fs.filesystem_type() != NSFS_MAGIC {
        return Err(Error::refused(
            format!(
                "{} is not a namespace file: statfs gives f_type {:#x}, not nsfs (NSFS_MAGIC, {:#x})",
                path.display(),
                fs.filesystem_type().0,
                NSFS_MAGIC.0
            ),
            "give a file that `create` bound a namespace onto (or /proc/PID/ns/uts)",
        ));
    }
    // Safety: NS_GET_NSTYPE (ioctl_ns(2), Linux 4.11) takes no argument and
    // returns the namespace's CLONE_NEW* flag as the call's result; `ns_fd`
    // is an open nsfs file for the whole call, and nothing is written to
    // memory of ours.
    let nstype = unsafe { libc::ioctl(ns_fd.as_raw_fd(), libc::NS_GET_NSTYPE) };
    if nstype == -1 {
        return Err(Error::sys(
            format!("ioctl(fd of \"{}\", NS_GET_NSTYPE)", path.display()),
            Errno::last(),
        ));
    }
    if nstype != libc::CLONE_NEWUTS {
        let kind = ns::TYPES
            .iter()
            .find(|(_, flag)| flag.bits() == nstype)
            .map_or("unknown", |(name, _)| name);
        return Err(Error::refused(
            format!(
                "{} is a {kind} namespace (ioctl NS_GET_NSTYPE), not a uts one",
                path.display()
            ),
            "this example persists, joins and removes UTS namespaces only",
        ));
    }
    let uts_ns = NsId::of_fd("uts", &ns_fd, &path.display().to_string())?;
    Ok((ns_fd, uts_ns))
}
// ANCHOR_END: check_ns_file
