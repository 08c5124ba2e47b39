//! The human-readable report, naming each figure as the studies name it.

use std::io::{self, Write};

use crate::engine::continent::Region;
use crate::engine::{Report, WindowSummary};
use crate::offline::{infer::HostGuess, ReadStats};
use crate::schema::{ReportDocument, ReportSource};
use crate::view::endpoint;

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |x| format!("{x:.digits$}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |x| format!("{:.1}%", x * 100.0))
}

fn rate(bps: f64) -> String {
    format!("{:.1} kbit/s", bps * 8.0 / 1000.0)
}

/// A report document as text: a header saying where the traffic came from, the
/// figures, the control messages, and for a live agent its windows so far.
pub fn write_document(o: &mut impl Write, doc: &ReportDocument) -> io::Result<()> {
    match &doc.source {
        ReportSource::Capture { read, host_guess, .. } => capture_header(o, &doc.report, read, host_guess.as_ref())?,
        ReportSource::Live { iface, ifindex, agent_pid, overflow, .. } => {
            writeln!(o, "peerscope live report for {iface} (ifindex {ifindex}, agent pid {agent_pid})")?;
            if overflow.packets > 0 {
                writeln!(
                    o,
                    "warning: the flow table was full: {} packets ({} bytes) of {} new flows are in no figure of this report",
                    overflow.packets, overflow.bytes, overflow.flow_insert_failures
                )?;
            }
        }
        ReportSource::Demo { .. } => {}
    }
    write_body(o, &doc.report)?;
    write_control(o, &doc.control)?;
    if let ReportSource::Live { omitted, .. } = &doc.source {
        writeln!(o, "\nWindows so far:")?;
        if omitted.windows > 0 {
            writeln!(
                o,
                "({} earlier windows are left out of this file; their figures are in the totals above)",
                omitted.windows
            )?;
        }
        for w in &doc.report.windows {
            if w.count > 1 {
                writeln!(
                    o,
                    "== windows {}-{} ({} of {:.0} s): no packet",
                    w.index,
                    w.index + w.count as usize - 1,
                    w.count,
                    w.len_ns as f64 / 1e9
                )?;
                continue;
            }
            window_line(o, w)?;
        }
    }
    Ok(())
}

fn capture_header(o: &mut impl Write, r: &Report, read: &ReadStats, guess: Option<&HostGuess>) -> io::Result<()> {
    writeln!(o, "peerscope analysis")?;
    let hosts: Vec<String> = r.host.iter().map(|h| h.to_string()).collect();
    let inferred = if guess.is_some() { " (inferred)" } else { "" };
    writeln!(o, "  monitored host X: {}{inferred}", hosts.join(", "))?;
    writeln!(
        o,
        "  read: {} frames, {} IP packets, {} non-IP, {} truncated, {} unsupported link; {} of {} bytes",
        read.frames,
        read.ip_packets,
        read.non_ip_frames,
        read.truncated_frames,
        read.unsupported_link_frames,
        read.bytes_read,
        read.file_size_bytes
    )?;
    let noted = [
        (read.decapsulated_packets, "counted in their tunnel's inner flow"),
        (read.non_first_fragment_packets, "non-first fragments (ports 0)"),
        (read.transport_header_broken_packets, "with a broken transport header (ports 0)"),
        (read.ipv6_header_chain_too_long_packets, "with a longer IPv6 header chain than is read (ports 0)"),
        (read.ip_length_exceeds_frame_packets, "claiming more bytes than their frame (the frame's counted)"),
    ];
    let noted: Vec<String> = noted.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect();
    if !noted.is_empty() {
        writeln!(o, "  IP packets noted: {}", noted.join("; "))?;
    }
    if read.vlan_too_deep_frames + read.mpls_too_deep_frames > 0 {
        writeln!(
            o,
            "  not counted: {} frames with more than {} VLAN tags, {} with more than {} MPLS labels",
            read.vlan_too_deep_frames,
            peerscope_abi::parse::MAX_VLAN_TAGS,
            read.mpls_too_deep_frames,
            peerscope_abi::parse::MAX_MPLS_LABELS
        )?;
    }
    if read.time_jumps > 0 {
        writeln!(
            o,
            "  warning: {} gaps of more than 100 000 windows (a reset clock or captures joined end to end?); each is one run of empty windows",
            read.time_jumps
        )?;
    }
    Ok(())
}

/// The report's figures, one section per concept of the studies.
pub fn write_body(o: &mut impl Write, r: &Report) -> io::Result<()> {
    let c = &r.config;
    writeln!(
        o,
        "  capture: {:.1} s (first to last packet) in {} windows of Δ = {} s; {} samples of {} s on their own grid",
        r.capture.duration_s, r.capture.windows, c.window_s, r.capture.samples, c.sample_period_s
    )?;
    classes(o, r)?;
    family(o, r)?;
    stability(o, r)?;
    sessions(o, r)?;
    peers(o, r)?;
    cost(o, r)?;
    continents(o, r)?;
    redundancy_and_startup(o, r)
}

fn classes(o: &mut impl Write, r: &Report) -> io::Result<()> {
    let (s, k) = (&r.sizes, &r.sizes.classes);
    writeln!(o, "\nPacket classes [M] §II-D")?;
    writeln!(
        o,
        "  ack {} ({}), control {} ({}), data {} ({}) of {} packets; control share of bytes {}",
        k.ack_packets,
        pct(s.ack_packet_fraction),
        k.control_packets,
        pct(s.control_packet_fraction),
        k.data_packets,
        pct(s.data_packet_fraction),
        k.packets,
        pct(s.control_byte_fraction)
    )?;
    writeln!(
        o,
        "  large packets (> {} B) [H]: {} ({} bytes)",
        r.config.large_above_ip_len_bytes, s.large_packets, s.large_bytes
    )
}

fn family(o: &mut impl Write, r: &Report) -> io::Result<()> {
    let (f, c) = (&r.family, &r.config);
    writeln!(
        o,
        "\nParents and children [M] §III-D (Rp = {} B/s, Rc = {} B/s)",
        c.parent_rate_bytes_per_s, c.child_rate_bytes_per_s
    )?;
    writeln!(
        o,
        "  parents per window: mean {}, max {}; children per window: mean {}, max {}",
        opt(f.mean_parents_per_window, 2),
        f.max_parents_per_window,
        opt(f.mean_children_per_window, 2),
        f.max_children_per_window
    )?;
    writeln!(
        o,
        "  contacted hosts {}: {} became parents ({}), {} became children ({})",
        f.contacted_hosts,
        f.hosts_ever_parent,
        pct(f.parent_fraction_of_contacted),
        f.hosts_ever_child,
        pct(f.child_fraction_of_contacted)
    )?;
    writeln!(
        o,
        "  upload {} B, download {} B, upload:download ratio {}",
        f.upload_bytes,
        f.download_bytes,
        opt(f.upload_download_ratio, 2)
    )
}

fn stability(o: &mut impl Write, r: &Report) -> io::Result<()> {
    let st = &r.stability;
    writeln!(o, "\nStability of the parent set [M] §III-G")?;
    writeln!(
        o,
        "  mean S_n {}, mean X_n {} over {} windows; {} windows had no parent (S_n, X_n stated: 1 if parents left, else 0)",
        opt(st.mean_s_n, 3),
        opt(st.mean_x_n, 3),
        st.windows_averaged,
        st.windows_with_empty_parent_set
    )
}

fn sessions(o: &mut impl Write, r: &Report) -> io::Result<()> {
    let (se, c) = (&r.sessions, &r.config);
    writeln!(
        o,
        "\nVideo sessions [H] §4.1 (> {} packets > {} B)",
        c.video_min_large_packets, c.large_above_ip_len_bytes
    )?;
    writeln!(
        o,
        "  {} sessions: {} video, {} signaling ({})",
        se.sessions,
        se.video_sessions,
        se.signaling_sessions,
        if c.udp_sessions { "TCP and UDP" } else { "TCP only" }
    )?;
    writeln!(
        o,
        "  video traffic: download {} packets / {} B, upload {} packets / {} B",
        se.video_down_packets, se.video_down_bytes, se.video_up_packets, se.video_up_bytes
    )?;
    writeln!(
        o,
        "  median video session {} s; video sessions lasting ≥ 15 min: {}",
        opt(se.median_video_session_s, 1),
        pct(se.video_sessions_at_least_15_min_fraction)
    )
}

fn peers(o: &mut impl Write, r: &Report) -> io::Result<()> {
    let p = &r.peers;
    writeln!(o, "\nPeers [H] Table 1, §6")?;
    writeln!(
        o,
        "  peers {}, total IPs (TCP connection attempt, either direction) {}, active IPs {}, video peers (ever) {}",
        p.peers, p.total_ips, p.active_ips, r.video_peers_ever
    )?;
    for (name, t) in [
        ("download", &p.top_download),
        ("upload", &p.top_upload),
        ("video download", &p.top_video_download),
        ("video upload", &p.top_video_upload),
    ] {
        if let Some(t) = t {
            writeln!(
                o,
                "  top peer share of {name}: {} ({} of {} B, {})",
                pct(Some(t.share)),
                t.bytes,
                t.total_bytes,
                t.peer
            )?;
        }
    }
    if !r.samples.is_empty() {
        // An entry may stand for a run of empty samples (`count`).
        let n = r.samples.iter().map(|s| s.count as f64).sum::<f64>();
        let vp = r.samples.iter().map(|s| (s.video_peers.video_peers as u64 * s.count) as f64).sum::<f64>() / n;
        let ch = r.samples.iter().map(|s| (s.video_peers.changed as u64 * s.count) as f64).sum::<f64>() / n;
        writeln!(o, "  per sample: mean {vp:.2} video peers, mean {ch:.2} changed video peers")?;
        // Over the observed interval: each sample weighs by its length (a partial
        // last sample counts for what was observed).
        let secs = |s: &crate::engine::SampleSummary| (s.len_ns * s.count) as f64 / 1e9;
        let t: f64 = r.samples.iter().map(secs).sum::<f64>().max(1e-9);
        let vd = r.samples.iter().map(|s| s.rates.video_down_bytes_per_s * secs(s)).sum::<f64>() / t;
        let vu = r.samples.iter().map(|s| s.rates.video_up_bytes_per_s * secs(s)).sum::<f64>() / t;
        writeln!(o, "  mean video rate over {t:.1} s: download {}, upload {}", rate(vd), rate(vu))?;
    }
    Ok(())
}

fn cost(o: &mut impl Write, r: &Report) -> io::Result<()> {
    let (co, c) = (&r.cost, &r.config);
    writeln!(o, "\nDistance and cost [M] §III-E,F (k = {} miles/degree)", c.miles_per_degree)?;
    let Some(g) = &c.geolocation else {
        return writeln!(o, "  no geolocation (--geo): distance and cost not computed");
    };
    let at = co
        .host_location
        .map_or("unknown (give --host-location)".into(), |l| format!("{:.3},{:.3}", l.latitude_deg, l.longitude_deg));
    writeln!(o, "  {g}; X at {at}")?;
    writeln!(
        o,
        "  located peers {} of {} ({}); located share of parent bytes {}, of child bytes {}",
        co.located_peers,
        co.peers,
        pct(co.located_peer_fraction),
        pct(co.located_parent_byte_fraction),
        pct(co.located_child_byte_fraction)
    )?;
    writeln!(
        o,
        "  cost of download {} miles/byte, of upload {} miles/byte (great-circle: {} / {})",
        opt(co.download_miles_per_byte, 0),
        opt(co.upload_miles_per_byte, 0),
        opt(co.download_great_circle_miles_per_byte, 0),
        opt(co.upload_great_circle_miles_per_byte, 0)
    )
}

fn continents(o: &mut impl Write, r: &Report) -> io::Result<()> {
    writeln!(o, "\nVideo sessions by region [H] Table 3 (IANA /8 registry)")?;
    writeln!(o, "  {:<14} {:>6} {:>8} {:>10} {:>10}", "region", "peers", "peers%", "download%", "upload%")?;
    for row in &r.continents {
        writeln!(
            o,
            "  {:<14} {:>6} {:>8} {:>10} {:>10}",
            Region::name(row.region),
            row.peers,
            pct(row.peer_share),
            pct(row.download_share),
            pct(row.upload_share)
        )?;
    }
    Ok(())
}

fn redundancy_and_startup(o: &mut impl Write, r: &Report) -> io::Result<()> {
    let skip = r.config.redundancy_skip_s;
    writeln!(o, "\nRedundancy and start-up [H] §5")?;
    let Some(red) = &r.redundancy else {
        return writeln!(o, "  no playback rate (--playback-rate): not computed");
    };
    if red.interval_s == 0.0 {
        writeln!(o, "  redundancy ratio n/a: the capture is not longer than the {skip} s left out")?;
    } else {
        writeln!(
            o,
            "  redundancy ratio {} (video download {} B of TCP payload, without TCP/IP headers, vs expected {:.0} B over {:.0} s after the first {skip} s)",
            pct(red.ratio),
            red.video_download_bytes,
            red.expected_bytes,
            red.interval_s
        )?;
    }
    match &r.startup {
        Some(s) => match s.delay_s {
            Some(d) => {
                writeln!(
                    o,
                    "  start-up delay {d:.1} s (selection by {}; video download rate over a sliding {:.0} s, evaluated every {:.0} s)",
                    s.selection_rule.name(),
                    s.rate_window_s,
                    s.step_s
                )
            }
            None => writeln!(
                o,
                "  start-up delay n/a: the video download rate never reached the playback rate (selection by {})",
                s.selection_rule.name()
            ),
        },
        None => writeln!(o, "  start-up delay n/a (X sent nothing)"),
    }
}

/// One line per finished window, for the live `run`.
pub fn window_line(o: &mut impl Write, w: &WindowSummary) -> io::Result<()> {
    let peers = |v: &[crate::engine::parents::PeerRate]| {
        let mut names: Vec<String> = v.iter().take(5).map(|p| p.peer.to_string()).collect();
        if v.len() > 5 {
            names.push(format!("+{}", v.len() - 5));
        }
        names.join(" ")
    };
    writeln!(
        o,
        "== window {} ({:.0} s): down {}, up {} (video {} / {}{}); parents {} [{}]; children {} [{}]; S_n {} X_n {}{}; cost down {} up {} miles/B",
        w.index,
        w.len_ns as f64 / 1e9,
        rate(w.down_bytes_per_s),
        rate(w.up_bytes_per_s),
        rate(w.video_down_bytes_per_s),
        rate(w.video_up_bytes_per_s),
        match w.video_basis {
            crate::engine::video::VideoBasis::SessionsSoFar => ", sessions that are video sessions so far",
            crate::engine::video::VideoBasis::Final => "",
        },
        w.parent_count,
        peers(&w.parents),
        w.child_count,
        peers(&w.children),
        opt(w.stability.s_n, 2),
        opt(w.stability.x_n, 2),
        w.stability.note.map(|n| format!(" ({})", n.name())).unwrap_or_default(),
        opt(w.cost.download_miles_per_byte, 0),
        opt(w.cost.upload_miles_per_byte, 0),
    )
}

/// The control messages section ([M] §II-C,E).
pub fn write_control(o: &mut impl Write, c: &crate::control::ControlSummary) -> io::Result<()> {
    writeln!(o, "\nControl messages [M] §II-C,E")?;
    writeln!(
        o,
        "  payloads inspected {}: {} matched no rule (unknown), {} only a weak rule never corroborated",
        c.payloads, c.unknown_payloads, c.unconfirmed_payloads
    )?;
    if c.by_rule.is_empty() && c.by_message.is_empty() {
        return writeln!(o, "  none recognised");
    }
    let rules: Vec<String> = c.by_rule.iter().map(|(r, n)| format!("{r} {n}")).collect();
    writeln!(o, "  by DPI rule: {}", if rules.is_empty() { "none".into() } else { rules.join(", ") })?;
    let kinds: Vec<String> = c.by_message.iter().map(|(k, n)| format!("{k} {n}")).collect();
    writeln!(
        o,
        "  decoded: {}; bootstrap HTTP requests {}",
        if kinds.is_empty() { "none".into() } else { kinds.join(", ") },
        c.bootstrap_requests
    )?;
    for ch in &c.channels {
        writeln!(o, "  channel {} {}", ch.guid, ch.name.as_deref().map(|n| format!("\"{n}\"")).unwrap_or_default())?;
    }
    for t in &c.trackers {
        writeln!(
            o,
            "  tracker {} ({}){}{}",
            endpoint(t.ip, t.port),
            t.protocol,
            if t.replies > 0 { format!(", {} peer lists", t.replies) } else { String::new() },
            if t.from_play_link { ", named by a PlayLink" } else { "" }
        )?;
    }
    writeln!(
        o,
        "  peers learned from peer lists: {} ({} private); became parents {} ({}), children {} ({})",
        c.learned_peers,
        c.learned_private,
        c.learned_became_parents,
        pct(c.learned_parent_fraction),
        c.learned_became_children,
        pct(c.learned_child_fraction)
    )
}
