//! The child's life: PID 1 of the container, from the clone to the exec.
//!
//! In order: wait for the maps; prove every namespace new; become root of
//! the user namespace; die with the parent; the root (rootfs.rs); the
//! hostname; lo up; then the command, as PID 1 or under the tiny init.

use std::ffi::{CStr, CString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::time::{ClockId, clock_gettime};
use nix::unistd::{ForkResult, Pid, execve, fork, sethostname};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::Receiver;
use workbook::{Error, Result};
use workbook_netlink::Route;

use crate::{Config, Host, TYPES, rootfs, signals, step};

/// The command's PATH, searched in the container's root, and its whole
/// environment: nothing of the host's environment goes in.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// PID 1's life. Returns the exit status for the parent when the tiny init
/// ran; in the other mode it does not return (execve).
pub fn container(config: &Config, host: &Host, maps: &Receiver) -> Result<i32> {
    // The parent blocked these before the clone; the mask would survive
    // execve(2), and the command must get what is sent to it.
    signals::unblock_all()?;
    // ANCHOR: wait_maps
    if !maps.wait()? {
        return Err("the parent closed the pipe before writing the maps".into());
    }
    let mut ids = Vec::new();
    for (ns_type, before) in TYPES.iter().zip(host) {
        let now = NsId::current(ns_type)?;
        ns::ensure_new(*before, now)?;
        ids.push(now.to_string());
    }
    step!(
        "PID 1 (process {} on the host): in {}: all new",
        host_pid()?,
        ids.join(", ")
    );
    let done = crate::maps::become_root()?;
    step!(
        "PID 1: the maps are written; {done} -> uid 0, gid 0 in this user namespace"
    );
    // ANCHOR_END: wait_maps

    // ANCHOR: pdeathsig
    // If the parent dies, so does the container: PID 1's death ends every
    // process of its PID namespace. Set after setuid(2), which clears it
    // (prctl(2), PR_SET_PDEATHSIG). A parent already gone would never send
    // it: its end of the pipe is closed then, which poll(2) sees.
    prctl::set_pdeathsig(Signal::SIGKILL)
        .call(|| "prctl(PR_SET_PDEATHSIG, SIGKILL)".into())?;
    if parent_gone(maps)? {
        return Err("the parent died before the container started".into());
    }
    step!(
        "PID 1: prctl(PR_SET_PDEATHSIG, SIGKILL): if the parent dies, the container dies"
    );
    // ANCHOR_END: pdeathsig

    rootfs::build_and_enter()?;

    // ANCHOR: uts_net
    let name = &config.hostname;
    sethostname(name).call(|| format!("sethostname(\"{name}\", {})", name.len()))?;
    step!(
        "PID 1: sethostname(\"{name}\", {}) -> hostname \"{}\"",
        name.len(),
        ns::hostname()?
    );
    let mut route = Route::open()?;
    route.set_up("lo")?;
    let lo = route.link("lo")?;
    step!(
        "PID 1: RTM_SETLINK lo IFF_UP on a route socket of {}: lo {}",
        route.netns()?,
        lo.flag_names()
    );
    // ANCHOR_END: uts_net

    // ANCHOR: cgroup
    // cgroup_namespaces(7): the cgroup PID 1 was in at the clone is the
    // root of its view. No cgroup is made: that needs write access to a
    // cgroup directory delegated to this user (chapter 12), which a
    // rootless run usually lacks; limits are the host's business.
    let cgroup = std::fs::read_to_string("/proc/self/cgroup")
        .call(|| "read(fd of \"/proc/self/cgroup\")".into())?;
    let all_root = cgroup.lines().all(|line| line.ends_with(":/"));
    step!(
        "PID 1: /proc/self/cgroup {}: the root of its cgroup namespace; no cgroup made",
        match all_root {
            true => "shows \"/\" on every line",
            false => "shows a path below \"/\"",
        }
    );
    // ANCHOR_END: cgroup

    if config.own_clocks {
        own_clocks()?;
    }

    let argv = &config.command;
    let path = match resolve(&argv[0]) {
        Ok(path) => path,
        Err(err) => {
            // A shell's status for a command not found (bash(1), "EXIT STATUS").
            let _ = writeln!(std::io::stderr(), "PID 1: {err}");
            return Ok(127);
        }
    };
    let env = [
        format!("PATH={PATH}"),
        "HOME=/".into(),
        format!("HOSTNAME={name}"),
    ]
    .map(|var| CString::new(var).map_err(|_| "a NUL in the environment"))
    .into_iter()
    .collect::<std::result::Result<Vec<_>, _>>()?;
    match config.with_init {
        false => {
            step!("PID 1: {}: the command is PID 1", exec_call(&path, argv));
            exec(&path, argv, &env)
        }
        true => tiny_init(&path, argv, &env),
    }
}

/// This process's PID in the host's PID namespace: the first number of
/// `NSpid:` in /proc/self/status (proc(5)), read through the host's /proc.
fn host_pid() -> Result<String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .call(|| "read(fd of \"/proc/self/status\")".into())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("NSpid:"))
        .and_then(|pids| pids.split_whitespace().next())
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::refused(
                "no NSpid: line in /proc/self/status",
                "NSpid exists since Linux 4.1",
            )
        })
}

/// Whether the pipe's other end is closed: poll(2) reports POLLHUP.
fn parent_gone(maps: &Receiver) -> Result<bool> {
    use std::os::fd::{AsFd, AsRawFd};
    let mut fd = libc::pollfd {
        fd: maps.as_fd().as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // Safety: one valid pollfd, a zero timeout: poll(2) returns at once.
    let ready = unsafe { libc::poll(&mut fd, 1, 0) };
    if ready == -1 {
        return Err(Error::sys("poll(pipe, POLLIN, 0)", Errno::last()));
    }
    Ok(fd.revents & libc::POLLHUP != 0)
}

/// COMMAND's path in the container's root: as given if it has a slash,
/// else the first executable file of that name in PATH, as a shell finds
/// it (execvp(3)).
fn resolve(command: &CStr) -> Result<CString> {
    let name = Path::new(std::ffi::OsStr::from_bytes(command.to_bytes()));
    if command.to_bytes().contains(&b'/') {
        return Ok(command.to_owned());
    }
    for dir in PATH.split(':') {
        let candidate = Path::new(dir).join(name);
        if candidate.is_file() {
            return CString::new(candidate.as_os_str().as_bytes())
                .map_err(|_| "a NUL in a path".into());
        }
    }
    Err(Error::refused(
        format!(
            "{} was not found in the container's PATH ({PATH})",
            name.display()
        ),
        "give its full path, or a program under the host's /usr, which the container's root holds",
    ))
}

/// `execve("/usr/bin/sh", ["sh", "-c", "..."], envp)`.
fn exec_call(path: &CStr, argv: &[CString]) -> String {
    let args: Vec<String> = argv
        .iter()
        .map(|a| format!("{:?}", a.to_string_lossy()))
        .collect();
    format!(
        "execve({:?}, [{}], envp)",
        path.to_string_lossy(),
        args.join(", ")
    )
}

/// execve(2), which returns only on failure: then the error, and the
/// shell's statuses (127: not found, 126: found but not runnable).
fn exec(path: &CStr, argv: &[CString], env: &[CString]) -> ! {
    let _ = std::io::stdout().flush();
    if let Err(err) = leave_the_host_behind() {
        let _ = writeln!(std::io::stderr(), "PID {}: {err}", std::process::id());
        // Safety: _exit(2) ends the process at once; nothing after it runs.
        unsafe { libc::_exit(126) }
    }
    let errno = match execve(path, argv, env) {
        Err(errno) => errno,
        Ok(never) => match never {},
    };
    let err = Error::sys(exec_call(path, argv), errno);
    let _ = writeln!(std::io::stderr(), "PID {}: {err}", std::process::id());
    let code = if errno == Errno::ENOENT { 127 } else { 126 };
    // Safety: _exit(2) ends the process at once; nothing after it runs.
    unsafe { libc::_exit(code) }
}

/// What the command must not inherit from the host: the caller's terminal
/// as its controlling terminal, and any descriptor but 0, 1 and 2.
///
/// setsid(2): a new session has no controlling terminal, so the command
/// cannot push keystrokes into the caller's shell with ioctl(TIOCSTI)
/// (tty_ioctl(4): EPERM on a terminal that is not the caller's controlling
/// one, without CAP_SYS_ADMIN in the initial user namespace). It still
/// writes to the terminal on fds 0-2; Ctrl-C reaches it through the
/// parent, which forwards SIGINT.
///
/// close_range(2) (Linux 5.9): a descriptor the caller's shell left open
/// (`exec 3</some/dir`) would let the command reach that directory on the
/// host, past the new root; as root's container, as host uid 100000.
fn leave_the_host_behind() -> Result<()> {
    nix::unistd::setsid().call(|| "setsid()".into())?;
    // Safety: close_range(2) takes three integers and closes descriptors
    // only; none of 3 and above is used after this, until execve(2).
    let closed =
        unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    if closed == 0 {
        return Ok(());
    }
    let errno = Errno::last();
    if errno != Errno::ENOSYS {
        return Err(Error::sys("close_range(3, ~0U, 0)", errno));
    }
    // Before Linux 5.9: each open descriptor, as /proc/self/fd lists it.
    let open: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map_err(|e| {
            Error::sys(
                "opendir(\"/proc/self/fd\")",
                Errno::from_raw(e.raw_os_error().unwrap_or(0)),
            )
        })?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    for fd in open {
        // Safety: closing a descriptor number; a stale one (the directory
        // stream's own) gives EBADF, which is fine.
        unsafe { libc::close(fd) };
    }
    Ok(())
}

// ANCHOR: tiny_init
/// PID 1 as an init: fork the command (PID 2), forward the signals it is
/// sent to the command, reap every child, orphans included, and end with
/// the command's status. pid_namespaces(7): the kernel delivers to PID 1
/// only the signals it has a handler for; a command run as PID 1 without
/// one ignores SIGTERM. Here PID 1 has a handler, and the command, as PID
/// 2, keeps the default actions. When PID 1 exits, the kernel kills what
/// is left in the namespace.
fn tiny_init(path: &CStr, argv: &[CString], env: &[CString]) -> Result<i32> {
    signals::block()?;
    // The command waits for one byte, so that this line comes before its
    // output.
    let (go_tx, go_rx) = workbook::process::channel()?;
    crate::parent::close_on_exec(&[&go_tx, &go_rx])?;
    let _ = std::io::stdout().flush();
    // Safety: this process has one thread (cloned from a single-threaded
    // parent, it started none); the child only reads a pipe, then execs
    // or _exits.
    let main = match unsafe { fork() }.call(|| "fork()".into())? {
        ForkResult::Child => {
            drop(go_tx);
            let _ = signals::unblock_all();
            match go_rx.wait() {
                Ok(true) => exec(path, argv, env),
                // Safety: _exit(2) ends the process at once.
                _ => unsafe { libc::_exit(1) },
            }
        }
        ForkResult::Parent { child } => child,
    };
    signals::forward_to(main)?;
    step!(
        "PID 1 (init): fork() -> PID {main}, which runs {}",
        exec_call(path, argv)
    );
    go_tx.notify()?;
    drop((go_tx, go_rx));
    let told = |main: Pid| {
        if let Some(signal) = signals::take_forwarded() {
            step!("PID 1 (init): got {signal}; kill({main}, {signal})");
        }
    };
    loop {
        // Before each wait too: a signal that came just before waitpid(2)
        // blocked interrupted nothing.
        told(main);
        // Who ended, without reaping it (WNOWAIT): if it is main, stop
        // forwarding while its PID is still its own, then reap.
        let ended =
            match waitid(Id::All, WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
                Ok(status) => status.pid(),
                Err(Errno::EINTR) => continue,
                Err(errno) => {
                    return Err(Error::sys(
                        "waitid(P_ALL, 0, &info, WEXITED | WNOWAIT)",
                        errno,
                    ));
                }
            };
        if ended == Some(main) {
            signals::stop_forwarding();
        }
        match waitpid(ended, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == main => {
                told(main);
                return Ok(code);
            }
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == main => {
                told(main);
                return Ok(128 + signal as i32);
            }
            Ok(WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _)) => {
                step!("PID 1 (init): reaped PID {pid}, an orphan");
            }
            Ok(_) => {}
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(Error::sys("waitpid(-1, &status, 0)", errno)),
        }
    }
}
// ANCHOR_END: tiny_init

// ANCHOR: own_clocks
/// A time namespace whose monotonic and boot-time clocks read about 0 now
/// (chapter 13). unshare(2) moves only what comes next: the children, and
/// this process at its execve(2) (checked on Linux 6.18: `unshare -T
/// --boottime 100000 cat /proc/uptime`, no fork, reads 100000 s more); the
/// offsets go in before either (time_namespaces(7): later, EACCES).
fn own_clocks() -> Result<()> {
    let before = NsId::current("time")?;
    unshare(CloneFlags::from_bits_retain(libc::CLONE_NEWTIME))
        .call(|| "unshare(CLONE_NEWTIME)".into())?;
    let time = NsId::current("time_for_children")?;
    ns::ensure_new(before, time)?;
    let now = |clock, name: &str| {
        clock_gettime(clock)
            .map(|t| t.tv_sec())
            .call(|| format!("clock_gettime({name}, &ts)"))
    };
    let monotonic = now(ClockId::CLOCK_MONOTONIC, "CLOCK_MONOTONIC")?;
    let boottime = now(ClockId::CLOCK_BOOTTIME, "CLOCK_BOOTTIME")?;
    // Whole seconds back: the clocks keep their fraction, never negative.
    let offsets = format!("monotonic -{monotonic} 0\nboottime -{boottime} 0");
    workbook::userns::write_proc("/proc/self/timens_offsets", &offsets)?;
    step!(
        "PID 1: unshare(CLONE_NEWTIME) -> {time} (for its execve and its children); \
         offsets minus {monotonic} s and {boottime} s: its clocks start at 0"
    );
    Ok(())
}
// ANCHOR_END: own_clocks
