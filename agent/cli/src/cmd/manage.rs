//! `peerscope report`, `peerscope status` and `peerscope detach`.

use std::{io::Write, process::ExitCode};

use anyhow::Context;
use peerscope::{
    live::{caps, manage, pins::PinDir, LiveError, Target},
    schema::{ReportDocument, StatusDocument},
};

use crate::cli::{DetachArgs, ReportArgs, StatusArgs};

/// Prints the report document the agent on the interface wrote at its last window,
/// as JSON or as text rendered from it.
pub fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let target = Target::resolve(&args.target.iface, args.target.netns.as_deref())?;
    let p = PinDir::for_target(&target);
    let file = &p.report_file;
    match std::fs::read(file) {
        Ok(bytes) => {
            let doc: ReportDocument =
                serde_json::from_slice(&bytes).with_context(|| format!("reading the report in {}", file.display()))?;
            let mut out = std::io::stdout().lock();
            if args.json {
                serde_json::to_writer(&mut out, &doc)?;
                writeln!(out)?;
            } else {
                peerscope::report::text::write_document(&mut out, &doc)?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if p.live_owner().is_some() {
                anyhow::bail!(
                    "the agent on {} has not finished its first window yet; try again after one window (--window)",
                    target.describe()
                )
            }
            Err(LiveError::NotAttached { target: target.describe(), iface: target.iface.clone(), dir: p.dir.clone() }
                .into())
        }
        Err(e) => Err(anyhow::anyhow!("reading {}: {e}", file.display())),
    }
}

pub fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let missing = caps::missing_for_read(caps::effective());
    if !missing.is_empty() {
        return Err(LiveError::MissingPrivileges { action: "reading pinned maps", missing: missing.join(", ") }.into());
    }
    let all = manage::status();
    let foreign = manage::foreign_entries();
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&StatusDocument::new(all, foreign.clone()))?)?;
    } else {
        if all.is_empty() {
            writeln!(out, "peerscope is not attached to any interface")?;
        }
        for s in &all {
            let agent = s.agent_pid.map(|p| format!("agent pid {p}")).unwrap_or_else(|| "no agent running".into());
            let table = match (s.flows_in_table, s.table_capacity) {
                (Some(n), Some(c)) => format!("{n}/{c} flows"),
                _ => "maps unreadable".into(),
            };
            let state = if s.attached {
                "attached"
            } else if s.interface_gone {
                "interface gone (the kernel detached the program)"
            } else {
                "pins only (not attached)"
            };
            let name = s.netns_name.as_ref().map(|n| format!(" \"{n}\"")).unwrap_or_default();
            let mine = if s.in_this_netns { ", this namespace" } else { "" };
            let ns = format!("{}{name}{mine}", s.netns.as_deref().unwrap_or("namespace unknown"));
            let hook = match (s.ingress_hook, &s.hook_why) {
                (Some(h), Some(why)) => format!("ingress on {} ({why}), ", h.describe()),
                (Some(h), None) => format!("ingress on {}, ", h.describe()),
                _ => String::new(),
            };
            writeln!(out, "{:<16} {ns}: {state}, {hook}{agent}, {table}, pins in {}", s.iface, s.pin_dir)?;
            for f in &s.foreign {
                writeln!(out, "{:<16}   not peerscope's: {f}", "")?;
            }
        }
    }
    out.flush()?;
    for f in &foreign {
        eprintln!("peerscope: not peerscope's: {f}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn detach(args: DetachArgs) -> anyhow::Result<ExitCode> {
    let missing = caps::missing_for_attach(caps::effective());
    if !missing.is_empty() {
        return Err(LiveError::MissingPrivileges { action: "detaching", missing: missing.join(", ") }.into());
    }
    let target = Target::resolve(&args.target.iface, args.target.netns.as_deref())?;
    let done = manage::detach(&target)?;
    for f in &done.foreign {
        eprintln!("peerscope: not peerscope's: {f}");
    }
    if done.found {
        println!("peerscope: detached from {} and removed its pins", target.describe());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("peerscope: nothing of peerscope is attached to {}", target.describe());
        Ok(ExitCode::FAILURE)
    }
}
