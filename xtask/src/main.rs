//! Project tasks: `cargo xtask setup | test | demo | bench | soak | build | install | plugin`.
//!
//! Every task that needs the machine prepared runs `setup` first; `setup` is
//! idempotent and returns in well under a second when everything is in place.

mod install;
mod plugin;
mod setup;
mod sh;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "peerscope's build, set-up, test, demo and benchmark tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install everything peerscope needs on a Debian machine (as root): the kernel
    /// toolchain (distribution Rust, LLVM 22, bpf-linker), iproute2, ethtool,
    /// tcpdump, tshark, iperf3, prometheus; mount bpffs. Idempotent. One line per
    /// step; the tools' output goes to target/xtask/setup.log, shown if a step fails.
    /// Starts and enables no service.
    Setup {
        /// Show the tools' output as they run.
        #[arg(long)]
        verbose: bool,
    },
    /// Set up, check formatting and clippy, build (kernel program included) and run every
    /// test of the workspace.
    Test {
        /// Extra arguments for `cargo test` (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Set up, build and run the live demo (`peerscope demo`) on network namespaces.
    Demo {
        /// Arguments for `peerscope demo` (after `--`), e.g. `-- --duration 60`.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Set up, build and run the benchmarks; writes BENCHMARKS.md.
    Bench {
        /// Arguments for the benchmark runner (after `--`): `--quick` (smaller sizes),
        /// `--only=kernel,poll,net,dissect,analyze` (those sections; BENCHMARKS.md keeps the others).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Set up, build and run the soak: `peerscope run --interval 1 --window 5
    /// --idle-timeout 10` for N minutes while new flows of 2 packets arrive at R a second
    /// (in namespaces it creates), then idle; RSS, CPU and window timing every 30 s.
    /// Writes the "Soak" section of BENCHMARKS.md (the others kept), bench/soak.svg and
    /// target/soak/soak.tsv. Occupies a CPU for the whole run.
    Soak {
        /// Minutes of churn.
        #[arg(long, default_value_t = 15.0)]
        minutes: f64,
        /// New flows a second during the churn.
        #[arg(long, default_value_t = 2000)]
        flows_per_second: u32,
        /// Minutes without traffic after the churn (default: a fifth of it, 1 to 3).
        #[arg(long)]
        idle_minutes: Option<f64>,
        /// Seconds between two samples of the agent.
        #[arg(long, default_value_t = 30.0)]
        sample_seconds: f64,
    },
    /// Set up and build the release binary `target/release/peerscope`.
    Build,
    /// Build and install peerscope: the binary, `man peerscope`, bash/zsh/fish
    /// completions, the systemd unit peerscope@.service, /etc/peerscope/peerscope.toml
    /// (only when absent), the Grafana dashboard and the Prometheus alert rules
    /// (PREFIX/share/peerscope/). Enables and starts nothing.
    Install {
        /// Installation prefix.
        #[arg(long, default_value = "/usr/local")]
        prefix: std::path::PathBuf,
        /// Stage everything under this directory (for packaging).
        #[arg(long, default_value = "/")]
        destdir: std::path::PathBuf,
        /// Install this binary instead of building target/release/peerscope.
        #[arg(long)]
        binary: Option<std::path::PathBuf>,
    },
    /// Set up, build the Wireshark plugin and install it into the system plugin directory (as root).
    Plugin,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Setup { verbose } => setup::run(verbose),
        Task::Test { args } => test(&args),
        Task::Demo { args } => demo(&args),
        Task::Bench { args } => bench(&args),
        Task::Soak { minutes, flows_per_second, idle_minutes, sample_seconds } => {
            soak(minutes, flows_per_second, idle_minutes, sample_seconds)
        }
        Task::Build => setup::run(false).and_then(|_| build_release()),
        Task::Install { prefix, destdir, binary } => install(prefix, destdir, binary),
        Task::Plugin => setup::run(false).and_then(|_| plugin::run().map(drop)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn install(
    prefix: std::path::PathBuf,
    destdir: std::path::PathBuf,
    binary: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let binary = match binary {
        Some(b) => b,
        None => {
            setup::run(false)?;
            build_release()?;
            release_binary()
        }
    };
    install::run(&install::Layout { destdir, prefix }, &binary)
}

/// Where `build_release` puts the binary: CARGO_TARGET_DIR when set, else ./target.
fn release_binary() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| sh::workspace_root().join("target"), Into::into);
    target.join("release/peerscope")
}

fn build_release() -> anyhow::Result<()> {
    sh::cargo(&["build", "--release", "-p", "peerscope-cli"], &[("PEERSCOPE_REQUIRE_EBPF", "1")])
}

fn test(args: &[String]) -> anyhow::Result<()> {
    setup::run(false)?;
    style()?;
    // The plugin's tests run the installed plugin through tshark.
    plugin::for_tests()?;
    let mut cmd: Vec<&str> = vec!["test", "--workspace"];
    if !args.is_empty() {
        cmd.push("--");
        cmd.extend(args.iter().map(String::as_str));
    }
    // The kernel program must build here: a test run without it would test less.
    sh::cargo(&cmd, &[("PEERSCOPE_REQUIRE_EBPF", "1")])
}

/// One code style, checked before anything is tested: rustfmt's layout and a clippy
/// run with every warning an error.
fn style() -> anyhow::Result<()> {
    sh::cargo(&["fmt", "--all", "--check"], &[])
        .context("`cargo fmt --all --check` found unformatted files: run `cargo fmt --all`")?;
    sh::cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"], &[("PEERSCOPE_REQUIRE_EBPF", "1")])
        .context("clippy found warnings")
}

fn demo(args: &[String]) -> anyhow::Result<()> {
    setup::run(false)?;
    build_release()?;
    let mut cmd = vec!["demo"];
    cmd.extend(args.iter().map(String::as_str));
    sh::run(&release_binary(), &cmd, &[])
}

fn soak(minutes: f64, rate: u32, idle_minutes: Option<f64>, sample_seconds: f64) -> anyhow::Result<()> {
    setup::run(false)?;
    build_release()?;
    let (minutes, rate, sample) = (minutes.to_string(), rate.to_string(), sample_seconds.to_string());
    let mut cmd = vec!["run", "--release", "-p", "peerscope-tests", "--bin", "peerscope-soak", "--"];
    cmd.extend(["--minutes", &minutes, "--flows-per-second", &rate, "--sample-seconds", &sample]);
    let idle = idle_minutes.map(|m| m.to_string());
    if let Some(m) = &idle {
        cmd.extend(["--idle-minutes", m]);
    }
    sh::cargo(&cmd, &[("PEERSCOPE_REQUIRE_EBPF", "1")])
}

fn bench(args: &[String]) -> anyhow::Result<()> {
    setup::run(false)?;
    build_release()?;
    let mut cmd = vec!["run", "--release", "-p", "peerscope-tests", "--bin", "peerscope-bench", "--"];
    cmd.extend(args.iter().map(String::as_str));
    sh::cargo(&cmd, &[("PEERSCOPE_REQUIRE_EBPF", "1")])
}
