//! Trying the real calls rather than guessing from sysctls: each probe
//! forks a throwaway child that makes them and reports the first refusal
//! (the call and its errno) on a pipe, then exits. The doctor's own
//! process never changes namespace.

use std::fs::{self, File};
use std::io::Read;

use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::sys::wait::waitpid;
use nix::unistd::{
    ForkResult, Gid, Uid, fork, getgid, getuid, pipe, setgid, setgroups, setuid,
};

/// The namespace types, in the names of /proc/PID/ns, in the order the
/// doctor tries them: the user namespace first, since the rootless path
/// needs it.
pub const TYPES: [&str; 8] =
    ["user", "uts", "mnt", "net", "ipc", "pid", "cgroup", "time"];

/// The first call the kernel refused, and its errno.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub call: String,
    pub errno: Errno,
    /// unshare(2) of a further type, refused inside the user namespace the
    /// child had just made and holds every capability in; not the doctor's.
    pub in_new_userns: bool,
}

/// unshare(2)'s flag for a namespace type of /proc/PID/ns.
pub fn flag(ns_type: &str) -> Option<(CloneFlags, &'static str)> {
    Some(match ns_type {
        "user" => (CloneFlags::CLONE_NEWUSER, "CLONE_NEWUSER"),
        "uts" => (CloneFlags::CLONE_NEWUTS, "CLONE_NEWUTS"),
        "mnt" => (CloneFlags::CLONE_NEWNS, "CLONE_NEWNS"),
        "net" => (CloneFlags::CLONE_NEWNET, "CLONE_NEWNET"),
        "ipc" => (CloneFlags::CLONE_NEWIPC, "CLONE_NEWIPC"),
        "pid" => (CloneFlags::CLONE_NEWPID, "CLONE_NEWPID"),
        "cgroup" => (CloneFlags::CLONE_NEWCGROUP, "CLONE_NEWCGROUP"),
        "time" => (
            CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
            "CLONE_NEWTIME",
        ),
        _ => return None,
    })
}

/// Who the throwaway child is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum As {
    /// The doctor's own user, as it is.
    Me,
    /// The doctor's own user, entering a user namespace first as an example
    /// does when it is not root.
    MeRootless,
    /// uid and gid 65534, entering a user namespace first: what the tests'
    /// unprivileged cases do when the tests run as root.
    Nobody,
}

/// In a throwaway child: first, unless `who` is [`As::Me`], what an example
/// does when it is not root (unshare(CLONE_NEWUSER), `deny` to setgroups,
/// the caller mapped to 0); then unshare(2) of `ns_type` (unless that was
/// the user namespace just made). Ok if the kernel allowed all of it.
pub fn attempt(who: As, ns_type: &str) -> Result<(), Refusal> {
    let threads = fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l == "Threads:\t1");
    if !threads {
        // The child below allocates; that is sound only without other threads.
        return Err(refusal("fork (the doctor has threads)", Errno::EDEADLK));
    }
    let (read_end, write_end) = pipe().map_err(|e| refusal("pipe2", e))?;
    // Safety: the process has one thread (checked above), so the child may
    // allocate and use std freely; it only makes the calls below, writes
    // to the pipe and leaves with _exit, running no destructor of ours.
    match unsafe { fork() }.map_err(|e| refusal("fork", e))? {
        ForkResult::Child => {
            drop(read_end);
            let said = match steps(who, ns_type) {
                Ok(()) => String::new(),
                Err(r) => {
                    format!("{}\t{}\t{}", r.call, r.errno as i32, r.in_new_userns)
                }
            };
            let mut pipe = File::from(write_end);
            let _ = std::io::Write::write_all(&mut pipe, said.as_bytes());
            // Safety: _exit ends the child at once, without unwinding into
            // the parent's frames or flushing its copied buffers.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(write_end);
            let mut said = String::new();
            let _ = File::from(read_end).read_to_string(&mut said);
            let _ = waitpid(child, None);
            let mut fields = said.split('\t');
            match (fields.next(), fields.next(), fields.next()) {
                (Some(call), Some(errno), inside) if !call.is_empty() => {
                    Err(Refusal {
                        call: call.to_owned(),
                        errno: Errno::from_raw(errno.parse().unwrap_or(0)),
                        in_new_userns: inside == Some("true"),
                    })
                }
                _ => Ok(()),
            }
        }
    }
}

fn steps(who: As, ns_type: &str) -> Result<(), Refusal> {
    if who == As::Nobody {
        let nobody = 65534;
        setgroups(&[]).map_err(|e| refusal("setgroups([])", e))?;
        setgid(Gid::from_raw(nobody)).map_err(|e| refusal("setgid(65534)", e))?;
        setuid(Uid::from_raw(nobody)).map_err(|e| refusal("setuid(65534)", e))?;
        // Changing uid made the process non-dumpable, which makes its
        // /proc/self files root's (proc(5), PR_SET_DUMPABLE); the tests
        // exec a new program instead, which resets it. Do the same here.
        nix::sys::prctl::set_dumpable(true)
            .map_err(|e| refusal("prctl(PR_SET_DUMPABLE, 1)", e))?;
    }
    if who != As::Me {
        let (uid, gid) = (getuid().as_raw(), getgid().as_raw());
        unshare(CloneFlags::CLONE_NEWUSER)
            .map_err(|e| refusal("unshare(CLONE_NEWUSER)", e))?;
        write("/proc/self/setgroups", "deny")?;
        write("/proc/self/uid_map", &format!("0 {uid} 1"))?;
        write("/proc/self/gid_map", &format!("0 {gid} 1"))?;
        if ns_type == "user" {
            return Ok(());
        }
    }
    let Some((flags, name)) = flag(ns_type) else {
        return Err(refusal(&format!("unshare(? {ns_type})"), Errno::EINVAL));
    };
    unshare(flags).map_err(|e| Refusal {
        in_new_userns: who != As::Me,
        ..refusal(&format!("unshare({name})"), e)
    })
}

fn write(path: &str, text: &str) -> Result<(), Refusal> {
    fs::write(path, text).map_err(|e| {
        refusal(
            &format!("write(\"{path}\", \"{text}\")"),
            Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        )
    })
}

/// A refusal in the doctor's own user namespace.
pub fn refusal(call: &str, errno: Errno) -> Refusal {
    Refusal {
        call: call.to_owned(),
        errno,
        in_new_userns: false,
    }
}

/// The need of code that uses `workbook::nsfs_handle` (chapter 15).
pub const NSFS_HANDLE: &str = "nsfs file handles";

/// NS_GET_ID, name_to_handle_at(2) and open_by_handle_at(2) on this
/// process's own UTS namespace (all Linux 6.18). The fd opened is closed at
/// once; nothing changes.
pub fn nsfs_handles() -> Result<(), Refusal> {
    use workbook::nsfs;
    use workbook::nsfs_handle::Handle;
    let path = "/proc/self/ns/uts";
    let to = |err: workbook::Error, call: String| {
        refusal(&call, err.errno().unwrap_or(Errno::EIO))
    };
    let handle = Handle::of_path(path).map_err(|e| {
        to(
            e,
            format!("name_to_handle_at(AT_FDCWD, \"{path}\", AT_SYMLINK_FOLLOW)"),
        )
    })?;
    let fd = handle.open().map_err(|e| to(e, handle.open_call()))?;
    let id_call = format!("ioctl(fd of \"{path}\", NS_GET_ID, &id)");
    match nsfs::id(&fd, path) {
        Ok(Some(_)) => {}
        Ok(None) => return Err(refusal(&id_call, Errno::ENOTTY)),
        Err(e) => return Err(to(e, id_call)),
    }
    Ok(())
}
