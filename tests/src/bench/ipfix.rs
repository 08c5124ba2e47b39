//! The IPFIX exporter on one core: records per second it builds, encodes and sends
//! over UDP to a collector socket on loopback (drained by another thread), its CPU per
//! record, and the export volume per 1000 flows per window; beside it, the reference:
//! the same flows as the output schema's JSON (what `--jsonl`/`--json` carry).

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use peerscope::engine::{MonitoredHost, WindowFlows};
use peerscope::export::ipfix::{window_records, EncoderConfig, EndReason, Exporter, Transport, TransportConfig};
use peerscope::schema::Flow;
use peerscope_abi::{FlowKey, FlowStats, PacketObservation, Thresholds, UnixNs};

use super::Section;

pub const TITLE: &str = "IPFIX export";

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    // SAFETY: an all-zero timespec is valid; clock_gettime fills it.
    let mut t: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: a valid clock id and a pointer to a live timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// A window of `n` flows of X (192.0.2.10) with peers, a few packets each.
fn window(n: u32) -> WindowFlows {
    let t = Thresholds::STUDIES;
    let x = std::net::IpAddr::from([192, 0, 2, 10]);
    let mut w = WindowFlows::new(1_700_000_000_000_000_000, 20_000_000_000);
    for i in 0..n {
        let peer = std::net::IpAddr::from([198, 51, (100 + i / 65_536) as u8, (i / 256 % 256) as u8]);
        let proto = if i % 3 == 0 { 6 } else { 17 };
        let k = if i % 2 == 0 {
            FlowKey::new(proto, peer, 1024 + (i % 60_000) as u16, x, 4004)
        } else {
            FlowKey::new(proto, x, 4004, peer, 1024 + (i % 60_000) as u16)
        };
        let mut s = FlowStats::default();
        for j in 0..(1 + i % 7) as u64 {
            let len = [60u32, 400, 1100, 1400][(i as usize + j as usize) % 4];
            s.record(&PacketObservation::new(&t, proto, len, len - 40, 0x10, UnixNs(w.start_ns + j * 1_000_000)));
        }
        w.flows.push((k, s));
    }
    w
}

pub fn run(flows: u32, windows: u32) -> anyhow::Result<Section> {
    let host = MonitoredHost::new([std::net::IpAddr::from([192, 0, 2, 10])]);
    let w = window(flows);
    let collector = UdpSocket::bind("127.0.0.1:0")?;
    collector.set_read_timeout(Some(Duration::from_millis(100)))?;
    let addr = collector.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let drain = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut n, mut bytes) = (0u64, 0u64);
            let mut buf = [0u8; 65536];
            while !stop.load(Ordering::Relaxed) {
                if let Ok(len) = collector.recv(&mut buf) {
                    n += 1;
                    bytes += len as u64;
                }
            }
            (n, bytes)
        })
    };
    let mut t = TransportConfig::new(addr, Transport::Udp);
    // Templates once a second, as a deployment might; the rest is data.
    t.template_refresh = Duration::from_secs(1);
    let mut e = Exporter::open(EncoderConfig::new(32473, Thresholds::STUDIES), &t)?;
    let (wall, cpu) = (Instant::now(), thread_cpu());
    for _ in 0..windows {
        let recs = window_records(&w, Some(&host), EndReason::ActiveTimeout);
        e.export(&recs);
    }
    let (ipfix_wall, ipfix_cpu) = (wall.elapsed(), thread_cpu() - cpu);
    let s = e.close(Duration::ZERO);
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (received, _) = drain.join().expect("drain thread");

    // The reference: the same flows as the schema's JSON, one line each.
    let (wall, cpu) = (Instant::now(), thread_cpu());
    let mut json_bytes = 0u64;
    for _ in 0..windows {
        for (k, d) in &w.flows {
            let f = Flow::new(k, d, Some(&host)).with_interval(d, 20.0);
            json_bytes += serde_json::to_vec(&f)?.len() as u64 + 1;
        }
    }
    let (json_wall, json_cpu) = (wall.elapsed(), thread_cpu() - cpu);

    let records = flows as u64 * windows as u64;
    let per_s = |d: Duration| records as f64 / d.as_secs_f64();
    let ns_per = |d: Duration| d.as_nanos() as f64 / records as f64;
    let data_bytes_per_1000 = s.bytes_sent as f64 / (windows as f64 * flows as f64 / 1000.0);
    let body = format!(
        "One window of {flows} flows exported {windows} times over UDP to a socket on loopback (one core builds \
         the records from the window's deltas, encodes and sends them; another drains the socket). Reference: \
         the same flows written as the output schema's JSON (a `--jsonl`-like line each), not sent.\n\n\
         | | records/s | CPU per record | bytes per 1000 flows per window |\n|---|---:|---:|---:|\n\
         | IPFIX (templates every second included) | {:.0} | {:.0} ns | {:.0} |\n\
         | JSON of the same flows (reference) | {:.0} | {:.0} ns | {:.0} |\n\n\
         The exporter sent {} messages ({} records, {} lost by the socket); the collector socket received {received} \
         datagrams (the rest overflowed its receive buffer: a collector's matter). IPFIX is {:.1}× smaller than the JSON and costs {:.2}× its CPU per record.\n",
        per_s(ipfix_wall),
        ns_per(ipfix_cpu),
        data_bytes_per_1000,
        per_s(json_wall),
        ns_per(json_cpu),
        json_bytes as f64 / (windows as f64 * flows as f64 / 1000.0),
        s.messages_sent,
        s.records_sent,
        s.records_dropped,
        json_bytes as f64 / s.bytes_sent.max(1) as f64,
        ipfix_cpu.as_secs_f64() / json_cpu.as_secs_f64().max(1e-9),
    );
    Ok(Section { title: TITLE.into(), body })
}
