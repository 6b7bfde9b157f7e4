//! System V message queues, which nix does not wrap: msgget(2), msgsnd(2)
//! and `/proc/sysvipc/msg`, written once here with libc.
//!
//! sysvipc(7): a queue is named by a `key_t` the programs agree on, and
//! msgget(2) turns the key into an identifier (msqid). ipc_namespaces(7):
//! keys and identifiers are per IPC namespace; the same key in another one
//! names another queue, or none.
//!
//! Host safety is the caller's duty: every function here that can create
//! (a `flags` with IPC_CREAT) must run only after `ns::ensure_new` proved
//! the IPC namespace new, so the queue dies with that namespace.

use nix::errno::Errno;

use crate::error::{Context, Result};

/// msgget(2)'s flags, spelled as C.
pub const IPC_CREAT: i32 = libc::IPC_CREAT;
pub const IPC_EXCL: i32 = libc::IPC_EXCL;
/// sysvipc(7): key 0, "IPC_PRIVATE", always makes a new queue, which has no
/// key another process could name. It is not a namespace.
pub const IPC_PRIVATE: i32 = libc::IPC_PRIVATE;

/// A KEY argument: `0x0c110001` or `202440705`, a key_t (an int). 0 is
/// IPC_PRIVATE, refused as a usage error: it names no queue.
pub fn key_arg(text: &str) -> Result<i32> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse::<u32>().ok(),
    };
    match parsed {
        None => Err(crate::Error::usage(format!(
            "KEY {text:?} is not a number (hex with 0x, or decimal, at most 0xffffffff)"
        ))),
        Some(0) => Err(crate::Error::usage(
            "KEY 0 is IPC_PRIVATE, which names no queue another process could find: give \
             another key",
        )),
        // key_t is an int: the bits are kept, as C's cast does.
        Some(key) => Ok(key as i32),
    }
}

/// `0x0c110001` as the kernel's key_t; `IPC_PRIVATE` for 0.
pub fn key_text(key: i32) -> String {
    match key {
        0 => "IPC_PRIVATE".into(),
        _ => format!("{:#010x}", key as u32),
    }
}

/// `IPC_CREAT | IPC_EXCL | 0600`, or `0`: `flags` as a C programmer writes
/// them.
pub fn flags_text(flags: i32) -> String {
    let mut parts = Vec::new();
    if flags & IPC_CREAT != 0 {
        parts.push("IPC_CREAT".to_owned());
    }
    if flags & IPC_EXCL != 0 {
        parts.push("IPC_EXCL".to_owned());
    }
    let mode = flags & 0o777;
    if mode != 0 || parts.is_empty() {
        parts.push(match mode {
            0 => "0".into(),
            _ => format!("{mode:#05o}").replace("0o", "0"),
        });
    }
    parts.join(" | ")
}

/// msgget(2): the identifier of the queue `key` names in the caller's IPC
/// namespace. With `flags` 0 it only looks (ENOENT when there is none);
/// with IPC_CREAT it makes one, and IPC_CREAT | IPC_EXCL fails with EEXIST
/// if the key is taken. The error names the call as C.
pub fn msgget(key: i32, flags: i32) -> Result<i32> {
    // Safety: msgget takes two integers and touches no memory of ours.
    let msqid = unsafe { libc::msgget(key, flags) };
    Errno::result(msqid)
        .call(|| format!("msgget({}, {})", key_text(key), flags_text(flags)))
}

/// The message buffer msgsnd(2) reads: a positive type, then the text.
#[repr(C)]
struct MsgBuf {
    mtype: libc::c_long,
    mtext: [u8; MSG_MAX],
}

/// The longest text [`msgsnd`] sends (the kernel's MSGMAX is 8192).
pub const MSG_MAX: usize = 256;

/// msgsnd(2) of `text` (at most [`MSG_MAX`] bytes) with type 1, waiting if
/// the queue is full.
pub fn msgsnd(msqid: i32, text: &str) -> Result<()> {
    let call = || format!("msgsnd({msqid}, {text:?}, {}, 0)", text.len());
    let mut buf = MsgBuf {
        mtype: 1,
        mtext: [0; MSG_MAX],
    };
    let Some(slot) = buf.mtext.get_mut(..text.len()) else {
        return Err(crate::Error::refused(
            format!("{}: the text is longer than {MSG_MAX} bytes", call()),
            "",
        ));
    };
    slot.copy_from_slice(text.as_bytes());
    // Safety: `buf` is a live, properly laid out msgbuf (a c_long type, then
    // the text) of which msgsnd reads the type and `text.len()` bytes, all
    // inside `mtext`.
    let ret = unsafe { libc::msgsnd(msqid, (&raw const buf).cast(), text.len(), 0) };
    Errno::result(ret).map(drop).call(call)
}

/// One queue as `/proc/sysvipc/msg` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queue {
    pub key: i32,
    pub msqid: i32,
    /// Messages waiting in it (`qnum`).
    pub messages: u64,
}

/// The queues of the IPC namespace of the process that READS the file
/// (ipc_namespaces(7) lists `/proc/sysvipc` as per namespace; the kernel
/// takes the opener's, ipc/util.c), whatever `/proc` is mounted.
pub fn queues() -> Result<Vec<Queue>> {
    let path = "/proc/sysvipc/msg";
    let text =
        std::fs::read_to_string(path).call(|| format!("read(fd of \"{path}\")"))?;
    Ok(parse_queues(&text))
}

/// Columns: key msqid perms cbytes qnum ...; the first line is a header.
fn parse_queues(text: &str) -> Vec<Queue> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            Some(Queue {
                key: cols.first()?.parse().ok()?,
                msqid: cols.get(1)?.parse().ok()?,
                messages: cols.get(4)?.parse().ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_read_as_c() {
        assert_eq!(key_text(0x0c11_0001), "0x0c110001");
        assert_eq!(key_text(0), "IPC_PRIVATE");
        assert_eq!(key_text(-1), "0xffffffff");
        assert_eq!(
            flags_text(IPC_CREAT | IPC_EXCL | 0o600),
            "IPC_CREAT | IPC_EXCL | 0600"
        );
        assert_eq!(flags_text(0), "0");
        assert_eq!(flags_text(IPC_CREAT), "IPC_CREAT");
    }

    #[test]
    fn key_arguments() {
        assert_eq!(key_arg("0x0c110001").ok(), Some(0x0c11_0001));
        assert_eq!(key_arg("202440705").ok(), Some(0x0c11_0001));
        assert_eq!(key_arg("0xffffffff").ok(), Some(-1));
        for bad in ["0", "0x0", "abc", "-1", "0x", "0x1ffffffff"] {
            assert!(matches!(key_arg(bad), Err(crate::Error::Usage(_))), "{bad}");
        }
    }

    #[test]
    fn proc_sysvipc_msg_is_parsed() {
        let text = "       key      msqid perms      cbytes       qnum lspid\n\
                    202440705          0   600          18          1   123\n";
        assert_eq!(
            parse_queues(text),
            vec![Queue {
                key: 0x0c11_0001,
                msqid: 0,
                messages: 1
            }]
        );
    }
}
