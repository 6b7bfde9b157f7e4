//! Exercise 30 (chapter 15, namespace lifetime): a socket holds its network
//! namespace; wait for the namespace to go.
//!
//! A socket keeps the network namespace it was made in alive, whoever holds
//! the socket and wherever they are (namespaces(7), "Namespace lifetime";
//! network_namespaces(7)). Write:
//!
//! 1. [`socket_in_new_net`]: move the caller into a new network namespace,
//!    make a socket there, and move the caller back `home` (an fd of the
//!    network namespace it started in). Return the socket: from then on it
//!    is the only thing holding the new namespace.
//! 2. [`gone_within`]: wait until the namespace a file handle names is gone,
//!    for at most `deadline`; `Ok(true)` once open_by_handle_at(2) fails with
//!    ESTALE, `Ok(false)` if it still opens at the deadline. The last
//!    reference can go after the call that dropped it returned (a netlink
//!    socket is freed after an RCU grace period), and no event tells when,
//!    so ask again, about every millisecond, until the deadline.
//!
//! Read: namespaces(7) ("Namespace lifetime"), unshare(2), setns(2),
//! open_by_handle_at(2). Needs Linux 6.18 (nsfs file handles).
//!
//! The traps: a socket made before unshare(2) is in the home namespace; a
//! caller that does not go back is itself a member, and the namespace
//! outlives the socket; asked once, a death a few milliseconds late looks
//! like a life; an fd opened to ask, and not closed, keeps the namespace.
//!
//! A socket without `unsafe`: `std::net::UdpSocket::bind("0.0.0.0:0")`
//! (a new namespace's loopback is down, so 127.0.0.1 is not there yet), and
//! `OwnedFd::from(socket)`.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a call,
//! `.call(|| "unshare(CLONE_NEWNET)".into())?` returns its error naming the
//! call (use `workbook::error::Context`).
//!
//! Check your work with `cargo test -p ex30-socket-pins-net` (the root cases too:
//! `cargo test-root -p ex30-socket-pins-net`); stuck, `cargo workbook hint ex30`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex30-socket-pins-net/src/`; `cargo workbook
//! solution ex30` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use std::net::UdpSocket;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns, unshare};
use workbook::Result;
use workbook::error::Context;
use workbook::nsfs_handle::Handle;

/// A socket made in a new network namespace, returned once the caller is
/// back in `home`.
pub fn socket_in_new_net(home: BorrowedFd<'_>) -> Result<OwnedFd> {
    todo!("unshare(CLONE_NEWNET), make a socket, setns({home:?}, CLONE_NEWNET)")
}

/// Wait until the namespace `handle` names is gone: `Ok(true)`; still
/// alive at `deadline`: `Ok(false)`. Holds nothing while it waits.
pub fn gone_within(handle: &Handle, deadline: Duration) -> Result<bool> {
    todo!("ask {handle:?}.open() until ESTALE, or for {deadline:?}")
}
