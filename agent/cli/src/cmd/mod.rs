//! One module per subcommand.

pub mod analyze;
mod demo;
mod dissect;
mod flows;
mod jsonl;
mod manage;
mod run;
mod schema;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Flows(args) => flows::flows(args),
        Command::Report(args) => manage::report(args),
        Command::Status(args) => manage::status(args),
        Command::Detach(args) => manage::detach(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Dissect(args) => dissect::run(args),
        Command::Demo(args) => demo::demo(args),
        Command::Schema(args) => schema::run(args),
    }
}
