//! Hints for an rtnetlink request the kernel answered with NLMSG_ERROR
//! (netlink(7): the error field holds a negative errno). The request is
//! named like `RTM_NEWLINK(IFLA_IFNAME "veth-a", ...)` (`workbook_netlink`).

use nix::errno::Errno;

/// The hint for request `call` failing with `errno`; None if `call` is not
/// an rtnetlink request.
pub(super) fn for_request(call: &str, errno: Errno) -> Option<String> {
    let request = call.split('(').next()?.trim();
    if !request.starts_with("RTM_") {
        return None;
    }
    let names: Vec<String> = call
        .split("IFLA_IFNAME \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|name| format!("{name:?}"))
        .collect();
    let sentence = match (request, errno) {
        // rtnetlink(7) and rtnl_newlink (net/core/rtnetlink.c): NLM_F_EXCL
        // with a name already taken in the namespace.
        ("RTM_NEWLINK", Errno::EEXIST) => format!(
            "the kernel answered NLMSG_ERROR: a link named {} already exists in the socket's \
             network namespace (every new namespace has \"lo\"); choose other names",
            names.join(" or ")
        ),
        ("RTM_NEWADDR", Errno::EEXIST) => {
            "the kernel answered NLMSG_ERROR: the link already has this address".into()
        }
        // network_namespaces(7) and rtnetlink(7): changing links needs
        // CAP_NET_ADMIN in the user namespace that owns the network namespace
        // the socket belongs to.
        (_, Errno::EPERM) => "the kernel answered NLMSG_ERROR: changing links and addresses \
             needs CAP_NET_ADMIN in the user namespace that owns the socket's network \
             namespace; run as root, or in a network namespace your own user namespace owns \
             (`unshare --user --map-root-user --net`)"
            .into(),
        (_, Errno::ENODEV) => "the kernel answered NLMSG_ERROR: no link has that index in the \
             socket's network namespace: a link moved to another namespace is gone from this \
             one, and a socket stays in the namespace it was created in"
            .into(),
        // IFLA_NET_NS_FD that is not a network namespace fd.
        (_, Errno::EINVAL) if call.contains("IFLA_NET_NS_FD") => {
            "the kernel answered NLMSG_ERROR: IFLA_NET_NS_FD must be an open fd of a network \
             namespace (/proc/PID/ns/net)"
                .into()
        }
        _ => "the kernel answered NLMSG_ERROR with this errno; read rtnetlink(7)".into(),
    };
    Some(sentence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_is_named() {
        let call = "RTM_NEWLINK(IFLA_IFNAME \"lo\", IFLA_INFO_KIND \"veth\")";
        let hint = for_request(call, Errno::EEXIST).unwrap_or_default();
        assert!(
            hint.contains("a link named \"lo\" already exists"),
            "{hint}"
        );
    }

    #[test]
    fn eperm_names_cap_net_admin() {
        let hint = for_request("RTM_SETLINK(ifi_index 1)", Errno::EPERM)
            .unwrap_or_default();
        assert!(hint.contains("CAP_NET_ADMIN"), "{hint}");
    }

    #[test]
    fn other_calls_are_not_requests() {
        assert_eq!(for_request("unshare(CLONE_NEWNET)", Errno::EPERM), None);
    }
}
