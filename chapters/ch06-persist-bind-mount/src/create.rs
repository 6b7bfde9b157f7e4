//! `create PATH [HOSTNAME]`: a UTS namespace persisted on the host's mount
//! table, for later runs (or `nsenter --uts=PATH`) to join.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MntFlags, umount2};
use nix::sys::stat::{SFlag, lstat, major, minor};
use workbook::error::Context;
use workbook::ns::NsId;
use workbook::say;
use workbook::{Error, Result, mountinfo, process};

use crate::{file_type, persist_new_uts};

/// `create PATH [HOSTNAME]`: the namespace persisted on the host, to be
/// joined and removed by later runs.
pub(crate) fn create(path: &Path, hostname: &str) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: create
    let target = CreateTarget::prepare(path)?;
    let file = target.path.clone();
    let host_uts = NsId::current("uts")?;
    // The child stays in the host's mount namespace, so its bind mount is
    // the host's: that is the point of `create`. A trap: if PATH is on a
    // shared mount, the bind mount also propagates to that mount's peers
    // (mount_namespaces(7)). Harmless for a UTS namespace. To persist a
    // *mount* namespace the target must not be on a shared mount (the kernel
    // refuses: a loop of references it could never free).
    let child =
        process::fork_child(&[], || persist_new_uts(&file, hostname, host_uts, ""))?;
    let pid = child.pid();
    child.wait()?;
    let held = NsId::of_file("uts", &file)?;
    target.keep();
    say!(
        "process {me}: reaped process {pid}; stat({}) -> {held} (st_dev {}:{}, st_ino {}): \
         the bind mount holds it",
        file.display(),
        major(held.dev),
        minor(held.dev),
        held.ino
    );
    // ANCHOR_END: create
    say!("join it:   ch06-persist-bind-mount join {}", file.display());
    say!("           (or: nsenter --uts={} hostname)", file.display());
    say!(
        "remove it: ch06-persist-bind-mount remove {}",
        file.display()
    );
    Ok(())
}

/// `create`'s PATH, checked: ours to mount over. Until [`CreateTarget::keep`],
/// dropping it undoes what `create` did: our mount, if the child made it,
/// and the file, if `create` made it.
#[derive(Debug)]
struct CreateTarget {
    /// Canonical: absolute, no symbolic links, as in mountinfo.
    path: PathBuf,
    created: bool,
    kept: bool,
}

impl CreateTarget {
    /// Refuse a PATH that is not ours to cover; create it if it is missing.
    fn prepare(path: &Path) -> Result<CreateTarget> {
        let me = std::process::id();
        let refuse = |what: &str, hint: &str| {
            Err(Error::refused(
                format!(
                    "refusing to bind a namespace onto {}: it {what}",
                    path.display()
                ),
                hint,
            ))
        };
        let hint =
            "give a path that does not exist yet: create makes an empty file there";
        let created = match lstat(path) {
            Ok(st) => {
                // lstat(2), not stat: mount(2) would follow a symlink and
                // cover whatever it points to.
                let kind = file_type(st.st_mode);
                if kind == SFlag::S_IFLNK {
                    return refuse("is a symbolic link", hint);
                }
                let canonical = fs::canonicalize(path)
                    .call(|| format!("realpath({})", path.display()))?;
                if let Some(mount) = mountinfo::top_mount_at(&canonical)? {
                    let what =
                        format!("is already a mount point (of {})", mount.fstype);
                    return match mount.fstype.as_str() {
                        "nsfs" => refuse(
                            &what,
                            "it holds a namespace already: join it, or remove it first",
                        ),
                        _ => refuse(&what, hint),
                    };
                }
                if kind == SFlag::S_IFDIR {
                    return refuse(
                        "is a directory (a namespace file binds onto a file)",
                        hint,
                    );
                }
                if kind != SFlag::S_IFREG {
                    return refuse("is not a regular file", hint);
                }
                if st.st_size > 0 {
                    let what = format!(
                        "has {} bytes of content, which the mount would hide",
                        st.st_size
                    );
                    return refuse(&what, hint);
                }
                say!(
                    "process {me}: {} is an empty regular file and no mount point",
                    path.display()
                );
                false
            }
            Err(Errno::ENOENT) => {
                // O_EXCL: fail rather than open a file that appeared meanwhile
                // (and, with O_CREAT, never follow a symlink).
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .call(|| {
                        format!("open({}, O_CREAT | O_EXCL)", path.display())
                    })?;
                say!(
                    "process {me}: created the empty file {}, the bind mount's target",
                    path.display()
                );
                true
            }
            Err(errno) => {
                return Err(Error::sys(format!("lstat({})", path.display()), errno));
            }
        };
        let mut target = CreateTarget {
            path: path.to_owned(),
            created,
            kept: false,
        };
        target.path = fs::canonicalize(path)
            .call(|| format!("realpath({})", path.display()))?;
        Ok(target)
    }

    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for CreateTarget {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        // No mount was there when we checked, so an nsfs mount there now is
        // the one our child made.
        if let Ok(Some(mount)) = mountinfo::top_mount_at(&self.path) {
            if mount.fstype == "nsfs" {
                let _ = umount2(
                    &self.path,
                    MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW,
                );
            }
        }
        if self.created {
            let _ = fs::remove_file(&self.path);
        }
    }
}
