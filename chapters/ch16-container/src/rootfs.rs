//! The container's root: a tmpfs holding read-only bind mounts of the
//! host's programs, a fresh /proc, a minimal /dev and a /tmp; then
//! pivot_root(2) into it and the old root detached (chapter 9).
//!
//! Every mount here is made in the container's own mount namespace, after
//! `/` was made private: none reaches the host, and all of them go when
//! the namespace's last process does.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::statvfs::{FsFlags, statvfs};
use nix::unistd::{chdir, pivot_root};
use workbook::error::Context;
use workbook::{Result, mountinfo};

use crate::step;

/// Where the new root is built: a directory every Linux system has (the
/// Filesystem Hierarchy Standard requires /mnt). The tmpfs covers it, and
/// whatever is mounted below it, in the container's mount namespace only.
pub const STAGE: &str = "/mnt";

/// The host's directories of programs and libraries. Each one that is a
/// symlink on the host (`/bin -> usr/bin` on a merged-/usr system such as
/// Debian 12) becomes the same symlink; each directory, a read-only bind
/// mount; a missing one is skipped. No /etc: the host's users, keys and
/// configuration stay out.
const HOST_DIRS: [&str; 7] =
    ["usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32"];

/// The device nodes a shell and its programs expect. A user namespace may
/// not mknod(2) a device (mknod(2): CAP_MKNOD in the initial namespace), so
/// each is a bind mount of the host's node onto an empty file.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

fn q(path: &Path) -> String {
    format!("\"{}\"", path.display())
}

// ANCHOR: build
/// Build the root under [`STAGE`], then enter it.
pub fn build_and_enter() -> Result<()> {
    mountinfo::make_root_private()?;
    step!(
        "PID 1: mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL): no mount of ours reaches the host"
    );

    let root = Path::new(STAGE);
    mount(
        Some("tmpfs"),
        root,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("mode=0755"),
    )
    .call(|| {
        format!("mount(\"tmpfs\", {}, \"tmpfs\", 0, \"mode=0755\")", q(root))
    })?;
    step!(
        "PID 1: mount(\"tmpfs\", {}, \"tmpfs\", 0, \"mode=0755\"): the new root",
        q(root)
    );

    let mut bound = Vec::new();
    for name in HOST_DIRS {
        let host = Path::new("/").join(name);
        let inside = root.join(name);
        match fs::symlink_metadata(&host) {
            Err(_) => continue,
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&host)
                    .call(|| format!("readlink({})", q(&host)))?;
                symlink(&target, &inside)
                    .call(|| format!("symlink({}, {})", q(&target), q(&inside)))?;
                bound.push(format!("{name} -> {}", target.display()));
            }
            Ok(_) => {
                bind_read_only(&host, &inside)?;
                bound.push(format!("{name} (read-only)"));
            }
        }
    }
    step!(
        "PID 1: mount(\"/usr\", \"{STAGE}/usr\", NULL, MS_BIND | MS_REC, NULL), then \
         MS_REMOUNT | MS_BIND | MS_RDONLY, and so on: {}",
        bound.join(", ")
    );

    // A /proc of the new PID namespace (pid_namespaces(7), "/proc and PID
    // namespaces"), which CAP_SYS_ADMIN in the user namespace owning it
    // allows (user_namespaces(7), "Capabilities"). Mounted before the old
    // root goes: outside the initial user namespace the kernel mounts a
    // new proc only where one is already fully visible in the mount
    // namespace (mount_too_revealing() in fs/namespace.c; no man page says
    // it), and after the detach there is none.
    let proc = root.join("proc");
    mkdir(&proc, 0o555)?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("proc"), &proc, Some("proc"), flags, None::<&str>).call(|| {
        format!(
            "mount(\"proc\", {}, \"proc\", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)",
            q(&proc)
        )
    })?;
    step!(
        "PID 1: mount(\"proc\", {}, \"proc\", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL): the PIDs of this PID namespace only",
        q(&proc)
    );

    minimal_dev(&root.join("dev"))?;
    let tmp = root.join("tmp");
    mkdir(&tmp, 0o1777)?;
    step!("PID 1: mkdir({}, 01777)", q(&tmp));

    enter(root)
}
// ANCHOR_END: build

/// mount --bind, then read-only. A bind mount takes its first flags from
/// the mount it copies; MS_RDONLY needs a second call, MS_REMOUNT |
/// MS_BIND (mount(2), "Creating a bind mount"). In a user namespace the
/// flags the copied mount had (nosuid, nodev, noexec, its atime rule) are
/// locked: a remount that drops one is refused with EPERM, so they are
/// read with statvfs(3) and kept.
///
/// The trap: the remount makes read-only the one mount it names, not the
/// mounts below it that MS_REC bound too (a separate /usr/local would stay
/// writable); mount_setattr(2) with AT_RECURSIVE (Linux 5.12) covers all.
fn bind_read_only(host: &Path, inside: &Path) -> Result<()> {
    mkdir(inside, 0o755)?;
    mount(
        Some(host),
        inside,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .call(|| {
        format!(
            "mount({}, {}, NULL, MS_BIND | MS_REC, NULL)",
            q(host),
            q(inside)
        )
    })?;
    let kept = statvfs(inside)
        .call(|| format!("statvfs({})", q(inside)))?
        .flags();
    let mut flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
    for (has, flag) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if kept.contains(has) {
            flags |= flag;
        }
    }
    mount(None::<&str>, inside, None::<&str>, flags, None::<&str>).call(|| {
        format!(
            "mount(NULL, {}, NULL, {}, NULL)",
            q(inside),
            flag_names(flags)
        )
    })
}

/// `MS_REMOUNT | MS_BIND | MS_RDONLY`.
fn flag_names(flags: MsFlags) -> String {
    let names: Vec<&str> = flags.iter_names().map(|(name, _)| name).collect();
    names.join(" | ")
}

/// /dev with a few nodes bound from the host's, and the usual symlinks.
fn minimal_dev(dev: &Path) -> Result<()> {
    mkdir(dev, 0o755)?;
    let mut nodes = Vec::new();
    for name in DEVICES {
        let host = Path::new("/dev").join(name);
        if fs::symlink_metadata(&host).is_err() {
            continue;
        }
        let inside = dev.join(name);
        fs::File::create(&inside)
            .call(|| format!("open({}, O_CREAT | O_WRONLY, 0666)", q(&inside)))?;
        mount(
            Some(&host),
            &inside,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .call(|| {
            format!("mount({}, {}, NULL, MS_BIND, NULL)", q(&host), q(&inside))
        })?;
        nodes.push(name);
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let link = dev.join(name);
        symlink(target, &link)
            .call(|| format!("symlink(\"{target}\", {})", q(&link)))?;
    }
    step!(
        "PID 1: mkdir({}); mount(\"/dev/null\", {}, NULL, MS_BIND, NULL) and so on: {}; fd, stdin, stdout, stderr -> /proc/self/fd",
        q(dev),
        q(&dev.join("null")),
        nodes.join(", ")
    );
    Ok(())
}

// ANCHOR: enter
/// pivot_root(2) into `root`: the tmpfs is a mount point already, and
/// private (it was mounted after `/` was made private). The old root goes
/// to `put_old`, under the new one, and is detached from there with every
/// mount below it; nothing of the host stays reachable but the bind mounts.
fn enter(root: &Path) -> Result<()> {
    let put_old: PathBuf = root.join(".old-root");
    mkdir(&put_old, 0o700)?;
    pivot_root(root, &put_old)
        .call(|| format!("pivot_root({}, {})", q(root), q(&put_old)))?;
    chdir("/").call(|| "chdir(\"/\")".into())?;
    umount2("/.old-root", MntFlags::MNT_DETACH)
        .call(|| "umount2(\"/.old-root\", MNT_DETACH)".into())?;
    fs::remove_dir("/.old-root").call(|| "rmdir(\"/.old-root\")".into())?;
    step!(
        "PID 1: pivot_root({}, {}), chdir(\"/\"), umount2(\"/.old-root\", MNT_DETACH), rmdir(\"/.old-root\"): / is {}",
        q(root),
        q(&put_old),
        list("/")?
    );
    Ok(())
}
// ANCHOR_END: enter

fn mkdir(path: &Path, mode: u32) -> Result<()> {
    fs::create_dir(path).call(|| format!("mkdir({}, 0{mode:o})", q(path)))?;
    // The umask would take bits off; the mode is the point (/tmp's sticky bit).
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .call(|| format!("chmod({}, 0{mode:o})", q(path)))
}

/// The names in a directory, sorted: `{bin, dev, ...}`.
fn list(dir: &str) -> Result<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .call(|| format!("opendir(\"{dir}\")"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(format!("{{{}}}", names.join(", ")))
}
