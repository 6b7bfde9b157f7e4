//! The second half of the lesson: setns(2) into a time namespace moves the
//! caller itself, unlike unshare(CLONE_NEWTIME).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::mpsc;

use nix::sched::{CloneFlags, setns};
use nix::time::ClockId;
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::{Error, Result, say};

use crate::clocks::{ensure_offset, gettime, human};

const FOR_CHILDREN: &str = "/proc/self/ns/time_for_children";

/// Join the caller's own `time_for_children` namespace, `new_time`, whose
/// offsets are `offset` seconds; with `threaded`, from a process that runs a
/// second thread, which the kernel refuses.
pub fn join_for_children(new_time: NsId, offset: i64, threaded: bool) -> Result<()> {
    let me = std::process::id();

    // ANCHOR: open
    // setns(2) needs a descriptor of the namespace: the time_for_children
    // link serves (time_namespaces(7)). O_CLOEXEC: no program we might exec
    // inherits it.
    let time_fd: File = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(FOR_CHILDREN)
        .call(|| format!("open(\"{FOR_CHILDREN}\", O_RDONLY | O_CLOEXEC)"))?;
    let target = NsId::of_fd("time", &time_fd, FOR_CHILDREN)?;
    say!(
        "process {me} (parent): open(\"{FOR_CHILDREN}\", O_RDONLY | O_CLOEXEC) -> time_fd, \
         a descriptor of {target}"
    );
    if target != new_time {
        return Err(
            format!("{FOR_CHILDREN} is {target}, no longer {new_time}").into()
        );
    }
    // ANCHOR_END: open

    // ANCHOR: setns
    // CLOCK_REALTIME, which no time namespace shifts, times the move; it is
    // read first and last, so its interval holds the monotonic one.
    let real_before = gettime(ClockId::CLOCK_REALTIME, "CLOCK_REALTIME")?;
    let mono_before = gettime(ClockId::CLOCK_MONOTONIC, "CLOCK_MONOTONIC")?;
    // setns(2) into a time namespace moves the calling process, which must
    // then have one thread (EUSERS otherwise, from timens_install() in
    // kernel/time/namespace.c: the offsets are mapped into the whole
    // process, its vDSO data page; setns(2) does not list this errno), and
    // needs CAP_SYS_ADMIN in the user namespace that owns it and in the
    // caller's own (EPERM; setns(2), "Network, IPC, time, and UTS
    // namespaces").
    let newtime = CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);
    let joined = match threaded {
        false => setns(&time_fd, newtime),
        true => with_a_second_thread(|| setns(&time_fd, newtime))?,
    };
    joined.call(|| format!("setns(fd of \"{FOR_CHILDREN}\", CLONE_NEWTIME)"))?;
    let mono_after = gettime(ClockId::CLOCK_MONOTONIC, "CLOCK_MONOTONIC")?;
    let real_after = gettime(ClockId::CLOCK_REALTIME, "CLOCK_REALTIME")?;
    let (time, for_children) =
        (NsId::current("time")?, NsId::current("time_for_children")?);
    ns::ensure_joined(target, time)?;
    ns::ensure_joined(target, for_children)?;
    say!(
        "process {me} (parent): setns(time_fd, CLONE_NEWTIME) -> time {time}, \
         time_for_children {for_children}: the caller itself moved"
    );
    // ANCHOR_END: setns

    // ANCHOR: jump
    let bound = mono_before + (real_after - real_before);
    ensure_offset(
        "CLOCK_MONOTONIC",
        (mono_before, mono_after, bound),
        0,
        offset,
    )?;
    say!(
        "process {me} (parent): its own CLOCK_MONOTONIC jumped {} forward",
        human(offset)
    );
    // ANCHOR_END: jump
    Ok(())
}

// ANCHOR: thread
/// Run `call` while a second thread of this process waits; then end that
/// thread and wait for it.
fn with_a_second_thread<T>(call: impl FnOnce() -> T) -> Result<T> {
    let me = std::process::id();
    let (release, parked) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("waiter".into())
        .spawn(move || {
            // Returns when `release` is dropped.
            let _ = parked.recv();
        })
        .call(|| "pthread_create(&thread, NULL, waiter, NULL)".into())?;
    say!("process {me} (parent) now runs a second thread, which waits");
    let result = call();
    drop(release);
    thread
        .join()
        .map_err(|_| Error::refused("the waiting thread panicked", ""))?;
    Ok(result)
}
// ANCHOR_END: thread
