//! Interfaces coming and going, from the kernel's netlink link events (`RTMGRP_LINK`)
//! in the agent's network namespace: the agent learns at once that its interface was
//! deleted (the kernel then detaches the program) and when one of that name returns.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use tokio::io::unix::AsyncFd;

/// `RTM_NEWLINK` / `RTM_DELLINK` (linux/rtnetlink.h).
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
/// `IFLA_IFNAME` (linux/if_link.h).
const IFLA_IFNAME: u16 = 3;
const RTMGRP_LINK: u32 = 1;
/// `struct nlmsghdr`, `struct ifinfomsg`, `struct rtattr` sizes.
const NLMSG_HDR: usize = 16;
const IFINFO: usize = 16;
const RTA_HDR: usize = 4;

/// What happened to an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// Created or changed (up, down, renamed); `name` is its name now.
    New {
        ifindex: u32,
        name: Option<String>,
    },
    Deleted {
        ifindex: u32,
        name: Option<String>,
    },
}

/// A netlink socket subscribed to link events.
pub struct LinkWatch {
    fd: AsyncFd<OwnedFd>,
    buf: Vec<u8>,
}

impl LinkWatch {
    /// Subscribes in this thread's network namespace (call within a tokio runtime).
    pub fn open() -> std::io::Result<LinkWatch> {
        // SAFETY: plain socket(2); the descriptor is owned by `OwnedFd` below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain data; all zero is a valid value to start from.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        addr.nl_groups = RTMGRP_LINK;
        // SAFETY: bind reads `size_of::<sockaddr_nl>()` bytes of `addr`.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const addr).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` is an open descriptor the AsyncFd owns from here on, so it stays
        // open and the same until the AsyncFd is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
            .map_err(|e| e.into_parts().1)?;
        Ok(LinkWatch { fd, buf: vec![0; 1 << 16] })
    }

    /// The next batch of events (waits for one).
    pub async fn next(&mut self) -> std::io::Result<Vec<LinkEvent>> {
        loop {
            let mut guard = self.fd.readable().await?;
            let buf = &mut self.buf;
            // SAFETY: recv writes at most `buf.len()` bytes into `buf`.
            let res = guard.try_io(|fd| {
                let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
                if n < 0 {
                    Err(std::io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match res {
                Ok(Ok(n)) => return Ok(parse(&self.buf[..n])),
                // ENOBUFS: events were lost; the caller re-checks its interface.
                Ok(Err(e)) if e.raw_os_error() == Some(libc::ENOBUFS) => return Ok(Vec::new()),
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The link events in one netlink datagram; anything malformed ends the parse.
pub fn parse(mut b: &[u8]) -> Vec<LinkEvent> {
    let mut out = Vec::new();
    while b.len() >= NLMSG_HDR {
        let Some(len) = u32_at(b, 0).map(|l| l as usize) else { break };
        let Some(ty) = u16_at(b, 4) else { break };
        if len < NLMSG_HDR || len > b.len() {
            break;
        }
        let msg = &b[NLMSG_HDR..len];
        if (ty == RTM_NEWLINK || ty == RTM_DELLINK) && msg.len() >= IFINFO {
            let ifindex = u32_at(msg, 4).unwrap_or(0);
            let name = ifname(&msg[IFINFO..]);
            out.push(if ty == RTM_NEWLINK {
                LinkEvent::New { ifindex, name }
            } else {
                LinkEvent::Deleted { ifindex, name }
            });
        }
        // Messages are 4-byte aligned.
        let next = len.div_ceil(4) * 4;
        b = b.get(next..).unwrap_or(&[]);
    }
    out
}

/// The `IFLA_IFNAME` attribute among `attrs`.
fn ifname(mut attrs: &[u8]) -> Option<String> {
    while attrs.len() >= RTA_HDR {
        let len = u16_at(attrs, 0)? as usize;
        let ty = u16_at(attrs, 2)?;
        if len < RTA_HDR || len > attrs.len() {
            return None;
        }
        if ty == IFLA_IFNAME {
            let v = &attrs[RTA_HDR..len];
            let v = v.split(|&c| c == 0).next().unwrap_or(v);
            return Some(String::from_utf8_lossy(v).into_owned());
        }
        attrs = attrs.get(len.div_ceil(4) * 4..).unwrap_or(&[]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(ty: u16, ifindex: u32, name: Option<&str>) -> Vec<u8> {
        let mut attrs = Vec::new();
        // An attribute before the name, to be skipped (IFLA_MTU).
        attrs.extend_from_slice(&8u16.to_ne_bytes());
        attrs.extend_from_slice(&4u16.to_ne_bytes());
        attrs.extend_from_slice(&1500u32.to_ne_bytes());
        if let Some(n) = name {
            let len = RTA_HDR + n.len() + 1;
            attrs.extend_from_slice(&(len as u16).to_ne_bytes());
            attrs.extend_from_slice(&IFLA_IFNAME.to_ne_bytes());
            attrs.extend_from_slice(n.as_bytes());
            attrs.push(0);
            attrs.resize(attrs.len().div_ceil(4) * 4, 0);
        }
        let mut info = vec![0u8; IFINFO];
        info[4..8].copy_from_slice(&ifindex.to_ne_bytes());
        let len = NLMSG_HDR + info.len() + attrs.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend(info);
        m.extend(attrs);
        m
    }

    #[test]
    fn test_parse_new_and_deleted_links() {
        let mut dgram = message(RTM_DELLINK, 7, Some("eth1"));
        dgram.extend(message(RTM_NEWLINK, 9, Some("eth1")));
        dgram.extend(message(24, 9, None)); // RTM_NEWROUTE: not ours
        assert_eq!(
            parse(&dgram),
            vec![
                LinkEvent::Deleted { ifindex: 7, name: Some("eth1".into()) },
                LinkEvent::New { ifindex: 9, name: Some("eth1".into()) }
            ]
        );
    }

    #[test]
    fn test_impossible_len_stops_the_parse() {
        let mut m = message(RTM_NEWLINK, 3, Some("x"));
        m[0..4].copy_from_slice(&9999u32.to_ne_bytes());
        assert!(parse(&m).is_empty());
        let mut m = message(RTM_NEWLINK, 3, Some("x"));
        let at = NLMSG_HDR + IFINFO + 8;
        m[at..at + 2].copy_from_slice(&999u16.to_ne_bytes());
        assert_eq!(parse(&m), vec![LinkEvent::New { ifindex: 3, name: None }]);
        assert!(parse(&[1, 2, 3]).is_empty());
    }
}
