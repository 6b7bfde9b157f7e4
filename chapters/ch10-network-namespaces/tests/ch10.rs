//! Chapter 10 against the kernel: two new network namespaces, only `lo` and
//! down in a new one, a veth end that vanishes from red when moved to blue, one
//! datagram from blue to red that the counters show, blue persisted by a bind mount
//! and freed after; the host's links never change. The refusals: a link name
//! already taken (EEXIST in an NLMSG_ERROR) and no network namespace allowed
//! (ENOSPC).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use testkit::{
    Example, User, assert_help, assert_usage_error, host_ns, line_with, ns_on_line,
    quoted_after,
};

testkit::cases!(
    story_as_root,
    story_unprivileged,
    a_taken_link_name_is_eexist,
    net_namespace_limit_reached,
    link_names_are_checked,
    extra_argument_is_a_usage_error,
    help_exits_0,
);

fn example() -> Example {
    testkit::example!()
}

/// The host's links, by name, as /proc/net/dev shows them to this test,
/// which runs in the host's network namespace (proc(5): /proc/net is
/// /proc/self/net, the reader's namespace).
fn host_links() -> Vec<String> {
    let dev = std::fs::read_to_string("/proc/net/dev").expect("read /proc/net/dev");
    dev.lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .map(|name| name.trim().to_owned())
        .collect()
}

/// `rx_packets 0 -> 2` on `line`: (0, 2).
fn counter(line: &str, name: &str) -> (u64, u64) {
    let after = line
        .split(&format!("{name} "))
        .nth(1)
        .unwrap_or_else(|| panic!("no {name} on {line:?}"));
    let mut words = after.split([' ', ',']).filter(|w| !w.is_empty());
    let before = words.next().unwrap().parse().unwrap();
    assert_eq!(words.next(), Some("->"), "{line}");
    (before, words.next().unwrap().parse().unwrap())
}

/// The host's default for IPv6 on new links: the example turns IPv6 off in
/// its own namespaces only.
fn host_ipv6_default() -> Option<String> {
    std::fs::read_to_string("/proc/sys/net/ipv6/conf/default/disable_ipv6").ok()
}

fn story(user: User) {
    let links_before = host_links();
    let ipv6_before = host_ipv6_default();
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    let out = ran.success();
    insta::assert_snapshot!(user.to_string(), ran.normalized());

    // red and blue are new, and distinct; each route socket is in its own.
    let host_net = host_ns("net");
    let a_line = line_with(out, "(red); socket(AF_NETLINK");
    let net_a = ns_on_line(a_line.split_once(" -> ").unwrap().1, "", "net");
    assert_eq!(ns_on_line(a_line, "", "net"), host_net, "{a_line}");
    assert_ne!(net_a, host_net, "red is new");
    assert!(
        a_line.ends_with(&format!("NETLINK_ROUTE): {net_a}")),
        "{a_line}"
    );
    let b_line = line_with(out, "(blue); a new route socket");
    let net_b = ns_on_line(b_line.split_once(" -> ").unwrap().1, "", "net");
    assert_ne!(net_b, net_a, "blue is new");
    assert_ne!(net_b, host_net, "blue is new");
    assert!(
        b_line.ends_with(&format!("the first one is still in {net_a}")),
        "a socket stays where it was made: {b_line}"
    );

    // red new namespace: lo alone, and down.
    let first = out.split("socket(AF_INET").next().unwrap();
    assert!(
        first.contains("1 link\n    red: 1: lo <LOOPBACK> down"),
        "{first}"
    );

    // The pair: both ends in red, then veth-blue only in blue.
    let created = out.split("RTM_SETLINK").next().unwrap();
    assert!(created.contains("IFLA_INFO_KIND \"veth\""), "{created}");
    assert!(
        created.contains("red: 2: veth-blue") && created.contains("veth-red"),
        "{created}"
    );
    let moved = out.split("RTM_SETLINK").nth(1).unwrap();
    let moved = moved.split("RTM_NEWADDR").next().unwrap();
    let (in_a, in_b) = moved.split_once("on blue's socket").unwrap();
    assert!(
        !in_a.contains("veth-blue") && in_a.contains("veth-red"),
        "{moved}"
    );
    assert!(
        in_b.contains("blue: 2: veth-blue") && !in_b.contains("veth-red"),
        "{moved}"
    );

    // One end up: no carrier; both: carrier.
    assert!(
        out.contains("veth-red <BROADCAST,MULTICAST,UP> up, no carrier"),
        "{out}"
    );

    // The datagram crossed, and the counters saw it.
    let received = line_with(out, "recvfrom(UDP socket of red) ->");
    assert_eq!(quoted_after(received, "-> "), "hello from blue");
    assert!(received.ends_with("from 10.0.0.2:4242"), "{received}");
    let a_counters = line_with(out, "veth-red (red): rx_packets");
    let b_counters = line_with(out, "veth-blue (blue): rx_packets");
    let (rx0, rx1) = counter(a_counters, "rx_packets");
    let (tx0, tx1) = counter(b_counters, "tx_packets");
    assert!(rx1 > rx0 && tx1 > tx0, "{a_counters}\n{b_counters}");
    // 57 bytes on the wire: Ethernet 14, IPv4 20, UDP 8, "hello from blue" 15.
    let (rxb0, rxb1) = counter(a_counters, "rx_bytes");
    assert!(rxb1 - rxb0 >= 57, "{a_counters}");

    // Persisted: the file is blue, joined again after its last fd was closed.
    let bound = line_with(out, "MS_BIND, NULL): ");
    assert_eq!(ns_on_line(bound, "MS_BIND", "net"), net_b, "{bound}");
    let rejoined = line_with(out, "/netns/blue\", CLONE_NEWNET) -> ");
    assert_eq!(ns_on_line(rejoined, "", "net"), net_b, "{rejoined}");
    let back = line_with(out, "\"): back in red");
    assert_eq!(ns_on_line(back, "", "net"), net_a, "{back}");
    let dir = quoted_after(line_with(out, "mkdtemp("), ") -> ");
    assert!(!Path::new(&dir).exists(), "{dir} was left behind");

    // Freed: veth-red went with blue; red has lo alone again.
    assert!(
        out.trim_end()
            .ends_with("1 link\n    red: 1: lo <LOOPBACK> down"),
        "{out}"
    );
    assert_eq!(host_links(), links_before, "the host's links changed");
    assert_eq!(
        host_ipv6_default(),
        ipv6_before,
        "the host's disable_ipv6 changed"
    );
}

fn story_as_root() {
    story(User::Root);
}

fn story_unprivileged() {
    story(User::Unprivileged);
}

/// A link name that exists already: the kernel answers the veth request
/// with NLMSG_ERROR EEXIST, which the error names with the request.
fn a_taken_link_name_is_eexist() {
    for (args, taken) in [
        (&["lo"][..], "IFLA_IFNAME \"lo\", IFLA_INFO_KIND"),
        (
            &["veth-red", "lo"][..],
            "VETH_INFO_PEER(IFLA_IFNAME \"lo\")",
        ),
    ] {
        let Some(ran) = example().run(User::Unprivileged, args) else {
            return;
        };
        let err = ran.failure(1);
        if args == ["lo"] {
            insta::assert_snapshot!("eexist", ran.normalized_stderr());
        }
        let call = line_with(err, "error: RTM_NEWLINK(");
        assert!(call.contains(taken), "{call}");
        assert!(call.ends_with("failed: EEXIST: File exists"), "{call}");
        assert!(
            err.contains("hint: the kernel answered NLMSG_ERROR"),
            "{err}"
        );
        assert!(err.contains("already exists in the socket's"), "{err}");
        assert!(!ran.stdout.contains("RTM_SETLINK"), "{}", ran.stdout);
    }
}

/// A kernel that refuses: no network namespace may be created (ENOSPC).
fn net_namespace_limit_reached() {
    let Some(ran) = example().run_with_zero_limit("net", &[]) else {
        return;
    };
    let err = ran.failure(1);
    let call = line_with(err, "error: ");
    assert!(
        call.contains("unshare(CLONE_NEWNET) failed: ENOSPC"),
        "{err}"
    );
    assert!(err.contains("max_net_namespaces"), "{err}");
    assert!(!ran.stdout.contains("AF_NETLINK"), "{}", ran.stdout);
}

fn link_names_are_checked() {
    assert_usage_error(&example(), &["a-name-of-16-byt"], "is not a link name");
    assert_usage_error(&example(), &["a/b"], "is not a link name");
    assert_usage_error(&example(), &[""], "is not a link name");
    assert_usage_error(&example(), &["same", "same"], "must differ");
}

fn extra_argument_is_a_usage_error() {
    assert_usage_error(&example(), &["a", "b", "c"], "unexpected argument \"c\"");
}

fn help_exits_0() {
    let out = assert_help(&example(), "Usage: ch10-network-namespaces");
    assert!(out.contains("veth"), "{out}");
}
