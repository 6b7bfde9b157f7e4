//! Hints for the refusals of shared subtrees and pivot_root(2) (chapter 9):
//! which of the kernel's several reasons for EINVAL or EPERM applies here,
//! read from the caller's own /proc/self/mountinfo and namespaces, and the
//! call that fixes it.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::{fstat, stat};

use crate::machine::Facts;
use crate::mountinfo::{self, Mount};

/// The hint for `call` failing with `errno`, if it is one of this
/// chapter's refusals; `None` lets the general arms answer.
pub(super) fn hint(call: &str, errno: Errno, facts: &Facts) -> Option<String> {
    let name = super::call_name(call);
    match (name, errno) {
        ("mount", Errno::EINVAL) if super::has_word(call, "MS_BIND") => {
            let source = quoted(call).into_iter().next()?;
            unbindable_source(&mountinfo::current().ok()?, Path::new(&source))
        }
        ("pivot_root", Errno::EINVAL) => {
            let [new_root, put_old] = &quoted(call)[..] else {
                return Some(pivot_root_einval_causes());
            };
            let mounts = mountinfo::current().unwrap_or_default();
            Some(pivot_root_einval(
                &mounts,
                Path::new(&new_root),
                Path::new(&put_old),
            ))
        }
        // pivot_root(2), EBUSY: "new_root or put_old is on the current root
        // mount": a plain directory of the root filesystem, not bound.
        ("pivot_root", Errno::EBUSY) => {
            let new_root = quoted(call).into_iter().next()?;
            Some(format!(
                "new_root {new_root} is on the current root mount (pivot_root(2), EBUSY): it \
                 must be a mount of its own. Bind it onto itself first, \
                 mount(\"{new_root}\", \"{new_root}\", NULL, MS_BIND, NULL)"
            ))
        }
        // umount2(2), EBUSY: "target could not be unmounted because it is
        // busy": a mount below it (the old root after pivot_root(2) has
        // all of the host's), a process's cwd or an open file in it.
        ("umount2", Errno::EBUSY) if !call.contains("MNT_DETACH") => Some(
            "the mount is busy (umount2(2), EBUSY): mounts below it, or a process's \
             working directory or open file in it. After pivot_root(2) the old root \
             holds every mount of the host's tree: detach it with MNT_DETACH, \
             umount2(put_old, MNT_DETACH), which unmounts it and all below it lazily"
                .into(),
        ),
        ("mount" | "umount2" | "pivot_root", Errno::EPERM)
            if facts.cap_sys_admin =>
        {
            match mount_ns_owned_by_own_user_ns() {
                Some(false) => Some(not_our_mount_namespace(name)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The strings in double quotes, in order: the paths of the call.
fn quoted(call: &str) -> Vec<String> {
    call.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The mount a lookup of `path` ends on: the last mount whose mount point
/// is `path` or a directory above it.
fn mount_of<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|m| path.starts_with(&m.mount_point))
        .max_by_key(|m| m.mount_point.components().count())
        .and_then(|deepest| {
            mounts
                .iter()
                .rfind(|m| m.mount_point == deepest.mount_point)
        })
}

/// The mount below the one on `path` itself: the mount `path` sits on.
fn parent_mount_of<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    let parent = path.parent()?;
    mount_of(mounts, parent)
}

/// mount_namespaces(7), "MS_UNBINDABLE": a bind of an unbindable mount is
/// refused (mount(2), EINVAL).
pub(super) fn unbindable_source(mounts: &[Mount], source: &Path) -> Option<String> {
    let mount = mount_of(mounts, source)?;
    mount.propagation.unbindable.then(|| {
        format!(
            "{} is on an unbindable mount (`unbindable` in /proc/self/mountinfo): a bind \
             mount of it is refused (mount_namespaces(7), \"MS_UNBINDABLE\"). Bind it only \
             after mount(NULL, \"{}\", NULL, MS_PRIVATE, NULL), or bind another directory",
            source.display(),
            mount.mount_point.display()
        )
    })
}

/// pivot_root(2), ERRORS, EINVAL: the cause this mount table shows.
pub(super) fn pivot_root_einval(
    mounts: &[Mount],
    new_root: &Path,
    put_old: &Path,
) -> String {
    let new = new_root.display();
    if !mounts.iter().any(|m| m.mount_point == new_root) {
        return format!(
            "new_root {new} is not a mount point (pivot_root(2), EINVAL): bind it onto \
             itself first, mount(\"{new}\", \"{new}\", NULL, MS_BIND, NULL)"
        );
    }
    if !put_old.starts_with(new_root) {
        return format!(
            "put_old {} is not at or under new_root {new} (pivot_root(2), EINVAL): make it a \
             directory inside new_root",
            put_old.display()
        );
    }
    let shared = [
        mount_of(mounts, put_old),
        parent_mount_of(mounts, new_root),
        parent_mount_of(mounts, Path::new("/")),
    ]
    .into_iter()
    .flatten()
    .find(|m| m.propagation.peer_group.is_some());
    if let Some(mount) = shared {
        return format!(
            "the mount on {} is shared ({} in /proc/self/mountinfo): pivot_root(2) refuses \
             a shared parent mount of new_root or of the current root, and a shared mount \
             holding put_old (EINVAL; systemd makes / and the mounts below it shared at \
             boot). Make them private first: mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, \
             NULL)",
            mount.mount_point.display(),
            mount.propagation
        );
    }
    pivot_root_einval_causes()
}

fn pivot_root_einval_causes() -> String {
    "pivot_root(2) gives EINVAL when new_root is not a mount point (bind it onto itself), \
     when put_old is not at or under new_root, when new_root, its parent mount or the \
     current root's parent mount is shared (mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, \
     NULL) first), or when the current root is the rootfs of an initramfs (use \
     switch_root(8) there)"
        .into()
}

/// mount(2) and pivot_root(2) check CAP_SYS_ADMIN in the user namespace
/// that owns the caller's mount namespace (mount_namespaces(7),
/// "Restrictions on mount namespaces").
fn not_our_mount_namespace(call: &str) -> String {
    format!(
        "{call} needs CAP_SYS_ADMIN in the user namespace that owns this mount namespace, \
         and that is not yours: your capabilities are in a user namespace created after it. \
         Create a mount namespace that your user namespace owns first: \
         unshare(CLONE_NEWNS) after unshare(CLONE_NEWUSER) (or both in one call)"
    )
}

/// Whether the caller's mount namespace belongs to the caller's own user
/// namespace: ioctl_ns(2) NS_GET_USERNS on /proc/self/ns/mnt, compared
/// with /proc/self/ns/user by (st_dev, st_ino). EPERM means the owner is
/// outside the caller's scope (ioctl_ns(2)): an ancestor of the caller's
/// user namespace, so not its own. `None` if it cannot tell.
fn mount_ns_owned_by_own_user_ns() -> Option<bool> {
    let mnt = File::open("/proc/self/ns/mnt").ok()?;
    // Safety: NS_GET_USERNS takes no argument and returns a new fd (or -1)
    // that nothing else owns; it is adopted by an OwnedFd at once.
    let owner = unsafe { libc::ioctl(mnt.as_raw_fd(), libc::NS_GET_USERNS) };
    if owner < 0 {
        return match Errno::last() {
            Errno::EPERM => Some(false),
            _ => None,
        };
    }
    // Safety: a fresh descriptor returned by the kernel to this process.
    let owner = unsafe { OwnedFd::from_raw_fd(owner) };
    let owner = fstat(&owner).ok()?;
    let own = stat("/proc/self/ns/user").ok()?;
    Some((owner.st_dev, owner.st_ino) == (own.st_dev, own.st_ino))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mountinfo::Propagation;

    fn mount(point: &str, propagation: Propagation) -> Mount {
        Mount {
            mount_point: point.into(),
            fstype: "tmpfs".into(),
            source: "tmpfs".into(),
            shared: propagation.peer_group.is_some(),
            propagation,
        }
    }

    fn shared(group: u64) -> Propagation {
        Propagation {
            peer_group: Some(group),
            ..Propagation::default()
        }
    }

    fn table() -> Vec<Mount> {
        vec![
            mount("/", Propagation::default()),
            mount("/tmp/s", Propagation::default()),
            mount(
                "/tmp/s/d",
                Propagation {
                    unbindable: true,
                    ..Propagation::default()
                },
            ),
        ]
    }

    #[test]
    fn umount2_ebusy_says_mnt_detach() {
        let busy = hint("umount2(\"/old\", 0)", Errno::EBUSY, &Facts::default())
            .unwrap_or_default();
        assert!(busy.contains("umount2(put_old, MNT_DETACH)"), "{busy}");
        let detached = hint(
            "umount2(\"/old\", MNT_DETACH)",
            Errno::EBUSY,
            &Facts::default(),
        );
        assert!(detached.is_none(), "{detached:?}");
    }

    #[test]
    fn pivot_root_ebusy_says_bind_it_onto_itself() {
        let hint = hint(
            "pivot_root(\"/tmp/r\", \"/tmp/r/old\")",
            Errno::EBUSY,
            &Facts::default(),
        )
        .unwrap_or_default();
        assert!(
            hint.contains("mount(\"/tmp/r\", \"/tmp/r\", NULL, MS_BIND, NULL)"),
            "{hint}"
        );
    }

    #[test]
    fn quoted_paths_in_order() {
        assert_eq!(
            quoted("pivot_root(\"/tmp/s/root\", \"/tmp/s/root/old\")"),
            ["/tmp/s/root", "/tmp/s/root/old"]
        );
    }

    #[test]
    fn a_bind_of_an_unbindable_mount_names_it() {
        let hint =
            unbindable_source(&table(), Path::new("/tmp/s/d")).unwrap_or_default();
        assert!(hint.contains("unbindable mount"), "{hint}");
        assert!(hint.contains("MS_PRIVATE"), "{hint}");
        assert_eq!(unbindable_source(&table(), Path::new("/tmp/s/e")), None);
    }

    #[test]
    fn pivot_root_on_a_plain_directory_says_bind_it_onto_itself() {
        let hint = pivot_root_einval(
            &table(),
            Path::new("/tmp/s/root"),
            Path::new("/tmp/s/root/old"),
        );
        assert!(hint.contains("not a mount point"), "{hint}");
        assert!(
            hint.contains(
                "mount(\"/tmp/s/root\", \"/tmp/s/root\", NULL, MS_BIND, NULL)"
            ),
            "{hint}"
        );
    }

    #[test]
    fn pivot_root_with_a_shared_mount_says_make_it_private() {
        let mut mounts = table();
        mounts.push(mount("/tmp/s/root", shared(7)));
        let hint = pivot_root_einval(
            &mounts,
            Path::new("/tmp/s/root"),
            Path::new("/tmp/s/root/old"),
        );
        assert!(hint.contains("shared:7"), "{hint}");
        assert!(hint.contains("MS_REC | MS_PRIVATE"), "{hint}");
    }

    #[test]
    fn pivot_root_with_put_old_outside() {
        let mut mounts = table();
        mounts.push(mount("/tmp/s/root", Propagation::default()));
        let hint = pivot_root_einval(
            &mounts,
            Path::new("/tmp/s/root"),
            Path::new("/tmp/old"),
        );
        assert!(hint.contains("not at or under new_root"), "{hint}");
    }
}
