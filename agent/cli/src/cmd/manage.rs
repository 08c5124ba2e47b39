//! `peerscope report`, `peerscope status` and `peerscope detach`.

use std::{io::Write, process::ExitCode};

use anyhow::Context;
use peerscope::{
    live::{caps, manage, pins::PinDir, LiveError},
    schema::{ReportDocument, StatusDocument},
};

use crate::cli::{DetachArgs, ReportArgs, StatusArgs};

/// Prints the report document the agent on the interface wrote at its last window,
/// as JSON or as text rendered from it.
pub fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let p = PinDir::for_iface(&args.iface);
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
                    args.iface
                )
            }
            Err(LiveError::NotAttached { iface: args.iface.clone(), dir: p.dir.clone() }.into())
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
    if args.json {
        println!("{}", serde_json::to_string(&StatusDocument::new(all))?);
        return Ok(ExitCode::SUCCESS);
    }
    if all.is_empty() {
        println!("peerscope is not attached to any interface");
    }
    for s in &all {
        let agent = s.agent_pid.map(|p| format!("agent pid {p}")).unwrap_or_else(|| "no agent running".into());
        let table = match (s.flows_in_table, s.table_capacity) {
            (Some(n), Some(c)) => format!("{n}/{c} flows"),
            _ => "maps unreadable".into(),
        };
        let state = if s.attached { "attached" } else { "pins only (not attached)" };
        println!("{:<16} {state}, {agent}, {table}, pins in {}", s.iface, s.pin_dir);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn detach(args: DetachArgs) -> anyhow::Result<ExitCode> {
    let missing = caps::missing_for_attach(caps::effective());
    if !missing.is_empty() {
        return Err(LiveError::MissingPrivileges { action: "detaching", missing: missing.join(", ") }.into());
    }
    if manage::detach(&args.iface)? {
        println!("peerscope: detached from {} and removed its pins", args.iface);
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("peerscope: nothing of peerscope is attached to {}", args.iface);
        Ok(ExitCode::FAILURE)
    }
}
