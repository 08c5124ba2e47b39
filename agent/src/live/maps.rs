//! Reading the kernel program's maps: the per-CPU flow table and global counters.

use std::collections::HashMap;

use aya::maps::{IterableMap, Map, MapData, PerCpuArray, PerCpuHashMap};
use peerscope_abi::{names, Counter, FlowKey, FlowStats};

use super::{error::LiveError, pins::PinDir};

/// The maps the agent reads, however it got hold of them (fresh load or pins).
pub struct FlowMaps {
    pub flows: PerCpuHashMap<MapData, FlowKey, FlowStats>,
    pub counters: PerCpuArray<MapData, u64>,
}

/// One reading of the maps.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Per-flow counters, summed over CPUs; timestamps on the kernel's clock.
    pub flows: HashMap<FlowKey, FlowStats>,
    /// Global counters, summed over CPUs, indexed by [`Counter`].
    pub counters: Vec<u64>,
}

impl Snapshot {
    pub fn counter(&self, c: Counter) -> u64 {
        self.counters.get(c as usize).copied().unwrap_or(0)
    }
}

impl FlowMaps {
    pub fn from_maps(flows: Map, counters: Map) -> Result<Self, LiveError> {
        Ok(FlowMaps {
            flows: PerCpuHashMap::try_from(flows).map_err(|_| LiveError::MissingMap { name: "FLOWS" })?,
            counters: PerCpuArray::try_from(counters).map_err(|_| LiveError::MissingMap { name: "COUNTERS" })?,
        })
    }

    /// Opens the maps a running agent pinned for `iface`.
    pub fn open_pinned(pins: &PinDir) -> Result<Self, LiveError> {
        if !pins.exists() {
            return Err(LiveError::NotAttached { iface: pins.iface.clone(), dir: pins.dir.clone() });
        }
        let open = |name: &'static str| -> Result<Map, LiveError> {
            let data = MapData::from_pin(pins.map(name)).map_err(|source| LiveError::Map { name, source })?;
            Map::from_map_data(data).map_err(|source| LiveError::Map { name, source })
        };
        Self::from_maps(open(names::FLOWS)?, open(names::COUNTERS)?)
    }

    /// Reads every flow and counter. Per-CPU copies are merged with
    /// [`FlowStats::merge`], the same fold the offline path uses.
    pub fn snapshot(&self) -> Result<Snapshot, LiveError> {
        let mut flows = HashMap::new();
        self.for_each_flow(|k, s| {
            flows.insert(*k, *s);
        })?;
        Ok(Snapshot { flows, counters: self.counters()? })
    }

    /// Calls `f` with every flow (per-CPU copies merged), reading the table in
    /// batches where the kernel can, key by key where it cannot.
    pub fn for_each_flow(&self, mut f: impl FnMut(&FlowKey, &FlowStats)) -> Result<(), LiveError> {
        use std::os::fd::{AsFd, AsRawFd};
        let ncpu = aya::util::nr_cpus().map_err(|(_, e)| LiveError::Io { what: "reading", path: "/sys/devices/system/cpu/possible".into(), source: e })?;
        let fd = self.flows.map().fd().as_fd().as_raw_fd();
        let mut seen = 0usize;
        let batched = super::batch::for_each_chunk::<FlowKey, FlowStats>(fd, ncpu, 4096, |keys, values| {
            for (i, key) in keys.iter().enumerate() {
                let mut total = FlowStats::default();
                for v in &values[i * ncpu..(i + 1) * ncpu] {
                    total.merge(v);
                }
                f(key, &total);
            }
            seen += keys.len();
        });
        match batched {
            Ok(()) => Ok(()),
            // Only before anything was delivered can the slow path take over cleanly.
            Err(e) if seen == 0 => {
                tracing::debug!("batch lookup unavailable ({e}); reading flows one by one");
                for (k, s) in self.flows_iterated()? {
                    f(&k, &s);
                }
                Ok(())
            }
            Err(e) => Err(LiveError::Io { what: "batch-reading the flow table", path: "FLOWS".into(), source: e }),
        }
    }

    /// The global counters, summed over CPUs, indexed by [`Counter`].
    pub fn counters(&self) -> Result<Vec<u64>, LiveError> {
        let mut counters = Vec::with_capacity(Counter::COUNT as usize);
        for c in Counter::ALL {
            let per_cpu = self
                .counters
                .get(&(c as u32), 0)
                .map_err(|source| LiveError::Map { name: "COUNTERS", source })?;
            counters.push(per_cpu.iter().sum());
        }
        Ok(counters)
    }

    /// The table key by key (two syscalls per flow): the fallback.
    pub fn flows_iterated(&self) -> Result<HashMap<FlowKey, FlowStats>, LiveError> {
        let mut flows = HashMap::new();
        for item in self.flows.iter() {
            let (key, per_cpu) = item.map_err(|source| LiveError::Map { name: "FLOWS", source })?;
            let mut total = FlowStats::default();
            for v in per_cpu.iter() {
                total.merge(v);
            }
            flows.insert(key, total);
        }
        Ok(flows)
    }

    /// Removes flows from the kernel table (after their counts were taken), so a full
    /// table makes room for new flows.
    pub fn remove(&mut self, keys: &[FlowKey]) -> Result<(), LiveError> {
        for k in keys {
            match self.flows.remove(k) {
                Ok(()) | Err(aya::maps::MapError::KeyNotFound) => {}
                Err(source) => return Err(LiveError::Map { name: "FLOWS", source }),
            }
        }
        Ok(())
    }

    pub fn capacity(&self) -> u32 {
        // max_entries is fixed at load time; read from the map info.
        self.flows.map().info().map(|i| i.max_entries()).unwrap_or(0)
    }
}
