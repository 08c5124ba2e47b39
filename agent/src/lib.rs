//! peerscope's userspace agent: loads the kernel program, polls its maps and computes
//! the measurement methods of the studies, live and on pcap files.

pub mod cli;
pub mod cmd;
pub mod demo;
pub mod live;
pub mod view;
