//! Requests in words: one line for errors, a tree for the lesson.

use crate::link::Link;
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoVeth, LinkAttribute, LinkInfo, LinkMessage,
};
use workbook::{Error, Result};

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
