//! The checks of exercise 20: `cargo test -p ex20-veth-pair`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (then in a user namespace of its own). The harness
//! moves that process into a throwaway network namespace ("here") and starts
//! a helper in another new one ("there"), whose fd it passes to `connect`.
//! After your code returns, the harness asks the kernel: where the process
//! is, which links each namespace has, whether both ends come up; then it
//! sends a UDP datagram from there to here, and reads it here, with the
//! link counters before and after.

use std::net::{SocketAddrV4, UdpSocket};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::Duration;

use ex::{HERE, HERE_ADDRESS, THERE, THERE_ADDRESS};
use ex20_veth_pair as ex;
use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::stat::Mode;
use testkit::exercise::{
    self, Case, Outcome, Parked, Probe, call, ensure, ns_of, setup,
};
use workbook::ns::NsId;
use workbook_netlink::Route;

const PORT: u16 = 4242;

pub fn main() -> ExitCode {
    exercise::main(
        "ex20",
        &[Case::new("a_datagram_crosses_the_veth_pair", crosses).check(judged)],
    )
}

fn crosses() -> Outcome {
    exercise::isolate(CloneFlags::CLONE_NEWNET)?;
    let here_ns = setup("reading /proc/self/ns/net", NsId::current("net"))?;
    exercise::report_ns("here", here_ns);
    // "There": a helper parked in a network namespace of its own.
    let helper = Parked::spawn(|| {
        setup("unshare(CLONE_NEWNET)", unshare(CloneFlags::CLONE_NEWNET))
    })?;
    let peer_path = format!("/proc/{}/ns/net", helper.pid());
    let peer = setup(
        "opening the helper's namespace",
        open(
            peer_path.as_str(),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ),
    )?;
    exercise::report_ns(
        "there",
        setup("fstat", NsId::of_fd("net", &peer, &peer_path))?,
    );
    call("connect(peer)", ex::connect(peer.as_fd()))?;
    let verdict = judge_in_child(peer.as_fd());
    exercise::report("verdict", verdict.err().unwrap_or_else(|| "ok".into()));
    exercise::park();
    helper.finish()
}

/// What the kernel shows after `connect`, in one sentence if it is wrong.
fn judge_in_child(peer: std::os::fd::BorrowedFd<'_>) -> Outcome {
    let mut here = setup("a route socket", Route::open())?;
    // A socket of the peer's namespace, made there.
    let home = setup(
        "opening /proc/thread-self/ns/net",
        open(
            "/proc/thread-self/ns/net",
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ),
    )?;
    setup("setns(peer)", setns(peer, CloneFlags::CLONE_NEWNET))?;
    let there = Route::open();
    let udp_there = UdpSocket::bind(SocketAddrV4::new(THERE_ADDRESS, PORT));
    setup("setns(home)", setns(&home, CloneFlags::CLONE_NEWNET))?;
    let mut there = setup("a route socket there", there)?;

    let here_links: Vec<String> = setup("RTM_GETLINK", here.links())?
        .into_iter()
        .map(|l| l.name)
        .collect();
    let there_links: Vec<String> = setup("RTM_GETLINK", there.links())?
        .into_iter()
        .map(|l| l.name)
        .collect();
    ensure(here_links.iter().any(|l| l == HERE), || {
        format!("no link {HERE} in the process's namespace; it has {here_links:?}")
    })?;
    ensure(!here_links.iter().any(|l| l == THERE), || {
        format!(
            "{THERE} is still in the process's namespace: move it into the peer namespace \
             (RTM_SETLINK with IFLA_NET_NS_FD, `netlink::move_request`)"
        )
    })?;
    ensure(there_links.iter().any(|l| l == THERE), || {
        format!("no link {THERE} in the peer namespace; it has {there_links:?}")
    })?;
    let here_link = setup("RTM_GETLINK", here.link(HERE))?;
    let there_link = setup("RTM_GETLINK", there.link(THERE))?;
    ensure(here_link.is_up() && there_link.is_up(), || {
        format!(
            "{HERE} is {} and {THERE} is {}: a veth end has a carrier only while both ends are \
             up; bring up both (`route.set_up(name)` on each namespace's socket)",
            if here_link.is_up() { "up" } else { "down" },
            if there_link.is_up() { "up" } else { "down" },
        )
    })?;
    setup("waiting for operstate UP", here.wait_until_running(HERE))?;
    setup("waiting for operstate UP", there.wait_until_running(THERE))?;

    // The datagram, from there to here.
    let udp_there = udp_there.map_err(|err| {
        format!(
            "binding a UDP socket to {THERE_ADDRESS}:{PORT} in the peer namespace failed ({err}): \
             give {THERE} the address {THERE_ADDRESS}/30 there"
        )
    })?;
    let udp_here = UdpSocket::bind(SocketAddrV4::new(HERE_ADDRESS, PORT)).map_err(|err| {
        format!(
            "binding a UDP socket to {HERE_ADDRESS}:{PORT} here failed ({err}): give {HERE} the \
             address {HERE_ADDRESS}/30"
        )
    })?;
    setup(
        "SO_RCVTIMEO",
        udp_here.set_read_timeout(Some(Duration::from_secs(3))),
    )?;
    let before = here_link.packets().0;
    let to = SocketAddrV4::new(HERE_ADDRESS, PORT);
    udp_there.send_to(b"ex20", to).map_err(|err| {
        format!("sending a UDP datagram from {THERE_ADDRESS} to {to} failed: {err}")
    })?;
    let mut buffer = [0u8; 8];
    let (size, from) = udp_here.recv_from(&mut buffer).map_err(|err| {
        format!("no datagram from {THERE_ADDRESS} arrived at {to} ({err}): check the addresses and prefixes")
    })?;
    ensure(&buffer[..size] == b"ex20", || {
        format!("a different datagram arrived from {from}")
    })?;
    let after = setup("RTM_GETLINK", here.link(HERE))?.packets().0;
    ensure(after > before, || {
        format!(
            "the datagram arrived, but not through {HERE}: its rx_packets stayed {before}"
        )
    })
}

fn judged(p: &Probe) -> Outcome {
    let now = ns_of(p.child, "net")?;
    let here = p.ns("here")?;
    let there = p.ns("there")?;
    ensure(now != there, || {
        format!(
            "connect() left the process in the peer namespace {there}: setns(2) back to its own \
             ({here}), with an fd of it opened before leaving"
        )
    })?;
    ensure(now == here, || {
        format!(
            "connect() moved the process to {now}; it must end where it started, {here}"
        )
    })?;
    let verdict = p.get("verdict")?;
    ensure(verdict == "ok", || verdict.to_owned())
}
