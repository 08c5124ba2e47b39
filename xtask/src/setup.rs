//! `cargo xtask setup`: the machine's prerequisites, installed only when missing.
//!
//! Quiet: one line per step; what the tools print goes to a log file
//! (`target/xtask/setup.log`), shown when a step fails (`--verbose` shows it as it
//! runs). It never leaves a system service enabled or started that it did not find so:
//! packages are installed with a `policy-rc.d` that forbids starting services, and the
//! units of the packages it installed are disabled again (Debian's `prometheus`
//! enables `prometheus.service` on install).

use std::{
    fs::{File, OpenOptions},
    io::{BufRead, BufReader, Write},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{bail, Context};

use crate::sh;

/// Debian packages: the kernel toolchain (distribution Rust with its library source
/// for `-Z build-std`, LLVM 22 for bpf-linker), Wireshark's headers and pkg-config
/// for the Wireshark plugin, and the tools tests, benchmarks and the demo run (`man`
/// renders the manual page in its test).
pub const PACKAGES: &[&str] = &[
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
    "nfdump",
    "iperf3",
    "prometheus",
    "man-db",
];

const BPF_LINKER_VERSION: &str = "0.13.0";

/// Where the tools' output goes.
pub struct Log {
    path: PathBuf,
    file: File,
    verbose: bool,
}

impl Log {
    fn open(verbose: bool) -> anyhow::Result<Log> {
        Self::at(sh::workspace_root().join("target/xtask/setup.log"), verbose)
    }

    fn at(path: PathBuf, verbose: bool) -> anyhow::Result<Log> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let file = OpenOptions::new().create(true).write(true).truncate(true).open(&path)?;
        Ok(Log { path, file, verbose })
    }

    /// Runs one step: a line saying what it does, its output into the log, and on
    /// failure the log's end on stderr.
    fn step(&mut self, what: &str, program: &str, args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<()> {
        eprintln!("xtask setup: {what}");
        writeln!(self.file, "\n$ {program} {}", args.join(" "))?;
        let mut child = Command::new(program)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("running {program}"))?;
        let err = child.stderr.take().unwrap();
        let mut log = self.file.try_clone()?;
        let verbose = self.verbose;
        let stderr_copy = std::thread::spawn(move || copy_lines(BufReader::new(err), &mut log, verbose));
        copy_lines(BufReader::new(child.stdout.take().unwrap()), &mut self.file, self.verbose);
        let _ = stderr_copy.join();
        let status = child.wait()?;
        if !status.success() {
            self.show_tail();
            bail!("{what}: {program} {} failed ({status}); full log in {}", args.join(" "), self.path.display());
        }
        Ok(())
    }

    fn show_tail(&self) {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        eprintln!("--- last lines of {} ---", self.path.display());
        for l in &lines[lines.len().saturating_sub(40)..] {
            eprintln!("{l}");
        }
        eprintln!("---");
    }
}

fn copy_lines(r: impl BufRead, log: &mut File, verbose: bool) {
    for line in r.lines().map_while(Result::ok) {
        let _ = writeln!(log, "{line}");
        if verbose {
            eprintln!("  {line}");
        }
    }
}

pub fn run(verbose: bool) -> anyhow::Result<()> {
    let root = is_root();
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !package_installed(p)).collect();
    let mut log = Log::open(verbose)?;
    if !missing.is_empty() {
        if !root {
            bail!("packages missing ({}) and not running as root: run `sudo cargo xtask setup`", missing.join(" "));
        }
        install_packages(&mut log, &missing)?;
    }
    ensure_bpf_linker(&mut log)?;
    if root {
        ensure_bpffs(&mut log)?;
    } else {
        eprintln!("xtask setup: not root; bpffs not checked (live capture and its tests need root)");
    }
    eprintln!("xtask setup: ready");
    Ok(())
}

/// `apt-get install` with services kept from starting, and the units these packages
/// enabled disabled again.
fn install_packages(log: &mut Log, missing: &[&str]) -> anyhow::Result<()> {
    let _no_start = PolicyRcD::install()?;
    let apt_env = [("DEBIAN_FRONTEND", "noninteractive")];
    log.step("updating the package lists (apt-get update)", "apt-get", &["update", "-qq"], &apt_env)?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(missing);
    log.step(&format!("installing {}", missing.join(" ")), "apt-get", &args, &apt_env)?;
    for unit in missing.iter().flat_map(|p| units_of(p)) {
        if sh::output("deb-systemd-helper", &["is-enabled", &unit]).is_some() {
            log.step(
                &format!("disabling {unit} (enabled by its package)"),
                "deb-systemd-helper",
                &["disable", &unit],
                &[],
            )?;
        }
    }
    Ok(())
}

/// The systemd units a package ships.
fn units_of(package: &str) -> Vec<String> {
    let files = sh::output("dpkg-query", &["-L", package]).unwrap_or_default();
    units_in(&files)
}

fn units_in(dpkg_files: &str) -> Vec<String> {
    dpkg_files
        .lines()
        .filter(|l| l.contains("/systemd/system/") && [".service", ".socket", ".timer"].iter().any(|e| l.ends_with(e)))
        .filter_map(|l| Path::new(l).file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect()
}

const POLICY_RC_D: &str = "/usr/sbin/policy-rc.d";

/// A `policy-rc.d` answering 101 ("action forbidden") while packages install, so no
/// service starts; removed afterwards unless one was there already.
struct PolicyRcD {
    created: bool,
}

impl PolicyRcD {
    fn install() -> anyhow::Result<PolicyRcD> {
        if Path::new(POLICY_RC_D).exists() {
            return Ok(PolicyRcD { created: false });
        }
        std::fs::write(POLICY_RC_D, policy_script()).with_context(|| format!("writing {POLICY_RC_D}"))?;
        std::fs::set_permissions(POLICY_RC_D, std::fs::Permissions::from_mode(0o755))?;
        Ok(PolicyRcD { created: true })
    }
}

fn policy_script() -> &'static str {
    "#!/bin/sh\n# Written by cargo xtask setup while it installs packages: start no service.\nexit 101\n"
}

impl Drop for PolicyRcD {
    fn drop(&mut self) {
        if self.created {
            let _ = std::fs::remove_file(POLICY_RC_D);
        }
    }
}

fn is_root() -> bool {
    sh::output("id", &["-u"]).map(|s| s.trim() == "0").unwrap_or(false)
}

fn package_installed(name: &str) -> bool {
    sh::output("dpkg-query", &["-W", "-f=${Status}", name]).is_some_and(|s| s.contains("install ok installed"))
}

fn cargo_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"))
        .join("bin")
}

fn ensure_bpf_linker(log: &mut Log) -> anyhow::Result<()> {
    let linker = cargo_bin_dir().join("bpf-linker");
    let have = sh::output(linker.to_str().unwrap(), &["--version"]).unwrap_or_default();
    if have.contains(BPF_LINKER_VERSION) {
        return Ok(());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    log.step(
        &format!("building bpf-linker {BPF_LINKER_VERSION} against LLVM 22 (a few minutes, once)"),
        &cargo,
        &["install", "bpf-linker", "--version", BPF_LINKER_VERSION, "--no-default-features", "--features", "llvm-22"],
        &[("LLVM_PREFIX", "/usr/lib/llvm-22")],
    )
}

fn ensure_bpffs(log: &mut Log) -> anyhow::Result<()> {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    if mounts
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some("/sys/fs/bpf") && l.split_whitespace().nth(2) == Some("bpf"))
    {
        return Ok(());
    }
    log.step("mounting bpffs at /sys/fs/bpf", "mount", &["-t", "bpf", "bpf", "/sys/fs/bpf"], &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_units_are_found_in_a_package_listing() {
        let listing = "/.\n/lib/systemd/system\n/lib/systemd/system/prometheus.service\n/usr/bin/prometheus\n/lib/systemd/system/x.timer\n/usr/share/doc/prometheus/README.service.md\n";
        assert_eq!(units_in(listing), vec!["prometheus.service", "x.timer"]);
    }

    #[test]
    fn test_the_policy_forbids_every_action() {
        // invoke-rc.d reads 101 as "action forbidden by policy".
        assert!(policy_script().starts_with("#!/bin/sh\n") && policy_script().trim_end().ends_with("exit 101"));
    }

    #[test]
    fn test_a_failing_step_names_the_log_and_keeps_the_output() {
        let path = std::env::temp_dir().join(format!("xtask-setup-test-{}.log", std::process::id()));
        let mut log = Log::at(path.clone(), false).unwrap();
        log.step("a step that works", "sh", &["-c", "echo fine"], &[]).unwrap();
        let e = log.step("a step that fails", "sh", &["-c", "echo why it failed >&2; exit 3"], &[]).unwrap_err();
        assert!(e.to_string().contains(&format!("full log in {}", path.display())), "{e}");
        let text = std::fs::read_to_string(&log.path).unwrap();
        assert!(text.contains("fine") && text.contains("why it failed"), "{text}");
        let _ = std::fs::remove_file(&path);
    }
}
