//! Chapter 10: network namespaces.
//!
//! A network namespace has its own links, addresses, routes, ports and
//! counters (network_namespaces(7)). A new one has a single link, `lo`, and
//! it is down. A veth pair (veth(4)) is a cable with two ends: create it,
//! move one end into another namespace, give both ends an address, bring
//! both up, and a datagram sent in one namespace arrives in the other.
//!
//! Links are set up with rtnetlink requests (rtnetlink(7)), which the
//! rust-netlink crates build (`workbook_netlink`). Every socket, netlink or
//! UDP, belongs to the network namespace of the thread that created it, for
//! good: this example makes one of each in each namespace while it is there,
//! then uses them from anywhere.
//!
//! Everything happens in namespaces this process creates (and, without root,
//! in a user namespace of its own, which owns them); the host's links are
//! never touched, and the only addresses used are 10.0.0.1 and 10.0.0.2,
//! which exist only inside these namespaces.
//!
//! Read: network_namespaces(7), veth(4), rtnetlink(7), netlink(7), ip-netns(8).

mod net;
mod persist;

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsFd;
use std::process::ExitCode;

use nix::sched::{CloneFlags, unshare};
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::{Result, mountinfo, say, userns};
use workbook_netlink::{self as netlink, Route};

const USAGE: &str = "\
Usage: ch10-network-namespaces [RED_END [BLUE_END]]

Creates two network namespaces, red and blue, shows that a new one has only lo,
down, then joins them with a veth pair (its ends named RED_END, default
\"veth-red\", and BLUE_END, default \"veth-blue\"), sends one UDP datagram from blue
(10.0.0.2) to red (10.0.0.1) and shows the link counters before and after.
Last, it persists blue the way `ip netns add` does, with a bind mount, in a
mount namespace and a directory of its own. Without root it runs in a user
namespace of its own. The host's links never change.

Read network_namespaces(7), veth(4), rtnetlink(7), ip-netns(8).
";

/// 10.0.0.0/30: two addresses, one per end, in these namespaces only.
const ADDRESS_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const ADDRESS_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PORT: u16 = 4242;
const DATAGRAM: &[u8] = b"hello from blue";

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(mut args: Args) -> Result<()> {
    let name_a = net::link_name(args.next("RED_END")?, "veth-red")?;
    let name_b = net::link_name(args.next("BLUE_END")?, "veth-blue")?;
    args.finish()?;
    if name_a == name_b {
        return Err(workbook::Error::usage("RED_END and BLUE_END must differ"));
    }
    userns::enter_if_unprivileged()?;
    let me = std::process::id();

    // ANCHOR: mount_ns
    // A mount namespace of our own, private, for the persisted namespace's
    // bind mount at the end (chapter 6): the host never sees it.
    let mnt_host = NsId::current("mnt")?;
    unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
    ns::ensure_new(mnt_host, NsId::current("mnt")?)?;
    mountinfo::make_root_private()?;
    // ANCHOR_END: mount_ns

    // ANCHOR: new_a
    // unshare(CLONE_NEWNET) moves this (single-threaded) process into a new
    // network namespace. The netlink socket opened now belongs to it.
    let host_net = NsId::current("net")?;
    let (a_fd, net_a) = net::unshare_net(host_net)?;
    let mut route_a = Route::open()?;
    say!(
        "process {me}: unshare(CLONE_NEWNET): {host_net} -> {net_a} (red); {}: {}",
        netlink::SOCKET_CALL,
        route_a.netns()?
    );
    net::show_links("red", &mut route_a)?;
    // ANCHOR_END: new_a

    // ANCHOR: new_b
    // A datagram socket made here belongs to red too, for good. It is bound to
    // 0.0.0.0 (any address of red), so red needs no address yet. Then a second
    // namespace, blue, with a route socket of its own.
    let to_a = SocketAddrV4::new(ADDRESS_A, PORT);
    let udp_a = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, PORT))
        .call(|| format!("bind(UDP socket of red, 0.0.0.0:{PORT})"))?;
    say!(
        "process {me}: socket(AF_INET, SOCK_DGRAM, 0), bind(0.0.0.0:{PORT}): \
         a UDP socket of red"
    );
    let (b_fd, net_b) = net::unshare_net(net_a)?;
    let mut route_b = Route::open()?;
    say!(
        "process {me}: unshare(CLONE_NEWNET): {net_a} -> {net_b} (blue); \
         a new route socket: {}; the first one is still in {}",
        route_b.netns()?,
        route_a.netns()?
    );
    // ANCHOR_END: new_b

    // ANCHOR: veth
    // One request creates both ends, in the namespace of the socket that
    // sends it: red's, although this process is now in blue.
    let request = netlink::veth_request(&name_a, &name_b);
    let bytes = netlink::encode(request.clone(), net::CREATE, 1);
    say!(
        "process {me}: the request that creates the pair, {} bytes, decoded:\n{}",
        bytes.len(),
        net::indent(&netlink::decode(&bytes)?)
    );
    route_a.change(request)?;
    net::show_links("red", &mut route_a)?;
    // ANCHOR_END: veth

    // ANCHOR: move
    // IFLA_NET_NS_FD moves the end BLUE_END into blue: it vanishes from red.
    let index_b = route_a.link(&name_b)?.index;
    route_a.change(netlink::move_request(index_b, b_fd.as_fd()))?;
    say!(
        "process {me}: RTM_SETLINK(ifi_index {index_b}, IFLA_NET_NS_FD fd of \
         {net_b}) on red's socket"
    );
    net::show_links("red", &mut route_a)?;
    net::show_links("blue", &mut route_b)?;
    // ANCHOR_END: move

    // ANCHOR: address
    // An address on each end (RTM_NEWADDR), each on its namespace's socket,
    // then up: red's end first, which has no carrier (no LOWER_UP) while blue's
    // is down; then blue's, and both ends have carrier.
    let index_a = route_a.link(&name_a)?.index;
    let index_b = route_b.link(&name_b)?.index;
    route_a.change(netlink::address_request(index_a, ADDRESS_A, 30))?;
    route_b.change(netlink::address_request(index_b, ADDRESS_B, 30))?;
    say!(
        "process {me}: RTM_NEWADDR {ADDRESS_A}/30 on {name_a} (red), {ADDRESS_B}/30 on \
         {name_b} (blue)"
    );
    route_a.set_up(&name_a)?;
    net::show_link("red", &route_a.link(&name_a)?);
    route_b.set_up(&name_b)?;
    net::show_link("blue", &route_b.link(&name_b)?);
    net::show_link("red", &route_a.link(&name_a)?);
    // The kernel finishes bringing a link up in the background (its carrier,
    // its queue): wait for its word, operstate UP, on both ends.
    route_a.wait_until_running(&name_a)?;
    route_b.wait_until_running(&name_b)?;
    say!(
        "process {me}: RTNLGRP_LINK: {name_a} and {name_b} report IFLA_OPERSTATE UP"
    );
    // ANCHOR_END: address

    // ANCHOR: datagram
    // The counters, from RTM_GETLINK (IFLA_STATS64), before and after one
    // datagram from blue to red. Red's socket was made in red, blue's is made
    // now, in blue.
    let before = (route_a.link(&name_a)?, route_b.link(&name_b)?);
    let udp_b = UdpSocket::bind(SocketAddrV4::new(ADDRESS_B, PORT))
        .call(|| format!("bind(UDP socket of blue, {ADDRESS_B}:{PORT})"))?;
    udp_b.send_to(DATAGRAM, to_a).call(|| {
        format!(
            "sendto(UDP socket of blue, {} bytes, {to_a})",
            DATAGRAM.len()
        )
    })?;
    let (payload, from) = net::receive(&udp_a)?;
    say!(
        "process {me}: socket(AF_INET, SOCK_DGRAM, 0), bind({ADDRESS_B}:{PORT}): \
         a UDP socket of blue;\n  sendto(UDP socket of blue, {sent:?}, {to_a});\n  \
         recvfrom(UDP socket of red) -> {payload:?} from {from}",
        sent = String::from_utf8_lossy(DATAGRAM)
    );
    let after = (route_a.link(&name_a)?, route_b.link(&name_b)?);
    net::show_counters("red", &before.0, &after.0);
    net::show_counters("blue", &before.1, &after.1);
    // ANCHOR_END: datagram

    // ANCHOR: persist
    // Last, blue persisted with a bind mount, then every fd and socket of blue
    // closed: the namespace, its link and its counters stay.
    drop((route_b, udp_b));
    persist::persist(b_fd, net_b, &name_b, a_fd.as_fd())?;
    // ANCHOR_END: persist

    // ANCHOR: freed
    // Nothing refers to blue now: the kernel frees it, in the background, and
    // destroys its veth end, and the peer with it (network_namespaces(7)).
    route_a.wait_until_gone(&name_a)?;
    say!(
        "process {me}: RTNLGRP_LINK on red's socket: {name_a} is gone, destroyed with blue; \
         the host's {host_net} was never touched"
    );
    net::show_links("red", &mut route_a)?;
    drop(udp_a);
    Ok(())
    // ANCHOR_END: freed
}
