//! The flow table's layout, shared by the kernel program (which inserts and counts)
//! and the agent (which reads it through `mmap` and retires idle flows).
//!
//! Why not a BPF hash map: reading a million-entry hash map costs one bucket walk and
//! two `copy_to_user` per bucket even with `BPF_MAP_LOOKUP_BATCH` (~0.5 s here), and
//! its lookup hashes the 40-byte key with jhash on every packet. This table lives in
//! two `BPF_F_MMAPABLE` arrays instead:
//!
//! * `FLOW_SLOTS`: an open-addressing table of [`FlowSlot`]s (key + state), triangular
//!   probing, at most half full, so a packet's flow is almost always its first probe;
//! * `FLOW_STATS`: one [`crate::FlowStats`] per slot per CPU, CPU-major
//!   ([`Geometry::stats_index`]): each CPU updates its own copy without atomics and
//!   without sharing cache lines with another CPU.
//!
//! The agent maps both into its memory and reads a full table with no system call.
//!
//! Slot life cycle ([`SlotState`]): `EMPTY -> BUSY` (a CPU claims it with a
//! compare-and-swap) `-> LIVE` (key written) `-> DRAINING` (the agent retires it:
//! packets no longer match it) `-> EMPTY` (at the agent's next poll, after it read the
//! last counts and zeroed them). Only the kernel claims, only the agent retires, so
//! no count is lost between a reading and a removal. A rare race (two CPUs inserting
//! the same new flow at once) may give a flow two slots; readers sum slots by key.

use bytemuck::{Pod, Zeroable};

use crate::flow::FlowKey;

/// States of a [`FlowSlot`] (its `state` word).
pub struct SlotState;

impl SlotState {
    pub const EMPTY: u64 = 0;
    /// Claimed by a CPU that is writing the key; not yet readable.
    pub const BUSY: u64 = 1;
    pub const LIVE: u64 = 2;
    /// Retired by the agent: no new packet is counted in it.
    pub const DRAINING: u64 = 3;
}

/// One slot of the open-addressing table.
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct FlowSlot {
    pub key: FlowKey,
    /// A [`SlotState`]; written atomically.
    pub state: u64,
}

const _: () = assert!(core::mem::size_of::<FlowSlot>() == 48);

/// Table-wide state (`FLOW_TABLE`, one element): how many flows are in the table, and
/// what a later agent needs to take the table over.
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct TableHeader {
    /// Slots claimed and not yet released (kernel adds, agent subtracts; atomic).
    pub live: u64,
    /// The load-time [`Geometry`] and hash seed, written by the agent that loaded
    /// the program.
    pub max_flows: u32,
    pub slots: u32,
    pub cpus: u32,
    pub _pad: u32,
    pub hash_seed: u64,
    pub _reserved: [u64; 4],
}

const _: () = assert!(core::mem::size_of::<TableHeader>() == 64);

/// Probes before an insertion gives up (and counts the packet as overflow). At most
/// half the slots are ever live; with triangular probing the longest sequence seen
/// when filling a table of 2^21 slots with 2^20 flows was 21 probes.
pub const MAX_PROBES: u32 = 64;

/// Sizes of the table for a flow limit and a number of (possible) CPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// At most this many flows are live.
    pub max_flows: u32,
    /// Slots in `FLOW_SLOTS`: a power of two, at least twice `max_flows`.
    pub slots: u32,
    pub cpus: u32,
}

impl Geometry {
    pub fn new(max_flows: u32, cpus: u32) -> Self {
        let max_flows = max_flows.max(1);
        let slots = (max_flows as u64 * 2).next_power_of_two().clamp(8, 1 << 31) as u32;
        Geometry { max_flows, slots, cpus: cpus.max(1) }
    }

    /// The geometry for `max_flows`, if that many flows fit in arrays the kernel can
    /// index (fewer than 2^32 entries in `FLOW_STATS`) and `max_flows` is not 0.
    pub fn checked(max_flows: u32, cpus: u32) -> Option<Self> {
        let g = Self::new(max_flows, cpus);
        let slots = (max_flows as u64 * 2).next_power_of_two().max(8);
        (max_flows > 0 && slots * g.cpus as u64 <= u32::MAX as u64).then_some(g)
    }

    /// The largest `max_flows` that [`Self::checked`] accepts on `cpus` CPUs.
    pub fn max_flows_limit(cpus: u32) -> u32 {
        // The largest power of two of slots whose per-CPU copies stay below 2^32.
        let most = (u32::MAX as u64 / cpus.max(1) as u64).min(1 << 31);
        let slots = 1u64 << (63 - most.leading_zeros());
        (slots / 2) as u32
    }

    /// Entries of `FLOW_STATS`.
    pub fn stats_entries(&self) -> u32 {
        self.slots * self.cpus
    }

    #[inline(always)]
    pub fn mask(&self) -> u32 {
        self.slots - 1
    }

    /// Where CPU `cpu`'s counters of slot `slot` live: CPU-major, so one CPU's copies
    /// are contiguous and no two CPUs write the same cache line.
    #[inline(always)]
    pub fn stats_index(slots: u32, slot: u32, cpu: u32) -> u32 {
        cpu * slots + slot
    }
}

/// The slot a key's probe sequence starts at. A multiply-xorshift over the key's five
/// words: a few instructions in the kernel, against jhash's dozens; the seed is
/// random per load, so remote senders cannot aim their flows at one probe run.
#[inline(always)]
pub fn slot_hash(key: &FlowKey, seed: u64) -> u32 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let w = key.words();
    let mut h = seed ^ K;
    let mut i = 0;
    while i < 5 {
        h = (h ^ w[i]).wrapping_mul(K);
        h ^= h >> 29;
        i += 1;
    }
    (h ^ (h >> 32)) as u32
}

/// The `i`-th probe of a sequence starting at `start`: offsets 0, 1, 3, 6, 10, …
/// (triangular numbers visit every slot of a power-of-two table, and spread out
/// faster than linear probing, whose runs of neighbours grow into long clusters).
#[inline(always)]
pub fn probe(start: u32, i: u32, mask: u32) -> u32 {
    start.wrapping_add(i.wrapping_mul(i.wrapping_add(1)) / 2) & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::ipv4;

    #[test]
    fn test_geometry_keeps_the_table_at_most_half_full() {
        for (max, slots) in [(1, 8), (4, 8), (5, 16), (65_536, 131_072), (100_000, 262_144), (1 << 20, 1 << 21)] {
            let g = Geometry::new(max, 2);
            assert_eq!(g.slots, slots, "max_flows {max}");
            assert!(g.slots.is_power_of_two());
            assert!(g.slots as u64 >= 2 * g.max_flows as u64);
            assert_eq!(g.stats_entries(), slots * 2);
        }
        assert_eq!(Geometry::stats_index(8, 3, 1), 11);
        // Limits: FLOW_STATS must stay below 2^32 entries.
        assert!(Geometry::checked(0, 2).is_none());
        for cpus in [1, 2, 3, 64] {
            let limit = Geometry::max_flows_limit(cpus);
            let g = Geometry::checked(limit, cpus).unwrap_or_else(|| panic!("{limit} flows on {cpus} CPUs"));
            assert!(g.stats_entries() as u64 <= u32::MAX as u64);
            assert!(Geometry::checked(limit + 1, cpus).is_none(), "{} flows on {cpus} CPUs", limit + 1);
        }
    }

    #[test]
    fn test_hash_depends_on_every_field_and_the_seed() {
        let k = FlowKey::new(17, ipv4(192, 0, 2, 1), 4004, ipv4(198, 51, 100, 7), 8008);
        let h = slot_hash(&k, 1);
        assert_eq!(h, slot_hash(&k, 1));
        assert_ne!(h, slot_hash(&k, 2));
        assert_ne!(h, slot_hash(&k.reversed(), 1));
        assert_ne!(h, slot_hash(&FlowKey::new(6, ipv4(192, 0, 2, 1), 4004, ipv4(198, 51, 100, 7), 8008), 1));
        assert_ne!(h, slot_hash(&FlowKey::new(17, ipv4(192, 0, 2, 1), 4005, ipv4(198, 51, 100, 7), 8008), 1));
        // Sequential keys spread over the slots (no probe run builds up).
        let mask = (1u32 << 16) - 1;
        let mut used = [0u8; 1 << 16];
        for i in 0..(1u32 << 15) {
            let b = i.to_be_bytes();
            let k = FlowKey::v4(17, [198, 51, b[2], b[3]], [203, 0, 113, 1], 4004, 4004);
            used[(slot_hash(&k, 7) & mask) as usize] += 1;
        }
        let crowded = used.iter().filter(|&&n| n > 4).count();
        assert!(crowded < 64, "{crowded} slots got more than 4 keys");
        assert_eq!(probe(mask, 1, mask), 0);
        // The probe sequence visits every slot of a power-of-two table.
        let mut seen = [false; 64];
        for i in 0..64 {
            seen[probe(5, i, 63) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
