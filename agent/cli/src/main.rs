//! The `peerscope` command: argument parsing and one module per subcommand, on top of
//! the `peerscope` library (capture, engine, reports) and `peerscope-demo`.

mod cli;
mod cmd;
mod config_file;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = match config_file::expand(std::env::args_os().collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("peerscope: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let cli = cli::Cli::parse_from(args);
    cmd::init_tracing(cli.verbose);
    match cmd::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("peerscope: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
