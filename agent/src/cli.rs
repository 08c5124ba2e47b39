//! Command-line interface of `peerscope`.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "peerscope", version, about = "Measure peer-to-peer live-TV traffic (PPLive, SOPCast and kin) at almost no cost",
    long_about = "peerscope counts every packet of an interface into per-flow ack/control/data counters in the kernel (XDP ingress, TCX egress) and computes the measurement methods of two P2P-TV studies: rates per window, parents and children, video sessions, stability, distance and cost. The same analysis runs on pcap/pcapng files.")]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {}
