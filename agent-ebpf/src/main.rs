//! peerscope's kernel program: on ingress XDP or TCX (the agent picks the hook per
//! interface), TCX on egress.
//!
//! Each packet is parsed, classified by size (ack / control / data) and added to the
//! per-flow counters of the flow table. The program never drops or alters a packet: every
//! path returns XDP_PASS / TCX_NEXT, parse failures included.
#![no_std]
#![no_main]
// The BPF target has no atomic compare-and-swap in `core::sync::atomic` (its spec
// leaves CAS off), but the instructions exist (BPF v3): use the intrinsics.
#![allow(internal_features)]
#![feature(core_intrinsics)]

use core::ffi::c_void;
use core::intrinsics::{atomic_cxchg, atomic_xadd, atomic_xchg, atomic_xsub, AtomicOrdering::SeqCst};

use aya_ebpf::{
    bindings::{xdp_action, BPF_F_MMAPABLE},
    helpers::generated::{
        bpf_get_smp_processor_id, bpf_jiffies64, bpf_ktime_get_coarse_ns, bpf_loop, bpf_skb_load_bytes,
        bpf_xdp_load_bytes,
    },
    macros::{classifier, map, xdp},
    maps::{Array, PerCpuArray, PerCpuHashMap, RingBuf},
    programs::{TcContext, XdpContext},
    EbpfContext,
};
use aya_log_ebpf::warn;
use peerscope_abi::{
    parse::{parse, Converge, Frame, IpPacket, Note, Options, Parsed, Start},
    sample::{DIRECTION_EGRESS, DIRECTION_INGRESS},
    sizes,
    table::{probe, slot_hash, Geometry, MAX_PROBES},
    Config, ControlSample, Counter, FlowKey, FlowSlot, FlowStats, KernelNs, PacketClass, PacketObservation, SlotState,
    TableHeader, SAMPLE_CAPTURE_LEN,
};

/// TCX "continue with the next program": the packet goes on as if we were not there.
const TCX_NEXT: i32 = -1;

/// Load-time configuration; the agent overrides it with `set_global`.
#[no_mangle]
static CONFIG: Config = Config::DEFAULT;

/// The flow table ([`peerscope_abi::table`]): open-addressing slots (keys), and
/// each slot's counters per CPU, both `mmap`-able so the agent reads a full table
/// without a system call. Sizes are set at load time.
#[map(name = "FLOW_SLOTS")]
static FLOW_SLOTS: Array<FlowSlot> = Array::with_max_entries(8, BPF_F_MMAPABLE);

#[map(name = "FLOW_STATS")]
static FLOW_STATS: Array<FlowStats<KernelNs>> = Array::with_max_entries(8, BPF_F_MMAPABLE);

#[map(name = "FLOW_TABLE")]
static FLOW_TABLE: Array<TableHeader> = Array::with_max_entries(1, BPF_F_MMAPABLE);

/// Per-CPU cache of the coarse clock: `[jiffies, coarse ns at that jiffy]`.
#[map(name = "CLOCK")]
static CLOCK: PerCpuArray<[u64; 2]> = PerCpuArray::with_max_entries(1, 0);

/// Global counters indexed by [`Counter`].
/// The packet-size histogram, [`sizes::SLOTS`] bins ([`peerscope_abi::sizes`]).
#[map(name = "SIZES")]
static SIZES: PerCpuArray<u64> = PerCpuArray::with_max_entries(sizes::SLOTS, 0);

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
    // SAFETY: `CONFIG` is a valid, aligned static that nothing writes after load.
    unsafe { core::ptr::read_volatile(&CONFIG) }
}

/// The kernel's coarse monotonic clock, as `bpf_ktime_get_coarse_ns` gives it, for
/// a fraction of its cost: that clock only moves once per tick, so it is read once
/// per jiffy per CPU, and `bpf_jiffies64` (inlined by the verifier into one load)
/// tells when the tick changed. Stamps keep the clock's own resolution (one tick).
#[inline(always)]
fn now() -> KernelNs {
    // SAFETY: a helper without arguments or preconditions.
    let jiffies = unsafe { bpf_jiffies64() };
    KernelNs(match CLOCK.get_ptr_mut(0) {
        // SAFETY: `c` points at this CPU's element of a per-CPU array, which only this
        // program touches on this CPU, and a BPF program is not preempted by itself.
        Some(c) => unsafe {
            if (*c)[0] != jiffies {
                (*c)[1] = bpf_ktime_get_coarse_ns();
                (*c)[0] = jiffies;
            }
            (*c)[1]
        },
        // SAFETY: a helper without arguments or preconditions.
        None => unsafe { bpf_ktime_get_coarse_ns() },
    })
}

/// Counts `n` packets of IP length `ip_len` in the size histogram.
#[inline(always)]
fn count_size(ingress: bool, ip_len: u32, n: u32) {
    if let Some(p) = SIZES.get_ptr_mut(sizes::slot(ingress, ip_len)) {
        // SAFETY: this CPU's element of a per-CPU array (no other writer), in bounds
        // as the map lookup returned it.
        unsafe { *p += n as u64 };
    }
}

#[inline(always)]
fn count(c: Counter, n: u64) {
    if let Some(p) = COUNTERS.get_ptr_mut(c as u32) {
        // SAFETY: this CPU's element of a per-CPU array (no other writer), in bounds
        // as the map lookup returned it.
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
        // SAFETY: the contexts are the ones the kernel gave the program; `dst` points at
        // a ring-buffer record with `SAMPLE_CAPTURE_LEN` bytes of room, and `len` is at
        // most that; the helpers check `offset + len` against the packet themselves.
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
    // SAFETY: `data..data_end` is the packet the kernel handed the program, whole (the
    // program is not frags-aware, so XDP gives it linear frames).
    let frame = unsafe { Frame::new(ctx.data(), ctx.data_end(), ctx.data_end() - ctx.data()) };
    count(Counter::IngressPackets, 1);
    let cfg = config();
    if let Some(ip) = classify_frame(&frame, &cfg) {
        let now = now();
        let obs = PacketObservation::of(&cfg.thresholds, &ip, now);
        account(&ctx, flow_stats(&ip.key, &cfg), &obs, 1, &cfg);
        count_size(true, obs.ip_len, 1);
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

/// The benchmarks' reference flow counter: the simplest correct program that does the
/// flow table's job, to set peerscope's cost per packet against something that does
/// work (a pass-only program mostly measures the harness). It parses Ethernet, IPv4
/// (options skipped) or IPv6 (fixed header) to the 5-tuple, looks the flow up in a
/// per-CPU hash map and inserts it when absent, and adds one packet and its bytes.
/// Never attached by the agent; the map has one entry unless a benchmark sizes it.
#[map(name = "REFERENCE_FLOWS")]
static REFERENCE_FLOWS: PerCpuHashMap<FlowKey, [u64; 2]> = PerCpuHashMap::with_max_entries(1, 0);

#[xdp]
pub fn peerscope_reference(ctx: XdpContext) -> u32 {
    reference_count(ctx.data(), ctx.data_end());
    xdp_action::XDP_PASS
}

#[classifier]
pub fn peerscope_reference_tc(ctx: TcContext) -> i32 {
    reference_count(ctx.data(), ctx.data_end());
    TCX_NEXT
}

#[inline(always)]
fn reference_count(data: usize, end: usize) {
    let Some(key) = reference_key(data, end) else { return };
    let len = (end - data) as u64;
    match REFERENCE_FLOWS.get_ptr_mut(&key) {
        // SAFETY: this CPU's value of a per-CPU hash map entry the lookup returned.
        Some(v) => unsafe {
            (*v)[0] += 1;
            (*v)[1] += len;
        },
        None => {
            let _ = REFERENCE_FLOWS.insert(&key, &[1, len], 0);
        }
    }
}

/// One byte of the packet at `at`, if `at` is inside it.
#[inline(always)]
fn byte_at(at: usize, end: usize) -> Option<u8> {
    if at + 1 > end {
        return None;
    }
    // SAFETY: `at` is inside `data..end`, checked above.
    Some(unsafe { *(at as *const u8) })
}

#[inline(always)]
fn reference_key(data: usize, end: usize) -> Option<FlowKey> {
    let ethertype = (u16::from(byte_at(data + 12, end)?) << 8) | u16::from(byte_at(data + 13, end)?);
    let mut key = FlowKey {
        src_addr: [0; 16],
        dst_addr: [0; 16],
        src_port: 0,
        dst_port: 0,
        proto: 0,
        family: 0,
        tunnel: 0,
        _pad: 0,
    };
    let l3 = data + 14;
    let l4 = match ethertype {
        0x0800 => {
            if l3 + 20 > end {
                return None;
            }
            // SAFETY: the 20-byte IPv4 header is inside the packet, checked above.
            unsafe {
                core::ptr::copy_nonoverlapping((l3 + 12) as *const u8, key.src_addr.as_mut_ptr(), 4);
                core::ptr::copy_nonoverlapping((l3 + 16) as *const u8, key.dst_addr.as_mut_ptr(), 4);
            }
            key.family = 4;
            key.proto = byte_at(l3 + 9, end)?;
            l3 + ((byte_at(l3, end)? & 0x0f) as usize) * 4
        }
        0x86dd => {
            if l3 + 40 > end {
                return None;
            }
            // SAFETY: the 40-byte IPv6 header is inside the packet, checked above.
            unsafe {
                core::ptr::copy_nonoverlapping((l3 + 8) as *const u8, key.src_addr.as_mut_ptr(), 16);
                core::ptr::copy_nonoverlapping((l3 + 24) as *const u8, key.dst_addr.as_mut_ptr(), 16);
            }
            key.family = 6;
            key.proto = byte_at(l3 + 6, end)?;
            l3 + 40
        }
        _ => return None,
    };
    if key.proto == 6 || key.proto == 17 {
        key.src_port = (u16::from(byte_at(l4, end)?) << 8) | u16::from(byte_at(l4 + 1, end)?);
        key.dst_port = (u16::from(byte_at(l4 + 2, end)?) << 8) | u16::from(byte_at(l4 + 3, end)?);
    }
    Some(key)
}

/// A TC program that only passes the packet: the throughput benchmark's reference on
/// the TCX hook, as [`peerscope_baseline`] is on XDP. Never attached by the agent.
#[classifier]
pub fn peerscope_baseline_tc(_ctx: TcContext) -> i32 {
    TCX_NEXT
}

#[classifier]
pub fn peerscope_egress(ctx: TcContext) -> i32 {
    count(Counter::EgressPackets, 1);
    observe_skb(&ctx, DIRECTION_EGRESS);
    TCX_NEXT
}

/// Ingress on TCX: where native XDP would cost the interface its offloads (veth,
/// virtio-net), the agent attaches this instead. It sees packets after GRO, so a
/// super-packet is counted as the wire packets it was made of, as on egress.
#[classifier]
pub fn peerscope_ingress_tc(ctx: TcContext) -> i32 {
    count(Counter::IngressPackets, 1);
    observe_skb(&ctx, DIRECTION_INGRESS);
    TCX_NEXT
}

/// Counts one skb (TC, either direction): a GSO/GRO super-packet as its wire packets.
#[inline(always)]
fn observe_skb(ctx: &TcContext, direction: u8) {
    let ingress = direction == DIRECTION_INGRESS;
    let cfg = config();
    // SAFETY: `data..data_end` is the linear part of the skb the kernel handed us;
    // `skb->len` is the whole packet's length.
    let frame = unsafe { Frame::new(ctx.data(), ctx.data_end(), ctx.len() as usize) };
    let Some(ip) = classify_frame(&frame, &cfg) else { return };
    let now = now();
    // One table walk per skb, however many wire packets it stands for.
    let stats = flow_stats(&ip.key, &cfg);
    // SAFETY: the context's `__sk_buff`, valid for the whole program run; only read.
    let skb = unsafe { &*ctx.skb.skb };
    let (segs, seg_size) = (skb.gso_segs, skb.gso_size);
    if segs > 1 && seg_size > 0 {
        // A GSO/TSO (egress) or GRO (ingress) super-packet: count the wire packets it
        // stands for. All segments but the last carry `gso_size` payload bytes; every
        // segment repeats the headers.
        count(Counter::GsoSkbs, 1);
        let total_payload = ctx.len().saturating_sub(ip.l3_offset + ip.headers_len);
        let full = segs - 1;
        let last = total_payload.saturating_sub(full * seg_size);
        // FIN/PSH/RST travel on the last segment only.
        let mid_flags = ip.tcp_flags & !0x0d;
        let mut o =
            PacketObservation::new(&cfg.thresholds, ip.key.proto, ip.headers_len + seg_size, seg_size, mid_flags, now);
        o.notes = ip.notes;
        account(ctx, stats, &o, full, &cfg);
        count_size(ingress, o.ip_len, full);
        let mut o =
            PacketObservation::new(&cfg.thresholds, ip.key.proto, ip.headers_len + last, last, ip.tcp_flags, now);
        o.notes = ip.notes;
        account(ctx, stats, &o, 1, &cfg);
        count_size(ingress, o.ip_len, 1);
    } else {
        let obs = PacketObservation::of(&cfg.thresholds, &ip, now);
        account(ctx, stats, &obs, 1, &cfg);
        count_size(ingress, obs.ip_len, 1);
        if obs.class == PacketClass::Control {
            sample(&Source::Tc(ctx), &ip, &obs, ctx.len(), direction, &cfg);
        }
    }
}

/// Parses a frame, counts what the parser noted, and what is not an IP packet.
#[inline(always)]
fn classify_frame(frame: &Frame, cfg: &Config) -> Option<&'static IpPacket> {
    let opts = Options { decap: cfg.flags & Config::DECAP != 0 };
    match parse(frame, Start::Ethernet, opts, &Scratch) {
        Parsed::Ip(ip) => {
            for (bit, c) in Note::COUNTED {
                if ip.notes & bit != 0 {
                    count(c, 1);
                }
            }
            if ip.decapsulated() {
                count(Counter::Decapsulated, 1);
            }
            converge(ip)
        }
        other => {
            if let Some(c) = other.counter() {
                count(c, 1);
            }
            None
        }
    }
}

/// Memory per CPU that the verifier does not track, where the parser's many paths
/// become one ([`Converge`]): a parsed packet, and an offset.
#[repr(C)]
struct ScratchSpace {
    ip: IpPacket,
    offset: u64,
    words: [u32; 8],
}

#[map(name = "SCRATCH")]
static SCRATCH: PerCpuArray<ScratchSpace> = PerCpuArray::with_max_entries(1, 0);

/// The kernel's [`Converge`]: through [`SCRATCH`].
struct Scratch;

impl Converge for Scratch {
    #[inline(always)]
    fn offset(&self, off: usize) -> usize {
        let Some(s) = SCRATCH.get_ptr_mut(0) else { return off };
        // SAFETY: this CPU's element of a per-CPU array; nothing else uses it while
        // this program runs on this CPU. Volatile, so the round trip stays.
        unsafe {
            core::ptr::write_volatile(&raw mut (*s).offset, off as u64);
            core::ptr::read_volatile(&raw const (*s).offset) as usize
        }
    }

    #[inline(always)]
    fn packet(&self, p: &mut IpPacket) {
        let Some(s) = SCRATCH.get_ptr_mut(0) else { return };
        // SAFETY: as above. Field by field: a whole-packet volatile copy would need
        // stack the program does not have.
        unsafe {
            let w = &raw mut (*s).words;
            for (i, v) in [
                &mut p.l3_offset,
                &mut p.l4_offset,
                &mut p.claim,
                &mut p.ip_len,
                &mut p.headers_len,
                &mut p.payload_len,
            ]
            .into_iter()
            .enumerate()
            {
                core::ptr::write_volatile(&raw mut (*w)[i], *v);
                *v = core::ptr::read_volatile(&raw const (*w)[i]);
            }
            core::ptr::write_volatile(&raw mut (*w)[6], p.notes as u32);
            p.notes = core::ptr::read_volatile(&raw const (*w)[6]) as u8;
        }
    }
}

/// The packet, passed through [`SCRATCH`]: the parser's paths end in as many precise
/// states (offsets, lengths, notes), and without this the rest of the program would
/// be verified once per path.
#[inline(always)]
fn converge(ip: IpPacket) -> Option<&'static IpPacket> {
    let s = SCRATCH.get_ptr_mut(0)?;
    // SAFETY: as in `Scratch::offset`.
    unsafe {
        (*s).ip = ip;
        Some(&(*s).ip)
    }
}

/// Adds `n` wire packets to the flow's counters ([`flow_stats`]), or to the overflow
/// counters when the flow has no place in the table.
#[inline(always)]
fn account<C: EbpfContext>(
    ctx: &C,
    stats: Option<*mut FlowStats<KernelNs>>,
    obs: &PacketObservation<KernelNs>,
    n: u32,
    cfg: &Config,
) {
    if n == 0 {
        return;
    }
    if let Some(stats) = stats {
        // SAFETY: `stats` is this CPU's copy of the slot's counters ([`flow_stats`]),
        // a map element no other CPU writes.
        unsafe { (*stats).record_n(obs, n) };
        return;
    }
    count(Counter::FlowInsertFailures, 1);
    count(Counter::OverflowPackets, n as u64);
    count(Counter::OverflowBytes, n as u64 * obs.ip_len as u64);
    if cfg.flags & Config::LOG != 0 {
        warn!(ctx, "peerscope: flow table full, packet counted as overflow");
    }
}

/// This CPU's counters of the flow, found or inserted; `None` when the table is full.
#[inline(always)]
fn flow_stats(key: &FlowKey, cfg: &Config) -> Option<*mut FlowStats<KernelNs>> {
    let slot = find_slot(key, cfg)?;
    // SAFETY: a helper without arguments or preconditions.
    let cpu = unsafe { bpf_get_smp_processor_id() };
    FLOW_STATS.get_ptr_mut(Geometry::stats_index(cfg.slot_mask + 1, slot, cpu))
}

/// Walks the key's probe sequence: a live slot with the key is the flow; the first
/// empty slot is claimed for it. Busy and draining slots are stepped over.
///
/// The first probe, which settles almost every packet, is inline; the rest of the
/// walk runs in `bpf_loop` (inlined by the verifier into a plain loop), whose body
/// the verifier checks once: an open-coded loop of 64 probes made it re-check the
/// rest of the program for every iteration (seconds of load time).
#[inline(always)]
fn find_slot(key: &FlowKey, cfg: &Config) -> Option<u32> {
    let mut search =
        Search { key: *key.words(), start: slot_hash(key, cfg.hash_seed), mask: cfg.slot_mask, found: NOT_FOUND };
    if !step(&mut search, 0) {
        let ctx = &mut search as *mut Search as *mut c_void;
        // SAFETY: `probe_step` has the callback signature `bpf_loop` wants, and `ctx`
        // points at `search`, which outlives the call.
        unsafe { bpf_loop(MAX_PROBES - 1, probe_step as *mut c_void, ctx, 0) };
    }
    let found = search.found;
    if found == NOT_FOUND {
        return None;
    }
    let idx = found as u32;
    if found & KEY_FOUND != 0 {
        return Some(idx);
    }
    // A lost race for the empty slot (another CPU claimed it this instant) counts the
    // packet as overflow rather than searching again: rare, and never silent.
    let s = FLOW_SLOTS.get_ptr_mut(idx)?;
    match claim(s, key, cfg) {
        Claim::Won => Some(idx),
        Claim::Lost | Claim::Full => None,
    }
}

/// The state of one walk, on the caller's stack.
#[repr(C)]
struct Search {
    key: [u64; 5],
    start: u32,
    mask: u32,
    /// The slot, with [`KEY_FOUND`] set when it holds the key (else it is empty).
    found: u64,
}

const NOT_FOUND: u64 = u64::MAX;
const KEY_FOUND: u64 = 1 << 32;

/// Probe `i + 1` of the walk, as a `bpf_loop` callback: 1 stops the walk.
#[inline(never)]
extern "C" fn probe_step(i: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `find_slot` passes a pointer to its `Search`, alive and not otherwise
    // borrowed during the `bpf_loop` call.
    let c = unsafe { &mut *(ctx as *mut Search) };
    step(c, i as u32 + 1) as i64
}

/// Probe `i`: true when it ends the walk (the key's slot, or an empty one).
#[inline(always)]
fn step(c: &mut Search, i: u32) -> bool {
    let idx = probe(c.start, i, c.mask);
    let Some(s) = FLOW_SLOTS.get_ptr_mut(idx) else { return true };
    // SAFETY: `s` is an in-bounds array element from the map lookup; volatile because
    // other CPUs and the agent change the state word concurrently.
    let state = unsafe { core::ptr::read_volatile(&(*s).state) };
    if state == SlotState::EMPTY {
        c.found = idx as u64;
        return true;
    }
    // SAFETY: as above; a slot's key is written before its state becomes LIVE and
    // not again while it is, so a LIVE slot's key is stable (a torn key of a BUSY
    // slot is never compared: the state check below rejects it).
    let k = unsafe { (*s).key.words() };
    let w = &c.key;
    let differs = (k[0] ^ w[0]) | (k[1] ^ w[1]) | (k[2] ^ w[2]) | (k[3] ^ w[3]) | (k[4] ^ w[4]);
    if state == SlotState::LIVE && differs == 0 {
        c.found = idx as u64 | KEY_FOUND;
        return true;
    }
    false
}

enum Claim {
    Won,
    /// Another CPU took the slot first.
    Lost,
    /// The table holds `max_flows` flows already.
    Full,
}

/// Claims an empty slot for `key`. The live count is checked before (cheaply) and
/// after (exactly) the claim, so at most `max_flows` slots are ever live.
#[inline(always)]
fn claim(s: *mut FlowSlot, key: &FlowKey, cfg: &Config) -> Claim {
    let Some(hdr) = FLOW_TABLE.get_ptr_mut(0) else { return Claim::Full };
    let max = cfg.max_flows as u64;
    // SAFETY: `hdr` and `s` are in-bounds elements from map lookups; the state and
    // live words are 8-byte aligned `u64`s, shared with other CPUs and the agent only
    // through these atomic operations; the key is written while this CPU owns the
    // slot (BUSY), before the exchange that publishes it.
    unsafe {
        if core::ptr::read_volatile(&(*hdr).live) >= max {
            return Claim::Full;
        }
        let state = &raw mut (*s).state;
        if !atomic_cxchg::<u64, { SeqCst }, { SeqCst }>(state, SlotState::EMPTY, SlotState::BUSY).1 {
            return Claim::Lost;
        }
        let live = &raw mut (*hdr).live;
        if atomic_xadd::<u64, u64, { SeqCst }>(live, 1) >= max {
            atomic_xsub::<u64, u64, { SeqCst }>(live, 1);
            atomic_xchg::<u64, { SeqCst }>(state, SlotState::EMPTY);
            return Claim::Full;
        }
        (*s).key = *key;
        // A full barrier: the key is visible before the slot is.
        atomic_xchg::<u64, { SeqCst }>(state, SlotState::LIVE);
    }
    Claim::Won
}

/// Copies the first bytes of a control packet's payload to the ring buffer, within a
/// per-CPU budget of samples per second. Every sample is either sent or counted.
#[inline(always)]
fn sample(src: &Source, ip: &IpPacket, obs: &PacketObservation<KernelNs>, frame_len: u32, direction: u8, cfg: &Config) {
    if cfg.samples_per_sec == 0 {
        return;
    }
    let budget = match SAMPLE_BUDGET.get_ptr_mut(0) {
        Some(b) => b,
        None => return,
    };
    // SAFETY: this CPU's element of a per-CPU array; no other reference to it exists.
    let b = unsafe { &mut *budget };
    if obs.ts.0.wrapping_sub(b[0]) >= 1_000_000_000 {
        b[0] = obs.ts.0;
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
    // SAFETY: `s` is the ring-buffer record reserved above, sized and aligned for a
    // `ControlSample` and ours until `submit`.
    unsafe {
        (*s).key = ip.key;
        (*s).ts = obs.ts;
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
