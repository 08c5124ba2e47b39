//! `cargo xtask plugin`: build the Wireshark plugin (`dissector/wireshark`)
//! with `panic = "abort"` and install it into the system plugin directory.
//!
//! The system directory, because tshark running as root (as the tests and
//! CI do) ignores personal plugin directories such as
//! `~/.local/lib/wireshark/plugins`.

use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::sh;

/// The name the plugin is installed under; the tests look for it in `tshark -G plugins`.
pub const FILE: &str = "peerscope-pplive.so";

/// The Wireshark release the plugin's bindings are for.
const WIRESHARK_SERIES: &str = "4.0.";

/// Builds and installs; returns the installed path.
pub fn run() -> anyhow::Result<PathBuf> {
    let built = build()?;
    let dest = plugin_dir()?.join(FILE);
    if !is_root() {
        bail!(
            "installing into {} needs root: run `sudo cargo xtask plugin`, or copy {} to \
             ~/.local/lib/wireshark/plugins/4.0/epan/ and run tshark as that (non-root) user",
            dest.display(),
            built.display()
        );
    }
    install(&built, &dest)?;
    eprintln!("xtask plugin: installed {} (see `tshark -G plugins`)", dest.display());
    Ok(dest)
}

/// For `cargo xtask test`: install when root; otherwise say why the plugin's
/// tshark tests will skip (or fail under CI).
pub fn for_tests() -> anyhow::Result<()> {
    if is_root() {
        run().map(drop)
    } else {
        build()?;
        eprintln!("xtask plugin: not root, so the plugin is built but not installed; its tshark tests will not run");
        Ok(())
    }
}

fn build() -> anyhow::Result<PathBuf> {
    let version = sh::output("pkg-config", &["--modversion", "wireshark"])
        .context("libwireshark-dev not found by pkg-config: run `cargo xtask setup`")?;
    if !version.starts_with(WIRESHARK_SERIES) {
        bail!("the plugin is built for Wireshark {WIRESHARK_SERIES}x, found {}", version.trim());
    }
    // The profile sets panic = "abort": no unwinding into epan's C frames.
    sh::cargo(&["build", "-p", "peerscope-wireshark", "--profile", "wireshark-plugin"], &[])?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| sh::workspace_root().join("target"), PathBuf::from);
    Ok(target.join("wireshark-plugin/libpeerscope_wireshark.so"))
}

/// `<plugindir>/epan`, where Wireshark looks for dissector plugins.
fn plugin_dir() -> anyhow::Result<PathBuf> {
    let dir = sh::output("pkg-config", &["--variable=plugindir", "wireshark"])
        .context("pkg-config knows no plugindir for wireshark: run `cargo xtask setup`")?;
    Ok(PathBuf::from(dir.trim()).join("epan"))
}

/// Copies next to `dest` and renames, so a running tshark never loads a half-written file.
fn install(built: &std::path::Path, dest: &std::path::Path) -> anyhow::Result<()> {
    let dir = dest.parent().expect("plugin path has a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".{FILE}.tmp"));
    std::fs::copy(built, &tmp).with_context(|| format!("copying {} to {}", built.display(), tmp.display()))?;
    std::fs::rename(&tmp, dest).with_context(|| format!("installing {}", dest.display()))?;
    Ok(())
}

fn is_root() -> bool {
    sh::output("id", &["-u"]).is_some_and(|s| s.trim() == "0")
}
