//! `cargo xtask setup`: the machine's prerequisites, installed only when missing.

use std::{path::PathBuf, process::Command};

use anyhow::{bail, Context};

use crate::sh;

/// Debian packages: the kernel toolchain (distribution Rust with its library source
/// for `-Z build-std`, LLVM 22 for bpf-linker), Wireshark's headers and pkg-config
/// for the Wireshark plugin, and the tools tests and the demo run.
const PACKAGES: &[&str] = &[
    "rustc-web",
    "cargo-web",
    "rust-web-src",
    "llvm-22-dev",
    "libpolly-22-dev",
    "zlib1g-dev",
    "libzstd-dev",
    "libwireshark-dev",
    "libglib2.0-dev",
    "pkg-config",
    "iproute2",
    "ethtool",
    "tcpdump",
    "tshark",
    "iperf3",
    "prometheus",
];

const BPF_LINKER_VERSION: &str = "0.13.0";

pub fn run() -> anyhow::Result<()> {
    let root = is_root();
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !package_installed(p)).collect();
    if !missing.is_empty() {
        if !root {
            bail!("packages missing ({}) and not running as root: run `sudo cargo xtask setup`", missing.join(" "));
        }
        eprintln!("xtask setup: installing {}", missing.join(" "));
        apt(&["update", "-qq"])?;
        let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
        args.extend(&missing);
        apt(&args)?;
    }
    ensure_bpf_linker()?;
    if root {
        ensure_bpffs()?;
    } else {
        eprintln!("xtask setup: not root; bpffs not checked (live capture and its tests need root)");
    }
    eprintln!("xtask setup: ready");
    Ok(())
}

fn is_root() -> bool {
    sh::output("id", &["-u"]).map(|s| s.trim() == "0").unwrap_or(false)
}

fn package_installed(name: &str) -> bool {
    sh::output("dpkg-query", &["-W", "-f=${Status}", name]).is_some_and(|s| s.contains("install ok installed"))
}

fn apt(args: &[&str]) -> anyhow::Result<()> {
    eprintln!("xtask setup: $ apt-get {}", args.join(" "));
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get")?;
    if !status.success() {
        bail!("apt-get {} failed ({status})", args.join(" "));
    }
    Ok(())
}

fn cargo_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"))
        .join("bin")
}

fn ensure_bpf_linker() -> anyhow::Result<()> {
    let linker = cargo_bin_dir().join("bpf-linker");
    let have = sh::output(linker.to_str().unwrap(), &["--version"]).unwrap_or_default();
    if have.contains(BPF_LINKER_VERSION) {
        return Ok(());
    }
    eprintln!("xtask setup: building bpf-linker {BPF_LINKER_VERSION} against LLVM 22 (a few minutes, once)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "install",
            "bpf-linker",
            "--version",
            BPF_LINKER_VERSION,
            "--no-default-features",
            "--features",
            "llvm-22",
        ])
        .env("LLVM_PREFIX", "/usr/lib/llvm-22")
        .status()
        .context("running cargo install bpf-linker")?;
    if !status.success() {
        bail!("cargo install bpf-linker failed ({status})");
    }
    Ok(())
}

fn ensure_bpffs() -> anyhow::Result<()> {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    if mounts
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some("/sys/fs/bpf") && l.split_whitespace().nth(2) == Some("bpf"))
    {
        return Ok(());
    }
    eprintln!("xtask setup: $ mount -t bpf bpf /sys/fs/bpf");
    let status = Command::new("mount").args(["-t", "bpf", "bpf", "/sys/fs/bpf"]).status().context("running mount")?;
    if !status.success() {
        bail!("mounting bpffs failed ({status})");
    }
    Ok(())
}
