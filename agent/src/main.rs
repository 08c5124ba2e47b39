use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = peerscope::cli::Cli::parse();
    peerscope::cmd::init_tracing(cli.verbose);
    match peerscope::cmd::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("peerscope: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
