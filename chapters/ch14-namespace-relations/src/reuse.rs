//! `reuse`: a namespace's inode number outlives the namespace; its
//! NS_GET_ID does not.
//!
//! namespaces(7): two files are the same namespace when their (st_dev,
//! st_ino) are equal; that holds only while the namespace lives. When it is
//! freed, its inode number goes back to the kernel, and a namespace made
//! later may get it. NS_GET_ID (Linux 6.18) gives an id that no other
//! namespace gets until the next boot.
//!
//! A child in a user namespace of its own makes a UTS namespace, reads its
//! inode and id, and leaves it (setns(2) back to a UTS namespace it made
//! first), which frees it: no process, fd or mount holds it any more. It
//! does so again until a new namespace gets the inode of the first one.

use std::os::fd::OwnedFd;

use nix::sched::{CloneFlags, setns, unshare};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::{Error, Result, process, say};

/// How many namespaces to make before giving up: on a busy machine another
/// program may take the freed number first.
const TRIES: u32 = 20;

// ANCHOR: reuse
pub(crate) fn reuse() -> Result<()> {
    let me = std::process::id();
    say!(
        "process {me}: in {}, {}; its child makes and frees UTS namespaces in a user \
         namespace of its own",
        NsId::current("user")?,
        NsId::current("uts")?
    );
    process::fork_child(&[], inside)?.wait()
}

fn inside() -> Result<()> {
    let me = std::process::id();
    crate::family::enter_user_namespace()?;
    // A UTS namespace to come back to, owned by our user namespace, so that
    // setns(2) into it is allowed.
    unshare(CloneFlags::CLONE_NEWUTS).call(|| "unshare(CLONE_NEWUTS)".into())?;
    let home_fd = crate::walk::open("/proc/self/ns/uts")?;
    let home = NsId::of_fd("uts", &home_fd, "/proc/self/ns/uts")?;
    say!(
        "process {me}: unshare(CLONE_NEWUTS) -> {home}, home_fd: the one to come back to"
    );
    let mut first: Option<(NsId, String)> = None;
    for _ in 0..TRIES {
        let (made, ns_id) = make_and_leave(&home_fd, home)?;
        match &first {
            None => {
                say!(
                    "process {me}: unshare(CLONE_NEWUTS) -> {made}, ns_id {ns_id}; \
                     setns(home_fd, CLONE_NEWUTS) -> back in {home}: nothing holds {made}, \
                     the kernel frees it"
                );
                first = Some((made, ns_id));
            }
            Some((old, old_id)) if made == *old => {
                return tell_reused(made, old_id, &ns_id);
            }
            Some(_) => {}
        }
    }
    say!(
        "process {me}: in {TRIES} namespaces, none got the first one's inode again: other \
         programs made namespaces meanwhile; run it again"
    );
    Ok(())
}

/// A new namespace got the first one's inode: with NS_GET_ID, two ids show
/// it is another namespace (and must differ); without (before Linux 6.18),
/// the kernel shows nothing that tells the two apart.
fn tell_reused(made: NsId, old_id: &str, ns_id: &str) -> Result<()> {
    let me = std::process::id();
    let (Ok(old_number), Ok(number)) = (old_id.parse::<u64>(), ns_id.parse::<u64>())
    else {
        say!(
            "process {me}: unshare(CLONE_NEWUTS) -> {made} again: the first one's inode, \
             from an unshare(2) made after the first was freed; whether it is another \
             namespace cannot be shown here: namespaces(7) compares only (st_dev, st_ino), \
             and ns_id is {ns_id}"
        );
        return Ok(());
    };
    say!(
        "process {me}: unshare(CLONE_NEWUTS) -> {made} again, but ns_id {ns_id} \
         where the first had ns_id {old_id}: the same inode, another namespace"
    );
    if old_number == number {
        return Err(Error::refused(
            format!("two namespaces with the same NS_GET_ID, {old_id}"),
            "NS_GET_ID should never repeat until the next boot: report this kernel",
        ));
    }
    Ok(())
}
// ANCHOR_END: reuse

/// unshare(CLONE_NEWUTS), read the new namespace, then setns(2) back home;
/// every fd of the new one is closed on return.
fn make_and_leave(home_fd: &OwnedFd, home: NsId) -> Result<(NsId, String)> {
    unshare(CloneFlags::CLONE_NEWUTS).call(|| "unshare(CLONE_NEWUTS)".into())?;
    let made_fd = crate::walk::open("/proc/self/ns/uts")?;
    let made = NsId::of_fd("uts", &made_fd, "/proc/self/ns/uts")?;
    ns::ensure_new(home, made)?;
    let ns_id = crate::walk::ns_id(&made_fd, "fd of \"/proc/self/ns/uts\"")?;
    drop(made_fd);
    setns(home_fd, CloneFlags::CLONE_NEWUTS)
        .call(|| "setns(home_fd, CLONE_NEWUTS)".into())?;
    ns::ensure_joined(home, NsId::current("uts")?)?;
    Ok((made, ns_id))
}
