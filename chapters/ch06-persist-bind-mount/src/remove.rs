//! `remove PATH`: undo `create`, and nothing else.

use std::fs;
use std::path::Path;

use nix::mount::{MntFlags, umount2};
use nix::sys::stat::{SFlag, lstat};
use workbook::error::Context;
use workbook::say;
use workbook::{Error, Result, mountinfo};

use crate::file_type;
use crate::join::open_uts_ns_file;

/// `remove PATH`: unmount a namespace `create` bound, and delete its file.
pub(crate) fn remove(path: &Path) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: remove
    // Never unmount what is not ours: PATH itself must be a mount point (not
    // a symlink to one), of nsfs, holding a UTS namespace.
    let st = lstat(path).call(|| format!("lstat({})", path.display()))?;
    if file_type(st.st_mode) == SFlag::S_IFLNK {
        return Err(Error::refused(
            format!("{} is a symbolic link, not a mount point", path.display()),
            "give the path of the bind mount itself",
        ));
    }
    let file =
        fs::canonicalize(path).call(|| format!("realpath({})", path.display()))?;
    match mountinfo::top_mount_at(&file)? {
        None => {
            return Err(Error::refused(
                format!(
                    "{} is not a mount point (not in /proc/self/mountinfo); nothing to unmount",
                    file.display()
                ),
                "remove only undoes `create`: give the PATH you gave it",
            ));
        }
        Some(mount) if mount.fstype != "nsfs" => {
            return Err(Error::refused(
                format!(
                    "{} is a mount point of {}, not of nsfs: not a namespace bind mount, not ours",
                    file.display(),
                    mount.fstype
                ),
                "remove only undoes `create`: give the PATH you gave it",
            ));
        }
        Some(_) => {}
    }
    // Closed at the end of this statement: an open file on a mount makes
    // umount2 fail with EBUSY.
    let uts_ns = open_uts_ns_file(&file)?.1;
    say!(
        "process {me}: {} is an nsfs mount point (in /proc/self/mountinfo) of {uts_ns}",
        file.display()
    );
    // UMOUNT_NOFOLLOW: should PATH become a symlink meanwhile, do not follow it.
    umount2(&file, MntFlags::UMOUNT_NOFOLLOW)
        .call(|| format!("umount2({}, UMOUNT_NOFOLLOW)", file.display()))?;
    say!(
        "process {me}: umount2({}): the bind mount no longer holds {uts_ns}; with no process \
         or fd left in it, the kernel frees it",
        file.display()
    );
    // ANCHOR_END: remove
    if mountinfo::top_mount_at(&file)?.is_some() {
        return Err(Error::refused(
            format!(
                "another mount is still on {}: the file under it stays",
                file.display()
            ),
            "run remove again for the next one, if it is yours",
        ));
    }
    let under = lstat(&file).call(|| format!("lstat({})", file.display()))?;
    if file_type(under.st_mode) == SFlag::S_IFREG && under.st_size == 0 {
        fs::remove_file(&file).call(|| format!("unlink({})", file.display()))?;
        say!("process {me}: removed the empty file {}", file.display());
    } else {
        say!(
            "process {me}: left {} in place: not an empty regular file, not one `create` made",
            file.display()
        );
    }
    Ok(())
}
