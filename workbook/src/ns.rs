//! A namespace's identity.
//!
//! namespaces(7): each process has a symbolic link per namespace in
//! `/proc/PID/ns/`. Its target reads `uts:[4026531838]`; the number is the
//! inode of a file in the kernel's nsfs. Two processes are in the same
//! namespace when stat(2) of their links gives the same (st_dev, st_ino) pair.
//! The inode alone is not enough: the pair is the identity.

use std::fmt;
use std::os::fd::AsFd;
use std::path::Path;

use nix::sched::CloneFlags;
use nix::sys::stat::{fstat, stat};
use nix::unistd::{Pid, gethostname};

use crate::error::{Context, Error, Result};

/// The namespace types, in the order `/proc/PID/ns/` lists them, with the
/// clone flag that creates each. CLONE_NEWTIME is not in nix's `CloneFlags`
/// (0.32), so it is built from libc's constant.
pub const TYPES: [(&str, CloneFlags); 8] = [
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("time", CloneFlags::from_bits_retain(libc::CLONE_NEWTIME)),
    ("user", CloneFlags::CLONE_NEWUSER),
    ("uts", CloneFlags::CLONE_NEWUTS),
];

/// Which process's namespaces to look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proc {
    /// `/proc/self`: the calling process. The examples are single-threaded,
    /// so this is also the calling thread's view.
    Current,
    Pid(Pid),
}

impl Proc {
    /// `/proc/self/ns/uts` or `/proc/42/ns/uts`.
    pub fn ns_path(self, ns_type: &str) -> String {
        match self {
            Proc::Current => format!("/proc/self/ns/{ns_type}"),
            Proc::Pid(pid) => format!("/proc/{pid}/ns/{ns_type}"),
        }
    }
}

/// The identity of one namespace: its type and the (st_dev, st_ino) of its
/// nsfs file. Displays as the kernel's link text, `uts:[4026531838]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsId {
    /// The type as the link text names it: `pid` also for `pid_for_children`.
    pub ns_type: &'static str,
    pub dev: u64,
    pub ino: u64,
}

impl NsId {
    /// stat(2) of an nsfs file: a `/proc/PID/ns/*` link (stat follows it) or
    /// a file a namespace was bind-mounted on.
    pub fn of_file(ns_type: &'static str, path: impl AsRef<Path>) -> Result<NsId> {
        let path = path.as_ref();
        let st = stat(path)
            .map_err(|e| Error::sys(format!("stat(\"{}\")", path.display()), e))?;
        Ok(NsId {
            ns_type,
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }

    /// fstat(2) of an open nsfs file, named `what` in an error. With an fd,
    /// the identity is that of the namespace the fd will join, even if the
    /// process it was opened from has exited and its PID been reused since.
    pub fn of_fd(ns_type: &'static str, fd: impl AsFd, what: &str) -> Result<NsId> {
        let st = fstat(fd).call(|| format!("fstat(fd of \"{what}\")"))?;
        Ok(NsId {
            ns_type,
            dev: st.st_dev,
            ino: st.st_ino,
        })
    }

    /// The namespace of type `ns_type` (`uts`, `net`, ..., or a
    /// `*_for_children` link) that process `proc` is in.
    pub fn of(proc: Proc, ns_type: &str) -> Result<NsId> {
        let kind = type_name(ns_type).ok_or_else(|| {
            Error::refused(format!("{ns_type:?} is not a namespace type"), "")
        })?;
        NsId::of_file(kind, proc.ns_path(ns_type))
    }

    /// The calling process's namespace of that type.
    pub fn current(ns_type: &str) -> Result<NsId> {
        NsId::of(Proc::Current, ns_type)
    }
}

impl fmt::Display for NsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` honours a width such as `{id:<20}`.
        f.pad(&format!("{}:[{}]", self.ns_type, self.ino))
    }
}

/// `pid_for_children` is a pid namespace, `time_for_children` a time one.
fn type_name(link_name: &str) -> Option<&'static str> {
    let base = link_name.strip_suffix("_for_children").unwrap_or(link_name);
    TYPES.iter().map(|(t, _)| *t).find(|t| *t == base)
}

/// The namespace types a set of clone flags creates, in `/proc/PID/ns/` order.
pub fn types_of(flags: CloneFlags) -> Vec<&'static str> {
    TYPES
        .iter()
        .filter(|(_, flag)| flags.contains(*flag))
        .map(|(t, _)| *t)
        .collect()
}

/// `CLONE_NEWNS | CLONE_NEWUTS`: flags as a C programmer writes them, for
/// messages that name the call.
pub fn flag_names(flags: CloneFlags) -> String {
    let mut names: Vec<String> = flags
        .iter_names()
        .map(|(name, _)| name.to_string())
        .collect();
    let time = CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);
    if flags.contains(time) && !names.iter().any(|n| n == "CLONE_NEWTIME") {
        names.push("CLONE_NEWTIME".into());
    }
    if names.is_empty() {
        return "0".into();
    }
    names.join(" | ")
}

/// Refuse to go on unless `after` is a different namespace from `before`.
///
/// The examples call this before sethostname(2) or mount(2): if the unshare
/// or clone had silently not happened, those calls would change the host.
pub fn ensure_new(before: NsId, after: NsId) -> Result<()> {
    if before == after {
        return Err(Error::refused(
            format!(
                "still in {after} after asking for a new {} namespace; refusing to change \
                 anything, since it would change the host",
                after.ns_type
            ),
            "",
        ));
    }
    Ok(())
}

/// Refuse to go on if setns(2) returned 0 and yet the process is not in the
/// namespace it asked for.
pub fn ensure_joined(wanted: NsId, now: NsId) -> Result<()> {
    if wanted != now {
        return Err(Error::refused(
            format!(
                "setns(2) succeeded, yet this process is in {now}, not {wanted}"
            ),
            "",
        ));
    }
    Ok(())
}

/// gethostname(2): the hostname of the UTS namespace the process is in now.
pub fn hostname() -> Result<String> {
    let name = gethostname().call(|| "gethostname()".into())?;
    Ok(name.to_string_lossy().into_owned())
}
