//! What every part of the swarm shares: the channel, the ground truth, the stop
//! signal, and whether the servers listen yet.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::watch;

use super::{channel::Channel, truth::GroundTruth};

#[derive(Clone, Debug)]
pub struct Ctx {
    pub channel: Channel,
    pub truth: GroundTruth,
    /// Turns true when the swarm must wind down (end of run, Ctrl-C).
    pub stop: watch::Receiver<bool>,
    pub servers: Listening,
}

/// How many of the swarm's servers (tracker, web server, source, gossip-only hosts)
/// are up already, and since when all are. Peers join only once all are: a peer that
/// finds the source not yet listening, or a tracker that names no one, backs off for
/// seconds, and the early joiners meanwhile take the source's slots.
#[derive(Clone, Debug)]
pub struct Listening(Arc<watch::Sender<(usize, Option<Instant>)>>);

impl Listening {
    /// The tracker, the web server, the source and the gossip-only hosts.
    pub const SERVERS: usize = 4;

    pub fn new() -> Self {
        Listening(Arc::new(watch::channel((0, None)).0))
    }

    /// Called by a server once it is up: its sockets bound (the source: and the
    /// tracker lists it).
    pub fn listening(&self) {
        self.0.send_modify(|(n, all)| {
            *n += 1;
            if *n >= Self::SERVERS {
                all.get_or_insert_with(Instant::now);
            }
        });
    }

    /// Waits until every server is up, at most `limit` (a server that failed to
    /// bind is reported by its own part; the peers then go on without it). Returns
    /// when the last came up, or now if one never did.
    pub async fn wait_all(&self, limit: Duration) -> Instant {
        let mut rx = self.0.subscribe();
        let all = match tokio::time::timeout(limit, rx.wait_for(|(n, _)| *n >= Self::SERVERS)).await {
            Ok(Ok(v)) => v.1,
            _ => None,
        };
        all.unwrap_or_else(Instant::now)
    }
}

impl Default for Listening {
    fn default() -> Self {
        Self::new()
    }
}

/// Resolves when `stop` turns true or its sender is gone.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|v| *v).await;
}
