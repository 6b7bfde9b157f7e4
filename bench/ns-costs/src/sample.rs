//! One sample: a fresh process does the operation once and reports how long
//! the one system call took, read from CLOCK_MONOTONIC just before and just
//! after it (clock_gettime(2); one clock for every process, so a time taken
//! in one process and one taken in another can be subtracted).
//!
//! Raw libc rather than nix: the window between the two clock reads must
//! hold the system call and nothing else, and clone3(2), pidfd_open(2),
//! name_to_handle_at(2) and open_by_handle_at(2) are not in nix 0.32.
//!
//! A sample process writes one u64 to a pipe: the nanoseconds, or, with the
//! top bit set, the step that failed and its errno. Every child asks for
//! SIGKILL when its parent dies (PR_SET_PDEATHSIG, prctl(2)), so a
//! benchmark killed at any moment leaves no process, and with it no
//! namespace, behind.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::{Command, Stdio};

use libc::{c_int, pid_t};
use workbook::{Error, Result};

/// One of the eight types (namespaces(7), in its table's order), or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    pub flag: c_int,
    pub flag_name: &'static str,
    /// util-linux unshare(1)'s option for it.
    pub option: &'static str,
}

/// The baseline row: the same operations with no namespace flag.
pub const NONE: Kind = Kind {
    name: "none",
    flag: 0,
    flag_name: "0",
    option: "",
};

pub const KINDS: [Kind; 8] = [
    kind(
        "cgroup",
        libc::CLONE_NEWCGROUP,
        "CLONE_NEWCGROUP",
        "--cgroup",
    ),
    kind("ipc", libc::CLONE_NEWIPC, "CLONE_NEWIPC", "--ipc"),
    kind("net", libc::CLONE_NEWNET, "CLONE_NEWNET", "--net"),
    kind("mnt", libc::CLONE_NEWNS, "CLONE_NEWNS", "--mount"),
    kind("pid", libc::CLONE_NEWPID, "CLONE_NEWPID", "--pid"),
    kind("time", libc::CLONE_NEWTIME, "CLONE_NEWTIME", "--time"),
    kind("user", libc::CLONE_NEWUSER, "CLONE_NEWUSER", "--user"),
    kind("uts", libc::CLONE_NEWUTS, "CLONE_NEWUTS", "--uts"),
];

const fn kind(
    name: &'static str,
    flag: c_int,
    flag_name: &'static str,
    option: &'static str,
) -> Kind {
    Kind {
        name,
        flag,
        flag_name,
        option,
    }
}

impl Kind {
    /// unshare(CLONE_NEWPID) and unshare(CLONE_NEWTIME) do not move the
    /// caller: its next child is the first member (pid_namespaces(7),
    /// time_namespaces(7)).
    pub fn for_children(self) -> bool {
        self.flag == libc::CLONE_NEWPID || self.flag == libc::CLONE_NEWTIME
    }

    /// The util-linux command line for this type, `true` as the program.
    /// A PID namespace needs --fork: without it `true` is not in the new
    /// namespace, and nothing is.
    pub fn util_linux_args(self) -> Vec<&'static str> {
        let mut args = Vec::new();
        if !self.option.is_empty() {
            args.push(self.option);
        }
        if self.flag == libc::CLONE_NEWPID {
            args.push("--fork");
        }
        args.push("true");
        args
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // Safety: `ts` is a valid timespec to write to; CLOCK_MONOTONIC always
    // exists on Linux, so the call cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

const FAILED: u64 = 1 << 63;

/// The word a child sends when step `step` failed: its errno, read now.
fn failed(step: u64) -> u64 {
    FAILED | step << 32 | errno() as u32 as u64
}

fn errno() -> libc::c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// A pipe(2); both ends close on exec (unshare(1) must not inherit them).
struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

fn pipe() -> Result<Pipe> {
    let mut fds = [0 as c_int; 2];
    // Safety: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(sys("pipe2(O_CLOEXEC)", errno()));
    }
    // Safety: pipe2 succeeded, so both are open descriptors owned by no one else.
    let (read, write) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok(Pipe { read, write })
}

fn sys(call: impl Into<String>, errno: c_int) -> Error {
    Error::sys(call, nix::errno::Errno::from_raw(errno))
}

/// Write one u64; a child that cannot report has nothing better to do.
fn send(fd: RawFd, value: u64) {
    let bytes = value.to_ne_bytes();
    // Safety: `bytes` is 8 readable bytes; a pipe write of 8 bytes is atomic.
    unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
}

/// Read one u64, or `None` at end of file (the writer died or closed it).
fn receive(fd: RawFd) -> Result<Option<u64>> {
    let mut bytes = [0u8; 8];
    loop {
        // Safety: `bytes` is 8 writable bytes.
        let n = unsafe { libc::read(fd, bytes.as_mut_ptr().cast(), bytes.len()) };
        match n {
            8 => return Ok(Some(u64::from_ne_bytes(bytes))),
            0 => return Ok(None),
            -1 if errno() == libc::EINTR => continue,
            -1 => return Err(sys("read(pipe)", errno())),
            _ => return Err("read(pipe) returned a part of a word".into()),
        }
    }
}

/// Block until one byte arrives (or end of file); for children.
fn wait_byte(fd: RawFd) {
    let mut byte = 0u8;
    // Safety: one writable byte. EINTR or EOF: the child goes on to exit.
    unsafe { libc::read(fd, (&raw mut byte).cast(), 1) };
}

fn wake(fd: RawFd) {
    // Safety: one readable byte.
    unsafe { libc::write(fd, b"!".as_ptr().cast(), 1) };
}

/// fork(2) a child that runs `body`, sends its word on `report` and exits
/// without running destructors or atexit handlers (_exit(2)): the parent's
/// buffers and guards are the parent's.
fn fork(report: RawFd, body: impl FnOnce() -> u64) -> Result<pid_t> {
    let parent = std::process::id() as pid_t;
    // Safety: the benchmark is single-threaded (no thread is ever started),
    // so the child may run any code, allocation included, until _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(sys("fork()", errno()));
    }
    if pid == 0 {
        // Safety: prctl with integer arguments; the getppid check closes the
        // race in which the parent died before the request was made.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            // 0: the first process of a new PID namespace, whose parent
            // is outside it (getpid(2)).
            let ppid = libc::getppid();
            if ppid != parent && ppid != 0 {
                libc::_exit(1);
            }
        }
        let word = body();
        send(report, word);
        // Safety: _exit ends the process at once; nothing is shared to flush.
        unsafe { libc::_exit(0) };
    }
    Ok(pid)
}

/// Wait for a child and reap it (waitpid(2), retried on EINTR).
fn reap(pid: pid_t) -> Result<()> {
    let mut status = 0;
    loop {
        // Safety: `status` is a valid int to write to.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r == pid {
            return Ok(());
        }
        if errno() != libc::EINTR {
            return Err(sys(format!("waitpid({pid})"), errno()));
        }
    }
}

/// The parent's side: drop its copy of the write end (so a dead child reads
/// as end of file), take the child's word, reap the child. `steps` names
/// the calls the child made, for the error.
fn collect(pid: pid_t, pipe: Pipe, steps: &[String]) -> Result<u64> {
    let Pipe { read, write } = pipe;
    drop(write);
    let word = receive(read.as_raw_fd());
    reap(pid)?;
    decode(word?, steps)
}

fn decode(word: Option<u64>, steps: &[String]) -> Result<u64> {
    match word {
        None => Err("a sample process died before it reported".into()),
        Some(word) if word & FAILED != 0 => {
            let step = ((word & !FAILED) >> 32) as usize;
            let call = steps.get(step).cloned().unwrap_or_default();
            Err(sys(call, (word & 0xffff_ffff) as c_int))
        }
        Some(ns) => Ok(ns),
    }
}

/// unshare(2) of one type, in a fresh process.
pub fn unshare(kind: Kind) -> Result<u64> {
    let pipe = pipe()?;
    let pid = fork(pipe.write.as_raw_fd(), || {
        let start = now_ns();
        // Safety: unshare with a flag word; it affects only this child.
        let r = unsafe { libc::unshare(kind.flag) };
        let end = now_ns();
        match r {
            0 => end - start,
            _ => failed(0),
        }
    })?;
    collect(pid, pipe, &[format!("unshare({})", kind.flag_name)])
}

/// struct clone_args, CLONE_ARGS_SIZE_VER0 (clone(2), linux/sched.h).
#[repr(C)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
}

/// clone3(2) of a child in a new namespace of one type, timed in the
/// parent (a fresh process): the call returns once the child exists. clone3
/// rather than clone(2): CLONE_NEWTIME's bit is CSIGNAL's in clone(2)'s
/// flags, so only clone3 takes it (on recent kernels, about 6.3; this one
/// does, the time row shows).
pub fn clone3(kind: Kind) -> Result<u64> {
    let pipe = pipe()?;
    let pid = fork(pipe.write.as_raw_fd(), || {
        let args = CloneArgs {
            flags: kind.flag as u32 as u64,
            pidfd: 0,
            child_tid: 0,
            parent_tid: 0,
            exit_signal: libc::SIGCHLD as u64,
            stack: 0,
            stack_size: 0,
            tls: 0,
        };
        let start = now_ns();
        // Safety: `args` is a valid clone_args of the size passed. With no
        // stack the child runs on a copy of ours, like fork(2), and exits
        // at once without touching anything shared.
        let child = unsafe {
            libc::syscall(libc::SYS_clone3, &raw const args, size_of::<CloneArgs>())
        };
        let end = now_ns();
        if child == 0 {
            // Safety: the new child leaves at once.
            unsafe { libc::_exit(0) };
        }
        if child < 0 {
            return failed(0);
        }
        match reap(child as pid_t) {
            Ok(()) => end - start,
            Err(_) => failed(1),
        }
    })?;
    collect(
        pid,
        pipe,
        &[
            format!("clone3({{flags: {} }})", kind.flag_name),
            "waitpid(the clone3 child)".into(),
        ],
    )
}

/// A process parked in a new namespace of one type, to be joined: a child
/// that unshares, then a grandchild (which is in the namespace even for
/// pid and time) that waits. Dropping it wakes and reaps both.
#[derive(Debug)]
pub struct Holder {
    holder: pid_t,
    /// The grandchild, in the holder's PID namespace (the benchmark's).
    pub target: pid_t,
    go: OwnedFd,
}

pub fn hold(kind: Kind) -> Result<Holder> {
    let ready = pipe()?;
    let go = pipe()?;
    let go_read = go.read.as_raw_fd();
    let holder = fork(ready.write.as_raw_fd(), || {
        // Safety: unshare with a flag word, in this child only.
        if unsafe { libc::unshare(kind.flag) } != 0 {
            return failed(0);
        }
        let report = ready.write.as_raw_fd();
        match fork(report, || {
            wait_byte(go_read);
            // Safety: the grandchild's word must not follow the holder's.
            unsafe { libc::_exit(0) }
        }) {
            Ok(target) => {
                send(report, target as u64);
                let _ = reap(target);
                // Sent already; the wrapper's second word nobody reads.
                0
            }
            Err(_) => failed(1),
        }
    })?;
    let Pipe { read, write } = ready;
    drop(write);
    let word = receive(read.as_raw_fd());
    let steps = [format!("unshare({})", kind.flag_name), "fork()".into()];
    match decode(word?, &steps) {
        Ok(target) => Ok(Holder {
            holder,
            target: target as pid_t,
            go: go.write,
        }),
        Err(err) => {
            let _ = reap(holder);
            Err(err)
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        wake(self.go.as_raw_fd());
        let _ = reap(self.holder);
    }
}

/// How a sample joins: by a namespace file or by a pidfd (setns(2)).
#[derive(Debug, Clone, Copy)]
pub enum Join {
    ProcFd,
    Pidfd,
}

/// setns(2) into the holder's namespace of one type, in a fresh process;
/// opening the fd is not timed.
pub fn setns(kind: Kind, holder: &Holder, join: Join) -> Result<u64> {
    let target = holder.target;
    let path = format!("/proc/{target}/ns/{}", kind.name);
    let open_call = match join {
        Join::ProcFd => format!("open(\"{path}\", O_RDONLY)"),
        Join::Pidfd => format!("pidfd_open({target}, 0)"),
    };
    let fd_name = match join {
        Join::ProcFd => format!("fd of \"{path}\""),
        Join::Pidfd => format!("pidfd of {target}"),
    };
    let c_path = CString::new(path).map_err(|_| Error::from("a path with a NUL"))?;
    let pipe = pipe()?;
    let pid = fork(pipe.write.as_raw_fd(), || {
        let fd = match join {
            // Safety: a NUL-terminated path.
            Join::ProcFd => unsafe {
                libc::open(c_path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC)
            },
            // Safety: pidfd_open takes a pid and flags (pidfd_open(2)).
            Join::Pidfd => unsafe {
                libc::syscall(libc::SYS_pidfd_open, target, 0) as c_int
            },
        };
        if fd < 0 {
            return failed(0);
        }
        let start = now_ns();
        // Safety: setns on an fd we opened; it moves only this child.
        let r = unsafe { libc::setns(fd, kind.flag) };
        let end = now_ns();
        match r {
            0 => end - start,
            _ => failed(1),
        }
    })?;
    collect(
        pid,
        pipe,
        &[open_call, format!("setns({fd_name}, {})", kind.flag_name)],
    )
}

/// struct file_handle with room for any nsfs handle (open_by_handle_at(2)).
#[repr(C)]
struct FileHandle {
    handle_bytes: u32,
    handle_type: c_int,
    f_handle: [u8; 128],
}

/// Watches namespaces die without keeping them alive: a file handle
/// (name_to_handle_at(2)) names a namespace but holds no reference, and
/// open_by_handle_at(2) of a namespace that is gone fails with ESTALE.
/// nsfs has file handles since Linux 6.18.
#[derive(Debug)]
pub struct Observer {
    /// Any nsfs file: open_by_handle_at's mount_fd.
    nsfs: OwnedFd,
}

impl Observer {
    pub fn new() -> Result<Observer> {
        let file = std::fs::File::open("/proc/self/ns/user").map_err(|err| {
            Error::io("open(\"/proc/self/ns/user\", O_RDONLY)", &err)
        })?;
        Ok(Observer { nsfs: file.into() })
    }

    fn handle(&self, path: &str) -> Result<FileHandle> {
        let c_path =
            CString::new(path).map_err(|_| Error::from("a path with a NUL"))?;
        let mut handle = FileHandle {
            handle_bytes: 128,
            handle_type: 0,
            f_handle: [0; 128],
        };
        let mut mount_id: c_int = 0;
        // Safety: a NUL-terminated path, a file_handle whose handle_bytes
        // says how much room follows, an int for the mount id.
        let r = unsafe {
            libc::syscall(
                libc::SYS_name_to_handle_at,
                libc::AT_FDCWD,
                c_path.as_ptr(),
                &raw mut handle,
                &raw mut mount_id,
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        let call =
            format!("name_to_handle_at(AT_FDCWD, \"{path}\", AT_SYMLINK_FOLLOW)");
        match (r, errno()) {
            (0, _) => Ok(handle),
            (_, libc::EOPNOTSUPP) => Err(Error::sys_with_hint(
                call,
                nix::errno::Errno::EOPNOTSUPP,
                "namespace files have file handles since Linux 6.18; on an older \
                 kernel the teardown columns cannot be measured this way",
            )),
            (_, e) => Err(sys(call, e)),
        }
    }

    /// Poll until the namespace is gone; the time it was seen gone. The
    /// first 100 tries back to back, then 10 µs apart: the resolution is a
    /// few microseconds at first, then about 10-60 µs (timer slack).
    fn wait_gone(&self, handle: &mut FileHandle, what: &str) -> Result<u64> {
        let start = now_ns();
        let mut tries = 0u64;
        loop {
            // Safety: mount_fd is an open nsfs fd, `handle` a handle the
            // kernel filled in.
            let fd = unsafe {
                libc::syscall(
                    libc::SYS_open_by_handle_at,
                    self.nsfs.as_raw_fd(),
                    &raw mut *handle,
                    libc::O_RDONLY | libc::O_CLOEXEC,
                )
            } as c_int;
            if fd < 0 {
                let e = errno();
                if e == libc::ESTALE {
                    return Ok(now_ns());
                }
                return Err(sys(
                    format!(
                        "open_by_handle_at(fd of \"/proc/self/ns/user\", handle of {what}, O_RDONLY)"
                    ),
                    e,
                ));
            }
            // Safety: an fd we just opened and own.
            unsafe { libc::close(fd) };
            if now_ns() - start > 20_000_000_000 {
                return Err(Error::refused(
                    format!(
                        "{what} was still alive 20 s after its last process exited"
                    ),
                    "something else holds it (an open fd, a bind mount); run it again",
                ));
            }
            tries += 1;
            if tries > 100 {
                let pause = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 10_000,
                };
                // Safety: a valid timespec; no remainder wanted.
                unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) };
            }
        }
    }
}

/// Teardown: a fresh process creates a namespace of one type and exits;
/// the time from its parent's waitpid(2) returning (every reference the
/// process held is dropped by then, its credentials' included) to the
/// namespace being gone. A namespace freed within exit(2) itself is gone
/// at the first try: what remains is the cost of one try. Not for net (see
/// [`net_teardowns`]).
pub fn teardown(kind: Kind, observer: &Observer) -> Result<Teardown> {
    let flags = kind.flag;
    let flag_name = kind.flag_name;
    let up = pipe()?;
    let go = pipe()?;
    let go_read = go.read.as_raw_fd();
    let report = up.write.as_raw_fd();
    let pid = fork(report, || {
        // Safety: unshare with a flag word, in this child only.
        if unsafe { libc::unshare(flags) } != 0 {
            return failed(0);
        }
        if kind.for_children() {
            let Ok(first) = fork(report, || {
                wait_byte(go_read);
                // Safety: leave without a word.
                unsafe { libc::_exit(0) }
            }) else {
                return failed(1);
            };
            send(report, first as u64);
            if reap(first).is_err() {
                return failed(2);
            }
        } else {
            send(report, std::process::id() as u64);
            wait_byte(go_read);
        }
        // The last instruction before _exit(2): where exit begins.
        now_ns()
    })?;
    let Pipe { read, write } = up;
    drop(write);
    let steps = [
        format!("unshare({flag_name})"),
        "fork()".into(),
        "waitpid(the first child)".into(),
    ];
    let result = (|| {
        let member = decode(receive(read.as_raw_fd())?, &steps)?;
        let path = format!("/proc/{member}/ns/{}", kind.name);
        let mut handle = match kind.flag {
            0 => None,
            _ => Some(observer.handle(&path)?),
        };
        wake(go.write.as_raw_fd());
        let exiting = decode(receive(read.as_raw_fd())?, &steps)?;
        // A zombie still holds its credentials, and with them its user
        // namespace, until it is reaped (release_task, kernel/exit.c).
        reap(pid)?;
        let reaped = now_ns();
        let reap_to_gone = match &mut handle {
            Some(handle) => {
                Some(observer.wait_gone(handle, &path)?.saturating_sub(reaped))
            }
            None => None,
        };
        Ok(Teardown {
            exit_to_reap: reaped.saturating_sub(exiting),
            reap_to_gone,
        })
    })();
    if result.is_err() {
        wake(go.write.as_raw_fd());
        let _ = reap(pid);
    }
    result
}

/// How long one RCU grace period takes here, as a line for the header: a
/// scale for the teardowns that wait for one or several, not a unit they
/// are multiples of (their ratio to it changes with the load).
/// membarrier(MEMBARRIER_CMD_GLOBAL) is synchronize_rcu() in the kernel
/// when more than one CPU is online (kernel/sched/membarrier.c); it is
/// refused (EINVAL) on a nohz_full kernel, and returns at once on one CPU.
pub fn grace_period() -> String {
    const MEMBARRIER_CMD_GLOBAL: libc::c_long = 1;
    let mut samples = Vec::new();
    for _ in 0..11 {
        let start = now_ns();
        // Safety: membarrier with a command and no flags touches no memory of ours.
        let r = unsafe {
            libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0)
        };
        let end = now_ns();
        if r != 0 {
            let errno = nix::errno::Errno::from_raw(errno());
            return format!(
                "one RCU grace period: not measured (membarrier(MEMBARRIER_CMD_GLOBAL, 0) failed: {errno})"
            );
        }
        samples.push(end - start);
    }
    match crate::stats::summarise(&samples) {
        Some(s) => format!(
            "one RCU grace period (membarrier(MEMBARRIER_CMD_GLOBAL, 0), median of 11): {:.1} ms",
            s.median_ns / 1e6
        ),
        None => String::new(),
    }
}

/// One teardown sample, in nanoseconds.
#[derive(Debug, Clone, Copy)]
pub struct Teardown {
    /// From the last instruction before _exit(2) to waitpid(2) returning
    /// in the parent: the exit path, which frees what is freed at once.
    pub exit_to_reap: u64,
    /// From waitpid(2) returning to the namespace gone; `None` without one.
    pub reap_to_gone: Option<u64>,
}

/// util-linux unshare(1) running `true` in a new namespace, timed from the
/// parent: fork, exec of unshare, its unshare(2) (and for --mount its
/// remount of / as private, for --pid its fork), exec of true, exit, reap.
pub fn util_linux(kind: Kind) -> Result<u64> {
    let args = kind.util_linux_args();
    let start = now_ns();
    let output = Command::new("unshare")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let end = now_ns();
    let command = format!("unshare {}", args.join(" "));
    let output = output.map_err(|err| Error::io(format!("exec {command}"), &err))?;
    if !output.status.success() {
        return Err(Error::refused(
            format!(
                "{command}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            "util-linux unshare(1) is needed (apt-get install util-linux)",
        ));
    }
    Ok(end - start)
}

/// The net namespace's teardown, `runs` samples. Its handle goes stale as
/// soon as its count reaches zero, but the cleanup (every pernet exit
/// method) runs later in a kernel worker, cleanup_net
/// (net/core/net_namespace.c), which gives the namespace back to its
/// owner's count of net namespaces only at its end. So the count is what is
/// watched: in a user namespace of its own whose max_net_namespaces is 1
/// (a per-user-namespace limit, user_namespaces(7) "/proc/sys/user"; the
/// host's is untouched), a new net namespace gets ENOSPC until the previous
/// one is cleaned up. A sample is the time from reaping a process that
/// created a net namespace to the start of the first unshare(CLONE_NEWNET)
/// that succeeds again; the probes in between are fresh processes each,
/// so the resolution is one probe (fork, a refused unshare, exit, reap).
pub fn net_teardowns(runs: usize) -> Result<Vec<u64>> {
    let samples_pipe = pipe()?;
    let report = samples_pipe.write.as_raw_fd();
    let limited = fork(report, || {
        // Safety: geteuid and getegid cannot fail.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        // Safety: unshare with a flag word, in this child only.
        if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
            return failed(0);
        }
        let writes = [
            ("/proc/self/setgroups", "deny".to_owned()),
            ("/proc/self/uid_map", format!("0 {uid} 1")),
            ("/proc/self/gid_map", format!("0 {gid} 1")),
            ("/proc/sys/user/max_net_namespaces", "1".to_owned()),
        ];
        for (step, (path, text)) in writes.iter().enumerate() {
            if std::fs::write(path, text).is_err() {
                return failed(1 + step as u64);
            }
        }
        let mut reaped = None;
        let mut sent = 0;
        while sent < runs {
            let Ok(probe) = pipe() else {
                return failed(5);
            };
            let Ok(pid) = fork(probe.write.as_raw_fd(), || {
                let start = now_ns();
                // Safety: unshare with a flag word, in this probe only.
                match unsafe { libc::unshare(libc::CLONE_NEWNET) } {
                    0 => start,
                    _ => failed(6),
                }
            }) else {
                return failed(7);
            };
            let Pipe { read, write } = probe;
            drop(write);
            let word = receive(read.as_raw_fd());
            if reap(pid).is_err() {
                return failed(8);
            }
            let done = now_ns();
            match word {
                Ok(Some(word)) if word & FAILED == 0 => {
                    if let Some(reaped) = reaped {
                        send(report, word.saturating_sub(reaped));
                        sent += 1;
                    }
                    reaped = Some(done);
                }
                Ok(Some(word)) if word & 0xffff_ffff == libc::ENOSPC as u64 => {}
                Ok(Some(word)) => return word,
                _ => return failed(8),
            }
        }
        // The last word says "done"; the wrapper sends it.
        0
    })?;
    let steps = [
        "unshare(CLONE_NEWUSER)".to_owned(),
        "write(\"/proc/self/setgroups\", \"deny\")".into(),
        "write(\"/proc/self/uid_map\")".into(),
        "write(\"/proc/self/gid_map\")".into(),
        "write(\"/proc/sys/user/max_net_namespaces\", \"1\")".into(),
        "pipe2()".into(),
        "unshare(CLONE_NEWNET)".into(),
        "fork()".into(),
        "waitpid(the probe)".into(),
    ];
    let Pipe { read, write } = samples_pipe;
    drop(write);
    let mut samples = Vec::with_capacity(runs);
    let result = (|| {
        while samples.len() < runs {
            samples.push(decode(receive(read.as_raw_fd())?, &steps)?);
        }
        Ok(())
    })();
    reap(limited)?;
    result.map(|()| samples)
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_word_names_the_step_and_the_errno() {
        let steps = [
            "open(\"/proc/1/ns/net\")".to_owned(),
            "setns(fd, CLONE_NEWNET)".into(),
        ];
        let word = FAILED | 1 << 32 | libc::EPERM as u64;
        match decode(Some(word), &steps) {
            Err(Error::Sys { call, errno, .. }) => {
                assert_eq!(call, "setns(fd, CLONE_NEWNET)");
                assert_eq!(errno, nix::errno::Errno::EPERM);
            }
            other => panic!("expected a setns EPERM, got {other:?}"),
        }
        assert!(matches!(decode(Some(1234), &steps), Ok(1234)));
        assert!(matches!(decode(None, &steps), Err(Error::Refused { .. })));
    }

    #[test]
    fn util_linux_forks_for_pid_only() {
        let args = |name: &str| {
            KINDS
                .iter()
                .find(|kind| kind.name == name)
                .map(|kind| kind.util_linux_args())
        };
        assert_eq!(args("pid"), Some(vec!["--pid", "--fork", "true"]));
        assert_eq!(args("mnt"), Some(vec!["--mount", "true"]));
        assert_eq!(NONE.util_linux_args(), vec!["true"]);
    }

    #[test]
    fn pid_and_time_apply_to_children() {
        let later: Vec<&str> = KINDS
            .iter()
            .filter(|kind| kind.for_children())
            .map(|kind| kind.name)
            .collect();
        assert_eq!(later, ["pid", "time"]);
    }
}
