//! Chapter 11: IPC namespaces, whose objects the old namespace cannot see.
//!
//! ipc_namespaces(7): an IPC namespace has its own System V IPC objects
//! (message queues, semaphores, shared memory, named by keys) and its own
//! POSIX message queues. This example forks a witness that stays in the
//! original namespaces, moves itself into new IPC and mount namespaces, and
//! there creates a System V message queue with a key, and a POSIX queue
//! `/ch11`, which it shows through an mqueue filesystem it mounts. The
//! witness, asked with the same key and the same name, gets ENOENT.
//!
//! Read: ipc_namespaces(7), sysvipc(7), msgget(2), mq_overview(7),
//! proc(5) ("/proc/sysvipc").

mod witness;

use std::process::ExitCode;

use nix::mount::{MsFlags, mount};
use nix::mqueue::{MQ_OFlag, MqAttr, mq_close, mq_open, mq_send};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::Mode;
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::sysvipc::{self, IPC_CREAT, IPC_EXCL, key_text};
use workbook::{Error, Result, cleanup, mountinfo, say, userns};

use witness::Witness;

const USAGE: &str = "\
Usage: ch11-ipc-namespaces [KEY]

Forks a witness that stays in the original IPC namespace, then moves into
new IPC and mount namespaces with unshare(CLONE_NEWIPC | CLONE_NEWNS). There
it creates a System V message queue with KEY (default 0x0c110001; hex with
0x, or decimal; not 0, which is IPC_PRIVATE) and a POSIX message queue
\"/ch11\", and mounts an mqueue filesystem on a temporary directory to list
it. The witness asks for the same key and name: ENOENT. Nothing is created
in the original IPC namespace; the queues die with the new one.

Root runs it directly; anyone else runs it inside a user namespace the example
creates first. Read ipc_namespaces(7) and sysvipc(7).
";

const DEFAULT_KEY: i32 = 0x0c11_0001;
/// The POSIX queue's name: one slash, then a name (mq_overview(7)).
pub const QUEUE: &str = "/ch11";

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(mut args: Args) -> Result<()> {
    let key = match args.next("KEY")? {
        Some(text) => sysvipc::key_arg(&text)?,
        None => DEFAULT_KEY,
    };
    args.finish()?;
    userns::enter_if_unprivileged()?;
    let me = std::process::id();
    let k = key_text(key);

    // ANCHOR: before
    // /proc/sysvipc/msg lists the queues of the READER's IPC namespace
    // (ipc_namespaces(7); the kernel takes the opener's, ipc/util.c).
    // Reading it cannot create anything, unlike a msgget(2) with IPC_CREAT:
    // nothing may create an object in this namespace, the host's.
    let ipc_before = NsId::current("ipc")?;
    let mnt_before = NsId::current("mnt")?;
    if sysvipc::queues()?.iter().any(|q| q.key == key) {
        return Err(Error::refused(
            format!("a message queue with key {k} already exists in {ipc_before}"),
            "the witness could not tell it from ours: give another KEY (`ipcs -q` lists \
             the keys taken)",
        ));
    }
    say!(
        "process {me} starts in {ipc_before} {mnt_before}; its /proc/sysvipc/msg lists \
         no queue with key {k}"
    );
    // ANCHOR_END: before

    let dir = cleanup::TempDir::new("ch11-ipc-namespaces")?;
    let path = dir.path().to_owned();
    let witness = Witness::fork(key, &path)?;
    say!(
        "process {me} forked process {} (witness), which stays in {ipc_before} {mnt_before}",
        witness.pid()
    );

    // ANCHOR: unshare
    // A new IPC namespace starts empty: unlike a UTS or mount namespace it
    // copies nothing from the old one. The mount namespace is for the
    // mqueue mount below, which must not reach the host.
    unshare(CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWNS)
        .call(|| "unshare(CLONE_NEWIPC | CLONE_NEWNS)".into())?;
    let ipc_after = NsId::current("ipc")?;
    let mnt_after = NsId::current("mnt")?;
    // Before the first call that can create an IPC object: in the host's
    // namespace it would outlive this process.
    ns::ensure_new(ipc_before, ipc_after)?;
    ns::ensure_new(mnt_before, mnt_after)?;
    mountinfo::make_root_private()?;
    say!(
        "process {me}: unshare(CLONE_NEWIPC | CLONE_NEWNS) -> {ipc_after} {mnt_after}, both \
         new; mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL)"
    );
    // ANCHOR_END: unshare

    // ANCHOR: msgget
    // IPC_EXCL: fail with EEXIST rather than quietly open a queue someone
    // else made with the same key (msgget(2)).
    let flags = IPC_CREAT | IPC_EXCL | 0o600;
    let msqid = sysvipc::msgget(key, flags)?;
    let text = "hello";
    sysvipc::msgsnd(msqid, text)?;
    let listed = sysvipc::queues()?;
    let ours = listed.iter().find(|q| q.key == key);
    let Some(queue) = ours.filter(|q| q.msqid == msqid) else {
        return Err(Error::refused(
            format!("/proc/sysvipc/msg does not list queue {msqid} with key {k}"),
            "",
        ));
    };
    say!(
        "process {me}: msgget({k}, {}) -> msqid {msqid}; msgsnd({msqid}, {text:?}, {}, \
         0); /proc/sysvipc/msg lists key {k}, msqid {}, qnum {}",
        sysvipc::flags_text(flags),
        text.len(),
        queue.msqid,
        queue.messages
    );
    // ANCHOR_END: msgget

    // ANCHOR: again
    // The same key again, in the same namespace: taken.
    match sysvipc::msgget(key, flags) {
        Err(err) if err.errno() == Some(nix::errno::Errno::EEXIST) => say!(
            "process {me}: msgget({k}, {}) again -> EEXIST: in {ipc_after} the key is taken",
            sysvipc::flags_text(flags)
        ),
        Err(err) => return Err(err),
        Ok(other) => {
            return Err(Error::refused(
                format!("msgget with IPC_EXCL gave msqid {other} for a key taken"),
                "",
            ));
        }
    }
    // ANCHOR_END: again

    // ANCHOR: mq_open
    let oflag = MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_WRONLY;
    let attr = MqAttr::new(0, 4, 64, 0);
    let mq_call = format!(
        "mq_open(\"{QUEUE}\", O_CREAT | O_EXCL | O_WRONLY, 0600, {{mq_maxmsg 4, mq_msgsize 64}})"
    );
    let mqd = mq_open(QUEUE, oflag, Mode::from_bits_truncate(0o600), Some(&attr))
        .call(|| mq_call.clone())?;
    let sent =
        mq_send(&mqd, b"hello", 0).call(|| "mq_send(mqd, \"hello\", 5, 0)".into());
    mq_close(mqd).call(|| "mq_close(mqd)".into())?;
    sent?;
    say!("process {me}: {mq_call}; mq_send(mqd, \"hello\", 5, 0)");
    // ANCHOR_END: mq_open

    // ANCHOR: mqueue
    // mq_overview(7): the queues of an IPC namespace appear as files in an
    // mqueue filesystem. Which namespace's? The one the process that
    // MOUNTED it was in at mount(2), whoever reads it later.
    let mount_call = format!(
        "mount(\"mqueue\", \"{}\", \"mqueue\", 0, NULL)",
        path.display()
    );
    let mqueue = cleanup::Mount::new(&path, || {
        mount(
            Some("mqueue"),
            &path,
            Some("mqueue"),
            MsFlags::empty(),
            None::<&str>,
        )
        .call(|| mount_call.clone())
    })?;
    let file = path.join(&QUEUE[1..]);
    let status = std::fs::read_to_string(&file)
        .call(|| format!("read(fd of \"{}\")", file.display()))?;
    say!(
        "process {me}: {mount_call}; {} reads \"{}\"",
        file.display(),
        status.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    // ANCHOR_END: mqueue

    // ANCHOR: look
    say!(
        "process {me} asks process {} (witness) to look",
        witness.pid()
    );
    witness.look()?;
    // ANCHOR_END: look

    // ANCHOR: end
    // ipc_namespaces(7): the objects are never removed here (no msgctl
    // IPC_RMID, no mq_unlink): they die with the namespace. The mqueue
    // mount holds the namespace too, so it goes first.
    mqueue.unmount()?;
    dir.remove()?;
    say!(
        "process {me}: umount2(\"{0}\", 0) and rmdir(\"{0}\"); queue {k} and {QUEUE} stay \
         in {ipc_after} until its last process, this one, exits",
        path.display()
    );
    // ANCHOR_END: end
    Ok(())
}
