//! The kernel program and the pcap path parse alike: every frame of the corpus that
//! Ethernet can carry goes through the kernel programs (BPF_PROG_TEST_RUN) and
//! through the offline reader, and both give the same per-flow counts and the same
//! parser counters, with decapsulation off and on, on ingress (XDP) and egress (TC).
//!
//! A record of another link type is given to the kernel as the Ethernet frame that
//! carries its network layer. A frame the kernel cannot be shown as it was is left
//! out, and counted: cut by the capture's snap length inside a header the parser
//! reads (padding it to its wire length would invent those bytes), longer than the
//! test harness takes, or shorter than an Ethernet header.

use std::collections::HashMap;

use aya::programs::{ProgramError, SchedClassifier, TestRun, TestRunOptions, Xdp};
use peerscope::live::{attach, AttachOptions, FlowMaps};
use peerscope::offline::{
    self,
    decode::{decode_bytes, Decoded},
    link, ReadStats,
};
use peerscope_abi::parse::{Options, Parsed, Start};
use peerscope_abi::{names, Counter, FlowKey, FlowStats, KernelNs, PacketObservation, Thresholds};
use peerscope_tests::{corpus, require_root};

/// One loaded program and what the offline reader expects of it.
struct Side {
    ebpf: aya::Ebpf,
    maps: FlowMaps,
    tc: bool,
    opts: Options,
    flows: HashMap<FlowKey, FlowStats<KernelNs>>,
    read: ReadStats,
    frames: u64,
}

impl Side {
    fn new(tc: bool, decap: bool) -> Self {
        let mut o = AttachOptions::new("lo");
        o.decap = decap;
        let mut ebpf = attach::load(&o).expect("load kernel object");
        if tc {
            let p: &mut SchedClassifier = ebpf.program_mut(names::EGRESS).unwrap().try_into().unwrap();
            p.load().expect("verifier accepts the TC program");
        } else {
            let p: &mut Xdp = ebpf.program_mut(names::INGRESS).unwrap().try_into().unwrap();
            p.load().expect("verifier accepts the XDP program");
        }
        let maps = FlowMaps::take_from(&mut ebpf).unwrap();
        let opts = Options { decap };
        Side { ebpf, maps, tc, opts, flows: HashMap::new(), read: ReadStats::default(), frames: 0 }
    }

    /// Runs the program on `frame`; false when the harness refuses it.
    fn run(&self, frame: &[u8]) -> bool {
        let opts = TestRunOptions { data_in: Some(frame), ..Default::default() };
        let r = if self.tc {
            let p: &SchedClassifier = self.ebpf.program(names::EGRESS).unwrap().try_into().unwrap();
            p.test_run(opts)
        } else {
            let p: &Xdp = self.ebpf.program(names::INGRESS).unwrap().try_into().unwrap();
            p.test_run(opts)
        };
        match r {
            Ok(_) => true,
            Err(ProgramError::SyscallError(e)) if e.io_error.raw_os_error() == Some(libc::EINVAL) => false,
            Err(e) => panic!("test run: {e}"),
        }
    }

    /// What the offline reader makes of the record, counted as expected of the kernel.
    fn expect(&mut self, d: &Decoded) {
        self.frames += 1;
        if let Some(p) = self.read.count(d) {
            let o = PacketObservation::of(&Thresholds::STUDIES, p, KernelNs(1));
            self.flows.entry(p.key).or_default().record(&o);
        }
    }

    fn check(&self, what: &str) {
        let mut kernel = self.maps.snapshot().unwrap().flows;
        for s in kernel.values_mut() {
            (s.first_seen, s.last_seen) = (KernelNs(0), KernelNs(0));
        }
        let mut offline = self.flows.clone();
        for s in offline.values_mut() {
            (s.first_seen, s.last_seen) = (KernelNs(0), KernelNs(0));
        }
        let show = |k: &FlowKey, s: Option<&FlowStats<KernelNs>>| {
            let c = s.map(|s| (s.packets, s.bytes, s.payload_bytes, s.notes));
            format!(
                "{} {}:{} > {}:{} tunnel {}: {c:?}",
                k.proto,
                k.src_ip(),
                k.src_port,
                k.dst_ip(),
                k.dst_port,
                k.tunnel
            )
        };
        let mut diffs: Vec<String> = offline
            .iter()
            .filter(|(k, s)| kernel.get(k) != Some(s))
            .map(|(k, s)| format!("offline {}\n      kernel {}", show(k, Some(s)), show(k, kernel.get(k))))
            .collect();
        diffs.extend(
            kernel
                .iter()
                .filter(|(k, _)| !offline.contains_key(k))
                .map(|(k, s)| format!("kernel only {}", show(k, Some(s)))),
        );
        assert!(
            diffs.is_empty(),
            "{what}: {} flows differ:\n  {}",
            diffs.len(),
            diffs[..diffs.len().min(8)].join("\n  ")
        );
        let c = self.maps.counters().unwrap();
        let r = &self.read;
        let pairs = [
            (Counter::NonIp, r.non_ip_frames),
            (Counter::Truncated, r.truncated_frames),
            (Counter::VlanTooDeep, r.vlan_too_deep_frames),
            (Counter::MplsTooDeep, r.mpls_too_deep_frames),
            (Counter::NonFirstFragments, r.non_first_fragment_packets),
            (Counter::Ipv6HeaderChainTooLong, r.ipv6_header_chain_too_long_packets),
            (Counter::TransportHeaderBroken, r.transport_header_broken_packets),
            (Counter::IpLengthExceedsFrame, r.ip_length_exceeds_frame_packets),
            (Counter::Decapsulated, r.decapsulated_packets),
        ];
        for (counter, want) in pairs {
            assert_eq!(c[counter as usize], want, "{what}: counter {}", counter.name());
        }
        assert_eq!(c[Counter::FlowInsertFailures as usize], 0, "{what}: the table must hold every flow");
        eprintln!("{what}: {} frames, {} flows, {} IP packets agree", self.frames, offline.len(), r.ip_packets);
    }
}

/// The Ethernet frame that carries a record's network layer, padded to the length
/// the record had on the wire.
fn as_ethernet(link: pcap_file::DataLink, data: &[u8], orig_len: usize) -> Option<Vec<u8>> {
    let (et, off) = match link::locate(link, data).ok()? {
        Start::Ethernet => (u16::from_be_bytes([*data.get(12)?, *data.get(13)?]), 14),
        Start::Ethertype(et, off) => (et, off),
        Start::Ip(off) => (if data.get(off)? >> 4 == 6 { 0x86dd } else { 0x0800 }, off),
    };
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    f.extend_from_slice(&et.to_be_bytes());
    f.extend_from_slice(data.get(off..)?);
    f.resize(14 + orig_len.saturating_sub(off).max(data.len() - off), 0);
    Some(f)
}

/// What the parser made of a frame, wherever in the frame its headers were.
fn counted(d: Decoded) -> Decoded {
    match d {
        Decoded::Parsed(Parsed::Ip(mut p)) => {
            (p.l3_offset, p.l4_offset) = (0, 0);
            Decoded::Parsed(Parsed::Ip(p))
        }
        other => other,
    }
}

/// The longest frame BPF_PROG_TEST_RUN gives a program whole: a 4 KiB page less
/// XDP's 256 bytes of headroom and the 320 of `skb_shared_info`. It cuts longer frames
/// short without a word (jumbo frames, and offloaded super-packets a sender captured).
const HARNESS_TAKES: usize = 4096 - 256 - 320;

#[test]
fn kernel_and_offline_count_every_corpus_frame_alike() {
    if !require_root("kernel_and_offline_count_every_corpus_frame_alike") {
        return;
    }
    let mut sides = [Side::new(false, false), Side::new(false, true), Side::new(true, false), Side::new(true, true)];
    let (mut cut, mut large, mut refused, mut no_network) = (0u64, 0u64, [0u64; 4], 0u64);
    for path in corpus::files() {
        let Ok((mut reader, _)) = offline::open(&path) else { continue };
        while let Ok(Some(rec)) = reader.next_frame() {
            let Some(eth) = as_ethernet(rec.linktype, rec.data, rec.orig_len as usize) else {
                // No network layer to carry: a link header cut short, or one without IP.
                no_network += 1;
                continue;
            };
            if eth.len() > HARNESS_TAKES {
                large += 1;
                continue;
            }
            for (i, side) in sides.iter_mut().enumerate() {
                let ours = decode_bytes(rec.linktype, rec.data, rec.orig_len as usize, side.opts);
                let shown = decode_bytes(pcap_file::DataLink::ETHERNET, &eth, eth.len(), side.opts);
                if counted(ours) != counted(shown) {
                    // The padding was read: the bytes the capture did not keep mattered.
                    cut += (i == 0) as u64;
                    continue;
                }
                if !side.run(&eth) {
                    refused[i] += 1;
                    assert!(
                        matches!(ours, Decoded::Parsed(Parsed::Truncated)),
                        "the harness refused a {}-byte frame the parser reads: {ours:?}",
                        eth.len()
                    );
                    continue;
                }
                side.expect(&ours);
            }
        }
    }
    eprintln!(
        "left out: {no_network} with no network layer, {cut} cut inside a header the parser reads, {large} longer than {HARNESS_TAKES} bytes; short frames refused by the harness: {refused:?}"
    );
    for (side, what) in sides.iter().zip(["XDP", "XDP --decap", "TC", "TC --decap"]) {
        assert!(side.frames > 40_000, "{what}: only {} frames compared", side.frames);
        side.check(what);
    }
}
