//! The requests chapter 10 sends, built by netlink-packet-route.

use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The bytes of a netlink message carrying `message`: a header with
/// `flags` and `sequence`, then the payload, as the crates encode them.
pub fn encode(message: RouteNetlinkMessage, flags: u16, sequence: u32) -> Vec<u8> {
    let mut packet =
        NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(message));
    packet.header.flags = flags;
    packet.header.sequence_number = sequence;
    packet.finalize();
    let mut bytes = vec![0; packet.buffer_len()];
    packet.serialize(&mut bytes);
    bytes
}

/// RTM_NEWLINK for a veth pair: `name` here, and its peer `peer` (veth(4):
/// `ip link add NAME type veth peer name PEER`). Both ends start in the
/// socket's namespace, down.
pub fn veth_request(name: &str, peer: &str) -> RouteNetlinkMessage {
    let mut peer_message = LinkMessage::default();
    peer_message
        .attributes
        .push(LinkAttribute::IfName(peer.into()));
    let mut message = LinkMessage::default();
    message.attributes.push(LinkAttribute::IfName(name.into()));
    message.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_message))),
    ]));
    RouteNetlinkMessage::NewLink(message)
}

/// RTM_SETLINK that sets IFF_UP on link `index` (ifi_change names the flag
/// changed, rtnetlink(7)).
pub fn up_request(index: u32) -> RouteNetlinkMessage {
    let mut message = LinkMessage::default();
    message.header.index = index;
    message.header.flags = LinkFlags::Up;
    message.header.change_mask = LinkFlags::Up;
    RouteNetlinkMessage::SetLink(message)
}

/// RTM_SETLINK with IFLA_NET_NS_FD: move link `index` into the network
/// namespace `netns` refers to (`ip link set NAME netns PATH`).
pub fn move_request(index: u32, netns: BorrowedFd<'_>) -> RouteNetlinkMessage {
    let mut message = LinkMessage::default();
    message.header.index = index;
    message
        .attributes
        .push(LinkAttribute::NetNsFd(netns.as_raw_fd()));
    RouteNetlinkMessage::SetLink(message)
}

/// RTM_NEWADDR: `address/prefix_len` on link `index` (`ip addr add`).
pub fn address_request(
    index: u32,
    address: Ipv4Addr,
    prefix_len: u8,
) -> RouteNetlinkMessage {
    let mut message = AddressMessage::default();
    message.header.family = AddressFamily::Inet;
    message.header.prefix_len = prefix_len;
    message.header.index = index;
    message
        .attributes
        .push(AddressAttribute::Local(address.into()));
    message
        .attributes
        .push(AddressAttribute::Address(address.into()));
    RouteNetlinkMessage::NewAddress(message)
}
