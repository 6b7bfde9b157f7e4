//! Making the kernel refuse on purpose, and asking whether it would allow.
//!
//! Both run code between fork and exec in a `pre_exec` hook. The test process
//! has many threads, so that code sticks to plain system calls on buffers
//! prepared before the fork (no allocation, no locks).

use std::ffi::CString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Arrange for `cmd` to start in a new user namespace of its own, mapped to
/// root, in which `/proc/sys/user/max_<ns_type>_namespaces` is 0: creating
/// such a namespace there fails with ENOSPC (namespaces(7), "/proc/sys/user").
/// The limit is per user namespace, so the host's stays as it was.
pub(crate) fn with_zero_limit(cmd: &mut Command, ns_type: &str) {
    let uid_map = format!("0 {} 1", nix::unistd::geteuid());
    let gid_map = format!("0 {} 1", nix::unistd::getegid());
    let limit =
        CString::new(format!("/proc/sys/user/max_{ns_type}_namespaces")).unwrap();
    // Safety: the hook runs in the forked child before exec; it only makes
    // system calls on memory prepared above.
    unsafe {
        cmd.pre_exec(move || {
            check(libc::unshare(libc::CLONE_NEWUSER))?;
            write_file(c"/proc/self/setgroups", b"deny")?;
            write_file(c"/proc/self/uid_map", uid_map.as_bytes())?;
            write_file(c"/proc/self/gid_map", gid_map.as_bytes())?;
            write_file(&limit, b"0")
        });
    }
}

/// Arrange for `cmd` (which should be `true`) to try what an example does
/// first when it is not root: a user namespace with the caller mapped to root.
/// It exits 0 if the kernel allows that, and fails to start if not.
pub(crate) fn probe_userns(cmd: &mut Command, uid: u32, gid: u32) {
    let uid_map = format!("0 {uid} 1");
    let gid_map = format!("0 {gid} 1");
    // Safety: as above, system calls only, on memory prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            // A root process that switched to another uid is not dumpable,
            // and then may not write its own maps; exec would reset that,
            // the probe runs before exec, so reset it by hand.
            check(libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0))?;
            check(libc::unshare(libc::CLONE_NEWUSER))?;
            write_file(c"/proc/self/setgroups", b"deny")?;
            write_file(c"/proc/self/uid_map", uid_map.as_bytes())?;
            write_file(c"/proc/self/gid_map", gid_map.as_bytes())
        });
    }
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn write_file(path: &std::ffi::CStr, data: &[u8]) -> io::Result<()> {
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

/// Arrange for `cmd` to start without any capability, as uid and gid `id`
/// of a new user namespace whose `max_user_namespaces` is 0: the example,
/// not root there, tries to create its own user namespace and the kernel
/// refuses with ENOSPC.
///
/// From inside, a process may map only its own uid, one line (user_namespaces(7)),
/// so the test's uid becomes `id`, not 0. Right after unshare the process
/// still holds every capability in the new namespace, enough to lower its
/// limit; exec then recomputes them for a uid that is not 0 there: none.
pub(crate) fn as_nobody_with_zero_userns_limit(cmd: &mut Command, id: u32) {
    let uid_map = format!("{id} {} 1", nix::unistd::geteuid());
    let gid_map = format!("{id} {} 1", nix::unistd::getegid());
    // Safety: system calls only, on memory prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            check(libc::unshare(libc::CLONE_NEWUSER))?;
            write_file(c"/proc/self/setgroups", b"deny")?;
            write_file(c"/proc/self/uid_map", uid_map.as_bytes())?;
            write_file(c"/proc/self/gid_map", gid_map.as_bytes())?;
            write_file(c"/proc/sys/user/max_user_namespaces", b"0")
        });
    }
}
