//! Running a command and measuring it: wall time, CPU time (wait4's rusage) and peak
//! resident memory. The peak is read from the child's own `VmHWM` while it runs:
//! rusage's maxrss also counts the forking parent's memory, which a benchmark
//! runner holding a million flows has plenty of.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

#[derive(Clone, Copy, Debug)]
pub struct Measured {
    pub wall: Duration,
    pub cpu: Duration,
    pub max_rss_kib: u64,
}

pub fn measure(cmd: &mut Command) -> anyhow::Result<Measured> {
    let start = Instant::now();
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    let pid = child.id() as libc::pid_t;
    let hwm = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let hwm = hwm.clone();
        std::thread::spawn(move || {
            let path = format!("/proc/{pid}/status");
            // Until the child is reaped its status file exists; a zombie has no VmHWM.
            while let Ok(status) = std::fs::read_to_string(&path) {
                match status.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
                    Some(v) => {
                        let kib = v.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
                        hwm.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                    }
                    None => break,
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for this child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let _ = watcher.join();
    anyhow::ensure!(r == pid, "wait4 failed: {}", std::io::Error::last_os_error());
    anyhow::ensure!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "{cmd:?} failed (status {status})");
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Ok(Measured {
        wall: start.elapsed(),
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        max_rss_kib: hwm.load(std::sync::atomic::Ordering::Relaxed),
    })
}
