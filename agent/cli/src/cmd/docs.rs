//! `peerscope completions SHELL` and the manual page, both generated from the same
//! clap definition as `--help`, so none of them can drift from the flags.

use std::{io::Write, process::ExitCode};

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "peerscope", &mut out);
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn man() -> anyhow::Result<ExitCode> {
    let mut page = Vec::new();
    render_man(&mut page)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `peerscope(1)`: the command, then each subcommand with its options, the exit
/// statuses, the files and the environment.
pub fn render_man(out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut page = Vec::new();
    write_page(&mut page)?;
    // Each section clap_mangen renders repeats the page's two preamble lines; once is enough.
    let mut seen = std::collections::HashSet::new();
    for line in String::from_utf8_lossy(&page).lines() {
        let preamble = line.starts_with(".ie \\n(.g") || line.starts_with(".el .ds Aq");
        if preamble && !seen.insert(line.to_string()) {
            continue;
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn write_page(w: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone()).manual("peerscope manual");
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    writeln!(w, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        writeln!(w, ".SS \"peerscope {}\"", sub.get_name())?;
        let sub_man = clap_mangen::Man::new(sub.clone());
        let mut part = Vec::new();
        sub_man.render_synopsis_section(&mut part)?;
        sub_man.render_description_section(&mut part)?;
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            sub_man.render_options_section(&mut part)?;
        }
        // Within one page the subcommand's sections become paragraphs of its subsection.
        for line in String::from_utf8_lossy(&part).lines() {
            match line {
                ".SH SYNOPSIS" | ".SH DESCRIPTION" => writeln!(w, ".PP")?,
                ".SH OPTIONS" => writeln!(w, ".PP\nOptions:")?,
                l => writeln!(w, "{l}")?,
            }
        }
    }
    writeln!(w, ".SH \"EXIT STATUS\"")?;
    for (code, what) in peerscope::exit::TABLE {
        writeln!(w, ".TP\n.B {code}\n{}", roff_text(what))?;
    }
    writeln!(w, ".SH FILES")?;
    for (path, what) in [
        (
            "/sys/fs/bpf/peerscope/COOKIE-IFINDEX/",
            "the pinned maps and links of one attachment (the network namespace's cookie and the interface's index)",
        ),
        ("/run/peerscope/COOKIE-IFINDEX.json", "the attachment: interface, namespace, agent pid"),
        ("/run/peerscope/COOKIE-IFINDEX.report.json", "the running agent's report, read by peerscope report"),
        (
            "/run/peerscope/COOKIE-IFINDEX.baseline",
            "the counts the agent last reported: a restarted agent reports only what is new",
        ),
        ("/etc/peerscope/peerscope.toml", "the configuration the systemd unit peerscope@.service passes with --config"),
    ] {
        writeln!(w, ".TP\n.I {}\n{}", roff_text(path), roff_text(what))?;
    }
    writeln!(w, ".SH ENVIRONMENT")?;
    writeln!(
        w,
        ".TP\n.B NO_COLOR\nwhen set and not empty, logs carry no colour (they never do when stderr is not a terminal)"
    )?;
    writeln!(w, ".TP\n.B RUST_LOG\nlog filter (e.g. peerscope=debug), instead of -v")?;
    writeln!(w, ".SH \"SEE ALSO\"\n.BR tcpdump (1),\n.BR tshark (1),\n.BR bpftool (8),\n.BR ip-netns (8)")?;
    man.render_version_section(w)
}

/// Text safe in a roff paragraph: backslashes doubled, no line starting with a dot.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\\\");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_the_page_has_every_command_and_every_exit_status() {
        let mut page = Vec::new();
        render_man(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("\n.TH peerscope 1 "), "{}", &page[..200]);
        assert_eq!(page.matches(".el .ds Aq").count(), 1, "the preamble once");
        for sub in ["run", "flows", "report", "status", "detach", "analyze", "dissect", "demo", "completions"] {
            assert!(page.contains(&format!(".SS \"peerscope {sub}\"")), "no section for {sub}");
        }
        assert!(!page.contains(".SS \"peerscope man\""), "the hidden command stays out");
        assert!(page.contains("\\-\\-keep\\-attached"), "run's options are listed");
        for (code, _) in peerscope::exit::TABLE {
            assert!(page.contains(&format!(".B {code}\n")), "exit status {code} missing");
        }
    }
}
