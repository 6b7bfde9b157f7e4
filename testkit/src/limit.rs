//! Making the kernel refuse on purpose, and asking whether it would allow.
//!
//! Each arranges a [`Command`], mostly from a `pre_exec` hook: code run
//! between fork and exec. The test process has many threads, so that code
//! sticks to plain system calls on buffers prepared before the fork (no
//! allocation, no locks). The ways to refuse:
//!
//! - a zero `max_<type>_namespaces` limit: ENOSPC (`with_zero_limit`);
//! - a seccomp filter answering EPERM, as a container's profile does
//!   ([`with_seccomp_eperm`]);
//! - user namespaces in which every capability is denied, as Ubuntu's
//!   AppArmor does ([`with_userns_caps_denied`], a preloaded library);
//! - a chroot, which unshare(CLONE_NEWUSER) refuses ([`in_chroot_as`]);
//! - a user namespace without a uid map is util-linux's `unshare --user`.

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
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

/// Arrange for `cmd` to start under a seccomp filter that fails each of
/// `syscalls` (numbers, e.g. `libc::SYS_unshare`) with EPERM and allows
/// everything else: what a container runtime's default profile does to
/// unshare, setns and mount. seccomp(2): without CAP_SYS_ADMIN a filter
/// needs no_new_privs first; set it anyway, it changes nothing else here.
/// The filter is inherited by the command (and kept across exec), and
/// `Seccomp: 2` shows in its `/proc/self/status`.
pub fn with_seccomp_eperm(cmd: &mut Command, syscalls: &[libc::c_long]) {
    let mut filter = seccomp_filter(syscalls);
    // Safety: the hook runs in the forked child before exec; it makes two
    // prctl calls on the filter built above, which lives in the closure.
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: filter.len() as libc::c_ushort,
                filter: filter.as_mut_ptr(),
            };
            check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
            check(libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &prog as *const libc::sock_fprog,
            ))
        });
    }
}

/// `AUDIT_ARCH_*` of this build (linux/audit.h): a filter must check the
/// architecture before it trusts a syscall number (seccomp(2), "Caveats").
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;
/// Another architecture: no call matches, so the filter refuses nothing,
/// and a test that expects EPERM fails saying so.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const AUDIT_ARCH: u32 = 0;

/// The classic BPF program: load the architecture, allow any other; load
/// the number; EPERM for each of `syscalls`; allow the rest.
fn seccomp_filter(syscalls: &[libc::c_long]) -> Vec<libc::sock_filter> {
    let stmt = |code: u32, k: u32| libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jump_eq = |k: u32, jt: u8, jf: u8| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    };
    let load = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let ret = libc::BPF_RET | libc::BPF_K;
    let mut prog = vec![
        stmt(load, std::mem::offset_of!(libc::seccomp_data, arch) as u32),
        jump_eq(AUDIT_ARCH, 1, 0),
        stmt(ret, libc::SECCOMP_RET_ALLOW),
        stmt(load, std::mem::offset_of!(libc::seccomp_data, nr) as u32),
    ];
    for nr in syscalls {
        prog.push(jump_eq(*nr as u32, 0, 1));
        prog.push(stmt(ret, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32));
    }
    prog.push(stmt(ret, libc::SECCOMP_RET_ALLOW));
    prog
}

/// The library that imitates Ubuntu's AppArmor restriction
/// (`kernel.apparmor_restrict_unprivileged_userns=1`): preloaded into a
/// program, it lets unshare(CLONE_NEWUSER) succeed and then drops every
/// capability, as AppArmor's unprivileged_userns profile denies them all.
/// Built by testkit's build.rs from `testkit/preload/deny_userns_caps.rs`.
///
/// Why not in a pre_exec hook: a process that creates a user namespace
/// gets every capability in it afresh (user_namespaces(7)), so capabilities
/// dropped before the example's own unshare(CLONE_NEWUSER) would be back
/// after it. AppArmor acts after; so does this library.
pub fn deny_caps_library() -> &'static Path {
    Path::new(concat!(env!("OUT_DIR"), "/libdeny_userns_caps.so"))
}

/// Arrange for `cmd` to run with `library` (a readable copy of
/// [`deny_caps_library`]) preloaded: its user namespaces hold no
/// capabilities, so the first privileged step after creating one fails
/// (opening `/proc/self/setgroups` for writing: EACCES; writing `uid_map`:
/// EPERM), as on Ubuntu 23.10+. ld.so(8): LD_PRELOAD is honoured because
/// the command is not set-user-ID.
pub fn with_userns_caps_denied(cmd: &mut Command, library: &Path) {
    cmd.env("LD_PRELOAD", library);
}

/// Arrange for `cmd` (a path inside `root`, e.g. `/ch02-unshare`) to start
/// chrooted into `root`, as uid and gid `id`, with a fresh /proc: in a
/// private mount namespace of its own, so the proc mount never reaches the
/// host and ends with the command. unshare(2): CLONE_NEWUSER is refused
/// with EPERM to a chrooted caller. Needs root (CAP_SYS_CHROOT and
/// CAP_SYS_ADMIN); `root` must hold the program, its libraries and an
/// empty `proc/`.
pub fn in_chroot_as(cmd: &mut Command, root: &Path, id: u32) {
    let root =
        CString::new(root.as_os_str().as_encoded_bytes()).expect("no NUL in a path");
    let proc_dir = CString::new([root.as_bytes(), b"/proc"].concat())
        .expect("no NUL in a path");
    // Safety: the hook runs in the forked child before exec; it only makes
    // system calls on the strings prepared above.
    unsafe {
        cmd.pre_exec(move || {
            check(libc::unshare(libc::CLONE_NEWNS))?;
            // mount_namespaces(7): make every mount private first, so the
            // proc mount below cannot propagate to the host.
            check(libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ))?;
            check(libc::mount(
                c"proc".as_ptr(),
                proc_dir.as_ptr(),
                c"proc".as_ptr(),
                0,
                std::ptr::null(),
            ))?;
            check(libc::chroot(root.as_ptr()))?;
            check(libc::chdir(c"/".as_ptr()))?;
            check(libc::setgroups(0, std::ptr::null()))?;
            check(libc::setgid(id))?;
            check(libc::setuid(id))
        });
    }
}
