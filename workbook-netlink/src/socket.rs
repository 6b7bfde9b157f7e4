//! The rtnetlink socket: requests, their acknowledgements and errors, and
//! the namespace a socket belongs to.

use crate::decode::summary;
use crate::link::Link;
use crate::request::{encode, up_request};
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkMessage, State};
use netlink_sys::{Socket, protocols::NETLINK_ROUTE};
use nix::errno::Errno;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
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
