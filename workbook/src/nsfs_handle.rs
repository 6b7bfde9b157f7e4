//! A namespace named without being held: its 64-bit id and its file handle.
//!
//! An fd of a namespace file keeps the namespace alive (namespaces(7),
//! "Namespace lifetime"), so it cannot be what proves the namespace died.
//! Since Linux 6.18 the kernel gives every namespace an id that is never
//! reused while the machine runs (NS_GET_ID, an ioctl on an nsfs fd), and
//! nsfs files have file handles (name_to_handle_at(2)) that carry that id.
//! open_by_handle_at(2) on such a handle opens the namespace again while it
//! lives, and fails with ESTALE once it is gone: that failure is the
//! kernel's own proof of death, which a process list is not.
//!
//! Checked on 6.18.44: the handle is 16 bytes of type 0xf1 (FILEID_NSFS):
//! the id (u64), the type (a CLONE_NEW* value, u32) and the inode (u32).
//! open_by_handle_at accepts an nsfs fd or FD_NSFS_ROOT (-10003) as its
//! first argument; AT_FDCWD gives ESTALE (root) or EPERM (others). It needs
//! no CAP_DAC_READ_SEARCH for nsfs: the caller must be in the namespace, or
//! hold CAP_SYS_ADMIN in the user namespace that owns it (for a user
//! namespace, in that namespace itself). A caller that may not open it gets
//! ESTALE too, the same answer as for a dead namespace (uid 65534 asking for
//! a live UTS namespace of root's, here): so ESTALE proves a death only to a
//! caller that opened the namespace by the same handle while it lived. A
//! process that is root in a user namespace of its own may open every
//! namespace it made there.
//!
//! Before 6.18 there is no NS_GET_ID (ENOTTY) and name_to_handle_at on an
//! nsfs file gives EOPNOTSUPP: then nothing proves a namespace died. Not
//! finding its inode in /proc/*/ns proves only that no visible process is
//! in it (fds, bind mounts, child namespaces and sockets are not listed
//! there), and the inode number is handed out again once it is free.
//!
//! NS_GET_ID itself is [`crate::nsfs::id`].

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::error::{Error, Result};

/// The nsfs root for open_by_handle_at(2) (include/uapi/linux/fcntl.h, 6.18).
pub const FD_NSFS_ROOT: i32 = -10003;
/// The handle type of nsfs files (include/linux/exportfs.h, 6.18).
const FILEID_NSFS: i32 = 0xf1;
/// Room for a handle: nsfs's is 16 bytes; the kernel says if it needs more.
const HANDLE_ROOM: usize = 32;

/// SIOCGSKNS (ioctl on a socket, net/socket.c; since Linux 4.9): an fd of the
/// network namespace a socket was made in. Needs CAP_NET_ADMIN in the user
/// namespace that owns it.
pub fn socket_net(socket: impl AsFd, what: &str) -> Result<OwnedFd> {
    // Safety: SIOCGSKNS takes no argument and returns a new fd or -1.
    let ret = unsafe { libc::ioctl(socket.as_fd().as_raw_fd(), libc::SIOCGSKNS) };
    if ret == -1 {
        return Err(Error::sys(
            format!("ioctl({what}, SIOCGSKNS)"),
            Errno::last(),
        ));
    }
    // Safety: a new descriptor that nothing else in this process owns.
    Ok(unsafe { OwnedFd::from_raw_fd(ret) })
}

/// struct file_handle (name_to_handle_at(2)) with room for nsfs's bytes.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawHandle {
    handle_bytes: u32,
    handle_type: i32,
    f_handle: [u8; HANDLE_ROOM],
}

/// The file handle of a namespace: names it, holds nothing.
#[derive(Clone, Copy)]
pub struct Handle {
    raw: RawHandle,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Handle(ns_id {})", self.id())
    }
}

impl Handle {
    /// name_to_handle_at(AT_FDCWD, path, ..., AT_SYMLINK_FOLLOW): `path` is
    /// a `/proc/PID/ns/*` link (without the flag, the link itself:
    /// EOPNOTSUPP) or a file a namespace is bound on.
    pub fn of_path(path: &str) -> Result<Handle> {
        let c_path = std::ffi::CString::new(path)
            .map_err(|_| Error::usage(format!("{path:?} contains a NUL byte")))?;
        Handle::call(libc::AT_FDCWD, &c_path, libc::AT_SYMLINK_FOLLOW, || {
            format!("name_to_handle_at(AT_FDCWD, \"{path}\", AT_SYMLINK_FOLLOW)")
        })
    }

    /// name_to_handle_at(fd, "", ..., AT_EMPTY_PATH): the handle of the
    /// namespace an nsfs fd refers to.
    pub fn of_fd(ns_fd: impl AsFd, what: &str) -> Result<Handle> {
        Handle::call(ns_fd.as_fd().as_raw_fd(), c"", libc::AT_EMPTY_PATH, || {
            format!("name_to_handle_at({what}, \"\", AT_EMPTY_PATH)")
        })
    }

    fn call(
        dirfd: i32,
        path: &std::ffi::CStr,
        flags: i32,
        call: impl Fn() -> String,
    ) -> Result<Handle> {
        let mut raw = RawHandle {
            handle_bytes: HANDLE_ROOM as u32,
            handle_type: 0,
            f_handle: [0; HANDLE_ROOM],
        };
        let mut mount_id: i32 = 0;
        // Safety: `raw` is a struct file_handle whose handle_bytes says how
        // many bytes follow it (HANDLE_ROOM, which f_handle has); `path` is
        // NUL-terminated; both outlive the call, as does `mount_id`.
        let ret = unsafe {
            libc::name_to_handle_at(
                dirfd,
                path.as_ptr(),
                (&raw mut raw).cast::<libc::file_handle>(),
                &mut mount_id,
                flags,
            )
        };
        if ret == -1 {
            return Err(Error::sys(call(), Errno::last()));
        }
        Ok(Handle { raw })
    }

    /// The handle the kernel would give for the namespace with this id,
    /// type (a CLONE_NEW* value) and inode: struct nsfs_file_handle
    /// (fs/nsfs.c, 6.18), type FILEID_NSFS (0xf1). For a check that holds
    /// only what a story printed; the kernel looks the namespace up by id.
    pub fn from_parts(ns_id: u64, clone_flag: i32, inode: u32) -> Handle {
        let mut f_handle = [0u8; HANDLE_ROOM];
        f_handle[..8].copy_from_slice(&ns_id.to_ne_bytes());
        f_handle[8..12].copy_from_slice(&clone_flag.to_ne_bytes());
        f_handle[12..16].copy_from_slice(&inode.to_ne_bytes());
        Handle {
            raw: RawHandle {
                handle_bytes: 16,
                handle_type: FILEID_NSFS,
                f_handle,
            },
        }
    }

    /// The namespace's id, as NS_GET_ID ([`crate::nsfs::id`]) gives it: the
    /// handle's first eight bytes (struct nsfs_file_handle, fs/nsfs.c, 6.18).
    pub fn id(&self) -> u64 {
        let mut id = [0u8; 8];
        id.copy_from_slice(&self.raw.f_handle[..8]);
        u64::from_ne_bytes(id)
    }

    // ANCHOR: open
    /// open_by_handle_at(FD_NSFS_ROOT, handle, O_RDONLY | O_CLOEXEC): a new
    /// fd of the namespace, which keeps it alive until closed. ESTALE when
    /// the namespace is gone.
    pub fn open(&self) -> Result<OwnedFd> {
        let mut raw = self.raw;
        // Safety: `raw` is a handle name_to_handle_at filled, with its byte
        // count; the kernel only reads it. It lives through the call.
        let ret = unsafe {
            libc::open_by_handle_at(
                FD_NSFS_ROOT,
                (&raw mut raw).cast::<libc::file_handle>(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        };
        if ret == -1 {
            return Err(Error::sys(self.open_call(), Errno::last()));
        }
        // Safety: a new descriptor, owned by nothing else in this process.
        Ok(unsafe { OwnedFd::from_raw_fd(ret) })
    }

    // ANCHOR_END: open

    /// How [`Handle::open`] is written in output and errors.
    pub fn open_call(&self) -> String {
        format!(
            "open_by_handle_at(FD_NSFS_ROOT, {{ns_id {}}}, O_RDONLY | O_CLOEXEC)",
            self.id()
        )
    }

    /// Is the namespace alive? Opens it and closes the fd at once, so the
    /// question keeps nothing alive. `Ok(false)` only on ESTALE: gone, or
    /// not this caller's to open (see the module's doc); any other failure
    /// is an error.
    pub fn is_alive(&self) -> Result<bool> {
        match self.open() {
            Ok(fd) => {
                drop(fd);
                Ok(true)
            }
            Err(err) if err.errno() == Some(Errno::ESTALE) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Ask [`Handle::is_alive`] until it says no, for at most `deadline`.
    /// Needed where the last reference is dropped after the call that
    /// released it returned: a netlink socket's, for one, after an RCU grace
    /// period (netlink_release defers the socket's free; about 10 ms here).
    /// There is no event to wait on, so this polls, every millisecond.
    /// Returns how long it took; an error if the namespace outlived the
    /// deadline.
    pub fn wait_gone(&self, deadline: Duration) -> Result<Duration> {
        let start = Instant::now();
        loop {
            if !self.is_alive()? {
                return Ok(start.elapsed());
            }
            if start.elapsed() > deadline {
                return Err(Error::refused(
                    format!(
                        "ns_id {} is still alive {} ms after its last reference went",
                        self.id(),
                        deadline.as_millis()
                    ),
                    "something else holds it: a process in it, an fd, a bind mount, a \
                     namespace it owns or parents, or a socket (namespaces(7), \"Namespace \
                     lifetime\")",
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
