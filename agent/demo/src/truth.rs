//! Ground truth: what the swarm itself sent, to compare peerscope's measurements
//! with. Every TCP write is recorded as (source, destination, Unix second) → payload
//! bytes; retransmitted bytes, which the wire carries but the application never
//! wrote, are taken from the kernel's TCP_INFO when a connection ends and kept apart.

use std::{
    collections::BTreeMap,
    net::Ipv4Addr,
    sync::{Arc, Mutex},
};

#[derive(Clone, Debug, Default)]
pub struct Truth {
    pub bytes: BTreeMap<(Ipv4Addr, Ipv4Addr, u64), u64>,
    pub retransmitted: BTreeMap<(Ipv4Addr, Ipv4Addr), u64>,
}

impl Truth {
    /// Payload bytes per (source, destination) over the whole run.
    pub fn pair_totals(&self) -> BTreeMap<(Ipv4Addr, Ipv4Addr), u64> {
        let mut out = BTreeMap::new();
        for ((s, d, _), b) in &self.bytes {
            *out.entry((*s, *d)).or_default() += b;
        }
        out
    }

    /// `unix_second,src,dst,tcp_payload_bytes`, one line per second and host pair.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("unix_second,src,dst,tcp_payload_bytes\n");
        let mut rows: Vec<_> = self.bytes.iter().map(|((src, dst, sec), b)| (*sec, *src, *dst, *b)).collect();
        rows.sort();
        for (sec, src, dst, b) in rows {
            s.push_str(&format!("{sec},{src},{dst},{b}\n"));
        }
        s
    }
}

/// Shared by every part of the swarm, on every namespace thread.
#[derive(Clone, Debug, Default)]
pub struct GroundTruth(Arc<Mutex<Truth>>);

impl GroundTruth {
    pub fn sent(&self, src: Ipv4Addr, dst: Ipv4Addr, bytes: usize) {
        let sec = super::clock::now_unix_secs();
        *self.0.lock().unwrap().bytes.entry((src, dst, sec)).or_default() += bytes as u64;
    }

    pub fn retransmitted(&self, src: Ipv4Addr, dst: Ipv4Addr, bytes: u64) {
        if bytes > 0 {
            *self.0.lock().unwrap().retransmitted.entry((src, dst)).or_default() += bytes;
        }
    }

    pub fn snapshot(&self) -> Truth {
        self.0.lock().unwrap().clone()
    }
}

/// Payload bytes the kernel retransmitted on a TCP socket (`tcpi_bytes_retrans`,
/// Linux ≥ 4.19). libc's `tcp_info` stops short of the field, so it is read at its
/// fixed offset in the kernel's struct.
pub fn bytes_retransmitted(fd: std::os::fd::RawFd) -> u64 {
    const OFFSET: usize = 208;
    let mut buf = [0u8; 256];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `buf`.
    let rc = unsafe { libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INFO, buf.as_mut_ptr().cast(), &mut len) };
    if rc != 0 || (len as usize) < OFFSET + 8 {
        return 0;
    }
    u64::from_ne_bytes(buf[OFFSET..OFFSET + 8].try_into().unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_pair_totals_sum_seconds() {
        let t = GroundTruth::default();
        let (a, b) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
        t.sent(a, b, 100);
        t.sent(a, b, 50);
        t.sent(b, a, 7);
        t.retransmitted(a, b, 0);
        let s = t.snapshot();
        assert_eq!(s.pair_totals()[&(a, b)], 150);
        assert_eq!(s.pair_totals()[&(b, a)], 7);
        assert!(s.retransmitted.is_empty());
        let csv = s.to_csv();
        assert!(csv.starts_with("unix_second,src,dst,tcp_payload_bytes\n"));
        assert!(csv.contains(",192.0.2.1,192.0.2.2,150\n"), "{csv}");
    }

    #[test]
    fn test_bytes_retransmitted_reads_a_live_socket() {
        use std::os::fd::AsRawFd;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        assert_eq!(bytes_retransmitted(c.as_raw_fd()), 0);
        assert_eq!(bytes_retransmitted(-1), 0);
    }
}
