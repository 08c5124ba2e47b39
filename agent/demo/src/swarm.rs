//! The swarm on this machine: one namespace per host on the hub's bridge, and every
//! part (tracker, web server, source, peers) started on its namespace's thread.
//!
//! Teardown needs no code path of its own: namespaces belong to threads, so they
//! go when the threads end — after the run, on an error (the guards drop), on
//! Ctrl-C, and when the process is killed.

use std::{
    future::Future,
    net::IpAddr,
    sync::mpsc,
    time::{Duration, Instant},
};

use super::{
    churn, crowd,
    ctx::Ctx,
    http,
    netns::NetNs,
    node::PeerCfg,
    peer,
    plan::{self, Cast},
    source,
    topology::{Hub, HOST_IF},
    tracker,
};
use peerscope::schema::{
    demo::{DemoHost, DemoTopologyTag},
    DemoTopology, SchemaVersion,
};

/// Servers start this long before the first client asks; peers also wait until
/// every server is up ([`super::ctx::Listening`]), at most `SERVERS_LIMIT`.
pub const SERVERS_FIRST: Duration = Duration::from_millis(300);
const SERVERS_LIMIT: Duration = Duration::from_secs(10);

/// Every namespace of the swarm. Dropping it ends their threads, and with them the
/// namespaces, peers first and the hub last (fields drop in order).
pub struct Swarm {
    peers: Vec<NetNs>,
    crowd: NetNs,
    tracker: NetNs,
    http: NetNs,
    source: NetNs,
    hub: Hub,
}

/// The parts started, each reporting when it has finished.
pub struct Running {
    done: mpsc::Receiver<()>,
    parts: usize,
}

impl Swarm {
    /// The hub, the servers' namespaces, one for all gossip-only hosts and one per
    /// peer of `cast`.
    pub fn build(cast: &Cast) -> anyhow::Result<Self> {
        let mut hub = Hub::new()?;
        let tracker = hub.host("tracker", plan::TRACKER, None)?;
        let http = hub.host("http", plan::HTTP, None)?;
        let source = hub.host("source", plan::SOURCE, Some(source::UPLOAD_BPS))?;
        let crowd = hub.crowd("crowd", plan::CROWD_ROUTER, &plan::CROWD_PREFIXES)?;
        let mut peers = Vec::new();
        for p in &cast.peers {
            peers.push(hub.host(&format!("peer{}", p.index), p.ip, p.profile.upload_bps())?);
        }
        Ok(Swarm { peers, crowd, tracker, http, source, hub })
    }

    /// The namespace of the cast's first peer, the monitored one.
    pub fn monitored(&self) -> &NetNs {
        &self.peers[0]
    }

    /// What the teardown test needs to know was ours.
    pub fn topology(&self, cast: &Cast) -> DemoTopology {
        let servers = [&self.hub.ns, &self.tracker, &self.http, &self.source, &self.crowd];
        let mut inodes: Vec<u64> = servers.iter().map(|ns| ns.inode()).collect();
        inodes.extend(self.peers.iter().map(NetNs::inode));
        DemoTopology {
            schema_version: SchemaVersion,
            document: DemoTopologyTag,
            pid: std::process::id(),
            netns_inodes: inodes,
            host_interface: HOST_IF.to_string(),
            hosts: cast
                .peers
                .iter()
                .map(|p| DemoHost { name: format!("peer{}", p.index), ip: IpAddr::V4(p.ip) })
                .collect(),
            gossip_only_hosts: cast.crowd.len(),
        }
    }

    /// Starts every part on its namespace's thread: the servers at once, each peer
    /// at `t0` plus its join time.
    pub fn start(&self, cast: &Cast, ctx: &Ctx, t0: Instant) -> anyhow::Result<Running> {
        let (done_tx, done) = mpsc::channel();
        let done_tx = &done_tx;
        let (c, crowd) = (ctx.clone(), cast.crowd.clone());
        start_part(&self.crowd, done_tx, move || async move {
            let _ = crowd::serve(c, crowd).await;
        })?;
        let (c, n) = (ctx.clone(), cast.peers.len());
        start_part(&self.tracker, done_tx, move || async move {
            let _ = tracker::serve(c, plan::TRACKER).await;
        })?;
        let c = ctx.clone();
        start_part(&self.http, done_tx, move || async move {
            let _ = http::serve(c, plan::HTTP, n).await;
        })?;
        let (c, relays) = (ctx.clone(), cast.relays.clone());
        start_part(&self.source, done_tx, move || async move {
            let stop = c.stop.clone();
            peer::run(c, source::cfg(!relays.is_empty()), relays, stop).await
        })?;
        let campus: Vec<_> = cast.peers.iter().filter(|p| p.profile == plan::Profile::Campus).map(|p| p.ip).collect();
        for (p, ns) in cast.peers.iter().zip(&self.peers) {
            let c = ctx.clone();
            let relay = cast.relays.contains(&p.ip);
            let favoured: Vec<_> = if relay { campus.iter().copied().filter(|c| *c != p.ip).collect() } else { vec![] };
            let cfg = PeerCfg {
                ip: p.ip,
                accepts: p.profile.accepts(),
                max_children: p.profile.max_children(),
                is_source: false,
                others_max: if relay { plan::RELAY_OTHERS } else { p.profile.max_children() },
                // The source holds the live chunk: its relays fetch it at once, a chunk
                // ahead of the campus peers they feed.
                fetch_lag: if relay { 0 } else { p.profile.fetch_lag(p.ip) },
                upstream: relay.then_some(plan::SOURCE),
                parents: p.profile.parents(),
            };
            let (join, leave) = (p.join, p.leave.map(|l| t0 + l));
            start_part(ns, done_tx, move || async move {
                // Join times count from when every server is up, if that is later
                // than planned: the first to join are still the first to ask.
                let up = c.servers.wait_all(SERVERS_LIMIT).await;
                if !churn::wait_to_join(t0.max(up) + join, &c.stop).await {
                    return;
                }
                let stop = churn::peer_stop(&c.stop, leave);
                peer::run(c, cfg, favoured, stop).await
            })?;
        }
        Ok(Running { done, parts: 4 + cast.peers.len() })
    }
}

impl Running {
    /// Blocks until every part has closed its connections in order, at most `limit`.
    pub fn wait(self, limit: Duration) {
        let deadline = Instant::now() + limit;
        for _ in 0..self.parts {
            if self.done.recv_timeout(deadline.saturating_duration_since(Instant::now())).is_err() {
                break;
            }
        }
    }
}

/// Runs `f` in a current-thread runtime on the namespace's thread.
fn start_part<F, Fut>(ns: &NetNs, done: &mpsc::Sender<()>, f: F) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let done = done.clone();
    ns.spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
            rt.block_on(f());
        }
        let _ = done.send(());
    })
}
