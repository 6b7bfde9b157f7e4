//! The second half of the lesson: setns(2) into a time namespace moves the
//! caller itself, unlike unshare(CLONE_NEWTIME).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::mpsc;

use nix::sched::{CloneFlags, setns};
use nix::time::ClockId;
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::{self, Child};
use workbook::{Error, Result, say};

use crate::clocks::{ensure_offset, gettime, human};

const FOR_CHILDREN: &str = "/proc/self/ns/time_for_children";

// ANCHOR: keeper
/// A child forked before unshare(CLONE_NEWTIME), so it stays in the host's
/// time namespace: asked (one byte on a pipe), it answers its
/// CLOCK_MONOTONIC, unshifted, as a line. The parent, once it has moved,
/// has no unshifted clock of its own to time the move with, and
/// CLOCK_REALTIME could be stepped meanwhile (by NTP, or by date -s).
pub struct Keeper {
    // Dropped in this order: the keeper reads end-of-file and exits, then
    // it is reaped (Child's drop), on every path.
    ask: File,
    answer: BufReader<File>,
    child: Child,
}

impl Keeper {
    pub fn start(time: NsId) -> Result<Keeper> {
        let (ask_rx, ask) = nix::unistd::pipe().call(|| "pipe()".into())?;
        let (answer, answer_tx) = nix::unistd::pipe().call(|| "pipe()".into())?;
        // The keeper's ends move into the closure: the parent's copies are
        // closed when fork_child returns, so the keeper's exit is our
        // end-of-file, and ours is its.
        let child = process::fork_child(&[&ask, &answer], move || {
            let (mut ask_rx, mut answer_tx) =
                (File::from(ask_rx), File::from(answer_tx));
            let mut byte = [0u8; 1];
            // One answer per byte; end-of-file: the parent is done.
            while ask_rx.read(&mut byte).call(|| "read(pipe)".into())? == 1 {
                let now = NsId::current("time")?;
                ns::ensure_joined(time, now)?;
                let mono = gettime(ClockId::CLOCK_MONOTONIC, "CLOCK_MONOTONIC")?;
                writeln!(answer_tx, "{mono}").call(|| "write(pipe)".into())?;
            }
            Ok(())
        })?;
        let me = std::process::id();
        say!(
            "process {me} (parent) forked process {} (clock keeper), which stays in {time}",
            child.pid()
        );
        Ok(Keeper {
            ask: File::from(ask),
            answer: BufReader::new(File::from(answer)),
            child,
        })
    }

    /// The keeper's CLOCK_MONOTONIC, read after this call began.
    fn monotonic(&mut self) -> Result<i128> {
        let pid = self.child.pid();
        let gone = || {
            Error::refused(
                format!("the clock keeper, process {pid}, did not answer"),
                "it exited: its own error is printed above",
            )
        };
        self.ask.write_all(b"?").map_err(|_| gone())?;
        let mut line = String::new();
        self.answer
            .read_line(&mut line)
            .call(|| "read(pipe)".into())?;
        line.trim().parse().map_err(|_| gone())
    }
}
// ANCHOR_END: keeper

/// Join the caller's own `time_for_children` namespace, `new_time`, whose
/// offsets are `offset` seconds; with `threaded`, from a process that runs a
/// second thread, which the kernel refuses. `keeper` stayed in the host's.
pub fn join_for_children(
    new_time: NsId,
    offset: i64,
    threaded: bool,
    keeper: &mut Keeper,
) -> Result<()> {
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
    // Our CLOCK_MONOTONIC before the move, and the keeper's (still the
    // host's) after our reading inside: the two bracket that reading.
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
    let bound = keeper.monotonic()?;
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
