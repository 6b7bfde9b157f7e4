//! Exercise 20 (chapter 10, network namespaces): a cable between two.
//!
//! Write [`connect`]: it joins the calling process's network namespace
//! ("here") and the one `peer` refers to ("there") with a veth pair, the
//! way chapter 10 does:
//!
//! 1. create the pair: end [`HERE`] and end [`THERE`], both here;
//! 2. move [`THERE`] into the peer namespace;
//! 3. give [`HERE`] the address [`HERE_ADDRESS`]/30 and [`THERE`]
//!    [`THERE_ADDRESS`]/30;
//! 4. bring both ends up.
//!
//! When it returns, the process must be back in its own namespace. The
//! check then sends a UDP datagram from there to here, and reads it.
//!
//! Read: veth(4), network_namespaces(7), rtnetlink(7), setns(2).
//!
//! The traps: a veth end moved to another namespace is gone from this one
//! (look it up there, with a socket of that namespace); a socket belongs to
//! the namespace of the thread that made it, so a netlink socket of the peer
//! namespace must be made while the process is in it (setns(2), then back);
//! and a veth end has a carrier only while both ends are up.
//!
//! `workbook_netlink` has the requests: `Route::open()`,
//! `route.change(netlink::veth_request(HERE, THERE))`,
//! `netlink::move_request(index, peer)`,
//! `netlink::address_request(index, address, 30)`, `route.set_up(name)`, and
//! `route.link(name)?.index`. Errors come back as `workbook::Error`.
//!
//! Check your work with `cargo test -p ex20-veth-pair` (the root cases too:
//! `cargo test-root -p ex20-veth-pair`); stuck, `cargo workbook hint ex20`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex20-veth-pair/src/`; `cargo workbook
//! solution ex20` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;

use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::Mode;
use workbook::Result;
use workbook::error::Context;
use workbook_netlink::{self as netlink, Route};

/// The end that stays in the caller's namespace.
pub const HERE: &str = "ex20-here";
/// The end that goes to the peer namespace.
pub const THERE: &str = "ex20-there";
pub const HERE_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const THERE_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// Connect this network namespace to `peer` (an fd of another network
/// namespace) with a veth pair, addressed and up on both ends; return with
/// the process in its own namespace.
pub fn connect(peer: BorrowedFd<'_>) -> Result<()> {
    todo!("a veth pair, {THERE} moved to {peer:?}, addresses, both up")
}
