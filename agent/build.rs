//! Builds the kernel program (package `agent-ebpf`, with the `peerscope-abi` crate it
//! shares with the agent) for bpfel-unknown-none and embeds it.
//!
//! The BPF target needs `-Z build-std=core`, which the host toolchain here cannot do,
//! so the kernel object is built with the distribution's Rust (`/usr/bin/cargo`,
//! `/usr/bin/rustc` with its library source) and `bpf-linker`, all installed by
//! `cargo xtask setup`. Without them the agent still builds (its offline analysis and
//! tests need no kernel object) and says at run time how to get the kernel part.

use std::{
    env,
    ffi::OsString,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap()).join("peerscope-ebpf.o");
    for path in ["agent-ebpf/src", "agent-ebpf/Cargo.toml", "agent-ebpf/abi/src", "agent-ebpf/abi/Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    for var in ["PEERSCOPE_EBPF_OBJECT", "PEERSCOPE_REQUIRE_EBPF", "PEERSCOPE_BPF_CARGO", "PEERSCOPE_BPF_RUSTC"] {
        println!("cargo:rerun-if-env-changed={var}");
    }

    if let Some(obj) = env::var_os("PEERSCOPE_EBPF_OBJECT") {
        fs::copy(&obj, &out).unwrap_or_else(|e| panic!("copying PEERSCOPE_EBPF_OBJECT {obj:?}: {e}"));
        return;
    }
    match build_kernel_object(&root) {
        Ok(obj) => {
            fs::copy(&obj, &out).unwrap_or_else(|e| panic!("copying {}: {e}", obj.display()));
        }
        Err(why) => {
            if env::var_os("PEERSCOPE_REQUIRE_EBPF").is_some() {
                panic!("building the kernel program failed: {why}");
            }
            println!("cargo:warning=kernel program not built ({why}); run `cargo xtask setup` for live capture");
            fs::write(&out, b"").unwrap();
        }
    }
}

fn build_kernel_object(root: &Path) -> Result<PathBuf, String> {
    let cargo = env::var_os("PEERSCOPE_BPF_CARGO").unwrap_or_else(|| "/usr/bin/cargo".into());
    let rustc = env::var_os("PEERSCOPE_BPF_RUSTC").unwrap_or_else(|| "/usr/bin/rustc".into());
    for tool in [&cargo, &rustc] {
        if !Path::new(tool).exists() {
            return Err(format!("{} is missing", Path::new(tool).display()));
        }
    }
    let linker = find_bpf_linker().ok_or("bpf-linker is not installed")?;
    let target_dir = root.join("target").join("bpf");
    let mut flags = OsString::from("--cfg=bpf_target_arch=\"x86_64\"");
    // BPF v3 (Linux 5.12+, well below TCX's 6.6): the flow table claims slots with
    // atomic compare-and-swap and fetch-add, which v1 lacks.
    for f in ["-Cdebuginfo=2", "-Clink-arg=--btf", "-Ctarget-cpu=v3"] {
        flags.push("\x1f");
        flags.push(f);
    }
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(root.join("agent-ebpf"))
        .args(["build", "--package", "agent-ebpf", "--bin", "peerscope-ebpf", "--features", "kernel"])
        .args(["--release", "-Z", "build-std=core", "--target", "bpfel-unknown-none"])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RUSTC", &rustc)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_BPFEL_UNKNOWN_NONE_LINKER", &linker)
        .env("CARGO_ENCODED_RUSTFLAGS", flags);
    // The outer build's settings are for the host toolchain, not this one.
    for var in [
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTUP_TOOLCHAIN",
        "RUSTDOC",
    ] {
        cmd.env_remove(var);
    }
    let output = cmd.output().map_err(|e| format!("running {}: {e}", Path::new(&cargo).display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
            println!("cargo:warning={line}");
        }
        return Err(format!("{} build failed", Path::new(&cargo).display()));
    }
    Ok(target_dir.join("bpfel-unknown-none/release/peerscope-ebpf"))
}

fn find_bpf_linker() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = env::var_os("PATH").map(|p| env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join("bpf-linker")).find(|p| p.is_file())
}
