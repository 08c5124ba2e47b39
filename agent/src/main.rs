use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = match peerscope::config_file::expand(std::env::args_os().collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("peerscope: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let cli = peerscope::cli::Cli::parse_from(args);
    peerscope::cmd::init_tracing(cli.verbose);
    match peerscope::cmd::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("peerscope: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
