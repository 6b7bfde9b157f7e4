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

use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

pub use netlink_packet_core as core;
pub use netlink_packet_route as route;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader,
    NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
    State, Stats64,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, protocols::NETLINK_ROUTE};
use nix::errno::Errno;

use workbook::ns::NsId;
use workbook::{Error, Result};

/// The call that makes a route socket, as the errors and the lessons write it.
pub const SOCKET_CALL: &str =
    "socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_ROUTE)";

/// `SIOCGSKNS` from linux/sockios.h (Linux 4.9): an ioctl on any socket that
/// returns a new fd of the network namespace the socket belongs to. Not in
/// the libc crate.
const SIOCGSKNS: libc::c_ulong = 0x894C;

/// An rtnetlink socket, in the network namespace it was opened in.
#[derive(Debug)]
pub struct Route {
    socket: Socket,
    sequence: u32,
    /// A notification (sequence number 0) came while a request waited for
    /// its replies: what [`Route::wait_until_running`] must not miss.
    notified: bool,
}

impl Route {
    /// socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_ROUTE) and bind:
    /// a socket of the calling thread's network namespace, which it keeps.
    pub fn open() -> Result<Route> {
        let mut socket = Socket::new(NETLINK_ROUTE)
            .map_err(|err| Error::io(SOCKET_CALL, &err))?;
        socket.bind_auto().map_err(|err| {
            Error::io("bind(route socket, {AF_NETLINK, nl_pid 0})", &err)
        })?;
        Ok(Route {
            socket,
            sequence: 0,
            notified: false,
        })
    }

    /// The network namespace this socket belongs to, as the kernel says
    /// (ioctl(fd, SIOCGSKNS), which opens a descriptor of it).
    pub fn netns(&self) -> Result<NsId> {
        socket_netns(self.socket.as_raw_fd())
    }

    /// Send `message` and collect the replies until the kernel's ACK (or,
    /// for a dump, NLMSG_DONE). An NLMSG_ERROR with a code becomes an
    /// [`Error::Sys`] named after the request ([`summary`]) and its errno.
    pub fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let call = summary(&message);
        let (bytes, sequence) = self.packet(message, flags);
        self.socket
            .send(&bytes, 0)
            .map_err(|err| Error::io(format!("send(route socket, {call})"), &err))?;
        let mut replies = Vec::new();
        let mut buffer: Vec<u8> = Vec::with_capacity(64 * 1024);
        loop {
            buffer.clear();
            let size = self.socket.recv(&mut buffer, 0).map_err(|err| {
                Error::io(format!("recv(route socket) after {call}"), &err)
            })?;
            let mut offset = 0;
            while offset < size.min(buffer.len()) {
                let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(
                    &buffer[offset..],
                )
                .map_err(|err| {
                    Error::refused(
                        format!("the reply to {call} could not be decoded: {err}"),
                        "",
                    )
                })?;
                let length = reply.header.length as usize;
                if reply.header.sequence_number == 0 {
                    self.notified = true;
                } else if reply.header.sequence_number == sequence {
                    match reply.payload {
                        NetlinkPayload::Done(_) => return Ok(replies),
                        NetlinkPayload::Error(error) => match error.code {
                            // netlink(7): NLMSG_ERROR with error 0 is the ACK.
                            None => return Ok(replies),
                            Some(code) => {
                                return Err(Error::sys(
                                    call,
                                    Errno::from_raw(-code.get()),
                                ));
                            }
                        },
                        NetlinkPayload::InnerMessage(inner) => replies.push(inner),
                        _ => {}
                    }
                }
                if length == 0 {
                    break;
                }
                offset += length;
            }
        }
    }

    /// The bytes of `message` with a header and the next sequence number.
    fn packet(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> (Vec<u8>, u32) {
        self.sequence += 1;
        let bytes = encode(message, flags, self.sequence);
        (bytes, self.sequence)
    }

    /// Every link of the socket's namespace (RTM_GETLINK with NLM_F_DUMP),
    /// in index order.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let replies = self.request(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        let mut links: Vec<Link> = replies
            .into_iter()
            .filter_map(|reply| match reply {
                RouteNetlinkMessage::NewLink(message) => Some(Link::from(message)),
                _ => None,
            })
            .collect();
        links.sort_by_key(|link| link.index);
        Ok(links)
    }

    /// The link called `name`, if this namespace has one.
    pub fn find(&mut self, name: &str) -> Result<Option<Link>> {
        Ok(self.links()?.into_iter().find(|link| link.name == name))
    }

    /// The link called `name`; refuses if this namespace has none.
    pub fn link(&mut self, name: &str) -> Result<Link> {
        match self.find(name)? {
            Some(link) => Ok(link),
            None => Err(Error::refused(
                format!(
                    "no link named {name:?} in the socket's network namespace {}",
                    self.netns()?
                ),
                "a link lives in one network namespace: one moved away is gone from \
                 this one, and a socket opened before setns(2) or unshare(2) still \
                 talks to the old namespace",
            )),
        }
    }

    /// Send a request that changes something (NLM_F_ACK), and wait for the ACK.
    pub fn change(&mut self, message: RouteNetlinkMessage) -> Result<()> {
        let create = matches!(
            message,
            RouteNetlinkMessage::NewLink(_) | RouteNetlinkMessage::NewAddress(_)
        );
        let flags = match create {
            true => NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            false => NLM_F_REQUEST | NLM_F_ACK,
        };
        self.request(message, flags).map(drop)
    }

    /// Wait until the kernel reports the link called `name` with operstate
    /// UP, and return it. Bringing a link up is finished asynchronously (the
    /// carrier, the queueing discipline: net/core/link_watch.c), and a
    /// packet sent before may be dropped or sent twice, so counters would
    /// differ from run to run. No sleep: the socket joins the RTNLGRP_LINK
    /// group (rtnetlink(7)), and every change of a link wakes it up; 5 s
    /// without news is an error.
    pub fn wait_until_running(&mut self, name: &str) -> Result<Link> {
        let up = |link: Option<&Link>| {
            link.is_some_and(|link| link.operstate == Some(State::Up))
        };
        self.wait_for(name, up, "reach operstate UP", 5)?;
        self.link(name)
    }

    /// Wait until the link called `name` is gone from the socket's namespace
    /// (destroyed, or moved away), the same way as [`Route::wait_until_running`].
    pub fn wait_until_gone(&mut self, name: &str) -> Result<()> {
        // A namespace is freed by a kernel worker (cleanup_net), batched:
        // longer than a link coming up, longer still on a busy machine.
        self.wait_for(name, |link| link.is_none(), "disappear", 20)
    }

    fn wait_for(
        &mut self,
        name: &str,
        done: impl Fn(Option<&Link>) -> bool,
        what: &str,
        seconds: libc::time_t,
    ) -> Result<()> {
        self.socket.add_membership(RTNLGRP_LINK).map_err(|err| {
            Error::io(
                "setsockopt(route socket, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK)",
                &err,
            )
        })?;
        set_receive_timeout(self.socket.as_raw_fd(), seconds)?;
        loop {
            // A notification that comes during the dump sets `notified`: then
            // dump again rather than wait for one that has already come.
            self.notified = false;
            if done(self.find(name)?.as_ref()) {
                let _ = self.socket.drop_membership(RTNLGRP_LINK);
                return Ok(());
            }
            if !self.notified {
                let mut buffer: Vec<u8> = Vec::with_capacity(64 * 1024);
                match self.socket.recv(&mut buffer, 0) {
                    Ok(_) => {}
                    Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                        return Err(Error::refused(
                            format!(
                                "link {name:?} did not {what} within {seconds} s"
                            ),
                            match what.contains("UP") {
                                true => {
                                    "a veth end has a carrier only while both ends are \
                                     up (ip link set NAME up, on each side)"
                                }
                                false => {
                                    "the machine may be very busy; run it again"
                                }
                            },
                        ));
                    }
                    Err(err) => {
                        return Err(Error::io(
                            "recv(route socket, RTNLGRP_LINK)",
                            &err,
                        ));
                    }
                }
            }
        }
    }

    /// Bring the link called `name` up (like `ip link set NAME up`).
    pub fn set_up(&mut self, name: &str) -> Result<()> {
        let index = self.link(name)?.index;
        self.change(up_request(index))
    }
}

/// rtnetlink(7): the multicast group of link changes (linux/rtnetlink.h).
const RTNLGRP_LINK: u32 = 1;

/// setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, seconds): a blocking recv(2)
/// returns EAGAIN after that long.
fn set_receive_timeout(socket: RawFd, seconds: libc::time_t) -> Result<()> {
    let timeout = libc::timeval {
        tv_sec: seconds,
        tv_usec: 0,
    };
    // Safety: `timeout` is a valid timeval for the duration of the call, and
    // its size is the length passed.
    let done = unsafe {
        libc::setsockopt(
            socket,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const timeout).cast(),
            size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    match done {
        0 => Ok(()),
        _ => Err(Error::sys(
            format!(
                "setsockopt(route socket, SOL_SOCKET, SO_RCVTIMEO, {seconds} s)"
            ),
            Errno::last(),
        )),
    }
}

/// ioctl(fd, SIOCGSKNS): the identity of the network namespace of a socket.
pub fn socket_netns(socket: RawFd) -> Result<NsId> {
    // Safety: SIOCGSKNS takes no argument and returns a new fd or -1; `socket`
    // is an open descriptor for the duration of the call.
    let fd = unsafe { libc::ioctl(socket, SIOCGSKNS as _) };
    if fd < 0 {
        return Err(Error::sys("ioctl(socket, SIOCGSKNS)", Errno::last()));
    }
    // Safety: the kernel just returned `fd`, a new descriptor nobody else owns.
    let netns = unsafe { OwnedFd::from_raw_fd(fd) };
    NsId::of_fd("net", &netns, "ioctl(socket, SIOCGSKNS)")
}

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

/// A link as RTM_GETLINK shows it.
#[derive(Debug, Clone)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub flags: LinkFlags,
    /// IFLA_STATS64: the counters `ip -s link` shows.
    pub stats: Option<Stats64>,
    /// IFLA_OPERSTATE (RFC 2863): UP once the kernel has finished bringing
    /// the link up, carrier included; set asynchronously (linkwatch).
    pub operstate: Option<State>,
}

impl From<LinkMessage> for Link {
    fn from(message: LinkMessage) -> Link {
        let mut link = Link {
            index: message.header.index,
            name: String::new(),
            flags: message.header.flags,
            stats: None,
            operstate: None,
        };
        for attribute in message.attributes {
            match attribute {
                LinkAttribute::IfName(name) => link.name = name,
                LinkAttribute::Stats64(stats) => link.stats = Some(stats),
                LinkAttribute::OperState(state) => link.operstate = Some(state),
                _ => {}
            }
        }
        link
    }
}

impl Link {
    /// IFF_UP: the administrative state, what `ip link set up` sets.
    pub fn is_up(&self) -> bool {
        self.flags.contains(LinkFlags::Up)
    }

    /// The flags as `ip link` writes them: `<BROADCAST,MULTICAST,UP,LOWER_UP>`
    /// (IFF_RUNNING left out, as ip does).
    pub fn flag_names(&self) -> String {
        const NAMES: [(LinkFlags, &str); 8] = [
            (LinkFlags::Loopback, "LOOPBACK"),
            (LinkFlags::Broadcast, "BROADCAST"),
            (LinkFlags::Pointopoint, "POINTOPOINT"),
            (LinkFlags::Multicast, "MULTICAST"),
            (LinkFlags::Noarp, "NOARP"),
            (LinkFlags::Promisc, "PROMISC"),
            (LinkFlags::Up, "UP"),
            (LinkFlags::LowerUp, "LOWER_UP"),
        ];
        let names: Vec<&str> = NAMES
            .iter()
            .filter(|(flag, _)| self.flags.contains(*flag))
            .map(|(_, name)| *name)
            .collect();
        format!("<{}>", names.join(","))
    }

    /// `rx_packets R, tx_packets T` (0 when the kernel sent no counters).
    pub fn packets(&self) -> (u64, u64) {
        self.stats
            .as_ref()
            .map_or((0, 0), |stats| (stats.rx_packets, stats.tx_packets))
    }

    /// `rx_bytes R, tx_bytes T`.
    pub fn bytes(&self) -> (u64, u64) {
        self.stats
            .as_ref()
            .map_or((0, 0), |stats| (stats.rx_bytes, stats.tx_bytes))
    }
}

/// A request in one line, the way errors name it:
/// `RTM_NEWLINK(IFLA_IFNAME "veth-a", IFLA_INFO_KIND "veth", VETH_INFO_PEER(IFLA_IFNAME "veth-b"))`.
pub fn summary(message: &RouteNetlinkMessage) -> String {
    let (name, parts) = match message {
        RouteNetlinkMessage::NewLink(link) => ("RTM_NEWLINK", link_parts(link)),
        RouteNetlinkMessage::SetLink(link) => ("RTM_SETLINK", link_parts(link)),
        RouteNetlinkMessage::GetLink(link) => ("RTM_GETLINK", link_parts(link)),
        RouteNetlinkMessage::DelLink(link) => ("RTM_DELLINK", link_parts(link)),
        RouteNetlinkMessage::NewAddress(address) => {
            ("RTM_NEWADDR", address_parts(address))
        }
        other => return format!("{:?}", other.message_type()),
    };
    format!("{name}({})", parts.join(", "))
}

/// The header fields a request sets, then its attributes, in order.
fn link_parts(link: &LinkMessage) -> Vec<String> {
    let mut parts = Vec::new();
    if link.header.index != 0 {
        parts.push(format!("ifi_index {}", link.header.index));
    }
    if !link.header.change_mask.is_empty() {
        let flags = Link {
            index: 0,
            name: String::new(),
            flags: link.header.flags,
            stats: None,
            operstate: None,
        };
        let change = Link {
            flags: link.header.change_mask,
            ..flags.clone()
        };
        parts.push(format!(
            "ifi_flags {}, ifi_change {}",
            flags.flag_names(),
            change.flag_names()
        ));
    }
    for attribute in &link.attributes {
        parts.push(link_attribute(attribute));
    }
    parts
}

fn link_attribute(attribute: &LinkAttribute) -> String {
    match attribute {
        LinkAttribute::IfName(name) => format!("IFLA_IFNAME {name:?}"),
        LinkAttribute::NetNsFd(fd) => format!("IFLA_NET_NS_FD {fd}"),
        LinkAttribute::LinkInfo(infos) => infos
            .iter()
            .map(|info| match info {
                LinkInfo::Kind(kind) => format!("IFLA_INFO_KIND \"{kind}\""),
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))) => {
                    format!("VETH_INFO_PEER({})", link_parts(peer).join(", "))
                }
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => format!("{other:?}"),
    }
}

fn address_parts(address: &AddressMessage) -> Vec<String> {
    let mut parts = vec![format!(
        "ifa_index {}, ifa_prefixlen {}",
        address.header.index, address.header.prefix_len
    )];
    for attribute in &address.attributes {
        parts.push(match attribute {
            AddressAttribute::Local(ip) => format!("IFA_LOCAL {ip}"),
            AddressAttribute::Address(ip) => format!("IFA_ADDRESS {ip}"),
            other => format!("{other:?}"),
        });
    }
    parts
}

/// The message `bytes` decoded again by the crates, as an indented tree: what
/// the kernel will read. Deterministic (no fd numbers of the moment, no
/// addresses of memory), so a lesson can print it and a snapshot keep it.
pub fn decode(bytes: &[u8]) -> Result<String> {
    let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes)
        .map_err(|err| {
            Error::refused(format!("the request could not be decoded: {err}"), "")
        })?;
    let header = &message.header;
    let (name, link) = match &message.payload {
        NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => {
            ("RTM_NEWLINK", Some(link))
        }
        NetlinkPayload::InnerMessage(RouteNetlinkMessage::SetLink(link)) => {
            ("RTM_SETLINK", Some(link))
        }
        _ => ("", None),
    };
    let mut text = format!(
        "nlmsghdr: nlmsg_len {}, nlmsg_type {name} ({}), nlmsg_flags {}\n",
        header.length,
        header.message_type,
        flag_names(header.flags),
    );
    match (link, &message.payload) {
        (Some(link), _) => {
            text.push_str(&format!("ifinfomsg: ifi_index {}\n", link.header.index));
            tree(&link.attributes, 1, &mut text);
        }
        (None, NetlinkPayload::InnerMessage(inner)) => {
            text.push_str(&format!("{}\n", summary(inner)))
        }
        (None, _) => {}
    }
    Ok(text.trim_end().to_owned())
}

fn tree(attributes: &[LinkAttribute], depth: usize, text: &mut String) {
    let indent = "  ".repeat(depth);
    for attribute in attributes {
        match attribute {
            LinkAttribute::LinkInfo(infos) => {
                text.push_str(&format!("{indent}IFLA_LINKINFO\n"));
                for info in infos {
                    match info {
                        LinkInfo::Kind(kind) => text.push_str(&format!(
                            "{indent}  IFLA_INFO_KIND \"{kind}\"\n"
                        )),
                        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))) => {
                            text.push_str(&format!("{indent}  IFLA_INFO_DATA\n"));
                            text.push_str(&format!(
                                "{indent}    VETH_INFO_PEER ifinfomsg: ifi_index {}\n",
                                peer.header.index
                            ));
                            tree(&peer.attributes, depth + 3, text);
                        }
                        other => text.push_str(&format!("{indent}  {other:?}\n")),
                    }
                }
            }
            other => text.push_str(&format!("{indent}{}\n", link_attribute(other))),
        }
    }
}

/// `NLM_F_REQUEST | NLM_F_ACK | ...` for the flags a request may carry.
pub fn flag_names(flags: u16) -> String {
    // NLM_F_DUMP's bits are NLM_F_EXCL's for a GET request (netlink(7)).
    let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
    let names = [
        (NLM_F_REQUEST, "NLM_F_REQUEST"),
        (NLM_F_ACK, "NLM_F_ACK"),
        (
            if dump { NLM_F_DUMP } else { NLM_F_EXCL },
            if dump { "NLM_F_DUMP" } else { "NLM_F_EXCL" },
        ),
        (if dump { 0 } else { NLM_F_CREATE }, "NLM_F_CREATE"),
    ];
    let parts: Vec<&str> = names
        .iter()
        .filter(|(flag, _)| flags & flag != 0)
        .map(|(_, name)| *name)
        .collect();
    parts.join(" | ")
}
