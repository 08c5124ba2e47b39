//! The `peerscope` command: argument parsing and one module per subcommand, on top of
//! the `peerscope` library (capture, engine, reports) and `peerscope-demo`.

mod cli;
mod cmd;
mod config_file;
mod human;
mod input;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use peerscope::exit;

use cli::{Cli, Command};

fn main() -> ExitCode {
    // Usage errors exit with clap's status 2 (exit::USAGE); --help and --version with 0.
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    cmd::init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Run(mut args) => {
            let sub = matches.subcommand_matches("run").expect("run's matches");
            match cmd::run::prepare(&mut args, sub) {
                Ok(origins) => cmd::run::run(*args, origins),
                Err(e) => Err(e),
            }
        }
        other => {
            // A closed pipe ends these commands as it ends cat or grep: silently, by
            // SIGPIPE. `run` keeps it ignored, so that it can detach first.
            // SAFETY: setting a signal's disposition to its default has no memory effects.
            unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
            cmd::dispatch(other)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) if exit::is_broken_pipe(e.as_ref()) => exit::broken_pipe(),
        Err(e) => {
            eprintln!("peerscope: {e:#}");
            ExitCode::from(cmd::exit_status(&e))
        }
    }
}
