//! What `create` and `remove` share to change the host's mount table safely:
//! one lock per directory, the catchable signals held back while they work,
//! the filesystems a target may be on, and the mark `create` leaves.

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag, open};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::stat::Mode;
use nix::sys::statfs::{self, FsType, fstatfs};
use rustix::fs::XattrFlags;
use workbook::error::Context;
use workbook::{Error, Result};

// ANCHOR: mark
/// The mark `create` sets on its file before it mounts anything there:
/// "made" if `create` made the file, "found" if the file was there before.
/// `remove` undoes only a mount whose file carries it, and deletes only a
/// file marked "made". A `trusted.` extended attribute, because xattr(7):
/// only a process with CAP_SYS_ADMIN (in the initial user namespace) may
/// read or write one, so nobody else can forge or strip the mark.
pub(crate) const MARK: &str = "trusted.ch06-persist-bind-mount";
// ANCHOR_END: mark

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    Made,
    Found,
}

impl Mark {
    pub(crate) fn value(self) -> &'static str {
        match self {
            Mark::Made => "made",
            Mark::Found => "found",
        }
    }
}

/// The mark on `path` (following a last symbolic link, so that
/// `/proc/self/fd/N` names the very file N is open on), if any. A value
/// other than "made" reads as "found": never grounds to delete a file.
pub(crate) fn read_mark(path: &Path) -> Result<Option<Mark>> {
    let mut value = [0u8; 16];
    match rustix::fs::getxattr(path, MARK, &mut value[..]) {
        Ok(len) if value[..len] == *b"made" => Ok(Some(Mark::Made)),
        Ok(_) | Err(rustix::io::Errno::RANGE) => Ok(Some(Mark::Found)),
        // ENODATA: no such attribute; EOPNOTSUPP: no xattrs here (nsfs).
        Err(rustix::io::Errno::NODATA | rustix::io::Errno::OPNOTSUPP) => Ok(None),
        Err(errno) => Err(sys(
            format!("getxattr(\"{}\", \"{MARK}\")", path.display()),
            errno,
        )),
    }
}

/// Set the mark; XATTR_CREATE fails with EEXIST if one is there already.
pub(crate) fn set_mark(fd: &OwnedFd, mark: Mark, what: &Path) -> Result<()> {
    rustix::fs::fsetxattr(fd, MARK, mark.value().as_bytes(), XattrFlags::CREATE)
        .map_err(|errno| {
            let call = format!(
                "fsetxattr(fd of \"{}\", \"{MARK}\", \"{}\", XATTR_CREATE)",
                what.display(),
                mark.value()
            );
            match errno {
                rustix::io::Errno::PERM => Error::sys_with_hint(
                    call,
                    Errno::EPERM,
                    "a trusted. attribute takes CAP_SYS_ADMIN in the initial user namespace \
                     (xattr(7)): run create as root of the host, not in a container",
                ),
                _ => sys(call, errno),
            }
        })
}

/// Take the mark off `path` (as in [`read_mark`], a last symlink followed).
pub(crate) fn remove_mark(path: &Path, what: &Path) -> Result<()> {
    rustix::fs::removexattr(path, MARK).map_err(|errno| {
        sys(
            format!("removexattr(\"{}\", \"{MARK}\")", what.display()),
            errno,
        )
    })
}

/// `/proc/self/fd/N`: a path to exactly the file `fd` is open on, whatever
/// has happened to its name since (proc(5)). Taken by the *xattr(2) calls,
/// which do not work on an O_PATH descriptor, and by mount(2).
pub(crate) fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn sys(call: String, errno: rustix::io::Errno) -> Error {
    Error::sys(call, Errno::from_raw(errno.raw_os_error()))
}

// ANCHOR: filesystems
/// Refuse a file whose filesystem (statfs(2) f_type) is not one whose files
/// are plain data on a disk or in memory. A kernel pseudo-file such as
/// /proc/sys/kernel/hostname or a cgroup's cgroup.procs reports size 0, like
/// an empty file; a bind mount over it would hide a kernel interface from
/// every process on the host. An allow-list, not a deny-list: a filesystem
/// create does not know could be anything (FUSE, a network share...). Each
/// one listed is an ordinary filesystem that also has what create relies on:
/// `trusted.` xattrs (xattr(7)) and O_TMPFILE (open(2): ext2/3/4 and tmpfs
/// from the start, XFS 3.15, Btrfs and F2FS 3.16).
const ORDINARY: [(FsType, &str); 5] = [
    (statfs::EXT4_SUPER_MAGIC, "ext2/3/4"), // one magic number for all three
    (statfs::XFS_SUPER_MAGIC, "xfs"),
    (statfs::BTRFS_SUPER_MAGIC, "btrfs"),
    (statfs::F2FS_SUPER_MAGIC, "f2fs"),
    (statfs::TMPFS_MAGIC, "tmpfs"), // also devtmpfs, which is tmpfs inside
];

/// Kernel pseudo-filesystems, named in the refusal.
const PSEUDO: [(FsType, &str); 10] = [
    (statfs::PROC_SUPER_MAGIC, "proc"),
    (statfs::SYSFS_MAGIC, "sysfs"),
    (statfs::CGROUP_SUPER_MAGIC, "cgroup"),
    (statfs::CGROUP2_SUPER_MAGIC, "cgroup2"),
    (statfs::DEBUGFS_MAGIC, "debugfs"),
    (statfs::TRACEFS_MAGIC, "tracefs"),
    (statfs::SECURITYFS_MAGIC, "securityfs"),
    (statfs::BPF_FS_MAGIC, "bpf"),
    (statfs::DEVPTS_SUPER_MAGIC, "devpts"),
    (statfs::NSFS_MAGIC, "nsfs"),
];

/// fstatfs(2) of `fd` (`what`, for messages), refused unless on the list.
pub(crate) fn check_filesystem(
    fd: &OwnedFd,
    target: &Path,
    what: &Path,
) -> Result<()> {
    let fs =
        fstatfs(fd).call(|| format!("fstatfs(fd of \"{}\")", what.display()))?;
    let f_type = fs.filesystem_type();
    if ORDINARY.iter().any(|(magic, _)| *magic == f_type) {
        return Ok(());
    }
    let why = match PSEUDO.iter().find(|(magic, _)| *magic == f_type) {
        Some((_, name)) => format!(
            "it is a kernel pseudo-file ({} is on {name}, statfs(2) f_type {:#x}): covering \
             it would hide a kernel interface from the whole host",
            what.display(),
            f_type.0
        ),
        None => format!(
            "{} is on a filesystem of statfs(2) f_type {:#x}, not an ordinary disk or tmpfs \
             filesystem ({}): its files could be a kernel interface",
            what.display(),
            f_type.0,
            ORDINARY.map(|(_, name)| name).join(", ")
        ),
    };
    Err(Error::refused(
        format!(
            "refusing to bind a namespace onto {}: {why}",
            target.display()
        ),
        "give a path on an ext4, xfs, btrfs, f2fs or tmpfs filesystem, such as \
         /tmp/my-uts (`stat -f -c %T DIR` names a directory's filesystem)",
    ))
}
// ANCHOR_END: filesystems

// ANCHOR: lock
/// The directory PATH is in, open and locked with flock(2) for the whole of
/// one `create` or `remove`: their checks, their changes and their undo are
/// then one step for every other `create` or `remove` of a file in it.
/// flock, not a lock file: the kernel drops the lock when the last
/// descriptor of it closes, even after SIGKILL, so none is ever left stale;
/// a forked child keeps it while it runs. LOCK_NB: never wait, since any
/// user who can open the directory may hold a lock on it; refuse instead.
#[derive(Debug)]
pub(crate) struct Dir {
    lock: Flock<OwnedFd>,
    /// Canonical: absolute, no symbolic links, as in mountinfo.
    pub(crate) path: PathBuf,
    /// The file's name in it, and the whole path (`path`/`name`).
    pub(crate) name: OsString,
    pub(crate) file: PathBuf,
}

impl Dir {
    /// Open PATH's directory (`check` its filesystem first), then lock it.
    pub(crate) fn lock(
        path: &Path,
        check: impl FnOnce(&OwnedFd, &Path) -> Result<()>,
    ) -> Result<Dir> {
        let Some(name) = path.file_name() else {
            return Err(Error::refused(
                format!(
                    "refusing {}: it names a directory (it ends in `/`, `.` or `..`), and a \
                     namespace file binds onto a file",
                    path.display()
                ),
                "give the path of a file, such as /tmp/my-uts",
            ));
        };
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let dir = std::fs::canonicalize(parent)
            .call(|| format!("realpath(\"{}\")", parent.display()))?;
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let fd = open(&dir, flags, Mode::empty()).call(|| {
            format!("open(\"{}\", O_RDONLY | O_DIRECTORY)", dir.display())
        })?;
        check(&fd, &dir)?;
        let lock = match Flock::lock(fd, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => locked,
            Err((_, Errno::EWOULDBLOCK)) => {
                return Err(Error::refused(
                    format!(
                        "refusing {}: another process holds the lock on {} (flock(2) \
                         LOCK_EX | LOCK_NB: EWOULDBLOCK), most likely a create or remove of \
                         a file in it",
                        path.display(),
                        dir.display()
                    ),
                    "wait until it is done, then run this again",
                ));
            }
            Err((_, errno)) => {
                return Err(Error::sys(
                    format!("flock(fd of \"{}\", LOCK_EX | LOCK_NB)", dir.display()),
                    errno,
                ));
            }
        };
        Ok(Dir {
            lock,
            file: dir.join(name),
            path: dir,
            name: name.to_owned(),
        })
    }

    /// The directory's descriptor, for the *at(2) calls.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.lock.as_fd()
    }
}
// ANCHOR_END: lock

impl Dir {
    /// O_PATH | O_NOFOLLOW: a handle on the name's file itself, never what a
    /// symlink points to, that opens nothing (open(2)).
    pub(crate) fn open_path(&self) -> Result<OwnedFd> {
        nix::fcntl::openat(
            self.fd(),
            self.name.as_os_str(),
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .call(|| format!("open(\"{}\", O_PATH | O_NOFOLLOW)", self.file.display()))
    }
}

// ANCHOR: signals
/// SIGINT, SIGTERM, SIGHUP and SIGQUIT (Ctrl-C, kill, a closed terminal,
/// Ctrl-\) held back from creation to drop: one that arrives meanwhile is
/// delivered when this is dropped, after the work is done and told or
/// undone (sigprocmask(2), signal(7)). A forked child inherits the mask.
/// SIGKILL cannot be held back: each state it can leave is one `remove`
/// recognises and undoes.
#[derive(Debug)]
pub(crate) struct SignalsHeld {
    before: SigSet,
}

impl SignalsHeld {
    pub(crate) fn hold() -> Result<SignalsHeld> {
        let mut set = SigSet::empty();
        for signal in [
            Signal::SIGINT,
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGQUIT,
        ] {
            set.add(signal);
        }
        let mut before = SigSet::empty();
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut before)).call(
            || "sigprocmask(SIG_BLOCK, SIGINT | SIGTERM | SIGHUP | SIGQUIT)".into(),
        )?;
        Ok(SignalsHeld { before })
    }
}

impl Drop for SignalsHeld {
    fn drop(&mut self) {
        // What was told reaches the reader before a held signal ends us.
        let _ = std::io::stdout().flush();
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.before), None);
    }
}
// ANCHOR_END: signals
