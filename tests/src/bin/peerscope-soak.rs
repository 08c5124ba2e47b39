//! `cargo xtask soak [--minutes N] [--flows-per-second R] [--idle-minutes M]`: the
//! agent under churn for N minutes, then idle, sampled every 30 s; writes
//! target/soak/soak.tsv, bench/soak.svg and the "Soak" section of BENCHMARKS.md (the
//! other sections are kept).

use std::{path::PathBuf, time::Duration};

use peerscope_tests::{
    bench::{header_of, load_average, machine, merge, without},
    soak::{self, Options},
};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| -> anyhow::Result<Option<f64>> {
        match args.iter().position(|a| a == flag) {
            Some(i) => {
                let v = args.get(i + 1).ok_or_else(|| anyhow::anyhow!("{flag} wants a value"))?;
                Ok(Some(v.parse().map_err(|_| anyhow::anyhow!("{flag}: not a number: {v}"))?))
            }
            None => Ok(None),
        }
    };
    let minutes = value("--minutes")?.unwrap_or(15.0);
    let idle_minutes = value("--idle-minutes")?.unwrap_or((minutes / 5.0).clamp(1.0, 3.0));
    let rate = value("--flows-per-second")?.unwrap_or(2000.0);
    let every = value("--sample-seconds")?.unwrap_or(30.0);
    anyhow::ensure!(minutes > 0.0 && idle_minutes > 0.0 && rate >= 1.0 && every > 0.0, "values must be positive");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let o = Options {
        peerscope: root.join("target/release/peerscope"),
        load: Duration::from_secs_f64(minutes * 60.0),
        idle: Duration::from_secs_f64(idle_minutes * 60.0),
        flows_per_second: rate as u32,
        sample_every: Duration::from_secs_f64(every),
        dir: root.join("target/soak"),
    };
    anyhow::ensure!(o.peerscope.is_file(), "{} not built (cargo xtask soak builds it)", o.peerscope.display());
    let start_load = load_average();
    let out = soak::run(&o)?;
    std::fs::write(o.dir.join("soak.tsv"), soak::tsv(&out))?;
    std::fs::create_dir_all(root.join("bench"))?;
    soak::svg(&out, &root.join("bench/soak.svg"))?;
    let mut section = soak::section(&o, &out, "bench/soak.svg");
    section.body = format!("{}\n\n{}", machine(&start_load), section.body.trim());
    println!("## {}\n\n{}", section.title, section.body);
    let md_path = root.join("BENCHMARKS.md");
    let md = std::fs::read_to_string(&md_path).unwrap_or_else(|_| "# peerscope benchmarks\n".to_string());
    // One soak section: an earlier run's (of another length or rate) goes.
    let md = without(&md, "Soak");
    std::fs::write(&md_path, merge(&md, header_of(&md), &[section]))?;
    eprintln!("soak: wrote {}, bench/soak.svg and target/soak/soak.tsv", md_path.display());
    Ok(())
}
