//! A network namespace that lives exactly as long as one thread of this process.
//!
//! The thread calls `unshare(CLONE_NEWNET)` and then runs the jobs it is sent. Nothing
//! is bind-mounted, so when the thread ends (or the process dies, even by SIGKILL) the
//! kernel frees the namespace and with it every veth, bridge and qdisc inside.

use std::{
    io::Write,
    process::{Command, Stdio},
    sync::mpsc,
    thread::JoinHandle,
};

use anyhow::{anyhow, bail, Context};

type Job = Box<dyn FnOnce() + Send>;

/// One namespace and the thread that holds it.
pub struct NetNs {
    pub name: String,
    /// Kernel id of the holding thread: `ip link … netns <tid>` and
    /// `/proc/<pid>/task/<tid>/ns/net` both name the namespace by it.
    pub tid: i32,
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl NetNs {
    pub fn new(name: &str) -> anyhow::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<i32, String>>();
        let thread = std::thread::Builder::new()
            .name(format!("ns-{name}"))
            .spawn(move || {
                if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET) {
                    let _ = ready_tx.send(Err(format!("unshare(CLONE_NEWNET): {e}")));
                    return;
                }
                // SAFETY: gettid has no preconditions.
                let _ = ready_tx.send(Ok(unsafe { libc::gettid() }));
                // Ends when the owner drops its sender.
                for job in rx {
                    job();
                }
            })
            .context("starting a namespace thread")?;
        let tid = ready_rx
            .recv()
            .map_err(|_| anyhow!("namespace thread {name} died"))?
            .map_err(|e| anyhow!("creating namespace {name}: {e} (needs root)"))?;
        let ns = NetNs { name: name.to_string(), tid, jobs: Some(tx), thread: Some(thread) };
        ns.batch("ip", &["link set lo up".into()])?;
        Ok(ns)
    }

    /// Inode of the namespace, as `/proc/*/ns/net` links show it (`net:[N]`).
    pub fn inode(&self) -> u64 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(format!("/proc/{}/task/{}/ns/net", std::process::id(), self.tid))
            .map(|m| m.ino())
            .unwrap_or(0)
    }

    /// Runs `f` on the namespace's thread and waits for its result.
    pub fn exec<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
        let (tx, rx) = mpsc::channel();
        self.spawn(move || {
            let _ = tx.send(f());
        })?;
        rx.recv().map_err(|_| anyhow!("namespace {}: job panicked", self.name))
    }

    /// Queues `f` on the namespace's thread without waiting.
    pub fn spawn(&self, f: impl FnOnce() + Send + 'static) -> anyhow::Result<()> {
        self.jobs
            .as_ref()
            .and_then(|j| j.send(Box::new(f)).ok())
            .ok_or_else(|| anyhow!("namespace {} is gone", self.name))
    }

    /// Runs `tool -batch -` (`ip` or `tc`) inside the namespace with one command per
    /// line: a child process inherits the namespace of the thread that forks it.
    pub fn batch(&self, tool: &'static str, lines: &[String]) -> anyhow::Result<()> {
        let script = lines.join("\n") + "\n";
        let name = self.name.clone();
        self.exec(move || -> anyhow::Result<()> {
            let mut child = Command::new(tool)
                .args(["-batch", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .with_context(|| format!("running {tool} (iproute2)"))?;
            child.stdin.take().unwrap().write_all(script.as_bytes())?;
            let out = child.wait_with_output()?;
            if !out.status.success() {
                bail!("{tool} in namespace {name} failed: {}\n{script}", String::from_utf8_lossy(&out.stderr).trim());
            }
            Ok(())
        })?
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
