//! Guessing the monitored host of a capture: the address present in the most flows
//! (ties: more packets, then the lower address). A first pass over the file that
//! keeps only flow keys.

use std::collections::HashMap;
use std::net::IpAddr;

use peerscope_abi::FlowKey;

use crate::engine::host::canonical;

/// Counts flows and packets per address.
#[derive(Debug, Default)]
pub struct HostGuesser {
    flows: HashMap<FlowKey, u64>,
}

/// The guess and how strong it is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct HostGuess {
    pub ip: IpAddr,
    /// Flows it is in, of all flows of the capture.
    pub flows: usize,
    pub total_flows: usize,
}

impl HostGuesser {
    pub fn add(&mut self, key: &FlowKey) {
        *self.flows.entry(*key).or_default() += 1;
    }

    pub fn guess(&self) -> Option<HostGuess> {
        let mut per: HashMap<IpAddr, (usize, u64)> = HashMap::new();
        for (k, n) in &self.flows {
            for a in [canonical(k.src_ip()), canonical(k.dst_ip())] {
                let e = per.entry(a).or_default();
                e.0 += 1;
                e.1 += n;
            }
        }
        let (addr, (flows, _)) = per.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
        Some(HostGuess { ip: addr, flows, total_flows: self.flows.len() })
    }
}
