//! The checks of exercise 19: `cargo test -p ex19-lo-up`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (then in a user namespace of its own). The harness
//! first moves that process into a throwaway network namespace, so that
//! even a wrong answer never touches the host's links. After your code
//! returns, the harness asks the kernel itself, in the namespace the process
//! is then in: is `lo` up (RTM_GETLINK), and does a UDP datagram sent to
//! 127.0.0.1 arrive? It asks the same of the namespace the process started
//! in, where nothing may have changed.

use std::net::UdpSocket;
use std::process::ExitCode;
use std::time::Duration;

use ex19_lo_up as ex;
use nix::sched::CloneFlags;
use testkit::exercise::{self, Case, Outcome, Probe, call, ensure, ns_of};
use workbook::ns::NsId;
use workbook_netlink::Route;

pub fn main() -> ExitCode {
    exercise::main(
        "ex19",
        &[Case::new("lo_is_up_in_a_new_network_namespace", lo_up).check(judged)],
    )
}

fn lo_up() -> Outcome {
    exercise::isolate(CloneFlags::CLONE_NEWNET)?;
    let start = exercise::setup("reading /proc/self/ns/net", NsId::current("net"))?;
    exercise::report_ns("start", start);
    // A socket of the start namespace, made before the learner's code runs:
    // it keeps showing that namespace, wherever the process goes.
    let mut start_route = exercise::setup("a route socket", Route::open())?;
    let returned = call("new_netns_with_lo_up()", ex::new_netns_with_lo_up())?;
    exercise::report_ns("returned", returned);

    // The kernel's answers, in the namespace the process is in now.
    let mut route = exercise::setup("a route socket", Route::open())?;
    let lo = exercise::setup("RTM_GETLINK", route.link("lo"))?;
    exercise::report("lo", lo.flag_names());
    exercise::report("lo_up", lo.is_up());
    exercise::report("datagram", loopback_datagram());
    let start_lo = exercise::setup("RTM_GETLINK", start_route.link("lo"))?;
    exercise::report("start_lo_up", start_lo.is_up());
    exercise::park();
    Ok(())
}

/// A datagram to 127.0.0.1 and back on one socket: `received`, or why not.
fn loopback_datagram() -> String {
    let attempt = || -> std::io::Result<bool> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(Duration::from_secs(2)))?;
        socket.send_to(b"ex19", socket.local_addr()?)?;
        let mut buffer = [0u8; 8];
        let (size, _) = socket.recv_from(&mut buffer)?;
        Ok(&buffer[..size] == b"ex19")
    };
    match attempt() {
        Ok(true) => "received".into(),
        Ok(false) => "a different datagram arrived".into(),
        Err(err) => format!("failed: {err}"),
    }
}

fn judged(p: &Probe) -> Outcome {
    let now = ns_of(p.child, "net")?;
    let start = p.ns("start")?;
    ensure(now != start, || {
        format!(
            "the process is still in {now}, where it started: new_netns_with_lo_up() made no \
             new network namespace (unshare(CLONE_NEWNET))"
        )
    })?;
    let returned = p.ns("returned")?;
    ensure(returned == now, || {
        format!("it returned {returned}, but the kernel shows the process in {now}")
    })?;
    let start_lo_up = p.get("start_lo_up")? == "true";
    let lo_up = p.get("lo_up")? == "true";
    ensure(!start_lo_up, || {
        format!(
            "lo is UP in {start}, the namespace the process started in{}: the netlink socket \
             was made before unshare(2), and a socket stays in the namespace it was created \
             in. Open it after",
            if lo_up {
                " (and in the new one too)"
            } else {
                ", not in the new one"
            }
        )
    })?;
    ensure(lo_up, || {
        format!(
            "lo is still DOWN in the new namespace {now} (flags {}): a new network namespace \
             starts with lo down; set IFF_UP on it (RTM_SETLINK, `route.set_up(\"lo\")`)",
            p.get("lo").unwrap_or("?")
        )
    })?;
    let datagram = p.get("datagram")?;
    ensure(datagram == "received", || {
        format!(
            "lo is UP, yet a UDP datagram to 127.0.0.1 was not received: {datagram}"
        )
    })
}
