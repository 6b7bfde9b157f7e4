//! rtnetlink requests (rtnetlink(7), netlink(7)): list links, create a veth
//! pair, move a link to another network namespace, add an IPv4 address, bring
//! a link up, read its counters. Chapter 10 and its exercises use them.
//!
//! A crate of its own, not a module of `workbook`: every chapter builds on
//! `workbook`, and with the netlink crates behind it, none could start
//! compiling before netlink-packet-route is built (about 5 s of CPU on the
//! critical path of a cold `cargo test`).
//!
//! The messages are built and decoded by the rust-netlink crates
//! (`netlink-packet-route`, `netlink-packet-core`) and travel on the
//! synchronous socket of `netlink-sys`: no message is packed by hand, and no
//! async runtime runs. The crates are re-exported ([`route`], [`core`]), so a
//! crate that uses this module needs no dependency of its own on them.
//!
//! The trap this module cannot hide: a netlink socket talks to the network
//! namespace it was created in (netlink(7) and network_namespaces(7): every
//! socket belongs to one namespace, fixed at socket(2)), whatever namespace
//! the thread has moved to since. [`Route::open`] therefore says where it is,
//! and [`Route::netns`] asks the kernel (ioctl SIOCGSKNS).

// Linux only, as its netlink dependencies are: elsewhere `workbook` stops
// the build with one message.
#[cfg(target_os = "linux")]
mod decode;
#[cfg(target_os = "linux")]
mod link;
#[cfg(target_os = "linux")]
mod request;
#[cfg(target_os = "linux")]
mod socket;

#[cfg(target_os = "linux")]
pub use netlink_packet_core as core;
#[cfg(target_os = "linux")]
pub use netlink_packet_route as route;

#[cfg(target_os = "linux")]
pub use decode::{decode, flag_names, summary};
#[cfg(target_os = "linux")]
pub use link::Link;
#[cfg(target_os = "linux")]
pub use request::{address_request, encode, move_request, up_request, veth_request};
#[cfg(target_os = "linux")]
pub use socket::{Route, SOCKET_CALL, socket_netns};
