//! `remove PATH`: undo `create`, and nothing else.
//!
//! "Create's" means: the file at PATH carries create's mark ([`host::MARK`]).
//! While the namespace is mounted on it, the mark is out of sight: a lookup
//! of PATH lands on the nsfs file on top, which has no xattrs. So a child
//! looks beneath the mount in a mount namespace of its own, where it can
//! take the mount away without touching the host's ([`look_beneath`]).

use std::fs;
use std::os::fd::OwnedFd;
use std::path::Path;

use nix::mount::{MntFlags, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::{SFlag, fstat, lstat};
use nix::unistd::{UnlinkatFlags, unlinkat};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::say;
use workbook::{Error, Result, mountinfo, process};

use crate::file_type;
use crate::host::{self, Dir, Mark, SignalsHeld};
use crate::join::open_uts_ns_file;

const HINT_OURS: &str = "remove only undoes `create`: give the PATH you gave it";

/// `remove PATH`: unmount a namespace `create` bound, and delete its file.
pub(crate) fn remove(path: &Path) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: remove
    // Never unmount what is not ours: PATH itself must be a mount point (not
    // a symlink to one), of nsfs, holding a UTS namespace, over create's mark.
    let st = lstat(path).call(|| format!("lstat(\"{}\")", path.display()))?;
    if file_type(st.st_mode) == SFlag::S_IFLNK {
        return Err(Error::refused(
            format!("{} is a symbolic link, not a mount point", path.display()),
            "give the path of the bind mount itself",
        ));
    }
    let file = fs::canonicalize(path)
        .call(|| format!("realpath(\"{}\")", path.display()))?;
    refuse_other_mounts(&file)?;
    // Locked and uninterruptible as create is, so neither sees the other's
    // work halfway; checked again under the lock.
    let _held = SignalsHeld::hold()?;
    let dir = Dir::lock(&file, |_, _| Ok(()))?;
    refuse_other_mounts(&file)?;
    let mounted = mountinfo::top_mount_at(&file)?.is_some();
    if mounted {
        // Closed at the end of this statement: an open file on a mount makes
        // umount2 fail with EBUSY.
        let uts_ns = open_uts_ns_file(&file)?.1;
        say!(
            "process {me}: {} is an nsfs mount point (in /proc/self/mountinfo) of {uts_ns}",
            file.display()
        );
        look_beneath(&file, uts_ns)?;
        // UMOUNT_NOFOLLOW: should PATH become a symlink meanwhile, do not
        // follow it.
        umount2(&file, MntFlags::UMOUNT_NOFOLLOW)
            .call(|| format!("umount2(\"{}\", UMOUNT_NOFOLLOW)", file.display()))?;
        say!(
            "process {me}: umount2(\"{}\", UMOUNT_NOFOLLOW): the bind mount no longer \
             holds {uts_ns};\n  with no process or fd left in it, the kernel frees it",
            file.display()
        );
    }
    // No mount on it now: create's marked file, or nothing of create's.
    let fd = dir.open_path()?;
    let Some(mark) = host::read_mark(&host::fd_path(&fd))? else {
        return Err(Error::refused(
            format!(
                "{} is not a mount point (not in /proc/self/mountinfo) and carries no mark of \
                 create ({}): nothing of create's to undo",
                file.display(),
                host::MARK
            ),
            HINT_OURS,
        ));
    };
    if !mounted {
        // What a create or remove killed by SIGKILL leaves (create's
        // signals held cover everything else).
        say!(
            "process {me}: {} is no mount point, yet carries create's mark ({}=\"{}\"):\n  a \
             create or remove was killed halfway; finishing the undo",
            file.display(),
            host::MARK,
            mark.value()
        );
    }
    forget(&dir, fd, mark)
    // ANCHOR_END: remove
}

/// A mount point of another filesystem than nsfs is never create's.
fn refuse_other_mounts(file: &Path) -> Result<()> {
    match mountinfo::top_mount_at(file)? {
        Some(mount) if mount.fstype != "nsfs" => Err(Error::refused(
            format!(
                "{} is a mount point of {}, not of nsfs: not a namespace bind mount, not ours",
                file.display(),
                mount.fstype
            ),
            HINT_OURS,
        )),
        _ => Ok(()),
    }
}

// ANCHOR: look_beneath
/// Prove the nsfs mount on `file` (of `uts_ns`) is create's, without
/// touching the host: a child moves into a mount namespace of its own, a
/// copy of the host's mount table (mount_namespaces(7)), takes the mount
/// away there, and reads the mark of the file beneath. The child's copy, and
/// the umount2 in it, die with the child.
fn look_beneath(file: &Path, uts_ns: NsId) -> Result<()> {
    let child = process::fork_child(&[], || {
        let me = std::process::id();
        let mnt_before = NsId::current("mnt")?;
        unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
        let mnt_ns = NsId::current("mnt")?;
        ns::ensure_new(mnt_before, mnt_ns)?;
        // Before any umount2: in a copy of a shared mount, an unmount would
        // propagate to its peers, the host's mount among them.
        mountinfo::make_root_private()?;
        // The mount this copy has there is the one the parent checked.
        ns::ensure_joined(uts_ns, NsId::of_file("uts", file)?)?;
        umount2(file, MntFlags::UMOUNT_NOFOLLOW)
            .call(|| format!("umount2(\"{}\", UMOUNT_NOFOLLOW)", file.display()))?;
        if let Some(mount) = mountinfo::top_mount_at(file)? {
            return Err(Error::refused(
                format!(
                    "the nsfs mount on {} sits on another mount (of {}): create never \
                     mounts on a mount point, so the top one is not create's",
                    file.display(),
                    mount.fstype
                ),
                "remove the top one yourself (umount PATH) if it is yours",
            ));
        }
        let mark = host::read_mark(file)?;
        let kind = file_type(
            lstat(file)
                .call(|| format!("lstat(\"{}\")", file.display()))?
                .st_mode,
        );
        let (Some(mark), SFlag::S_IFREG) = (mark, kind) else {
            return Err(Error::refused(
                format!(
                    "the nsfs mount on {} is not create's: the file beneath it carries no \
                     mark ({})",
                    file.display(),
                    host::MARK
                ),
                "remove undoes only `create`. If you made this mount yourself (mount --bind, \
                 ip netns add), take it away yourself: umount PATH",
            ));
        };
        say!(
            "process {me}: unshare(CLONE_NEWNS): {mnt_before} -> {mnt_ns},\n  \
             mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL),\n  umount2(\"{0}\", \
             UMOUNT_NOFOLLOW) in this copy of the mount table only;\n  beneath lies create's \
             file: getxattr(\"{0}\", \"{1}\") -> \"{2}\"",
            file.display(),
            host::MARK,
            mark.value()
        );
        Ok(())
    })?;
    child.wait()
}
// ANCHOR_END: look_beneath

// ANCHOR: forget
/// With no mount left on it, put the file back as create found it: delete
/// it if create made it and it is still empty, else only take the mark off.
fn forget(dir: &Dir, fd: OwnedFd, mark: Mark) -> Result<()> {
    let me = std::process::id();
    let file = &dir.file;
    let st = fstat(&fd).call(|| format!("fstat(fd of \"{}\")", file.display()))?;
    let empty_file = file_type(st.st_mode) == SFlag::S_IFREG && st.st_size == 0;
    if mark == Mark::Made && empty_file {
        unlinkat(dir.fd(), dir.name.as_os_str(), UnlinkatFlags::NoRemoveDir)
            .call(|| format!("unlink(\"{}\")", file.display()))?;
        say!(
            "process {me}: removed the empty file {}, which create made",
            file.display()
        );
        return Ok(());
    }
    host::remove_mark(&host::fd_path(&fd), file)?;
    let why = match mark {
        Mark::Found => "it was there before create",
        Mark::Made => "create made it, but it is no longer an empty regular file",
    };
    say!(
        "process {me}: left {0} in place ({why});\n  removexattr(\"/proc/self/fd/N\", \"{1}\"), \
         N open on {0}: create's mark is gone",
        file.display(),
        host::MARK
    );
    Ok(())
}
// ANCHOR_END: forget
