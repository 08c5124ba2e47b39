//! Captures nobody on the team wrote (`../shared/data/ndpi-corpus/`, see its
//! PROVENANCE.md) and peerscope's per-flow reading of a capture in the same terms as
//! [`crate::tshark`]'s.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::mpsc,
    time::Duration,
};

use peerscope::engine::MonitoredHost;
use peerscope::offline::{analyze_file, OfflineAnalysis, OfflineError, OfflineOptions};

use crate::tshark::{Counts, Flow};

/// The corpus directory: `../shared` beside the repository.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ndpi-corpus/pcap")
}

/// Every capture of the corpus, by name.
pub fn files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir().display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// peerscope's per-flow counts of a capture (the monitored host does not matter
/// to them: any address will do).
pub fn flows(a: &OfflineAnalysis) -> BTreeMap<Flow, Counts> {
    let mut m = BTreeMap::new();
    for f in &a.report.flows {
        let k = &f.key;
        let flow = Flow {
            tunnel: f.tunnel.map(|t| t.name()),
            proto: k.ip_protocol,
            src: k.src_ip,
            sport: k.src_port,
            dst: k.dst_ip,
            dport: k.dst_port,
        };
        let c: &mut Counts = m.entry(flow).or_default();
        c.packets += f.total.classes.packets;
        c.bytes += f.total.classes.bytes;
    }
    m
}

/// Analyses a capture on a thread of its own, failing the test if it takes longer than
/// `limit` (a hang) or panics.
pub fn analyze(path: &Path, decap: bool, limit: Duration) -> Result<OfflineAnalysis, OfflineError> {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let host = MonitoredHost::new(["192.0.2.1".parse().unwrap()]);
        let _ = tx.send(analyze_file(&p, OfflineOptions { host: Some(host), decap, ..Default::default() }));
    });
    match rx.recv_timeout(limit) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{}: analysis still running after {limit:?}", path.display()),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{}: the analysis panicked", path.display()),
    }
}

/// The flows on which two readings differ: (flow, peerscope's, tshark's).
pub fn differences(
    ours: &BTreeMap<Flow, Counts>,
    theirs: &BTreeMap<Flow, Counts>,
) -> Vec<(Flow, Option<Counts>, Option<Counts>)> {
    let mut keys: Vec<&Flow> = ours.keys().chain(theirs.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| ours.get(*k) != theirs.get(*k))
        .map(|k| ((*k).clone(), ours.get(k).copied(), theirs.get(k).copied()))
        .collect()
}
