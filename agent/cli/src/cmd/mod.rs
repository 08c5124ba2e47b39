//! One module per subcommand.

pub mod analyze;
mod demo;
mod dissect;
mod docs;
mod flows;
mod jsonl;
mod manage;
pub mod run;
mod schema;

use std::{io::IsTerminal, process::ExitCode};

use peerscope::exit;

use crate::{cli::Command, config_file::ConfigError};

/// Logs go to stderr, in colour only when stderr is a terminal and NO_COLOR is unset
/// (https://no-color.org): the journal and files get plain text.
pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour_allowed(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR")))
        .try_init();
}

fn colour_allowed(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Bad usage that clap cannot see (a value out of range, a bad configuration file):
/// exit status [`exit::USAGE`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit status an error ends the command with.
pub fn exit_status(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<UsageError>().is_some()
        || e.downcast_ref::<ConfigError>().is_some()
        || e.downcast_ref::<crate::cli::Invalid>().is_some()
    {
        exit::USAGE
    } else if e.downcast_ref::<peerscope::offline::OfflineError>().is_some() {
        exit::NO_INPUT
    } else {
        exit::FAILURE
    }
}

pub fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(_) => unreachable!("`run` is prepared and started by main"),
        Command::Flows(args) => flows::flows(args),
        Command::Report(args) => manage::report(args),
        Command::Status(args) => manage::status(args),
        Command::Detach(args) => manage::detach(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Dissect(args) => dissect::run(args),
        Command::Demo(args) => demo::demo(args),
        Command::Completions(args) => docs::completions(args),
        Command::Man => docs::man(),
        Command::Schema(args) => schema::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_colour_only_on_a_terminal_without_no_color() {
        assert!(colour_allowed(true, None));
        assert!(!colour_allowed(false, None));
        assert!(!colour_allowed(true, Some("1".into())));
        assert!(colour_allowed(true, Some("".into())), "an empty NO_COLOR does not count (no-color.org)");
    }
}
