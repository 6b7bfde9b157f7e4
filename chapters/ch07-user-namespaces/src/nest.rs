//! `nest`: user namespaces inside user namespaces, until the kernel says no.
//!
//! A user namespace has a parent, the user namespace of its creator
//! (user_namespaces(7), "Nesting"). A child process creates one below the
//! other with unshare(2), writing its own maps each time: `0 UID 1`, where
//! UID is its uid one level up (the original uid, then 0). A process may
//! create a user namespace only if its uid and gid are mapped in its own
//! (unshare(2), EPERM), so each level is mapped before the next.
//!
//! How deep: the man page says 32 levels. The kernel refuses a new user
//! namespace when its parent's level is above 32, counting the initial one
//! as level 0 (kernel/user_namespace.c, create_user_ns): 33 levels below the
//! initial one, checked on 6.18. The error is ENOSPC since Linux 4.9, EUSERS
//! before (clone(2), ERRORS). A process cannot read its own level: ioctl_ns
//! answers nothing about namespaces above its own. So the example counts how
//! many levels it can still make, and reads its start from that, once a
//! probe left at the start has made one more level there: a count limit
//! (/proc/sys/user/max_user_namespaces) also says ENOSPC, and would refuse
//! the probe too.

use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{getegid, geteuid};
use workbook::ns::{self, NsId, Proc};
use workbook::process::{self, Child, Receiver, Sender};
use workbook::userns::write_proc;
use workbook::{Error, Result, say};

use crate::Held;

/// The deepest level the kernel allows, the initial user namespace being 0.
const DEEPEST: u32 = 33;

/// What `/proc/self/uid_map` reads in the initial user namespace: every uid
/// is itself (user_namespaces(7)).
const INITIAL_MAP: &str = "0 0 4294967295";

// ANCHOR: nest
pub(crate) fn nest() -> Result<()> {
    let me = std::process::id();
    let start = NsId::current("user")?;
    let map = one_line(&super::read_proc("/proc/self/uid_map")?);
    let initial = map == INITIAL_MAP;
    let place = match initial {
        true => "the initial user namespace",
        false => "not the initial user namespace",
    };
    say!(
        "process {me}: uid {}, in {start}; /proc/self/uid_map: \"{map}\", {place}",
        geteuid()
    );

    let (ready_tx, ready_rx) = process::channel()?;
    let (release_tx, release_rx) = process::channel()?;
    let child = process::fork_child(&[&ready_rx, &release_tx], || {
        descend(&ready_tx, &release_rx)
    })?;
    let held = Held {
        release: release_tx,
        child,
    };
    drop((ready_tx, release_rx));
    let pid = held.child.pid();
    if !ready_rx.wait()? {
        return held.finish();
    }
    // From up here, the maps of every level between are composed: the
    // deepest process's uid is the one it had here.
    let deep = NsId::of(Proc::Pid(pid), "user")?;
    let deep_map = one_line(&super::read_proc(&format!("/proc/{pid}/uid_map"))?);
    say!(
        "process {me}: process {pid} is in {deep}; read from {start}, its uid_map is \
         \"{deep_map}\": every level's map, composed"
    );
    held.finish()
}
// ANCHOR_END: nest

// ANCHOR: descend
/// In the child: one level down at a time, until the kernel refuses.
fn descend(ready: &Sender, release: &Receiver) -> Result<()> {
    let me = std::process::id();
    let probe = Probe::start(ready)?;
    let (mut uid, mut gid) = (geteuid().as_raw(), getegid().as_raw());
    let mut levels = 0;
    loop {
        let above = NsId::current("user")?;
        match unshare(CloneFlags::CLONE_NEWUSER) {
            Ok(()) => {}
            // The depth, if one more namespace can still be made up at the
            // start: /proc/sys/user/max_user_namespaces also says ENOSPC.
            Err(Errno::ENOSPC) if levels > 0 && probe.can_unshare()? => {
                say!(
                    "process {me}: unshare(CLONE_NEWUSER) -> ENOSPC after {levels} levels, while a \
                     probe left at the start still makes one: no user namespace below level \
                     {DEEPEST}, so this process started at level {}",
                    DEEPEST - levels
                );
                break;
            }
            Err(errno) => return Err(Error::sys("unshare(CLONE_NEWUSER)", errno)),
        }
        levels += 1;
        let now = NsId::current("user")?;
        ns::ensure_new(above, now)?;
        // Our own maps, from inside: only our own ids, and `deny` first.
        write_proc("/proc/self/setgroups", "deny")?;
        write_proc("/proc/self/uid_map", &format!("0 {uid} 1"))?;
        write_proc("/proc/self/gid_map", &format!("0 {gid} 1"))?;
        say!(
            "process {me} (level +{levels}): {now}; uid 0 here is uid {uid} in {above}"
        );
        (uid, gid) = (0, 0);
    }
    ready.notify()?;
    release.wait()?;
    Ok(())
}
// ANCHOR_END: descend

/// A process left at the starting level, which, when asked, tries one
/// unshare(CLONE_NEWUSER) there. A namespace count limit
/// (max_user_namespaces, in the start's namespace or one above) counts the
/// levels below too, so it refuses this one as well; the depth does not.
struct Probe {
    // Dropped in this order: the probe, unasked, sees end-of-file and exits,
    // then it is reaped (Child's drop), on every path.
    ask: Sender,
    answer: Receiver,
    _child: Child,
}

impl Probe {
    fn start(ready: &Sender) -> Result<Probe> {
        let (ask, ask_rx) = process::channel()?;
        let (answer_tx, answer) = process::channel()?;
        let child = process::fork_child(&[ready, &ask, &answer], move || {
            if ask_rx.wait()? && unshare(CloneFlags::CLONE_NEWUSER).is_ok() {
                answer_tx.notify()?;
            }
            Ok(())
        })?;
        Ok(Probe {
            ask,
            answer,
            _child: child,
        })
    }

    /// Whether a user namespace can be made at the start (end-of-file: no).
    fn can_unshare(&self) -> Result<bool> {
        self.ask.notify()?;
        self.answer.wait()
    }
}

/// `         0          0 4294967295\n` → `0 0 4294967295`.
fn one_line(map: &str) -> String {
    map.split_whitespace().collect::<Vec<_>>().join(" ")
}
