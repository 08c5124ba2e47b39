//! `cargo xtask install`: the binary, its manual page, shell completions, the systemd
//! template unit, a configuration (only if none is there), the Grafana dashboard and
//! the Prometheus alert rules. It enables and starts nothing.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context};

use crate::sh;

/// Where things go.
pub struct Layout {
    /// Prepended to every path (staging for a package; empty for the real thing).
    pub destdir: PathBuf,
    pub prefix: PathBuf,
}

impl Layout {
    fn at(&self, path: impl AsRef<Path>) -> PathBuf {
        let p = path.as_ref();
        self.destdir.join(p.strip_prefix("/").unwrap_or(p))
    }

    fn under_prefix(&self, rel: &str) -> PathBuf {
        self.at(self.prefix.join(rel))
    }

    /// Every file installed, from the generated and shipped sources.
    pub fn files(&self) -> Vec<(PathBuf, Source, u32)> {
        let dist = sh::workspace_root().join("agent/dist");
        vec![
            (self.under_prefix("bin/peerscope"), Source::Binary, 0o755),
            (self.under_prefix("share/man/man1/peerscope.1"), Source::Generated(&["man"]), 0o644),
            (
                self.under_prefix("share/bash-completion/completions/peerscope"),
                Source::Generated(&["completions", "bash"]),
                0o644,
            ),
            (
                self.under_prefix("share/zsh/site-functions/_peerscope"),
                Source::Generated(&["completions", "zsh"]),
                0o644,
            ),
            (
                self.under_prefix("share/fish/vendor_completions.d/peerscope.fish"),
                Source::Generated(&["completions", "fish"]),
                0o644,
            ),
            (self.at("/etc/systemd/system/peerscope@.service"), Source::Unit(dist.join("peerscope@.service")), 0o644),
            (self.at("/etc/peerscope/peerscope.toml"), Source::ConfigIfAbsent(dist.join("peerscope.toml")), 0o600),
            (
                self.under_prefix("share/peerscope/grafana-dashboard.json"),
                Source::Copy(dist.join("grafana-dashboard.json")),
                0o644,
            ),
            (
                self.under_prefix("share/peerscope/prometheus-alerts.yml"),
                Source::Copy(dist.join("prometheus-alerts.yml")),
                0o644,
            ),
        ]
    }
}

/// Where a file's contents come from.
pub enum Source {
    Binary,
    /// The output of `peerscope ARGS`.
    Generated(&'static [&'static str]),
    /// The unit, its `ExecStart` pointing at the installed binary.
    Unit(PathBuf),
    /// Never overwrites an operator's configuration.
    ConfigIfAbsent(PathBuf),
    Copy(PathBuf),
}

pub fn run(layout: &Layout, binary: &Path) -> anyhow::Result<()> {
    if !binary.is_file() {
        bail!("{} does not exist (build it, or give --binary)", binary.display());
    }
    let installed_bin = layout.prefix.join("bin/peerscope");
    for (dest, source, mode) in layout.files() {
        let bytes = match source {
            Source::Binary => std::fs::read(binary)?,
            Source::Generated(args) => generate(binary, args)?,
            Source::Unit(p) => std::fs::read_to_string(&p)?
                .replace("/usr/local/bin/peerscope", &installed_bin.display().to_string())
                .into_bytes(),
            Source::ConfigIfAbsent(p) => {
                if dest.exists() {
                    eprintln!("xtask install: kept {} (already there)", dest.display());
                    continue;
                }
                std::fs::read(&p)?
            }
            Source::Copy(p) => std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?,
        };
        let dir = dest.parent().expect("an absolute path");
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        if mode == 0o600 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        // Written beside and renamed: a running agent's binary is replaced, not changed.
        let tmp = dest.with_extension("xtask-tmp");
        std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
        std::fs::rename(&tmp, &dest)?;
        eprintln!("xtask install: {}", dest.display());
    }
    eprintln!(
        "xtask install: done; nothing was enabled or started. For an interface: `systemctl daemon-reload && systemctl enable --now peerscope@eth0`"
    );
    Ok(())
}

fn generate(binary: &Path, args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let out = Command::new(binary).args(args).output().with_context(|| format!("running {}", binary.display()))?;
    if !out.status.success() {
        bail!("{} {} failed: {}", binary.display(), args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_a_destdir_holds_every_path_and_the_prefix_moves_the_shared_ones() {
        let l = Layout { destdir: "/tmp/stage".into(), prefix: "/opt/ps".into() };
        let files: Vec<PathBuf> = l.files().into_iter().map(|(p, _, _)| p).collect();
        assert!(files.iter().all(|p| p.starts_with("/tmp/stage")), "{files:?}");
        assert!(files.contains(&PathBuf::from("/tmp/stage/opt/ps/share/man/man1/peerscope.1")));
        assert!(files.contains(&PathBuf::from("/tmp/stage/etc/systemd/system/peerscope@.service")));
        for (_, source, _) in l.files() {
            if let Source::Copy(p) | Source::Unit(p) | Source::ConfigIfAbsent(p) = source {
                assert!(p.is_file(), "{} is shipped", p.display());
            }
        }
    }
}
