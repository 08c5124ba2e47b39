//! `peerscope demo`: a PPLive-like swarm built on this machine (network namespaces,
//! veth pairs, a bridge, tokio tasks speaking the protocol of METHODS §8), with the
//! agent attached to one peer's interface, and the swarm's own record of what it
//! sent to check the measurements against.
//!
//! Modules from the bottom up (each uses only those above it in this table):
//!
//! | module | concept |
//! |---|---|
//! | [`clock`], [`rng`], [`geo`] | Unix time; seeded randomness; the demo geolocation table |
//! | [`plan`] | the cast: addresses, profiles, when each peer joins and leaves |
//! | [`netns`], [`shaping`], [`topology`] | namespaces held by threads, tbf, hub bridge and veths |
//! | [`channel`], [`truth`], [`ctx`] | the live channel; ground truth; what every part shares |
//! | [`proto`], [`conn`] | messages (dissector encoders) and framed TCP |
//! | [`churn`], [`http`], [`tracker`], [`crowd`] | joining and leaving; the web server; the tracker; gossip-only hosts |
//! | [`known`], [`schedule`] | the hosts a peer knows of; chunk scheduling across parents |
//! | [`node`], [`exchange`], [`peer`], [`source`] | a peer: its state, its TCP side, its main loop; the source |
//! | [`swarm`] | builds the namespaces and starts every part |
//! | [`studies`] | the studies' headline figures beside this run's |
//! | [`report`], [`plot`] | measured against ground truth: `report.json`, SVG charts |
//! | [`run`] | the whole demo: swarm, live measurement, outputs |

pub mod channel;
pub mod churn;
pub mod clock;
pub mod conn;
pub mod crowd;
pub mod ctx;
pub mod exchange;
pub mod geo;
pub mod http;
pub mod known;
pub mod netns;
pub mod node;
pub mod peer;
pub mod plan;
pub mod plot;
pub mod proto;
pub mod report;
pub mod rng;
pub mod run;
pub mod schedule;
pub mod shaping;
pub mod source;
pub mod studies;
pub mod swarm;
pub mod topology;
pub mod tracker;
pub mod truth;

pub use clock::{now_unix_ns, now_unix_secs};
pub use run::{run, DemoOpts};
