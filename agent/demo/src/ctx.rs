//! What every part of the swarm shares: the channel, the ground truth, the stop
//! signal, and whether the servers listen yet.

use std::{sync::Arc, time::Duration};

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
/// listen already.
/// Peers join only once all do: a peer that finds the source not yet listening
/// backs off for seconds, and the early joiners meanwhile take the source's slots.
#[derive(Clone, Debug)]
pub struct Listening(Arc<watch::Sender<usize>>);

impl Listening {
    /// The tracker, the web server, the source and the gossip-only hosts.
    pub const SERVERS: usize = 4;

    pub fn new() -> Self {
        Listening(Arc::new(watch::channel(0).0))
    }

    /// Called by a server once its sockets are bound.
    pub fn listening(&self) {
        self.0.send_modify(|n| *n += 1);
    }

    /// Waits until every server listens, at most `limit` (a server that failed to
    /// bind is reported by its own part; the peers then go on without it).
    pub async fn wait_all(&self, limit: Duration) {
        let mut rx = self.0.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|n| *n >= Self::SERVERS)).await;
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
