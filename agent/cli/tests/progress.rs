//! The progress bar of `peerscope analyze`: shown on a terminal for a large file,
//! absent when stderr is not a terminal (logs, pipes, CI).

use std::process::Command;

use peerscope::offline::synth::{Link, SynthPcap};

#[test]
fn progress_bar_only_on_a_terminal() {
    let path = std::env::temp_dir().join(format!("peerscope-progress-{}.pcap", std::process::id()));
    let mut p = SynthPcap::new(Link::Ethernet);
    let (a, b) = ("192.0.2.1:4004".parse().unwrap(), "192.0.2.2:4004".parse().unwrap());
    p.udp_train(0, 1_000_000, 7_000, a, b, 1500);
    p.write_file(&path).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > peerscope::offline::progress::MIN_BYTES);
    let bin = env!("CARGO_BIN_EXE_peerscope");

    let plain = Command::new(bin).arg("analyze").arg(&path).args(["--json", "/dev/null"]).output().unwrap();
    assert!(plain.status.success());
    assert!(!String::from_utf8_lossy(&plain.stderr).contains("analysing"), "no bar without a terminal");

    // util-linux `script` gives the command a pseudo-terminal and records what it shows.
    if Command::new("script").arg("--version").output().is_err() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("`script` (util-linux) is needed to test the progress bar");
        }
        eprintln!("\n*** SKIPPED terminal half of progress_bar_only_on_a_terminal: no `script` ***\n");
        let _ = std::fs::remove_file(&path);
        return;
    }
    let transcript = std::env::temp_dir().join(format!("peerscope-progress-{}.out", std::process::id()));
    let cmd = format!("{bin} analyze {} --json /dev/null", path.display());
    let tty = Command::new("script").args(["-qfec", &cmd]).arg(&transcript).output().unwrap();
    assert!(tty.status.success());
    let shown = std::fs::read_to_string(&transcript).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&transcript);
    assert!(shown.contains("analysing"), "a terminal shows the bar: {shown:?}");
}
