//! Making the kernel refuse on purpose, and asking whether it would allow.
//!
//! All three start the command in a user namespace of its own, from a
//! `pre_exec` hook: code run between fork and exec. The test process has
//! many threads, so that code sticks to plain system calls on buffers
//! prepared before the fork (no allocation, no locks).

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Arrange for `cmd` to start in a new user namespace of its own, mapped to
/// root, in which `/proc/sys/user/max_<ns_type>_namespaces` is 0: creating
/// such a namespace there fails with ENOSPC (namespaces(7), "/proc/sys/user").
/// The limit is per user namespace, so the host's stays as it was.
pub(crate) fn with_zero_limit(cmd: &mut Command, ns_type: &str) {
    let (uid, gid) = own_ids();
    in_new_userns(
        cmd,
        Map {
            inside: 0,
            uid,
            gid,
        },
        Some(ns_type),
    );
}

/// Arrange for `cmd` to start without any capability, as uid and gid `id`
/// of a new user namespace whose `max_user_namespaces` is 0: the example,
/// not root there, tries to create its own user namespace and the kernel
/// refuses with ENOSPC.
///
/// From inside, a process may map only its own uid, one line
/// (user_namespaces(7)), so the test's uid becomes `id`, not 0. Right after
/// unshare the process still holds every capability in the new namespace,
/// enough to lower its limit; exec then recomputes them for a uid that is
/// not 0 there: none.
pub(crate) fn as_nobody_with_zero_userns_limit(cmd: &mut Command, id: u32) {
    let (uid, gid) = own_ids();
    in_new_userns(
        cmd,
        Map {
            inside: id,
            uid,
            gid,
        },
        Some("user"),
    );
}

/// Arrange for `cmd` (which should be `true`) to try what an example does
/// first when it is not root: a user namespace with the caller (`uid`,
/// `gid`, which `cmd` is set to run as) mapped to root. It exits 0 if the
/// kernel allows that, and fails to start if not.
pub(crate) fn probe_userns(cmd: &mut Command, uid: u32, gid: u32) {
    in_new_userns(
        cmd,
        Map {
            inside: 0,
            uid,
            gid,
        },
        None,
    );
}

/// One line of uid_map and gid_map: `inside` in the new namespace is `uid`
/// (and `gid`) outside.
struct Map {
    inside: u32,
    uid: u32,
    gid: u32,
}

fn own_ids() -> (u32, u32) {
    (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    )
}

/// The hook: unshare(CLONE_NEWUSER), `deny` to setgroups, the two maps
/// (user_namespaces(7), in that order), then 0 to
/// `/proc/sys/user/max_<limit>_namespaces` if asked.
fn in_new_userns(cmd: &mut Command, map: Map, limit: Option<&str>) {
    let uid_map = format!("{} {} 1", map.inside, map.uid);
    let gid_map = format!("{} {} 1", map.inside, map.gid);
    let limit = limit.map(|ns_type| {
        CString::new(format!("/proc/sys/user/max_{ns_type}_namespaces"))
            .expect("no NUL in a namespace type")
    });
    // Safety: the hook runs in the forked child before exec; it only makes
    // system calls on memory prepared above.
    unsafe {
        cmd.pre_exec(move || {
            // A root process that switched to another uid (Command::uid) is
            // not dumpable, and then may not write its own maps; exec would
            // reset that, but this runs before exec, so reset it by hand.
            check(libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0))?;
            check(libc::unshare(libc::CLONE_NEWUSER))?;
            write_file(c"/proc/self/setgroups", b"deny")?;
            write_file(c"/proc/self/uid_map", uid_map.as_bytes())?;
            write_file(c"/proc/self/gid_map", gid_map.as_bytes())?;
            match &limit {
                Some(path) => write_file(path, b"0"),
                None => Ok(()),
            }
        });
    }
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn write_file(path: &CStr, data: &[u8]) -> io::Result<()> {
    // Safety: `path` is NUL-terminated; the fd is ours and closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    check(fd)?;
    // Safety: `data` is valid for `data.len()` bytes.
    let written = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    let result = if written == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    };
    // Safety: closes the fd opened above, once.
    unsafe { libc::close(fd) };
    result
}
