//! `peerscope run --config FILE`: a TOML file whose keys are the flags of `run`
//! (without dashes). Its values are put in front of the command line's, so flags
//! given on the command line win.

use std::{ffi::OsString, path::Path};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Parse { path: String, source: toml::de::Error },
    #[error("{path}: key {key:?} has a value of a kind no flag takes (use a string, number or boolean)")]
    Value { path: String, key: String },
}

/// Turns a TOML table into flags: `key = v` → `--key v`, `key = true` → `--key`,
/// `key = false` → nothing, `key = [a, b]` → `--key a --key b`.
pub fn table_to_flags(text: &str, path: &str) -> Result<Vec<OsString>, ConfigError> {
    let table: toml::Table = text.parse().map_err(|source| ConfigError::Parse { path: path.into(), source })?;
    let mut flags = Vec::new();
    for (key, value) in &table {
        let flag = format!("--{}", key.replace('_', "-"));
        let mut push = |v: &toml::Value| -> Result<(), ConfigError> {
            let s = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(true) => {
                    flags.push(OsString::from(&flag));
                    return Ok(());
                }
                toml::Value::Boolean(false) => return Ok(()),
                _ => return Err(ConfigError::Value { path: path.into(), key: key.clone() }),
            };
            flags.push(OsString::from(&flag));
            flags.push(OsString::from(s));
            Ok(())
        };
        match value {
            toml::Value::Array(items) => items.iter().try_for_each(&mut push)?,
            v => push(v)?,
        }
    }
    Ok(flags)
}

/// Expands `--config FILE` (or `--config=FILE`) after the `run` subcommand into the
/// file's flags, placed right after `run`.
pub fn expand(args: Vec<OsString>) -> Result<Vec<OsString>, ConfigError> {
    let Some(run_at) = args.iter().position(|a| a == "run") else { return Ok(args) };
    let mut rest: Vec<OsString> = Vec::new();
    let mut file: Option<OsString> = None;
    let mut it = args[run_at + 1..].iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            file = it.next().cloned();
        } else if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            file = Some(v.into());
        } else {
            rest.push(a.clone());
        }
    }
    let Some(file) = file else { return Ok(args) };
    let path = Path::new(&file);
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
    let mut out: Vec<OsString> = args[..=run_at].to_vec();
    out.extend(table_to_flags(&text, &path.display().to_string())?);
    out.extend(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn test_keys_become_flags_and_the_command_line_wins() {
        let dir = std::env::temp_dir().join(format!("peerscope-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.toml");
        std::fs::write(
            &f,
            "interval = 5.0\nmax-flows = 1024\nkeep_attached = true\nkernel-log = false\nmetrics = \"9464\"\n",
        )
        .unwrap();
        let args = expand(os(&["peerscope", "run", "-i", "eth9", "--config", f.to_str().unwrap(), "--interval", "1"]))
            .unwrap();
        let Command::Run(run) = Cli::try_parse_from(args).unwrap().command else { panic!("not run") };
        assert_eq!(run.interval, 1.0, "the command line overrides the file");
        assert_eq!(run.max_flows, 1024);
        assert!(run.keep_attached && !run.kernel_log);
        assert_eq!(run.metrics.as_deref(), Some("9464"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn test_shipped_config_is_valid() {
        let text = include_str!("../../dist/peerscope.toml");
        let mut args = os(&["peerscope", "run", "-i", "eth0"]);
        args.extend(table_to_flags(text, "dist/peerscope.toml").unwrap());
        let Command::Run(run) = Cli::try_parse_from(args).unwrap().command else { panic!("not run") };
        assert!(run.keep_attached);
        assert_eq!(run.engine.window, 20.0);
    }

    #[test]
    fn test_unknown_key_is_rejected_by_the_flag_parser() {
        let mut args = os(&["peerscope", "run", "-i", "eth0"]);
        args.extend(table_to_flags("no-such-flag = 1", "x").unwrap());
        assert!(Cli::try_parse_from(args).is_err());
        assert!(matches!(table_to_flags("[section]\na = 1", "x"), Err(ConfigError::Value { .. })));
    }
}
