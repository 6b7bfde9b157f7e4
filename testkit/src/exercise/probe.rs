//! What the parent reads while a case is parked: the case's reports, and
//! the kernel's own view of its processes.

use std::fs;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::{CloneFlags, setns};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork, getpid, pipe2, read};
use workbook::ns::{self, NsId, Proc};

use crate::User;

use super::child::{first_line, sentence};

/// What the case's processes reported, in order.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub(super) entries: Vec<(String, String)>,
}

impl Report {
    /// The last value reported for `key`.
    pub fn get(&self, key: &str) -> Result<&str, String> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| {
                format!("the case did not report {key:?} (a bug in the test)")
            })
    }

    pub fn pid(&self, key: &str) -> Result<Pid, String> {
        let value = self.get(key)?;
        value
            .parse()
            .map(Pid::from_raw)
            .map_err(|_| format!("{key} {value:?} is not a PID"))
    }

    pub fn path(&self, key: &str) -> Result<PathBuf, String> {
        self.get(key).map(PathBuf::from)
    }

    /// A namespace identity written by [`report_ns`].
    pub fn ns(&self, key: &str) -> Result<NsId, String> {
        let value = self.get(key)?;
        let mut words = value.split(' ');
        let parsed = (|| {
            let kind = words.next()?;
            let ns_type = ns::TYPES.iter().map(|(t, _)| *t).find(|t| *t == kind)?;
            let dev = words.next()?.parse().ok()?;
            let ino = words.next()?.parse().ok()?;
            Some(NsId { ns_type, dev, ino })
        })();
        parsed.ok_or_else(|| format!("{key} {value:?} is not a namespace identity"))
    }
}

/// What a check sees while the case is parked.
#[derive(Debug)]
pub struct Probe<'a> {
    /// Who ran the case; `None` for a [`Case::once`] case.
    pub user: Option<User>,
    /// The case's own process.
    pub child: Pid,
    /// The process that parked (usually `child`).
    pub parked: Pid,
    pub report: &'a Report,
}

impl std::ops::Deref for Probe<'_> {
    type Target = Report;
    fn deref(&self) -> &Report {
        self.report
    }
}

/// The namespace of type `ns_type` process `pid` is in, from the kernel:
/// stat(2) of `/proc/PID/ns/<type>`.
pub fn ns_of(pid: Pid, ns_type: &str) -> Result<NsId, String> {
    NsId::of(Proc::Pid(pid), ns_type).map_err(|e| {
        format!(
            "could not read /proc/{pid}/ns/{ns_type}: {}",
            first_line(&e)
        )
    })
}

/// The namespace of the tests themselves: the host's.
pub fn host_ns(ns_type: &str) -> Result<NsId, String> {
    ns_of(getpid(), ns_type)
}

/// The identity of the nsfs file at `path` as process `pid` sees it (through
/// `/proc/PID/root`, so in its mount namespace).
pub fn ns_file_in(
    pid: Pid,
    ns_type: &'static str,
    path: &Path,
) -> Result<NsId, String> {
    let seen = path_in(pid, path);
    NsId::of_file(ns_type, &seen).map_err(|e| first_line(&e))
}

/// `path` as process `pid` sees it: `/proc/PID/root/<path>` (proc(5)) walks
/// the path in that process's mount namespace.
pub fn path_in(pid: Pid, path: &Path) -> PathBuf {
    let relative = path.strip_prefix("/").unwrap_or(path);
    PathBuf::from(format!("/proc/{pid}/root")).join(relative)
}

/// The hostname in the UTS namespace of process `pid`. There is no file that
/// shows it (`/proc/sys/kernel/hostname` shows the reader's own), so a
/// forked checker joins that namespace with setns(2) and asks gethostname(2);
/// if the namespace belongs to a user namespace where the tests have no
/// privilege, it joins that first.
pub fn hostname_in(pid: Pid) -> Result<String, String> {
    ask_in(pid, "uts", CloneFlags::CLONE_NEWUTS, || {
        let name =
            nix::unistd::gethostname().map_err(|e| format!("gethostname: {e}"))?;
        Ok(name.to_string_lossy().into_owned())
    })
    .map_err(|why| format!("could not read the hostname of process {pid}: {why}"))
}

/// The keys of the System V message queues in the IPC namespace of process
/// `pid`, in `/proc/sysvipc/msg` order (IPC_PRIVATE ones as 0). The file
/// shows the READER's namespace (proc(5)), so a forked checker joins that
/// one first, as [`hostname_in`] does.
pub fn msg_keys_in(pid: Pid) -> Result<Vec<i32>, String> {
    let text = ask_in(pid, "ipc", CloneFlags::CLONE_NEWIPC, || {
        fs::read_to_string("/proc/sysvipc/msg")
            .map_err(|e| format!("read /proc/sysvipc/msg: {e}"))
    })
    .map_err(|why| format!("could not list the queues of process {pid}: {why}"))?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next()?.parse().ok())
        .collect())
}

/// Run `ask` in a forked process that has joined the `ns_type` namespace
/// (created by `flag`) of process `pid`, and return its answer.
fn ask_in(
    pid: Pid,
    ns_type: &str,
    flag: CloneFlags,
    ask: fn() -> Result<String, String>,
) -> Result<String, String> {
    let (read_end, write_end) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe2() failed: {e}"))?;
    // Safety: the parent side of the harness is single-threaded (`harness =
    // false`: `main` is the test, and it starts no thread), so the child is
    // a complete copy; it makes a few system calls and leaves through _exit.
    match unsafe { fork() }.map_err(|e| format!("fork() failed: {e}"))? {
        ForkResult::Child => {
            drop(read_end);
            let answer = match join(pid, ns_type, flag).and_then(|()| ask()) {
                Ok(text) => format!("ok {text}"),
                Err(why) => format!("err {why}"),
            };
            let _ = nix::unistd::write(&write_end, answer.as_bytes());
            // Safety: ends this process at once, running nothing of the parent's.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(write_end);
            let mut answer = Vec::new();
            let mut buf = [0u8; 256];
            loop {
                match read(&read_end, &mut buf) {
                    Ok(0) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                    Err(Errno::EINTR) => continue,
                    Err(_) => break,
                }
            }
            while let Err(Errno::EINTR) = waitpid(child, None) {}
            let answer = String::from_utf8_lossy(&answer).into_owned();
            match answer.split_once(' ') {
                Some(("ok", text)) => Ok(text.to_owned()),
                Some((_, why)) => Err(why.to_owned()),
                None => Err("the checker gave no answer".into()),
            }
        }
    }
}

fn join(pid: Pid, ns_type: &str, flag: CloneFlags) -> Result<(), String> {
    let open = |t: &str| {
        fs::File::open(format!("/proc/{pid}/ns/{t}"))
            .map_err(|e| format!("open /proc/{pid}/ns/{t}: {e}"))
    };
    let target = open(ns_type)?;
    let theirs = ns_of(pid, "user")?;
    let ours = ns_of(getpid(), "user")?;
    if theirs != ours && !workbook::userns::has_cap_sys_admin() {
        setns(open("user")?, CloneFlags::CLONE_NEWUSER)
            .map_err(|e| format!("setns(user): {e}"))?;
    }
    setns(target, flag).map_err(|e| format!("setns({ns_type}): {e}"))
}

/// A mount, as `/proc/PID/mountinfo` lists it (proc(5)).
pub use workbook::mountinfo::Mount;

/// The mount table of process `pid`'s mount namespace.
pub fn mounts_of(pid: Pid) -> Result<Vec<Mount>, String> {
    workbook::mountinfo::read(&format!("/proc/{pid}/mountinfo"))
        .map_err(|e| sentence(&e))
}

/// The mount on `path` that process `pid` sees (the last stacked there).
pub fn mount_at(pid: Pid, path: &Path) -> Result<Option<Mount>, String> {
    Ok(workbook::mountinfo::top_mount_in(mounts_of(pid)?, path))
}
