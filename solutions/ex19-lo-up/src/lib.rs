//! Exercise 19 (chapter 10, network namespaces): `lo`, up.
//!
//! Write [`new_netns_with_lo_up`]: it moves the calling process into a new
//! network namespace with unshare(2), proves the namespace is new, brings
//! its loopback link `lo` up, and returns the namespace's identity.
//!
//! Read: network_namespaces(7), rtnetlink(7), netdevice(7).
//!
//! The traps: a new network namespace has one link, `lo`, and it is DOWN:
//! until it is up, not even 127.0.0.1 answers. And a socket (a netlink
//! socket too) belongs to the network namespace of the thread that made it,
//! for good: a netlink socket opened before the unshare(2) sets `lo` up in
//! the namespace the process has left.
//!
//! `workbook_netlink::Route` is an rtnetlink socket: `Route::open()` makes
//! one in the caller's network namespace, `route.set_up("lo")` sends the
//! RTM_SETLINK request that sets IFF_UP, and its errors name the request
//! and the errno. Errors come back as `workbook::Error`, never as a panic:
//! after a nix call, `.call(|| "unshare(CLONE_NEWNET)".into())?`.
//!
//! Check your work with `cargo test -p ex19-lo-up` (the root cases too:
//! `cargo test-root -p ex19-lo-up`); stuck, `cargo workbook hint ex19`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex19-lo-up/src/`; `cargo workbook
//! solution ex19` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use nix::sched::{CloneFlags, unshare};
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook_netlink::Route;

/// Move the calling process into a new network namespace, bring its `lo`
/// up, and return the namespace's identity.
pub fn new_netns_with_lo_up() -> Result<NsId> {
    // STUB: todo!("unshare(CLONE_NEWNET), prove it new, then a route socket: lo up")
    // BEGIN SOLUTION
    let before = NsId::current("net")?;
    unshare(CloneFlags::CLONE_NEWNET).call(|| "unshare(CLONE_NEWNET)".into())?;
    let net = NsId::current("net")?;
    ns::ensure_new(before, net)?;
    // Opened after the unshare, so it belongs to the new namespace.
    let mut route = Route::open()?;
    route.set_up("lo")?;
    Ok(net)
    // END SOLUTION
}
