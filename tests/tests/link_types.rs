//! Every link type and tunnel peerscope reads, in captures written here, read by
//! peerscope and by tshark: per directional flow, the same packets and IP bytes
//! ([`peerscope_tests::tshark`]'s rules); with `--decap`, tunnelled packets in their
//! inner flows, named by the tunnel.

use pcap_file::DataLink;

use peerscope::offline::link_frames::{pcap, Wrap};
use peerscope_abi::frames::*;
use peerscope_tests::{corpus, require_tool, tempdir::TempDir, tshark};

const A4: [u8; 4] = [192, 0, 2, 1];
const B4: [u8; 4] = [198, 51, 100, 2];

/// The packets every capture carries: UDP and TCP over IPv4 and IPv6, and one record
/// cut by a snap length (its IP length still counts).
fn packets() -> Vec<(Vec<u8>, bool, usize)> {
    vec![
        (ipv4_between(A4, B4, 17, &udp(4004, 8008, 100)), false, 0),
        (ipv4_between(B4, A4, 17, &udp(8008, 4004, 1200)), false, 0),
        (ipv4_between(A4, B4, 6, &tcp(5000, 80, 0x02, 8, 0)), false, 0),
        (ipv6(17, &[], &udp(53, 5353, 80)), true, 0),
        (ipv6(6, &[], &tcp(443, 6000, 0x18, 0, 1000)), true, 0),
        (ipv4_between(B4, A4, 6, &tcp(80, 5000, 0x10, 0, 1300)), false, 96),
    ]
}

/// Writes `records` and compares peerscope's flows with tshark's, decap off and on;
/// every frame must have been counted as an IP packet. Returns the tunnels of the
/// flows with decapsulation.
fn check(name: &str, records: Vec<(u64, Vec<u8>, u32)>, link: DataLink) -> Vec<String> {
    // Removed when the check ends, passed or not.
    let dir = TempDir::new(&format!("link-{name}"));
    let path = dir.0.join("capture.pcap");
    let frames = records.len() as u64;
    std::fs::write(&path, pcap(link, &records)).unwrap();
    let dump = tshark::read(&path);
    assert!(dump.error.is_none(), "{name}: tshark: {:?}", dump.error);
    let mut tunnels = Vec::new();
    for decap in [false, true] {
        let ours = corpus::analyze(&path, decap, std::time::Duration::from_secs(30)).unwrap();
        assert_eq!((ours.read.frames, ours.read.ip_packets), (frames, frames), "{name}: every frame an IP packet");
        let mine = corpus::flows(&ours);
        let theirs = dump.flows(decap);
        let diffs = corpus::differences(&mine, &theirs.flows);
        assert!(diffs.is_empty(), "{name} (decap {decap}): peerscope and tshark differ: {diffs:#?}");
        if decap {
            tunnels = mine.keys().filter_map(|f| f.tunnel).map(str::to_string).collect();
        }
    }
    tunnels
}

#[test]
fn every_link_type_agrees_with_tshark() {
    if !require_tool("every_link_type_agrees_with_tshark", "tshark") {
        return;
    }
    for wrap in Wrap::ALL {
        // A link type carries one family per record; group records by link type.
        for v6 in [false, true] {
            let link = wrap.link(v6);
            let records: Vec<_> = packets()
                .into_iter()
                .filter(|(_, fam, _)| *fam == v6 || wrap.link(!v6) == link)
                .enumerate()
                .map(|(i, (ip, fam, cut))| {
                    let rec = wrap.wrap(&ip, fam);
                    let orig = rec.len() as u32;
                    let keep = if cut > 0 { wrap.l3_offset(fam) + cut } else { rec.len() };
                    (1_000_000_000 + i as u64 * 1_000_000, rec[..keep].to_vec(), orig)
                })
                .collect();
            check(&format!("{wrap:?}-{v6}"), records, link);
        }
    }
}

#[test]
fn every_tunnel_agrees_with_tshark() {
    if !require_tool("every_tunnel_agrees_with_tshark", "tshark") {
        return;
    }
    let (oa, ob) = ([203, 0, 113, 1], [203, 0, 113, 2]);
    let inner4 = ipv4_between(A4, B4, 17, &udp(4004, 8008, 300));
    let inner6 = ipv6(6, &[], &tcp(443, 6000, 0x18, 0, 200));
    let over_udp = |port: u16, hdr: &[u8], payload: &[u8]| {
        let mut u = udp(port, port, 0);
        u.extend_from_slice(hdr);
        u.extend_from_slice(payload);
        let len = u.len() as u16;
        u[4..6].copy_from_slice(&len.to_be_bytes());
        u
    };
    let in_eth = |ip: &[u8], v6: bool| [eth(if v6 { ETH_P_IPV6 } else { ETH_P_IPV4 }, &[]), ip.to_vec()].concat();
    // (tunnel, outer IPv4 protocol and payload)
    let cases: Vec<(&str, u8, Vec<u8>)> = vec![
        ("gre", 47, [gre(ETH_P_IPV4, false, false), inner4.clone()].concat()),
        ("gre", 47, [gre(ETH_P_IPV6, true, true), inner6.clone()].concat()),
        ("gre", 47, [gre(0x6558, true, false), in_eth(&inner4, false)].concat()),
        ("gre", 47, [gre_pptp(inner4.len() + 4, 0x0021), inner4.clone()].concat()),
        ("ipip", 4, inner4.clone()),
        ("6in4", 41, inner6.clone()),
        ("gtp-u", 17, over_udp(2152, &gtpu(inner4.len(), false), &inner4)),
        ("gtp-u", 17, over_udp(2152, &gtpu(inner6.len(), true), &inner6)),
        ("vxlan", 17, over_udp(4789, &vxlan(), &in_eth(&inner4, false))),
        ("vxlan", 17, over_udp(4789, &vxlan(), &in_eth(&inner6, true))),
    ];
    for (i, (name, proto, l4)) in cases.iter().enumerate() {
        let records: Vec<_> = (0..3)
            .map(|n| {
                let f = frame(&[&eth(ETH_P_IPV4, &[ETH_P_8021Q]), &ipv4_between(oa, ob, *proto, l4)]);
                let len = f.len() as u32;
                (1_000_000_000 + n * 1_000_000, f, len)
            })
            .collect();
        let tunnels = check(&format!("tunnel-{i}-{name}"), records, DataLink::ETHERNET);
        assert_eq!(tunnels, vec![name.to_string()], "case {i}: the inner flow names its tunnel");
    }
    // Over an IPv6 outer header: IPv4 in IPv6 and IPv6 in IPv6.
    for (name, next, inner) in [("ipip", 4, &inner4), ("6in4", 41, &inner6)] {
        let f = frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(next, &[], inner)]);
        let len = f.len() as u32;
        let tunnels = check(&format!("tunnel-v6-{name}"), vec![(1_000_000_000, f, len)], DataLink::ETHERNET);
        assert_eq!(tunnels, vec![name.to_string()]);
    }
}
