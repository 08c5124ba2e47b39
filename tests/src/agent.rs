//! Running the agent on the monitored end of a [`VethPair`]: in process (the library)
//! or as the `peerscope` binary, always inside namespace `a`'s network only (so the
//! host's bpffs, where pins live, stays visible).

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use peerscope::live::{bpfobj, AttachOptions, Attached};

use crate::{bin_path::peerscope, in_netns, netns::ChildGuard, VethPair};

/// Attaches the kernel program to `a_if` from this process, without pins; `tune`
/// adjusts the options first.
pub fn attach(pair: &VethPair, tune: impl FnOnce(&mut AttachOptions) + Send + 'static) -> Attached {
    let iface = pair.a_if.clone();
    in_netns(&pair.ns_a, move || {
        let mut o = AttachOptions::new(&iface);
        o.pin = false;
        tune(&mut o);
        Attached::attach(&o).expect("attach")
    })
}

/// `program` run inside namespace `a`'s network.
pub fn command_in_a(pair: &VethPair, program: &std::path::Path) -> Command {
    let mut c = Command::new("nsenter");
    c.arg(format!("--net=/run/netns/{}", pair.ns_a)).arg(program);
    c
}

/// `peerscope ARGS` inside namespace `a`'s network.
pub fn peerscope_in_a(pair: &VethPair) -> Command {
    command_in_a(pair, &peerscope())
}

/// Starts `peerscope run -i a_if ARGS` (stdout piped) and waits until it says it is
/// attached; returns the guarded child and that first line. The rest of stderr is
/// drained so the agent never blocks on it.
pub fn start_run(pair: &VethPair, args: &[&str]) -> (ChildGuard, String) {
    let mut child = peerscope_in_a(pair)
        .args(["run", "-i", &pair.a_if])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start peerscope run");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().expect("peerscope run said nothing").unwrap();
    std::thread::spawn(move || for _ in lines {});
    (ChildGuard(Some(child)), first)
}

/// Reads and discards the agent's stdout, for tests that do not look at it (closing
/// the pipe would end the agent: a reader that went away stops `run`).
pub fn discard_stdout(child: &mut ChildGuard) {
    if let Some(mut out) = child.0.as_mut().and_then(|c| c.stdout.take()) {
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    }
}

/// The kernel ids of the pinned links (ingress, egress) of the agent on `a_if`,
/// whatever hook ingress is on.
pub fn pinned_links(pair: &VethPair) -> [u32; 2] {
    let pins = pair.pins_a().dir;
    ["ingress_link", "egress_link"].map(|n| {
        let link = bpfobj::inspect(&pins.join(n)).unwrap_or_else(|e| panic!("{n} not pinned: {e}"));
        link.field("link_id").and_then(|i| i.parse().ok()).expect("a link id")
    })
}

/// Whether the kernel still has links `ids`, attached to an interface: what decides
/// whether the program counts, pins or no pins.
pub fn links_attached(ids: [u32; 2]) -> bool {
    ids.iter().all(|id| bpfobj::link_by_id(*id).ok().and_then(|l| l.ifindex()).is_some_and(|i| i != 0))
}

/// Whether none of links `ids` exists any more (the program is detached).
pub fn links_gone(ids: [u32; 2]) -> bool {
    ids.iter().all(|id| bpfobj::link_by_id(*id).is_err())
}

/// Whether an XDP program is attached to `a_if`, as `ip link` shows it (TCX
/// attachments do not show there: see [`pinned_links`]).
pub fn xdp_attached(pair: &VethPair) -> bool {
    let out = Command::new("ip").args(["-n", &pair.ns_a, "link", "show", "dev", &pair.a_if]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).contains("xdp")
}
