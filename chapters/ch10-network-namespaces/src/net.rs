//! The chapter's plumbing: a new network namespace with its fd, the links
//! and counters as lines, one datagram received, names checked.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::OwnedFd;
use std::time::Duration;

use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::Mode;
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::{Error, Result, say};
use workbook_netlink::core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use workbook_netlink::{Link, Route};

/// The flags of a request that creates: fail with EEXIST rather than change
/// what exists (netlink(7)).
pub const CREATE: u16 = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;

/// The longest interface name: IFNAMSIZ (16) less the final NUL (netdevice(7)).
const IFNAME_MAX: usize = 15;

/// A link name the kernel accepts (dev_valid_name in net/core/dev.c): 1 to
/// 15 bytes, not "." or "..", no '/', ':' or white space.
pub fn link_name(arg: Option<String>, default: &str) -> Result<String> {
    let name = arg.unwrap_or_else(|| default.into());
    let valid = !name.is_empty()
        && name.len() <= IFNAME_MAX
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace());
    match valid {
        true => Ok(name),
        false => Err(Error::usage(format!(
            "{name:?} is not a link name: 1 to {IFNAME_MAX} bytes, not \".\" or \"..\", \
             without '/', ':' or spaces"
        ))),
    }
}

/// unshare(CLONE_NEWNET), proved new, with IPv6 off in it (no neighbour
/// discovery packets on the counters) and an fd that names it.
pub fn unshare_net(before: NsId) -> Result<(OwnedFd, NsId)> {
    unshare(CloneFlags::CLONE_NEWNET).call(|| "unshare(CLONE_NEWNET)".into())?;
    let now = NsId::current("net")?;
    ns::ensure_new(before, now)?;
    // /proc/sys/net shows the opener's network namespace: this writes the
    // new namespace's default, which its new links copy (the kernel's
    // Documentation/networking/ip-sysctl.rst, "disable_ipv6"). A kernel
    // without IPv6 has no file: nothing to turn off.
    let sysctl = "/proc/sys/net/ipv6/conf/default/disable_ipv6";
    match std::fs::write(sysctl, "1") {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        done => done.call(|| format!("write(fd of \"{sysctl}\", \"1\")"))?,
    }
    let path = "/proc/thread-self/ns/net";
    let fd = open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        .call(|| format!("open(\"{path}\", O_RDONLY | O_CLOEXEC)"))?;
    Ok((fd, now))
}

/// Every link of the socket's namespace, one line each.
pub fn show_links(label: &str, route: &mut Route) -> Result<()> {
    let links = route.links()?;
    say!(
        "  RTM_GETLINK on {label}'s socket ({}): {} link{}",
        route.netns()?,
        links.len(),
        if links.len() == 1 { "" } else { "s" }
    );
    for link in &links {
        show_link(label, link);
    }
    Ok(())
}

/// `    red: 3: veth-red <BROADCAST,MULTICAST,UP> up, no carrier`.
pub fn show_link(label: &str, link: &Link) {
    let state = match (link.is_up(), link.flags.contains(LOWER_UP)) {
        (false, _) => "down",
        (true, false) => "up, no carrier (LOWER_UP missing)",
        (true, true) => "up",
    };
    say!(
        "    {label}: {}: {} {} {state}",
        link.index,
        link.name,
        link.flag_names()
    );
}

const LOWER_UP: workbook_netlink::route::link::LinkFlags =
    workbook_netlink::route::link::LinkFlags::LowerUp;

/// The counters of one end, before -> after.
pub fn show_counters(label: &str, before: &Link, after: &Link) {
    let (rx0, tx0) = before.packets();
    let (rx1, tx1) = after.packets();
    let (rxb0, txb0) = before.bytes();
    let (rxb1, txb1) = after.bytes();
    say!(
        "  {} ({label}): rx_packets {rx0} -> {rx1}, tx_packets {tx0} -> {tx1}, \
         rx_bytes {rxb0} -> {rxb1}, tx_bytes {txb0} -> {txb1}",
        after.name
    );
}

/// One datagram, or an error after 5 s: the example never hangs.
pub fn receive(socket: &UdpSocket) -> Result<(String, SocketAddr)> {
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .call(|| {
            "setsockopt(UDP socket of red, SOL_SOCKET, SO_RCVTIMEO, 5 s)".into()
        })?;
    let mut buffer = [0u8; 64];
    let (size, from) = socket
        .recv_from(&mut buffer)
        .call(|| "recvfrom(UDP socket of red)".into())?;
    let payload = String::from_utf8_lossy(&buffer[..size]).into_owned();
    Ok((payload, from))
}

/// Each line indented by four spaces.
pub fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
