//! Reading the kernel program's maps: the flow table (mapped into our memory, see
//! [`peerscope_abi::table`]) and the global counters.

use std::{
    collections::HashMap,
    os::fd::{AsFd, AsRawFd},
    ptr::NonNull,
    sync::atomic::{AtomicU64, Ordering},
};

use aya::maps::{Map, MapData, PerCpuArray};
#[cfg(feature = "test-support")]
use peerscope_abi::table::{probe, slot_hash, MAX_PROBES};
use peerscope_abi::{names, Counter, FlowKey, FlowSlot, FlowStats, Geometry, KernelNs, SlotState, TableHeader};

use super::{error::LiveError, netns::Target, pins::PinDir};

/// `BPF_F_MMAPABLE`: the array's memory can be mapped by userspace.
const BPF_F_MMAPABLE: u32 = 1 << 10;

/// A `BPF_F_MMAPABLE` array map, mapped shared into the agent's memory. The kernel
/// maps every page at once (and a mapped page cannot be dropped and faulted back), so
/// the big arrays are mapped for the length of one reading only: between polls the
/// agent's resident memory is its own.
struct MappedArray<T> {
    ptr: NonNull<T>,
    len: usize,
    bytes: usize,
}

// SAFETY: the mapping is plain shared memory; every access below is a volatile or
// atomic read/write of `Pod` data.
unsafe impl<T> Send for MappedArray<T> {}

impl<T: bytemuck::Pod> MappedArray<T> {
    /// The array's length, once its value type and flags are checked to be ours.
    fn checked_len(map: &MapData, name: &'static str) -> Result<usize, LiveError> {
        let info = map.info().map_err(|source| LiveError::Map { name, source })?;
        if info.value_size() as usize != std::mem::size_of::<T>() || info.map_flags() & BPF_F_MMAPABLE == 0 {
            // An object from another peerscope version left pinned.
            return Err(LiveError::MissingMap { name });
        }
        Ok(info.max_entries() as usize)
    }

    fn new(map: &MapData, name: &'static str) -> Result<Self, LiveError> {
        let len = Self::checked_len(map, name)?;
        let page = page_size();
        let bytes = (len * std::mem::size_of::<T>()).div_ceil(page) * page;
        let fd = map.fd().as_fd().as_raw_fd();
        // SAFETY: maps `bytes` of the array, which the kernel rounds up to whole pages.
        let p = unsafe {
            libc::mmap(std::ptr::null_mut(), bytes, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0)
        };
        if p == libc::MAP_FAILED {
            return Err(LiveError::Io {
                what: "mapping the flow table",
                path: name.into(),
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(MappedArray { ptr: NonNull::new(p as *mut T).expect("mmap returned null"), len, bytes })
    }

    fn at(&self, i: usize) -> *mut T {
        assert!(i < self.len, "index {i} outside a map of {}", self.len);
        // SAFETY: in bounds of the mapping.
        unsafe { self.ptr.as_ptr().add(i) }
    }

    fn read(&self, i: usize) -> T {
        // SAFETY: in bounds; the kernel writes concurrently, hence volatile.
        unsafe { std::ptr::read_volatile(self.at(i)) }
    }

    fn write(&self, i: usize, v: T) {
        // SAFETY: in bounds.
        unsafe { std::ptr::write_volatile(self.at(i), v) }
    }
}

impl<T> Drop for MappedArray<T> {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `new` mapped.
        unsafe { libc::munmap(self.ptr.as_ptr() as *mut _, self.bytes) };
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).max(4096) as usize
}

/// One slot in use, as read at a poll: counters summed over CPUs, timestamps on the
/// kernel's clock.
#[derive(Clone, Copy, Debug)]
pub struct SlotReading {
    pub slot: u32,
    pub key: FlowKey,
    pub stats: FlowStats<KernelNs>,
    /// Retired at an earlier poll: these are its last counts.
    pub draining: bool,
}

/// The maps the agent reads, however it got hold of them (fresh load or pins).
pub struct FlowMaps {
    slots: MapData,
    stats: MapData,
    /// The header stays mapped (one page): the live count is read at every poll.
    header: MappedArray<TableHeader>,
    _header_map: MapData,
    geometry: Geometry,
    /// The kernel's hash seed, for [`TableView::insert`].
    #[cfg(feature = "test-support")]
    seed: u64,
    pub counters: PerCpuArray<MapData, u64>,
    /// The packet-size histogram (`None`: an object without it, e.g. older pins).
    sizes: Option<PerCpuArray<MapData, u64>>,
}

/// The flow table mapped into memory for one reading or update ([`FlowMaps::view`]).
pub struct TableView<'a> {
    maps: &'a FlowMaps,
    slots: MappedArray<FlowSlot>,
    stats: MappedArray<FlowStats<KernelNs>>,
}

/// One reading of the maps.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Per-flow counters, summed over CPUs (and over the rare duplicate slots of one
    /// flow); timestamps on the kernel's clock.
    pub flows: HashMap<FlowKey, FlowStats<KernelNs>>,
    /// Global counters, summed over CPUs, indexed by [`Counter`].
    pub counters: Vec<u64>,
}

impl Snapshot {
    pub fn counter(&self, c: Counter) -> u64 {
        self.counters.get(c as usize).copied().unwrap_or(0)
    }
}

fn array_data(map: Map, name: &'static str) -> Result<MapData, LiveError> {
    match map {
        Map::Array(d) => Ok(d),
        _ => Err(LiveError::MissingMap { name }),
    }
}

/// Writes the table's header right after a load, so that readers (and a later agent
/// taking the table over) know its geometry and hash seed.
pub fn init_header(table: &MapData, g: Geometry, seed: u64) -> Result<(), LiveError> {
    let h = TableHeader {
        live: 0,
        max_flows: g.max_flows,
        slots: g.slots,
        cpus: g.cpus,
        _pad: 0,
        hash_seed: seed,
        _reserved: [0; 4],
    };
    MappedArray::<TableHeader>::new(table, "FLOW_TABLE")?.write(0, h);
    Ok(())
}

impl FlowMaps {
    /// The maps of a loaded object (`FLOW_SLOTS`, `FLOW_STATS`, `FLOW_TABLE`, `COUNTERS`).
    pub fn from_maps(slots: Map, stats: Map, table: Map, counters: Map) -> Result<Self, LiveError> {
        let table = array_data(table, "FLOW_TABLE")?;
        let header = MappedArray::<TableHeader>::new(&table, "FLOW_TABLE")?;
        let h = header.read(0);
        let geometry = Geometry { max_flows: h.max_flows, slots: h.slots, cpus: h.cpus };
        let (slots, stats) = (array_data(slots, "FLOW_SLOTS")?, array_data(stats, "FLOW_STATS")?);
        if !h.slots.is_power_of_two()
            || MappedArray::<FlowSlot>::checked_len(&slots, "FLOW_SLOTS")? != h.slots as usize
            || MappedArray::<FlowStats<KernelNs>>::checked_len(&stats, "FLOW_STATS")?
                != (h.slots as usize) * (h.cpus as usize)
        {
            return Err(LiveError::MissingMap { name: "FLOW_TABLE (its header does not match the table)" });
        }
        Ok(FlowMaps {
            slots,
            stats,
            header,
            _header_map: table,
            geometry,
            #[cfg(feature = "test-support")]
            seed: h.hash_seed,
            counters: PerCpuArray::try_from(counters).map_err(|_| LiveError::MissingMap { name: "COUNTERS" })?,
            sizes: None,
        })
    }

    /// Adds the packet-size histogram map (`SIZES`), when the object has one.
    pub fn with_sizes(mut self, sizes: Option<Map>) -> Self {
        self.sizes = sizes.and_then(|m| PerCpuArray::try_from(m).ok());
        self
    }

    /// The kernel's size histogram summed over CPUs ([`peerscope_abi::sizes`]
    /// layout), `None` without the map.
    pub fn sizes(&self) -> Result<Option<Vec<u64>>, LiveError> {
        let Some(m) = &self.sizes else { return Ok(None) };
        let mut out = Vec::with_capacity(peerscope_abi::sizes::SLOTS as usize);
        for i in 0..peerscope_abi::sizes::SLOTS {
            let per_cpu = m.get(&i, 0).map_err(|source| LiveError::Map { name: "SIZES", source })?;
            out.push(per_cpu.iter().sum());
        }
        Ok(Some(out))
    }

    /// Takes the table's maps out of a loaded object (tests and benchmarks, which run
    /// the programs with BPF_PROG_TEST_RUN).
    pub fn take_from(ebpf: &mut aya::Ebpf) -> Result<Self, LiveError> {
        let mut take = |name: &'static str| ebpf.take_map(name).ok_or(LiveError::MissingMap { name });
        Self::from_maps(
            take(names::FLOW_SLOTS)?,
            take(names::FLOW_STATS)?,
            take(names::FLOW_TABLE)?,
            take(names::COUNTERS)?,
        )
        .map(|m| m.with_sizes(ebpf.take_map(names::SIZES)))
    }

    /// Opens the maps an agent pinned for `target`.
    pub fn open_pinned(pins: &PinDir, target: &Target) -> Result<Self, LiveError> {
        if !pins.exists() {
            return Err(LiveError::NotAttached {
                target: target.describe(),
                iface: target.iface.clone(),
                dir: pins.dir.clone(),
            });
        }
        let open = |name: &'static str| -> Result<Map, LiveError> {
            let data = MapData::from_pin(pins.map(name)).map_err(|source| LiveError::Map { name, source })?;
            Map::from_map_data(data).map_err(|source| LiveError::Map { name, source })
        };
        Self::from_maps(
            open(names::FLOW_SLOTS)?,
            open(names::FLOW_STATS)?,
            open(names::FLOW_TABLE)?,
            open(names::COUNTERS)?,
        )
        .map(|m| m.with_sizes(open(names::SIZES).ok()))
    }

    /// The kernel's id of the table (its FLOW_SLOTS map): another load of the program
    /// is another table.
    pub fn table_id(&self) -> u32 {
        self.slots.info().map(|i| i.id()).unwrap_or(0)
    }

    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Maps the table for a reading or an update.
    pub fn view(&self) -> Result<TableView<'_>, LiveError> {
        Ok(TableView {
            maps: self,
            slots: MappedArray::new(&self.slots, "FLOW_SLOTS")?,
            stats: MappedArray::new(&self.stats, "FLOW_STATS")?,
        })
    }

    /// Reads every flow and counter, duplicate slots of one flow merged.
    pub fn snapshot(&self) -> Result<Snapshot, LiveError> {
        let mut flows: HashMap<FlowKey, FlowStats<KernelNs>> = HashMap::new();
        self.view()?.for_each_slot(|r| flows.entry(r.key).or_default().merge(&r.stats));
        Ok(Snapshot { flows, counters: self.counters()? })
    }

    fn live_counter(&self) -> &AtomicU64 {
        // SAFETY: an aligned u64 inside the mapping, which lives as long as `self`.
        unsafe { AtomicU64::from_ptr(&raw mut (*self.header.at(0)).live) }
    }

    /// Flows in the table (slots claimed and not yet released).
    pub fn live(&self) -> u64 {
        self.live_counter().load(Ordering::Acquire)
    }

    /// The global counters, summed over CPUs, indexed by [`Counter`].
    pub fn counters(&self) -> Result<Vec<u64>, LiveError> {
        let mut counters = Vec::with_capacity(Counter::COUNT as usize);
        for c in Counter::ALL {
            let per_cpu =
                self.counters.get(&(c as u32), 0).map_err(|source| LiveError::Map { name: "COUNTERS", source })?;
            counters.push(per_cpu.iter().sum());
        }
        Ok(counters)
    }

    /// Packets the programs have seen (ingress and egress, all CPUs): every packet is
    /// counted here before the flow table is touched.
    pub fn packets_seen(&self) -> Result<u64, LiveError> {
        let mut n = 0u64;
        for c in [Counter::IngressPackets, Counter::EgressPackets] {
            let per_cpu =
                self.counters.get(&(c as u32), 0).map_err(|source| LiveError::Map { name: "COUNTERS", source })?;
            n = n.wrapping_add(per_cpu.iter().sum());
        }
        Ok(n)
    }

    /// How many flows the table holds at most (fixed at load time).
    pub fn capacity(&self) -> u32 {
        self.geometry.max_flows
    }
}

impl TableView<'_> {
    /// Calls `f` with every slot in use (live or draining), per-CPU copies merged with
    /// [`FlowStats::merge`], the same fold the offline path uses. No system call: the
    /// table is read from memory.
    pub fn for_each_slot(&self, mut f: impl FnMut(&SlotReading)) {
        let slots = self.maps.geometry.slots;
        for i in 0..slots {
            let state = self.state(i).load(Ordering::Acquire);
            if state != SlotState::LIVE && state != SlotState::DRAINING {
                continue;
            }
            let key = self.slots.read(i as usize).key;
            let mut total = FlowStats::default();
            for cpu in 0..self.maps.geometry.cpus {
                total.merge(&self.stats.read(Geometry::stats_index(slots, i, cpu) as usize));
            }
            f(&SlotReading { slot: i, key, stats: total, draining: state == SlotState::DRAINING });
        }
    }

    /// Retires live slots: the kernel stops counting in them at once (a flow's next
    /// packet opens a new slot), and [`Self::release`] frees them at the next poll.
    pub fn retire(&self, slots: &[u32]) {
        for &s in slots {
            let _ = self.state(s).compare_exchange(
                SlotState::LIVE,
                SlotState::DRAINING,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }

    /// Frees retired slots whose last counts were read: zeroes their counters and makes
    /// them empty. Called a poll after [`Self::retire`], so no packet that found the
    /// slot live is still being counted into it.
    pub fn release(&self, slots: &[u32]) {
        let live = self.maps.live_counter();
        for &s in slots {
            let state = self.state(s);
            if state.load(Ordering::Acquire) != SlotState::DRAINING {
                continue;
            }
            for cpu in 0..self.maps.geometry.cpus {
                self.stats
                    .write(Geometry::stats_index(self.maps.geometry.slots, s, cpu) as usize, FlowStats::default());
            }
            state.store(SlotState::EMPTY, Ordering::Release);
            live.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// A slot's state word, shared with the kernel.
    fn state(&self, slot: u32) -> &AtomicU64 {
        // SAFETY: an aligned u64 inside the mapping, which lives as long as `self`.
        unsafe { AtomicU64::from_ptr(&raw mut (*self.slots.at(slot as usize)).state) }
    }

    /// Puts a flow with the given per-CPU counters into the table the way the kernel
    /// would (same hash, same probing, same claim): for tests and benchmarks that
    /// need a table of a given size without sending a million packets.
    /// `per_cpu` holds one set of counters per CPU ([`Geometry::cpus`]).
    #[cfg(feature = "test-support")]
    pub fn insert(&self, key: &FlowKey, per_cpu: &[FlowStats<KernelNs>]) -> Result<u32, LiveError> {
        let g = self.maps.geometry;
        assert_eq!(per_cpu.len(), g.cpus as usize, "one set of counters per CPU");
        let start = slot_hash(key, self.maps.seed);
        for i in 0..MAX_PROBES {
            let s = probe(start, i, g.mask());
            let state = self.state(s);
            if state.compare_exchange(SlotState::EMPTY, SlotState::BUSY, Ordering::AcqRel, Ordering::Relaxed).is_err() {
                continue;
            }
            if self.maps.live_counter().fetch_add(1, Ordering::AcqRel) >= g.max_flows as u64 {
                self.maps.live_counter().fetch_sub(1, Ordering::AcqRel);
                state.store(SlotState::EMPTY, Ordering::Release);
                break;
            }
            self.slots.write(s as usize, FlowSlot { key: *key, state: SlotState::BUSY });
            for (cpu, v) in per_cpu.iter().enumerate() {
                self.stats.write(Geometry::stats_index(g.slots, s, cpu as u32) as usize, *v);
            }
            state.store(SlotState::LIVE, Ordering::Release);
            return Ok(s);
        }
        Err(LiveError::Io {
            what: "inserting a flow:",
            path: "the flow table is full".into(),
            source: std::io::ErrorKind::StorageFull.into(),
        })
    }
}
