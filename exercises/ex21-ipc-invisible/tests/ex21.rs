//! The checks of exercise 21: `cargo test -p ex21-ipc-invisible`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user. The harness first moves that process into a throwaway
//! IPC namespace of its own, so that even a wrong answer cannot leave a queue
//! in the host's; a helper process stays there as a witness. The checks then
//! ask the kernel which queues each namespace holds (/proc/sysvipc/msg, read
//! from inside it).

use std::process::ExitCode;

use ex21_ipc_invisible as ex;
use nix::errno::Errno;
use nix::sched::CloneFlags;
use testkit::exercise::{
    self, Case, Outcome, Parked, Probe, call, ensure, msg_keys_in, ns_of,
};
use workbook::ns::NsId;
use workbook::sysvipc::{self, IPC_CREAT, key_text};

/// The key the cases use: 0x0e210001.
const KEY: i32 = 0x0e21_0001;

pub fn main() -> ExitCode {
    exercise::main(
        "ex21",
        &[
            Case::new("queue_made_in_a_new_namespace", made).check(invisible),
            Case::new("refuses_when_the_namespace_is_not_new", refuses)
                .check(nothing_made_before),
            Case::new("a_second_create_is_eexist", twice),
            Case::new("queue_exists_only_looks", looks)
                .check(nothing_made_by_a_look),
        ],
    )
}

/// The throwaway IPC namespace the case starts in, reported as "start".
fn start() -> Result<NsId, String> {
    exercise::isolate(CloneFlags::CLONE_NEWIPC)?;
    let ipc = exercise::setup("reading /proc/self/ns/ipc", NsId::current("ipc"))?;
    exercise::report_ns("start", ipc);
    Ok(ipc)
}

fn made() -> Outcome {
    let start = start()?;
    // A witness that stays in the starting namespace, for the check to ask.
    let witness = Parked::spawn(|| Ok(()))?;
    exercise::report("witness", witness.pid());
    let returned = call("unshare_ipc()", ex::unshare_ipc())?;
    exercise::report_ns("returned", returned);
    let k = key_text(KEY);
    call(
        &format!("create_queue_if_new({start}, {k})"),
        ex::create_queue_if_new(start, KEY),
    )?;
    exercise::park();
    witness.finish()
}

fn invisible(p: &Probe) -> Outcome {
    let k = key_text(KEY);
    let now = ns_of(p.child, "ipc")?;
    let start = p.ns("start")?;
    ensure(now != start, || {
        format!(
            "after unshare_ipc() the process is still in {now}, where it started: no new IPC \
             namespace was made"
        )
    })?;
    let returned = p.ns("returned")?;
    ensure(returned == now, || {
        format!(
            "unshare_ipc() returned {returned}, but the kernel shows the process in {now}"
        )
    })?;
    let keys = msg_keys_in(p.child)?;
    ensure(keys.contains(&KEY), || match keys.contains(&0) {
        true => format!(
            "{now} holds a queue without a key (IPC_PRIVATE), none with key {k}: IPC_PRIVATE \
             is not a namespace, it makes a queue no other process can name; pass the key"
        ),
        false => {
            format!("{now} holds no queue with key {k}: was it created (IPC_CREAT)?")
        }
    })?;
    let there = msg_keys_in(p.pid("witness")?)?;
    ensure(!there.contains(&KEY), || {
        format!(
            "the witness, still in {start}, finds a queue with key {k}: it was made in the \
             namespace the process started in"
        )
    })
}

/// The trap: asked to create while still in `start`, it must refuse and
/// create nothing.
fn refuses() -> Outcome {
    let start = start()?;
    let result = ex::create_queue_if_new(start, KEY);
    ensure(result.is_err(), || {
        format!(
            "create_queue_if_new({start}, {}) returned Ok while the process was still in \
             {start}: it must refuse, or one day it leaves a queue in the host's namespace",
            key_text(KEY)
        )
    })
}

fn nothing_made_before(p: &Probe) -> Outcome {
    nothing_made(
        p,
        "create_queue_if_new refused, yet made it first: check, then msgget(2)",
    )
}

fn nothing_made_by_a_look(p: &Probe) -> Outcome {
    nothing_made(
        p,
        "queue_exists made it while looking: msgget(2) with IPC_CREAT creates what it \
         looks for; give no flag",
    )
}

/// No queue with KEY in the case's IPC namespace; `why` says who made it.
fn nothing_made(p: &Probe, why: &str) -> Outcome {
    let keys = msg_keys_in(p.child)?;
    let now = ns_of(p.child, "ipc")?;
    ensure(!keys.contains(&KEY), || {
        format!("{now} now holds a queue with key {}: {why}", key_text(KEY))
    })
}

/// IPC_EXCL: the second create of the same key must fail with EEXIST, not
/// quietly return the first queue.
fn twice() -> Outcome {
    let start = start()?;
    call("unshare_ipc()", ex::unshare_ipc())?;
    let first = call(
        "the first create_queue_if_new",
        ex::create_queue_if_new(start, KEY),
    )?;
    match ex::create_queue_if_new(start, KEY) {
        Ok(again) if again == first => Err(format!(
            "a second create_queue_if_new with key {} returned msqid {again} again, the same \
             queue: without IPC_EXCL, msgget(2) opens the queue that exists",
            key_text(KEY)
        )),
        Ok(again) => Err(format!(
            "a second create_queue_if_new returned another queue, msqid {again} (the first \
             was {first}): IPC_PRIVATE makes a new queue each time; pass the key"
        )),
        Err(err) if err.errno() == Some(Errno::EEXIST) => Ok(()),
        Err(err) => Err(format!(
            "a second create_queue_if_new should fail with EEXIST, but it said: {}",
            exercise::sentence(&err)
        )),
    }
}

fn looks() -> Outcome {
    start()?;
    let k = key_text(KEY);
    let absent = call(&format!("queue_exists({k})"), ex::queue_exists(KEY))?;
    ensure(!absent, || {
        format!(
            "queue_exists({k}) returned true in a new IPC namespace, which held no queue: a \
             lookup with IPC_CREAT creates what it looks for; give no flag"
        )
    })?;
    // A queue of the test's own, in the throwaway namespace.
    let other = KEY + 1;
    exercise::setup("msgget", sysvipc::msgget(other, IPC_CREAT | 0o600))?;
    let present = call(
        &format!("queue_exists({})", key_text(other)),
        ex::queue_exists(other),
    )?;
    ensure(present, || {
        format!(
            "queue_exists({}) returned false, but a queue with that key exists here",
            key_text(other)
        )
    })
}
