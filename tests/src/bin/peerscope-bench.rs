//! `cargo xtask bench`: runs the benchmarks and writes BENCHMARKS.md.

use std::path::PathBuf;

use peerscope_tests::bench::{
    analyze, dissect, ipfix, kernel, load_average, machine, merge, net, poll, section_body, Section,
};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let repeat = if quick { 100_000 } else { 1_000_000 };
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    // Read before anything runs: the sections this run does not measure are kept, and
    // the analyze section compares itself with the figures it replaces.
    let existing = match std::fs::read_to_string(&out) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", out.display())),
    };
    let start_load = load_average();
    let mut sections: Vec<Section> = Vec::new();
    let kernel_opts = kernel::Options { repeat, table: if quick { 131_072 } else { 1_048_576 } };
    let only: Option<&str> = args.iter().find_map(|a| a.strip_prefix("--only="));
    const NAMES: [&str; 6] = ["kernel", "poll", "net", "dissect", "analyze", "ipfix"];
    if let Some(unknown) = only.and_then(|o| o.split(',').find(|x| !NAMES.contains(x))) {
        anyhow::bail!("--only: no benchmark named {unknown:?} (there are: {})", NAMES.join(", "));
    }
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
    if want("ipfix") {
        sections.push(ipfix::run(if quick { 1_000 } else { 10_000 }, if quick { 20 } else { 100 })?);
    }
    if want("analyze") {
        let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target");
        let o = analyze::Options {
            bytes: if quick { 64 << 20 } else { 1 << 30 },
            dir: target.join("bench"),
            peerscope: target.join("release/peerscope"),
            previous: section_body(&existing, analyze::TITLE),
        };
        sections.push(analyze::run(&o)?);
    }

    let machine = machine(&start_load);
    for s in &mut sections {
        s.body = format!("{machine}\n\n{}", s.body.trim());
        println!("\n## {}\n\n{}", s.title, s.body);
    }
    let header = "# peerscope benchmarks\n\nWritten by `cargo xtask bench`; every figure is measured beside its reference in the same run. \
                  A run replaces the sections it measured (`--only=kernel,poll,net,dissect,analyze,ipfix` picks them) and keeps the others, \
                  so each section names the machine and day it was measured on. `cargo xtask soak` writes the Soak section.\n";
    std::fs::write(&out, merge(&existing, header, &sections))?;
    eprintln!("bench: wrote {} ({} sections measured)", out.display(), sections.len());
    Ok(())
}
