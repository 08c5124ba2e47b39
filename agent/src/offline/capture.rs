//! Streaming reader of pcap and pcapng files with exact byte offsets.
//!
//! The file is read in chunks into one buffer and parsed with pcap-file's slice
//! parsers, so memory stays at the size of the largest record whatever the file
//! size, and the offset of every record is known: on damage the reader says which
//! packet and byte it stopped at and why.

use std::io::Read;

use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{DataLink, PcapError};

const CHUNK: usize = 1 << 20;
/// A record larger than this is taken as corruption rather than read into memory.
const MAX_RECORD: usize = 256 << 20;

/// One captured frame.
#[derive(Debug)]
pub struct Frame<'a> {
    /// Unix ns.
    pub ts_ns: u64,
    pub linktype: DataLink,
    pub data: &'a [u8],
    pub orig_len: u32,
}

/// Where and why reading stopped before the end of the file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Damage {
    /// 1-based number of the packet record that could not be read (packets before
    /// it were all read and analysed).
    pub packet_number: u64,
    /// Offset in the file of the record that could not be read.
    pub byte_offset: u64,
    pub reason: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stopped at packet {} (byte offset {}): {}", self.packet_number, self.byte_offset, self.reason)
    }
}

/// The file is not a capture peerscope can read at all.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("cannot read the capture")]
    Io(#[from] std::io::Error),
    #[error("not a pcap or pcapng file (first bytes {0:02x?})")]
    UnknownMagic(Vec<u8>),
    #[error("bad capture file header: {0}")]
    Header(String),
}

enum Format {
    Pcap(PcapParser),
    PcapNg(PcapNgParser),
}

/// Pulls frames out of a pcap/pcapng byte stream.
pub struct CaptureReader<R> {
    src: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    offset: u64,
    eof: bool,
    format: Format,
    frames: u64,
    last_ts_ns: u64,
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header.
    pub fn new(src: R) -> Result<Self, FormatError> {
        let mut r = CaptureReader {
            src,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            format: Format::Pcap(PcapParser::new(&PCAP_STUB).expect("stub header parses").1),
            frames: 0,
            last_ts_ns: 0,
        };
        loop {
            let avail = &r.buf[r.start..r.end];
            let parsed = if avail.len() < 4 {
                Err(PcapError::IncompleteBuffer)
            } else {
                match avail[..4] {
                    [0x0a, 0x0d, 0x0d, 0x0a] => {
                        PcapNgParser::new(avail).map(|(rem, p)| (avail.len() - rem.len(), Format::PcapNg(p)))
                    }
                    [0xa1, 0xb2, 0xc3, 0xd4]
                    | [0xd4, 0xc3, 0xb2, 0xa1]
                    | [0xa1, 0xb2, 0x3c, 0x4d]
                    | [0x4d, 0x3c, 0xb2, 0xa1] => {
                        PcapParser::new(avail).map(|(rem, p)| (avail.len() - rem.len(), Format::Pcap(p)))
                    }
                    _ => return Err(FormatError::UnknownMagic(avail[..4].to_vec())),
                }
            };
            match parsed {
                Ok((used, f)) => {
                    r.format = f;
                    r.advance(used);
                    return Ok(r);
                }
                Err(PcapError::IncompleteBuffer) if !r.eof => r.fill()?,
                Err(PcapError::IncompleteBuffer) => {
                    return Err(FormatError::Header(format!("file ends inside the header ({} bytes)", r.end - r.start)))
                }
                Err(e) => return Err(FormatError::Header(e.to_string())),
            }
        }
    }

    /// Bytes of the file consumed so far (parsed records).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    fn advance(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// Moves unread bytes to the front and reads more; grows the buffer for a
    /// record larger than it.
    fn fill(&mut self) -> std::io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let n = (self.buf.len() * 2).min(MAX_RECORD.max(self.buf.len()));
            self.buf.resize(n, 0);
        }
        let n = loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            self.eof = true;
        }
        self.end += n;
        Ok(())
    }

    fn damage(&self, reason: String) -> Damage {
        Damage { packet_number: self.frames + 1, byte_offset: self.offset, reason }
    }

    /// The next frame, `Ok(None)` at a clean end of file, `Err` where the file is
    /// damaged (nothing after it is read).
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Damage> {
        loop {
            let avail_len = self.end - self.start;
            let step = {
                let avail = &self.buf[self.start..self.end];
                let base = avail.as_ptr() as usize;
                match &mut self.format {
                    Format::Pcap(p) => match pcap_record(p, avail) {
                        Ok((used, ts, off, len, orig)) => {
                            Ok(Some((used, Some((ts, p.header().datalink, off, len, orig)))))
                        }
                        Err(e) => Err(e),
                    },
                    Format::PcapNg(p) => match p.next_block(avail) {
                        Ok((rem, block)) => {
                            let used = avail.len() - rem.len();
                            let frame = match block {
                                Block::EnhancedPacket(epb) => {
                                    let idb = p.interfaces().get(epb.interface_id as usize);
                                    let link = idb.map_or(DataLink::ETHERNET, |i| i.linktype);
                                    let ts = scale_ts(
                                        epb.timestamp.as_nanos() as u64,
                                        idb.map(|i| i.options.as_slice()).unwrap_or(&[]),
                                    );
                                    Some((
                                        ts,
                                        link,
                                        epb.data.as_ptr() as usize - base,
                                        epb.data.len(),
                                        epb.original_len,
                                    ))
                                }
                                Block::SimplePacket(spb) => {
                                    let link = p.interfaces().first().map_or(DataLink::ETHERNET, |i| i.linktype);
                                    Some((
                                        self.last_ts_ns,
                                        link,
                                        spb.data.as_ptr() as usize - base,
                                        spb.data.len(),
                                        spb.original_len,
                                    ))
                                }
                                _ => None,
                            };
                            Ok(Some((used, frame)))
                        }
                        Err(e) => Err(RecordError::Pcap(e)),
                    },
                }
            };
            match step {
                Ok(Some((used, Some((ts, link, off, len, orig))))) => {
                    let data_start = self.start + off;
                    self.advance(used);
                    self.frames += 1;
                    self.last_ts_ns = ts;
                    return Ok(Some(Frame {
                        ts_ns: ts,
                        linktype: link,
                        data: &self.buf[data_start..data_start + len],
                        orig_len: orig,
                    }));
                }
                Ok(Some((used, None))) => self.advance(used),
                Ok(None) => unreachable!("the parsers return a record or an error"),
                Err(RecordError::Pcap(PcapError::IncompleteBuffer)) => {
                    if self.eof {
                        if avail_len == 0 {
                            return Ok(None);
                        }
                        return Err(self
                            .damage(format!("file ends inside a record ({avail_len} bytes left, record incomplete)")));
                    }
                    if avail_len >= MAX_RECORD {
                        return Err(self.damage(format!("record larger than {MAX_RECORD} bytes")));
                    }
                    self.fill().map_err(|e| self.damage(format!("read error: {e}")))?;
                }
                Err(RecordError::Pcap(e)) => return Err(self.damage(format!("corrupt record: {e}"))),
                Err(RecordError::Corrupt(why)) => return Err(self.damage(format!("corrupt record: {why}"))),
            }
        }
    }
}

/// Why a record could not be parsed.
enum RecordError {
    Pcap(PcapError),
    Corrupt(String),
}

/// Largest captured length accepted beyond the file's snap length (Wireshark's
/// limit for most link types): anything longer is a corrupt record header.
const MAX_CAPLEN: u32 = 262_144;

/// One classic pcap record: (bytes used, ts ns, data offset, data length, original
/// length). Checked here rather than by pcap-file, which rejects packets whose
/// original length exceeds the snap length: every capture taken with `-s` has them.
fn pcap_record(p: &PcapParser, avail: &[u8]) -> Result<(usize, u64, usize, usize, u32), RecordError> {
    let h = p.header();
    if avail.len() >= 16 {
        let field = |i: usize| {
            let b = [avail[i], avail[i + 1], avail[i + 2], avail[i + 3]];
            match h.endianness {
                pcap_file::Endianness::Big => u32::from_be_bytes(b),
                pcap_file::Endianness::Little => u32::from_le_bytes(b),
            }
        };
        let (ts_frac, incl) = (field(4), field(8));
        let limit = h.snaplen.max(MAX_CAPLEN);
        if incl > limit {
            return Err(RecordError::Corrupt(format!("captured length {incl} exceeds the snap length ({limit})")));
        }
        let frac_limit =
            if h.ts_resolution == pcap_file::TsResolution::MicroSecond { 1_000_000 } else { 1_000_000_000 };
        if ts_frac >= frac_limit {
            return Err(RecordError::Corrupt(format!("timestamp fraction {ts_frac} out of range")));
        }
    }
    let (rem, raw) = p.next_raw_packet(avail).map_err(RecordError::Pcap)?;
    let frac_ns = match h.ts_resolution {
        pcap_file::TsResolution::MicroSecond => raw.ts_frac as u64 * 1000,
        pcap_file::TsResolution::NanoSecond => raw.ts_frac as u64,
    };
    let ts = raw.ts_sec as u64 * 1_000_000_000 + frac_ns;
    let off = raw.data.as_ptr() as usize - avail.as_ptr() as usize;
    Ok((avail.len() - rem.len(), ts, off, raw.data.len(), raw.orig_len.max(raw.incl_len)))
}

/// pcapng timestamps are in units of `if_tsresol` (default 10^-6 s).
fn scale_ts(units: u64, opts: &[InterfaceDescriptionOption<'_>]) -> u64 {
    let resol = opts
        .iter()
        .find_map(|o| if let InterfaceDescriptionOption::IfTsResol(r) = o { Some(*r) } else { None })
        .unwrap_or(6);
    if resol & 0x80 == 0 {
        let exp = (resol & 0x7f) as u32;
        if exp <= 9 {
            units.saturating_mul(10u64.pow(9 - exp))
        } else {
            units / 10u64.saturating_pow(exp - 9)
        }
    } else {
        let exp = (resol & 0x7f) as u32;
        ((units as u128 * 1_000_000_000u128) >> exp.min(127)) as u64
    }
}

/// A valid little-endian pcap header, to have a parser before the real one is read.
const PCAP_STUB: [u8; 24] = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0];
