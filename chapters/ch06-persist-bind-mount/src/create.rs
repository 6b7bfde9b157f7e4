//! `create PATH [HOSTNAME]`: a UTS namespace persisted on the host's mount
//! table, for later runs (or `nsenter --uts=PATH`) to join.
//!
//! It changes the host on purpose, so it must never change what is not its
//! own, even given a hostile path, run 50 times at once or killed halfway:
//! - the file must be on an ordinary filesystem, never a kernel pseudo-file
//!   ([`host::check_filesystem`]);
//! - the directory is locked from the first check to the last change, so of
//!   two creates of one path, one mounts and the other refuses ([`host::Dir`]);
//! - the file carries a mark before anything is mounted on it, so `remove`
//!   can tell create's mount and file from anyone else's ([`host::MARK`]);
//! - Ctrl-C or kill waits until the work is done or undone
//!   ([`host::SignalsHeld`]); after SIGKILL, at any moment, what is left is
//!   nothing or a marked file, mounted or not, which `remove` undoes.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat, major, minor};
use nix::unistd::{UnlinkatFlags, linkat, sethostname, unlinkat};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::say;
use workbook::{Error, Result, mountinfo, process};

use crate::host::{self, Dir, Mark, SignalsHeld};
use crate::{NS_FILE, file_type};

/// `create PATH [HOSTNAME]`: the namespace persisted on the host, to be
/// joined and removed by later runs.
pub(crate) fn create(path: &Path, hostname: &str) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: create
    // Declared first, dropped last: a Ctrl-C lands after the undo, if any.
    let _held = SignalsHeld::hold()?;
    let dir = Dir::lock(path, |fd, dir| host::check_filesystem(fd, path, dir))?;
    let target = CreateTarget::prepare(&dir)?;
    let file = &dir.file;
    say!(
        "process {me}: flock(fd of \"{}\", LOCK_EX | LOCK_NB), and SIGINT, SIGTERM, SIGHUP,\n  \
         SIGQUIT held until done: no other create or remove in that directory, no Ctrl-C \
         halfway",
        dir.path.display()
    );
    say!("process {me}: {}", target.told);
    let host_uts = NsId::current("uts")?;
    // The child stays in the host's mount namespace, so its bind mount is
    // the host's: that is the point of `create`. A trap: if PATH is on a
    // shared mount, the bind mount also propagates to that mount's peers
    // (mount_namespaces(7)). Harmless for a UTS namespace. To persist a
    // *mount* namespace the target must not be on a shared mount (the kernel
    // refuses: a loop of references it could never free).
    let child = process::fork_child(&[], || {
        persist_onto(&target.fd, file, hostname, host_uts)
    })?;
    let pid = child.pid();
    child.wait()?;
    let held = target.mounted(host_uts)?;
    say!(
        "process {me}: reaped process {pid};\n  stat(\"{}\") -> {held} (st_dev {}:{}, \
         st_ino {}): the bind mount holds it",
        file.display(),
        major(held.dev),
        minor(held.dev),
        held.ino
    );
    target.keep();
    // ANCHOR_END: create
    say!("join it:   ch06-persist-bind-mount join {}", file.display());
    say!("           (or: nsenter --uts={} hostname)", file.display());
    say!(
        "remove it: ch06-persist-bind-mount remove {}",
        file.display()
    );
    Ok(())
}

// ANCHOR: persist_onto
/// In a forked process: a new UTS namespace, named, bound onto the file `fd`
/// is open on (`file` is its path, for messages). Like the story's process A,
/// with one change: the target is `/proc/self/fd/N`, the very file that was
/// checked and marked, even if its path has become a symbolic link since
/// (mount(2) follows that magic link to the open file; runc mounts this way).
fn persist_onto(
    fd: &OwnedFd,
    file: &Path,
    hostname: &str,
    host_uts: NsId,
) -> Result<()> {
    let me = std::process::id();
    unshare(CloneFlags::CLONE_NEWUTS).call(|| "unshare(CLONE_NEWUTS)".into())?;
    let uts_ns = NsId::current("uts")?;
    // Never sethostname in a namespace we did not just make: it would be the host's.
    ns::ensure_new(host_uts, uts_ns)?;
    sethostname(hostname).call(|| format!("sethostname(\"{hostname}\")"))?;
    say!("process {me}: unshare(CLONE_NEWUTS) -> {uts_ns}; hostname \"{hostname}\"");
    let target = host::fd_path(fd);
    mount(
        Some(NS_FILE),
        &target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .call(|| {
        format!(
            "mount(\"{NS_FILE}\", \"{}\" ({}), NULL, MS_BIND, NULL)",
            target.display(),
            file.display()
        )
    })?;
    say!(
        "process {me}: mount(\"{NS_FILE}\", \"/proc/self/fd/N\", NULL, MS_BIND, NULL),\n  \
         N open on {}; then exits",
        file.display()
    );
    Ok(())
}
// ANCHOR_END: persist_onto

/// `create`'s PATH, checked and marked: ours to mount over. Until
/// [`CreateTarget::keep`], dropping it undoes what `create` did: the mount,
/// if the child made it, then the file if `create` made it, else the mark.
#[derive(Debug)]
struct CreateTarget<'a> {
    dir: &'a Dir,
    /// O_PATH, of the file checked and marked: what the child mounts onto.
    fd: OwnedFd,
    /// Its identity, to unlink nothing but it.
    dev: u64,
    ino: u64,
    mark: Mark,
    /// What was found and done, to tell.
    told: String,
    kept: bool,
}

impl<'a> CreateTarget<'a> {
    /// Refuse a PATH that is not ours to cover; make it if it is missing.
    /// `dir` is locked: nothing another create or remove does can come
    /// between these checks and the mount.
    fn prepare(dir: &'a Dir) -> Result<CreateTarget<'a>> {
        let (file, name) = (&dir.file, dir.name.as_os_str());
        // fstatat(2) with AT_SYMLINK_NOFOLLOW, like lstat: mount(2) would
        // follow a symlink and cover whatever it points to.
        let found = match fstatat(dir.fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::ENOENT) => return CreateTarget::make(dir),
            Err(errno) => {
                return Err(Error::sys(
                    format!("lstat(\"{}\")", file.display()),
                    errno,
                ));
            }
        };
        refuse_unless_empty_file(file, &found)?;
        let fd = dir.open_path()?;
        let st =
            fstat(&fd).call(|| format!("fstat(fd of \"{}\")", file.display()))?;
        if (st.st_dev, st.st_ino) != (found.st_dev, found.st_ino) {
            return refuse(file, "changed while it was being checked", HINT_NEW);
        }
        // Its own filesystem too: a file that is not its directory's would
        // be a mount point, refused above; this holds whatever comes.
        host::check_filesystem(&fd, file, file)?;
        if host::read_mark(&host::fd_path(&fd))?.is_some() {
            return refuse(
                file,
                &format!(
                    "carries create's mark ({}): a create or remove of it was killed \
                     halfway",
                    host::MARK
                ),
                "run `ch06-persist-bind-mount remove PATH`, which finishes the undo",
            );
        }
        // Marked before anything is mounted on it. The mark needs a
        // descriptor that is not O_PATH: open it read-only, by its fd path.
        let readable = nix::fcntl::open(
            &host::fd_path(&fd),
            OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .call(|| format!("open(\"{}\", O_RDONLY)", file.display()))?;
        host::set_mark(&readable, Mark::Found, file)?;
        Ok(CreateTarget {
            dir,
            fd,
            dev: st.st_dev,
            ino: st.st_ino,
            mark: Mark::Found,
            told: format!(
                "{} is an empty regular file and no mount point;\n  fsetxattr(fd, \"{}\", \
                 \"found\", XATTR_CREATE): create did not make it, so remove will leave it",
                file.display(),
                host::MARK
            ),
            kept: false,
        })
    }

    /// Make the missing file, already marked: O_TMPFILE makes a file with
    /// no name in the directory (open(2)), fsetxattr marks it, and linkat(2)
    /// gives it PATH as its name, or fails with EEXIST if PATH appeared
    /// meanwhile. At no moment is there an unmarked file at PATH.
    fn make(dir: &'a Dir) -> Result<CreateTarget<'a>> {
        let (file, name) = (&dir.file, dir.name.as_os_str());
        let unnamed = openat(
            dir.fd(),
            ".",
            OFlag::O_TMPFILE | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        )
        .call(|| {
            format!(
                "open(\"{}\", O_TMPFILE | O_WRONLY, 0644)",
                dir.path.display()
            )
        })?;
        host::set_mark(&unnamed, Mark::Made, file)?;
        let st = fstat(&unnamed)
            .call(|| format!("fstat(fd of \"{}\")", file.display()))?;
        linkat(&unnamed, "", dir.fd(), name, AtFlags::AT_EMPTY_PATH).call(|| {
            format!(
                "linkat(fd, \"\", fd of \"{}\", \"{}\", AT_EMPTY_PATH)",
                dir.path.display(),
                Path::new(name).display()
            )
        })?;
        let mut target = CreateTarget {
            dir,
            // Replaced below; the drop guard must exist from the link on.
            fd: unnamed,
            dev: st.st_dev,
            ino: st.st_ino,
            mark: Mark::Made,
            told: format!(
                "open(\"{0}\", O_TMPFILE | O_WRONLY, 0644) -> fd,\n  fsetxattr(fd, \"{1}\", \
                 \"made\", XATTR_CREATE),\n  linkat(fd, \"\", fd of \"{0}\", \"{2}\", AT_EMPTY_PATH): \
                 the empty file {3} appears, already marked",
                dir.path.display(),
                host::MARK,
                Path::new(name).display(),
                file.display()
            ),
            kept: false,
        };
        // The O_TMPFILE descriptor still names no path: mount(2) onto it
        // fails with ENOENT (6.18). Reopen the name; make sure it is ours.
        target.fd = dir.open_path()?;
        let named = fstat(&target.fd)
            .call(|| format!("fstat(fd of \"{}\")", file.display()))?;
        if (named.st_dev, named.st_ino) != (st.st_dev, st.st_ino) {
            return refuse(file, "changed while it was being made", HINT_NEW);
        }
        Ok(target)
    }

    /// After the child: PATH is now an nsfs mount point of a new namespace.
    fn mounted(&self, host_uts: NsId) -> Result<NsId> {
        let file = &self.dir.file;
        match mountinfo::top_mount_at(file)? {
            Some(mount) if mount.fstype == "nsfs" => {}
            _ => {
                return Err(Error::refused(
                    format!(
                        "the bind mount is not on {} (not in /proc/self/mountinfo): the path \
                         changed while create worked",
                        file.display()
                    ),
                    "something renamed or replaced PATH meanwhile; `findmnt -t nsfs` \
                     lists the nsfs mounts, wherever the bind mount went",
                ));
            }
        }
        let held = NsId::of_file("uts", file)?;
        ns::ensure_new(host_uts, held)?;
        Ok(held)
    }

    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for CreateTarget<'_> {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        let me = std::process::id();
        let file = &self.dir.file;
        let mut undone = Vec::new();
        // The lock was held since the check found no mount here, so an nsfs
        // mount here now is the one our child made.
        if let Ok(Some(mount)) = mountinfo::top_mount_at(file) {
            let flags = MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW;
            if mount.fstype == "nsfs" && umount2(file, flags).is_ok() {
                undone.push("umount2".to_owned());
            }
        }
        match self.mark {
            Mark::Made => {
                let now = fstatat(
                    self.dir.fd(),
                    self.dir.name.as_os_str(),
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                );
                let ours = now
                    .is_ok_and(|st| (st.st_dev, st.st_ino) == (self.dev, self.ino));
                let name = self.dir.name.as_os_str();
                if ours
                    && unlinkat(self.dir.fd(), name, UnlinkatFlags::NoRemoveDir)
                        .is_ok()
                {
                    undone.push("unlink".to_owned());
                }
            }
            Mark::Found => {
                if host::remove_mark(&host::fd_path(&self.fd), file).is_ok() {
                    undone.push(format!(
                        "removexattr(\"{}\", \"{}\")",
                        file.display(),
                        host::MARK
                    ));
                }
            }
        }
        // stderr, not the story's stdout; and never a panic in a drop.
        let _ = writeln!(
            std::io::stderr(),
            "process {me}: undid create on {}: {}",
            file.display(),
            if undone.is_empty() {
                "nothing to undo".to_owned()
            } else {
                undone.join(", ")
            }
        );
    }
}

const HINT_NEW: &str =
    "give a path that does not exist yet: create makes an empty file there";

fn refuse<T>(file: &Path, what: &str, hint: &str) -> Result<T> {
    Err(Error::refused(
        format!(
            "refusing to bind a namespace onto {}: it {what}",
            file.display()
        ),
        hint,
    ))
}

/// An existing PATH may be covered only if it is an empty regular file and
/// no mount point: never a symlink, a directory, a device or a FIFO, nor a
/// file whose content the mount would hide.
fn refuse_unless_empty_file(file: &Path, st: &FileStat) -> Result<()> {
    let kind = file_type(st.st_mode);
    if kind == SFlag::S_IFLNK {
        return refuse(file, "is a symbolic link", HINT_NEW);
    }
    if let Some(mount) = mountinfo::top_mount_at(file)? {
        let what = format!("is already a mount point (of {})", mount.fstype);
        return match mount.fstype.as_str() {
            "nsfs" => refuse(
                file,
                &what,
                "it holds a namespace already: join it, or remove it first",
            ),
            _ => refuse(file, &what, HINT_NEW),
        };
    }
    if kind == SFlag::S_IFDIR {
        return refuse(
            file,
            "is a directory (a namespace file binds onto a file)",
            HINT_NEW,
        );
    }
    if kind != SFlag::S_IFREG {
        return refuse(file, "is not a regular file", HINT_NEW);
    }
    if st.st_size > 0 {
        let what = format!(
            "has {} bytes of content, which the mount would hide",
            st.st_size
        );
        return refuse(file, &what, HINT_NEW);
    }
    Ok(())
}
