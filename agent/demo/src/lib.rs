//! `peerscope demo`: a PPLive-like swarm built on this machine (network namespaces,
//! veth pairs, a bridge, tokio tasks speaking the protocol of METHODS §8), with the
//! agent attached to one peer's interface, and the swarm's own record of what it
//! sent to check the measurements against.
//!
//! | module | concept |
//! |---|---|
//! | [`netns`] | a namespace held by one thread: gone when the process is |
//! | [`topology`] | hub bridge, one namespace + veth per host, on-link routes |
//! | [`shaping`] | upload capacity with tbf |
//! | [`plan`], [`churn`] | the cast: addresses, profiles; joining and leaving |
//! | [`geo`] | the demo geolocation table |
//! | [`proto`], [`conn`] | messages (dissector encoders) and framed TCP |
//! | [`http`], [`tracker`], [`peer`], [`exchange`], [`source`] | the parts of the swarm |
//! | [`truth`] | ground truth: who sent how many TCP payload bytes to whom, when |
//! | [`window`] | per-window flow deltas (the metrics engine's input), parents/children |
//! | [`report`], [`plot`] | measured against ground truth: `report.json`, SVG charts |
//! | [`swarm`] | builds, runs and stops the whole thing |

pub mod churn;
pub mod conn;
pub mod exchange;
pub mod geo;
pub mod http;
pub mod netns;
pub mod peer;
pub mod plan;
pub mod plot;
pub mod proto;
pub mod report;
pub mod shaping;
pub mod source;
pub mod swarm;
pub mod topology;
pub mod tracker;
pub mod truth;
pub mod window;

use std::time::Duration;

use tokio::sync::watch;

/// The live channel every peer plays.
#[derive(Clone, Copy, Debug)]
pub struct Channel {
    pub bitrate_bps: u64,
    pub chunk_bytes: usize,
    /// When the source produced chunk 0 (Unix ns).
    pub start_unix_ns: u64,
}

impl Channel {
    pub fn chunk_interval(&self) -> Duration {
        Duration::from_secs_f64(self.chunk_bytes as f64 * 8.0 / self.bitrate_bps as f64)
    }

    /// The newest chunk the source has produced at `unix_ns`.
    pub fn live_seq(&self, unix_ns: u64) -> u32 {
        (unix_ns.saturating_sub(self.start_unix_ns) / self.chunk_interval().as_nanos().max(1) as u64) as u32
    }
}

/// What every part of the swarm shares.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub channel: Channel,
    pub truth: truth::GroundTruth,
    /// Turns true when the swarm must wind down (end of run, Ctrl-C).
    pub stop: watch::Receiver<bool>,
    pub servers: Listening,
}

/// How many of the swarm's servers (tracker, web server, source) listen already.
/// Peers join only once all do: a peer that finds the source not yet listening
/// backs off for seconds, and the early joiners meanwhile take the source's slots.
#[derive(Clone, Debug)]
pub struct Listening(std::sync::Arc<watch::Sender<usize>>);

impl Listening {
    /// The tracker, the web server and the source.
    pub const SERVERS: usize = 3;

    pub fn new() -> Self {
        Listening(std::sync::Arc::new(watch::channel(0).0))
    }

    /// Called by a server once its sockets are bound.
    pub fn listening(&self) {
        self.0.send_modify(|n| *n += 1);
    }

    /// Waits until every server listens, at most `limit` (a server that failed to
    /// bind is reported by its own part; the peers then go on without it).
    pub async fn wait_all(&self, limit: std::time::Duration) {
        let mut rx = self.0.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|n| *n >= Self::SERVERS)).await;
    }
}

impl Default for Listening {
    fn default() -> Self {
        Self::new()
    }
}

pub fn now_unix_ns() -> u64 {
    peerscope::live::clock::unix_now_ns()
}

pub fn now_unix_secs() -> u64 {
    now_unix_ns() / 1_000_000_000
}

/// Resolves when `stop` turns true or its sender is gone.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|v| *v).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_live_seq_follows_the_bitrate() {
        // 16 KiB at 400 kbit/s: one chunk every 327.68 ms.
        let c = Channel { bitrate_bps: 400_000, chunk_bytes: 16384, start_unix_ns: 1_000_000_000 };
        assert_eq!(c.live_seq(0), 0);
        assert_eq!(c.live_seq(1_000_000_000 + 327_000_000), 0);
        assert_eq!(c.live_seq(1_000_000_000 + 328_000_000), 1);
        assert_eq!(c.live_seq(1_000_000_000 + 10_000_000_000), 30);
    }
}
