//! `cargo xtask bench`: runs the benchmarks and writes BENCHMARKS.md.

use std::{fmt::Write as _, path::PathBuf};

use peerscope_tests::bench::{analyze, dissect, kernel, net, poll, Section};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let repeat = if quick { 100_000 } else { 1_000_000 };
    let mut sections: Vec<Section> = Vec::new();
    let kernel_opts = kernel::Options { repeat, table: if quick { 131_072 } else { 1_048_576 } };
    let only: Option<&str> = args.iter().find_map(|a| a.strip_prefix("--only="));
    let want = |name: &str| only.is_none_or(|o| o.split(',').any(|x| x == name));
    if want("kernel") {
        sections.push(kernel::run(&kernel_opts)?);
    }
    let release_bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/peerscope");
    if want("poll") {
        let sizes: &[u32] = if quick { &[65_536] } else { &[65_536, 1_048_576] };
        sections.push(poll::run(sizes, &release_bin)?);
    }
    if want("net") {
        sections.push(net::run()?);
    }
    if want("dissect") {
        sections.push(dissect::run(if quick { 200_000 } else { 2_000_000 })?);
    }
    if want("analyze") {
        let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target");
        let o = analyze::Options {
            bytes: if quick { 64 << 20 } else { 1 << 30 },
            dir: target.join("bench"),
            peerscope: target.join("release/peerscope"),
        };
        sections.push(analyze::run(&o)?);
    }

    let mut md = String::from("# peerscope benchmarks\n\nWritten by `cargo xtask bench`; every figure is measured beside its reference in the same run.\n");
    let _ = writeln!(md, "Machine: {} CPUs, kernel {}.\n", num_cpus(), kernel_release());
    for s in &sections {
        let _ = write!(md, "\n## {}\n\n{}\n", s.title, s.body);
        println!("\n## {}\n\n{}", s.title, s.body);
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    std::fs::write(&out, md)?;
    eprintln!("bench: wrote {}", out.display());
    Ok(())
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string()
}
