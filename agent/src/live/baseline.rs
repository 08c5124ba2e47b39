//! What the agent has reported, saved after every poll (`/run/peerscope/ID.baseline`,
//! replaced atomically), so that an agent taking over a program left attached — after
//! SIGKILL, a crash, or a restart with `--keep-attached` — reports only what is new:
//! the flow table's readings (each slot's key and counters), the open window's flows
//! and notes, the kernel counters at the last poll, and the JSON lines of a window closed at
//! that poll that may not have reached the `--jsonl` file yet (written again if not).
//!
//! Layout (native endianness: the file lives in `/run`, on this machine only):
//! a [`Header`], `counters` × u64, `slots` × [`SlotBaseline`], `window_flows` ×
//! [`WindowFlow`], `redo_len` bytes.

use std::path::Path;

use bytemuck::{Pod, Zeroable};
use peerscope_abi::{FlowKey, FlowStats, UnixNs};

use super::{error::LiveError, pins::write_private_parts, table::SlotBaseline};

const MAGIC: [u8; 8] = *b"PSBASE\0\x01";

#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct Header {
    magic: [u8; 8],
    /// The kernel id of the table's FLOW_SLOTS map: a baseline of another table (the
    /// program was loaded again) does not apply.
    table_id: u32,
    counters: u32,
    saved_unix_ns: u64,
    window_start_ns: u64,
    notes: WindowNotes,
    slots: u64,
    window_flows: u64,
    redo_offset: u64,
    redo_len: u64,
    has_redo: u32,
    _pad: u32,
}

const _: () = assert!(std::mem::size_of::<Header>() == 112);

/// What the open window's record will say beyond the engine's figures: polls that ran
/// late, packets the full table could not take, and why it may not be like others.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct WindowNotes {
    pub missed_polls: u64,
    pub overflow_packets: u64,
    pub overflow_bytes: u64,
    pub flow_insert_failures: u64,
    /// [`WindowNotes::AFTER_RESTART`], [`WindowNotes::INTERFACE_GONE`].
    pub flags: u64,
}

impl WindowNotes {
    /// The window began under an earlier agent, or its counts were taken over from one.
    pub const AFTER_RESTART: u64 = 1;
    /// The interface was gone for part of the window.
    pub const INTERFACE_GONE: u64 = 2;

    pub fn has(&self, flag: u64) -> bool {
        self.flags & flag != 0
    }

    /// As the window's documents say it, for a window of nominal length `nominal_len_ns`.
    pub fn conditions(&self, nominal_len_ns: u64) -> crate::schema::WindowConditions {
        crate::schema::WindowConditions {
            nominal_len_ns,
            missed_polls: self.missed_polls,
            overflow_packets: self.overflow_packets,
            overflow_bytes: self.overflow_bytes,
            flow_insert_failures: self.flow_insert_failures,
            after_restart: self.has(Self::AFTER_RESTART),
            interface_gone: self.has(Self::INTERFACE_GONE),
        }
    }
}

/// One flow of the open window.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct WindowFlow {
    pub key: FlowKey,
    pub stats: FlowStats<UnixNs>,
}

const _: () = assert!(std::mem::size_of::<WindowFlow>() == 144);

/// JSON lines produced at the poll that saved the baseline, and the length the
/// `--jsonl` file had before them: if the file still has that length, they never got
/// there and are written again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redo {
    pub offset: u64,
    pub bytes: Vec<u8>,
}

/// A saved baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Baseline {
    pub table_id: u32,
    pub saved_unix_ns: u64,
    pub slots: Vec<SlotBaseline>,
    pub window_start_ns: u64,
    pub window: Vec<WindowFlow>,
    pub notes: WindowNotes,
    /// The kernel's counters at the last poll.
    pub counters: Vec<u64>,
    pub redo: Option<Redo>,
}

/// What is saved, borrowed from the agent's state (nothing is copied).
pub struct Save<'a> {
    pub table_id: u32,
    pub saved_unix_ns: u64,
    /// The table's readings, then the slots read for the last time and not yet freed.
    pub slots: [&'a [SlotBaseline]; 2],
    pub window_start_ns: u64,
    pub window: &'a [WindowFlow],
    pub notes: WindowNotes,
    pub counters: &'a [u64],
    pub redo: Option<(u64, &'a [u8])>,
}

/// Writes the baseline atomically.
pub fn save(path: &Path, s: &Save) -> Result<(), LiveError> {
    let (redo_offset, redo) = s.redo.unwrap_or((0, &[]));
    let h = Header {
        magic: MAGIC,
        table_id: s.table_id,
        counters: s.counters.len() as u32,
        saved_unix_ns: s.saved_unix_ns,
        window_start_ns: s.window_start_ns,
        notes: s.notes,
        slots: (s.slots[0].len() + s.slots[1].len()) as u64,
        window_flows: s.window.len() as u64,
        redo_offset,
        redo_len: redo.len() as u64,
        has_redo: s.redo.is_some() as u32,
        _pad: 0,
    };
    write_private_parts(
        path,
        &[
            bytemuck::bytes_of(&h),
            bytemuck::cast_slice(s.counters),
            bytemuck::cast_slice(s.slots[0]),
            bytemuck::cast_slice(s.slots[1]),
            bytemuck::cast_slice(s.window),
            redo,
        ],
    )
}

/// Why a baseline file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("reading {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is no peerscope baseline of this version ({why})")]
    Format { path: String, why: String },
}

/// Reads a baseline; `Ok(None)` when there is none.
pub fn load(path: &Path) -> Result<Option<Baseline>, BaselineError> {
    let shown = || path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(BaselineError::Io { path: shown(), source }),
    };
    parse(&bytes).map(Some).map_err(|why| BaselineError::Format { path: shown(), why })
}

/// Splits `n` records of `T` off the front of `rest`, checking the length first.
fn take<T: Pod>(rest: &mut &[u8], n: u64, what: &str) -> Result<Vec<T>, String> {
    let size = std::mem::size_of::<T>() as u64;
    let len =
        n.checked_mul(size)
            .filter(|l| *l <= rest.len() as u64)
            .ok_or_else(|| format!("{n} {what} of {size} bytes claimed, {} bytes left", rest.len()))? as usize;
    let (head, tail) = rest.split_at(len);
    *rest = tail;
    // The file's bytes carry no alignment: copy out rather than cast in place.
    Ok(head.chunks_exact(size as usize).map(bytemuck::pod_read_unaligned).collect())
}

fn parse(bytes: &[u8]) -> Result<Baseline, String> {
    let hlen = std::mem::size_of::<Header>();
    if bytes.len() < hlen {
        return Err(format!("{} bytes, the header alone is {hlen}", bytes.len()));
    }
    let h: Header = bytemuck::pod_read_unaligned(&bytes[..hlen]);
    if h.magic != MAGIC {
        return Err(format!("magic {:02x?}", h.magic));
    }
    let mut rest = &bytes[hlen..];
    let counters = take::<u64>(&mut rest, h.counters as u64, "counters")?;
    let slots = take::<SlotBaseline>(&mut rest, h.slots, "slots")?;
    let window = take::<WindowFlow>(&mut rest, h.window_flows, "window flows")?;
    let redo_bytes = take::<u8>(&mut rest, h.redo_len, "redo bytes")?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the last record", rest.len()));
    }
    Ok(Baseline {
        table_id: h.table_id,
        saved_unix_ns: h.saved_unix_ns,
        slots,
        window_start_ns: h.window_start_ns,
        window,
        notes: h.notes,
        counters,
        redo: (h.has_redo != 0).then_some(Redo { offset: h.redo_offset, bytes: redo_bytes }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{flow::ipv4, KernelNs, PacketObservation, Thresholds};

    fn sample() -> (Vec<SlotBaseline>, Vec<WindowFlow>) {
        let k = FlowKey::new(17, ipv4(192, 0, 2, 1), 1, ipv4(192, 0, 2, 2), 2);
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 17, 1100, 1072, 0, KernelNs(5)));
        let mut w = FlowStats::default();
        w.record(&PacketObservation::new(&Thresholds::STUDIES, 17, 1100, 1072, 0, UnixNs(7)));
        (
            vec![
                SlotBaseline { key: k, stats: s, slot: 3, _pad: 0 },
                SlotBaseline { key: k.reversed(), stats: s, slot: 9, _pad: 0 },
            ],
            vec![WindowFlow { key: k, stats: w }],
        )
    }

    #[test]
    fn test_a_saved_baseline_loads_back() {
        let dir = std::env::temp_dir().join(format!("peerscope-baseline-{}", std::process::id()));
        let path = dir.join("x.baseline");
        let (slots, window) = sample();
        let save_one = |redo: Option<(u64, &[u8])>| {
            save(
                &path,
                &Save {
                    table_id: 42,
                    saved_unix_ns: 1000,
                    slots: [&slots[..1], &slots[1..]],
                    window_start_ns: 500,
                    window: &window,
                    notes: WindowNotes { missed_polls: 2, flags: WindowNotes::AFTER_RESTART, ..Default::default() },
                    counters: &[1, 2, 3],
                    redo,
                },
            )
            .unwrap();
            load(&path).unwrap().unwrap()
        };
        let b = save_one(Some((77, b"{\"type\":\"window\"}\n")));
        assert_eq!((b.table_id, b.saved_unix_ns, b.window_start_ns, b.notes.missed_polls), (42, 1000, 500, 2));
        assert!(b.notes.has(WindowNotes::AFTER_RESTART) && !b.notes.has(WindowNotes::INTERFACE_GONE));
        assert_eq!(b.slots, slots);
        assert_eq!(b.window, window);
        assert_eq!(b.counters, vec![1, 2, 3]);
        assert_eq!(b.redo, Some(Redo { offset: 77, bytes: b"{\"type\":\"window\"}\n".to_vec() }));
        assert_eq!(save_one(None).redo, None);
        assert!(load(&dir.join("none")).unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn test_damaged_files_are_refused_with_a_reason() {
        assert!(parse(b"short").unwrap_err().contains("header"));
        let mut h = Header::zeroed();
        h.magic = MAGIC;
        h.slots = u64::MAX;
        let e = parse(bytemuck::bytes_of(&h)).unwrap_err();
        assert!(e.contains("slots"), "{e}");
        h.slots = 0;
        let mut bytes = bytemuck::bytes_of(&h).to_vec();
        bytes.push(0);
        assert!(parse(&bytes).unwrap_err().contains("after the last record"));
        h.magic = *b"notours!";
        assert!(parse(bytemuck::bytes_of(&h)).unwrap_err().contains("magic"));
    }
}
