//! peerscope's kernel program: XDP on ingress, TCX on egress.
//!
//! Each packet is parsed, classified by size (ack / control / data) and added to the
//! per-flow counters of `FLOWS`. The program never drops or alters a packet: every
//! path returns XDP_PASS / TCX_NEXT, parse failures included.
#![no_std]
#![no_main]

use aya_ebpf::{
    bindings::xdp_action,
    helpers::generated::{bpf_ktime_get_coarse_ns, bpf_skb_load_bytes, bpf_xdp_load_bytes},
    macros::{classifier, map, xdp},
    maps::{PerCpuArray, PerCpuHashMap, RingBuf},
    programs::{TcContext, XdpContext},
    EbpfContext,
};
use aya_log_ebpf::warn;
use peerscope_abi::{
    parse::{parse_ethernet, Frame, IpPacket, Parsed},
    sample::{DIRECTION_EGRESS, DIRECTION_INGRESS},
    Config, ControlSample, Counter, FlowKey, FlowStats, PacketClass, PacketObservation, SAMPLE_CAPTURE_LEN,
};

/// TCX "continue with the next program": the packet goes on as if we were not there.
const TCX_NEXT: i32 = -1;
const BPF_NOEXIST: u64 = 1;
const EEXIST: i32 = -17;

/// Load-time configuration; the agent overrides it with `set_global`.
#[no_mangle]
static CONFIG: Config = Config::DEFAULT;

/// The flow table. A per-CPU hash: each CPU updates its own copy of a flow's
/// counters without atomics or locks, and the agent sums the copies when it polls.
/// A plain (not LRU) hash, so that nothing is evicted behind the agent's back: when it
/// is full, the packet is counted in the overflow counters instead, and the agent
/// reaps idle flows itself after reading them. The size is set at load time.
#[map(name = "FLOWS")]
static FLOWS: PerCpuHashMap<FlowKey, FlowStats> = PerCpuHashMap::with_max_entries(65_536, 0);

#[no_mangle]
static EMPTY_FLOW: FlowStats = FlowStats {
    packets: [0; 3],
    bytes: [0; 3],
    payload_bytes: 0,
    large_packets: 0,
    large_bytes: 0,
    large_payload_bytes: 0,
    first_seen_ns: 0,
    last_seen_ns: 0,
    tcp_flags: 0,
    syn_packets: 0,
};

/// Global counters indexed by [`Counter`].
#[map(name = "COUNTERS")]
static COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(Counter::COUNT, 0);

/// Control-class packet samples for the agent's decoder.
#[map(name = "SAMPLES")]
static SAMPLES: RingBuf = RingBuf::with_byte_size(256 * 1024, 0);

/// Per-CPU sampling budget: `[window start ns, samples in window]`.
#[map(name = "SAMPLE_BUDGET")]
static SAMPLE_BUDGET: PerCpuArray<[u64; 2]> = PerCpuArray::with_max_entries(1, 0);

#[inline(always)]
fn config() -> Config {
    // A volatile read: the value is patched at load time, so the compiler must not
    // fold the default in.
    unsafe { core::ptr::read_volatile(&CONFIG) }
}

#[inline(always)]
fn count(c: Counter, n: u64) {
    if let Some(p) = COUNTERS.get_ptr_mut(c as u32) {
        unsafe { *p += n };
    }
}

/// Where the sampler copies payload bytes from: XDP and TC have different helpers.
enum Source<'a> {
    Xdp(&'a XdpContext),
    Tc(&'a TcContext),
}

impl Source<'_> {
    /// Copies `n` (1..=128) bytes. The length is re-derived with a mask right here, so
    /// the verifier sees it bounded to 1..=128 at the call whatever the compiler spilled.
    #[inline(always)]
    fn load(&self, offset: u32, dst: *mut u8, n: u32) -> bool {
        let len = ((n.wrapping_sub(1)) & (SAMPLE_CAPTURE_LEN as u32 - 1)) + 1;
        let r = unsafe {
            match self {
                Source::Xdp(ctx) => bpf_xdp_load_bytes(ctx.ctx as *mut _, offset, dst as *mut _, len),
                Source::Tc(ctx) => bpf_skb_load_bytes(ctx.as_ptr(), offset, dst as *mut _, len),
            }
        };
        r == 0
    }
}

#[xdp]
pub fn peerscope_ingress(ctx: XdpContext) -> u32 {
    let frame = unsafe { Frame::new(ctx.data(), ctx.data_end()) };
    count(Counter::IngressPackets, 1);
    let cfg = config();
    if let Some(ip) = classify_frame(&frame, &cfg) {
        let now = unsafe { bpf_ktime_get_coarse_ns() };
        let obs = PacketObservation::new(&cfg.thresholds, ip.key.proto, ip.ip_len, ip.payload_len, ip.tcp_flags, now);
        account(&ctx, &ip.key, &obs, 1, &cfg);
        if obs.class == PacketClass::Control {
            sample(&Source::Xdp(&ctx), &ip, &obs, frame.len() as u32, DIRECTION_INGRESS, &cfg);
        }
    }
    xdp_action::XDP_PASS
}

/// An XDP program that only passes the packet: the reference the benchmarks divide
/// the ingress program's cost by. Never attached.
#[xdp]
pub fn peerscope_baseline(_ctx: XdpContext) -> u32 {
    xdp_action::XDP_PASS
}

#[classifier]
pub fn peerscope_egress(ctx: TcContext) -> i32 {
    count(Counter::EgressPackets, 1);
    let cfg = config();
    let frame = unsafe { Frame::new(ctx.data(), ctx.data_end()) };
    let ip = match classify_frame(&frame, &cfg) {
        Some(ip) => ip,
        None => return TCX_NEXT,
    };
    let now = unsafe { bpf_ktime_get_coarse_ns() };
    let skb = unsafe { &*ctx.skb.skb };
    let (segs, seg_size) = (skb.gso_segs, skb.gso_size);
    if segs > 1 && seg_size > 0 {
        // A GSO/TSO super-packet: count the wire packets it becomes. All segments but
        // the last carry `gso_size` payload bytes; every segment repeats the headers.
        count(Counter::GsoSkbs, 1);
        let total_payload = ctx.len().saturating_sub(ip.l3_offset + ip.headers_len);
        let full = segs - 1;
        let last = total_payload.saturating_sub(full * seg_size);
        // FIN/PSH/RST travel on the last segment only.
        let mid_flags = ip.tcp_flags & !0x0d;
        let o = PacketObservation::new(&cfg.thresholds, ip.key.proto, ip.headers_len + seg_size, seg_size, mid_flags, now);
        account(&ctx, &ip.key, &o, full, &cfg);
        let o = PacketObservation::new(&cfg.thresholds, ip.key.proto, ip.headers_len + last, last, ip.tcp_flags, now);
        account(&ctx, &ip.key, &o, 1, &cfg);
    } else {
        let obs = PacketObservation::new(&cfg.thresholds, ip.key.proto, ip.ip_len, ip.payload_len, ip.tcp_flags, now);
        account(&ctx, &ip.key, &obs, 1, &cfg);
        if obs.class == PacketClass::Control {
            sample(&Source::Tc(&ctx), &ip, &obs, ctx.len(), DIRECTION_EGRESS, &cfg);
        }
    }
    TCX_NEXT
}

/// Parses a frame and counts what is not a countable IP packet.
#[inline(always)]
fn classify_frame(frame: &Frame, _cfg: &Config) -> Option<IpPacket> {
    match parse_ethernet(frame) {
        Parsed::Ip(ip) => {
            if ip.non_first_fragment {
                count(Counter::NonFirstFragments, 1);
            }
            if ip.ext_chain_too_long {
                count(Counter::Ipv6HeaderChainTooLong, 1);
            }
            Some(ip)
        }
        Parsed::NonIp => {
            count(Counter::NonIp, 1);
            None
        }
        Parsed::Truncated => {
            count(Counter::Truncated, 1);
            None
        }
    }
}

/// Adds `n` wire packets to the flow's counters, creating the flow if needed.
#[inline(always)]
fn account<C: EbpfContext>(ctx: &C, key: &FlowKey, obs: &PacketObservation, n: u32, cfg: &Config) {
    if n == 0 {
        return;
    }
    if let Some(stats) = FLOWS.get_ptr_mut(key) {
        unsafe { (*stats).record_n(obs, n) };
        return;
    }
    // A new flow starts from zeroed counters taken from a global, not the stack
    // (104 bytes of the 512 the verifier allows), and is then updated in place.
    match FLOWS.insert(key, &EMPTY_FLOW, BPF_NOEXIST) {
        // EEXIST: another program run on this CPU (XDP and TC) inserted it first.
        Ok(()) | Err(EEXIST) => {
            if let Some(stats) = FLOWS.get_ptr_mut(key) {
                unsafe { (*stats).record_n(obs, n) };
            }
        }
        Err(_) => {
            count(Counter::FlowInsertFailures, 1);
            count(Counter::OverflowPackets, n as u64);
            count(Counter::OverflowBytes, n as u64 * obs.ip_len as u64);
            if cfg.flags & Config::LOG != 0 {
                warn!(ctx, "peerscope: flow map full, packet counted as overflow");
            }
        }
    }
}

/// Copies the first bytes of a control packet's payload to the ring buffer, within a
/// per-CPU budget of samples per second. Every sample is either sent or counted.
#[inline(always)]
fn sample(src: &Source, ip: &IpPacket, obs: &PacketObservation, frame_len: u32, direction: u8, cfg: &Config) {
    if cfg.samples_per_sec == 0 {
        return;
    }
    let budget = match SAMPLE_BUDGET.get_ptr_mut(0) {
        Some(b) => b,
        None => return,
    };
    let b = unsafe { &mut *budget };
    if obs.ts_ns.wrapping_sub(b[0]) >= 1_000_000_000 {
        b[0] = obs.ts_ns;
        b[1] = 0;
    }
    if b[1] >= cfg.samples_per_sec as u64 {
        count(Counter::SamplesRateLimited, 1);
        return;
    }
    b[1] += 1;
    let payload_off = ip.l3_offset + ip.headers_len;
    let in_frame = frame_len.saturating_sub(payload_off);
    let mut n = if ip.payload_len < in_frame { ip.payload_len } else { in_frame };
    if n > SAMPLE_CAPTURE_LEN as u32 {
        n = SAMPLE_CAPTURE_LEN as u32;
    }
    let mut entry = match SAMPLES.reserve::<ControlSample>(0) {
        Some(e) => e,
        None => {
            count(Counter::SamplesDropped, 1);
            return;
        }
    };
    let s = entry.as_mut_ptr();
    unsafe {
        (*s).key = ip.key;
        (*s).ts_ns = obs.ts_ns;
        (*s).ip_len = obs.ip_len;
        (*s).payload_len = obs.payload_len;
        (*s).direction = direction;
        (*s)._pad = [0; 5];
        let mut copied = 0u16;
        // The helpers want a length the verifier can bound: 1..=128.
        if n > 0 && src.load(payload_off, (*s).data.as_mut_ptr(), n) {
            copied = n as u16;
        }
        (*s).captured_len = copied;
    }
    entry.submit(0);
    count(Counter::SamplesSent, 1);
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[link_section = "license"]
#[no_mangle]
static LICENSE: [u8; 13] = *b"Dual MIT/GPL\0";
