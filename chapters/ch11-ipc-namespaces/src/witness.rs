//! The witness: a process forked before unshare, so it stays in the original
//! IPC and mount namespaces, and looks there with the same key and name.
//!
//! Every call it makes only looks: msgget(2) without IPC_CREAT and
//! mq_open(3) without O_CREAT fail with ENOENT rather than create.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, mq_close, mq_open};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use workbook::error::Context;
use workbook::ns::NsId;
use workbook::process::{self, Child, Receiver, Sender};
use workbook::sysvipc::{self, key_text};
use workbook::{Error, Result, mountinfo, say};

use crate::QUEUE;

/// The witness and our ends of its two pipes. Fields drop in order: on an
/// error path `look` closes first, so the witness wakes to end-of-file and
/// exits, and only then is `child` reaped.
#[derive(Debug)]
pub struct Witness {
    look: Sender,
    seen: Receiver,
    child: Child,
}

impl Witness {
    /// Fork the witness; it waits until [`Witness::look`].
    pub fn fork(key: i32, dir: &Path) -> Result<Witness> {
        let (look_tx, look_rx) = process::channel()?;
        let (seen_tx, seen_rx) = process::channel()?;
        let dir: PathBuf = dir.to_owned();
        let child = process::fork_child(&[&look_tx, &seen_rx], move || {
            // End-of-file: the story stopped before there was anything to see.
            if !look_rx.wait()? {
                return Ok(());
            }
            looks(key, &dir)?;
            seen_tx.notify()
        })?;
        Ok(Witness {
            look: look_tx,
            seen: seen_rx,
            child,
        })
    }

    pub fn pid(&self) -> Pid {
        self.child.pid()
    }

    /// Wake the witness, wait for its report, and reap it.
    pub fn look(self) -> Result<()> {
        let Witness { look, seen, child } = self;
        look.notify()?;
        let reported = seen.wait()?;
        drop(look);
        drop(seen);
        // Its exit status carries its own error, if it found one.
        child.wait()?;
        match reported {
            true => Ok(()),
            false => Err(Error::refused("the witness ended without reporting", "")),
        }
    }
}

/// What the witness sees from the original namespaces; an error if it sees
/// anything the other process made in its new ones.
fn looks(key: i32, dir: &Path) -> Result<()> {
    let me = std::process::id();
    let k = key_text(key);
    let ipc = NsId::current("ipc")?;
    let mnt = NsId::current("mnt")?;
    say!("process {me} (witness) looks from {ipc} {mnt}:");
    // ANCHOR: witness
    // Flags 0: look up only. ENOENT is the answer: no queue has that key here.
    let found_key = match sysvipc::msgget(key, 0) {
        Err(err) if err.errno() == Some(Errno::ENOENT) => {
            say!("  msgget({k}, 0) -> ENOENT: no queue with that key in {ipc}");
            false
        }
        Err(err) => return Err(err),
        Ok(msqid) => {
            say!("  msgget({k}, 0) -> msqid {msqid} (LEAKED)");
            true
        }
    };
    let listed = sysvipc::queues()?.iter().any(|q| q.key == key);
    say!(
        "  its /proc/sysvipc/msg: {}",
        match listed {
            false => format!("no queue with key {k}"),
            true => format!("key {k} (LEAKED)"),
        }
    );
    let found_queue = match mq_open(QUEUE, MQ_OFlag::O_RDONLY, Mode::empty(), None) {
        Err(Errno::ENOENT) => {
            say!("  mq_open(\"{QUEUE}\", O_RDONLY) -> ENOENT");
            false
        }
        Err(errno) => {
            return Err(Error::sys(
                format!("mq_open(\"{QUEUE}\", O_RDONLY)"),
                errno,
            ));
        }
        Ok(mqd) => {
            mq_close(mqd).call(|| "mq_close(mqd)".into())?;
            say!("  mq_open(\"{QUEUE}\", O_RDONLY) -> a queue (LEAKED)");
            true
        }
    };
    // ANCHOR_END: witness
    let mounted = mountinfo::top_mount_at(dir)?.map(|m| m.fstype);
    match &mounted {
        None => say!(
            "  its /proc/self/mountinfo: nothing mounted on {}",
            dir.display()
        ),
        Some(fstype) => say!(
            "  its /proc/self/mountinfo: {fstype} mounted on {} (LEAKED)",
            dir.display()
        ),
    }
    if found_key || listed || found_queue || mounted.is_some() {
        return Err(Error::refused(
            "the witness, in the original namespaces, sees what was made in the new ones",
            "was the IPC namespace new (ns::ensure_new) before msgget and mq_open?",
        ));
    }
    Ok(())
}
