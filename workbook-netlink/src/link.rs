//! A link as RTM_GETLINK shows it.

use netlink_packet_route::link::{
    LinkAttribute, LinkFlags, LinkMessage, State, Stats64,
};

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
