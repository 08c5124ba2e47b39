//! `peerscope run --config FILE`: a TOML file whose keys are the flags of `run` without
//! dashes, read into typed values (an unknown key, or a value of the wrong type, is an
//! error naming the file, the line and the key). `[interface.NAME]` tables hold values
//! for one interface only. A flag given on the command line wins over the file, an
//! interface's table over the file's top level.

use std::{collections::BTreeMap, collections::HashMap, ops::Range, path::Path, path::PathBuf};

use clap::{parser::ValueSource, ArgMatches};
use serde::Deserialize;
use toml::Spanned;

use crate::cli::{Invalid, RunArgs};

/// A configuration that cannot be used, with where it is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    At { path: String, line: usize, message: String },
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

/// Where a value of `run` came from, for messages about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    CommandLine,
    File { path: PathBuf, line: usize },
}

/// The origin of each key taken from the file (the others came from the command line
/// or are defaults).
#[derive(Debug, Default)]
pub struct Origins(HashMap<String, (PathBuf, usize)>);

impl Origins {
    pub fn of(&self, key: &str) -> Origin {
        match self.0.get(key) {
            Some((path, line)) => Origin::File { path: path.clone(), line: *line },
            None => Origin::CommandLine,
        }
    }

    /// An invalid value, named where the user wrote it: `FILE:LINE: key \`k\`` or `--k`.
    pub fn explain(&self, e: &Invalid) -> String {
        match self.of(e.key) {
            Origin::File { path, line } => format!("{}:{line}: key `{}`: {}", path.display(), e.key, e.msg),
            Origin::CommandLine => format!("--{}: {}", e.key, e.msg),
        }
    }
}

/// Declares the file's keys once: the typed tables (top level and per interface), the
/// list of key names, and the merge into [`RunArgs`]. `plain` keys set the flag's
/// value; `optional` keys set an `Option` flag.
macro_rules! keys {
    (
        plain { $( $p:ident : $pty:ty => $($ppath:ident).+ ; )* }
        optional { $( $o:ident : $oty:ty => $($opath:ident).+ ; )* }
    ) => {
        /// The keys one table may hold.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct Keys {
            $( #[serde(default)] pub $p: Option<Spanned<$pty>>, )*
            $( #[serde(default)] pub $o: Option<Spanned<$oty>>, )*
        }

        /// The whole file: the top level's keys and one table per interface.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct FileConfig {
            $( #[serde(default)] pub $p: Option<Spanned<$pty>>, )*
            $( #[serde(default)] pub $o: Option<Spanned<$oty>>, )*
            #[serde(default)]
            pub interface: BTreeMap<String, Keys>,
        }

        impl FileConfig {
            fn split(self) -> (Keys, BTreeMap<String, Keys>) {
                (Keys { $( $p: self.$p, )* $( $o: self.$o, )* }, self.interface)
            }
        }

        /// Every key, as written in the file.
        pub const KEYS: &[&str] = &[ $( stringify!($p), )* $( stringify!($o), )* ];

        /// Takes each value the command line did not give from the first layer that
        /// has it, noting its line.
        fn merge(args: &mut RunArgs, m: &ArgMatches, layers: &mut [&mut Keys], text: &str, path: &Path, origins: &mut Origins) {
            $(
                if !given(m, stringify!($p)) {
                    if let Some(v) = layers.iter_mut().find_map(|l| l.$p.take()) {
                        origins.0.insert(key_name(stringify!($p)), (path.to_path_buf(), line_of(text, v.span())));
                        args.$($ppath).+ = v.into_inner();
                    }
                }
            )*
            $(
                if !given(m, stringify!($o)) {
                    if let Some(v) = layers.iter_mut().find_map(|l| l.$o.take()) {
                        origins.0.insert(key_name(stringify!($o)), (path.to_path_buf(), line_of(text, v.span())));
                        args.$($opath).+ = Some(v.into_inner());
                    }
                }
            )*
        }
    };
}

keys! {
    plain {
        interval: f64 => interval;
        max_flows: u32 => max_flows;
        json: bool => json;
        quiet: bool => quiet;
        top: usize => top;
        idle_timeout: f64 => idle_timeout;
        history: String => history;
        samples_per_sec: u32 => samples_per_sec;
        kernel_log: bool => kernel_log;
        decap: bool => decap;
        keep_attached: bool => keep_attached;
        exit_on_link_loss: bool => exit_on_link_loss;
        hook: crate::cli::HookArg => hook;
        data_min: u32 => classes.data_min;
        large_above: u32 => classes.large_above;
        window: f64 => engine.window;
        sample: f64 => engine.sample;
        rate_threshold: f64 => engine.rate_threshold;
        udp_sessions: bool => engine.udp_sessions;
        flow_rates_top: usize => engine.flow_rates_top;
        startup_window: f64 => engine.startup_window;
        ipfix_transport: String => ipfix.ipfix_transport;
        ipfix_enterprise: u32 => ipfix.ipfix_enterprise;
        ipfix_template_refresh: f64 => ipfix.ipfix_template_refresh;
    }
    optional {
        netns: PathBuf => netns;
        count: u64 => count;
        metrics: String => metrics;
        jsonl: PathBuf => jsonl;
        geo: PathBuf => engine.geo;
        host_location: String => engine.host_location;
        playback_rate: f64 => engine.playback_rate;
        ipfix: String => ipfix.ipfix;
    }
}

/// `max_flows` → `max-flows`, as the key is written (and the flag without dashes).
fn key_name(field: &str) -> String {
    field.replace('_', "-")
}

/// Whether the command line set the flag (or its `--no-` form).
fn given(m: &ArgMatches, field: &str) -> bool {
    let cli = |id: &str| m.try_contains_id(id).unwrap_or(false) && m.value_source(id) == Some(ValueSource::CommandLine);
    cli(field) || cli(&format!("no_{field}"))
}

fn line_of(text: &str, span: Range<usize>) -> usize {
    text[..span.start.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// Reads `path` and fills in every value of `args` that `matches` (the command line)
/// did not set, from `[interface.IFACE]` first, then the top level.
pub fn apply(args: &mut RunArgs, matches: &ArgMatches, path: &Path) -> Result<Origins, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
    let file = parse(&text, &shown)?;
    let (mut top, mut sections) = file.split();
    let mut origins = Origins::default();
    let mut layers: Vec<&mut Keys> = Vec::new();
    if let Some(own) = sections.get_mut(&args.iface) {
        layers.push(own);
    }
    layers.push(&mut top);
    merge(args, matches, &mut layers, &text, path, &mut origins);
    Ok(origins)
}

/// Parses the file's text into typed tables.
pub fn parse(text: &str, path: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str::<FileConfig>(text).map_err(|e| {
        let message = describe(&e, text);
        match e.span() {
            Some(span) => ConfigError::At { path: path.into(), line: line_of(text, span), message },
            None => ConfigError::File { path: path.into(), message },
        }
    })
}

/// The parser's complaint, naming the key and, for a typo, the key meant.
fn describe(e: &toml::de::Error, text: &str) -> String {
    let msg = e.message().trim();
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or("");
        let hint = KEYS
            .iter()
            .map(|k| key_name(k))
            .chain(["interface".to_string()])
            .map(|k| (strsim::levenshtein(&k, key), k))
            .min()
            .filter(|(d, _)| *d <= 2)
            .map(|(_, k)| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        return format!(
            "unknown key `{key}`{hint}; the keys are `run`'s flags without dashes (see `peerscope run --help`)"
        );
    }
    // Name the key of the line the error points at.
    let key = e
        .span()
        .and_then(|s| text[..s.start.min(text.len())].rsplit('\n').next().map(|l| l.to_string()))
        .and_then(|l| l.split('=').next().map(|k| k.trim().to_string()))
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    match key {
        Some(k) => format!("key `{k}`: {msg}"),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::{CommandFactory, FromArgMatches};

    fn run_with(argv: &[&str], file_text: &str) -> Result<(RunArgs, Origins), ConfigError> {
        // One directory per call: tests run in parallel.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("peerscope-cfg-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.toml");
        std::fs::write(&f, file_text).unwrap();
        let m = Cli::command().try_get_matches_from(argv).unwrap();
        let Command::Run(mut run) = Cli::from_arg_matches(&m).unwrap().command else { panic!("not run") };
        let sub = m.subcommand_matches("run").unwrap();
        let out = apply(&mut run, sub, &f).map(|o| (*run, o));
        let _ = std::fs::remove_dir_all(&dir);
        out
    }

    #[test]
    fn test_keys_fill_in_and_the_command_line_wins() {
        let (run, origins) = run_with(
            &["peerscope", "run", "-i", "eth9", "--interval", "1", "--no-keep-attached"],
            "interval = 5.0\nmax-flows = 1024\nkeep-attached = true\nkernel-log = false\nmetrics = \"9464\"\n",
        )
        .unwrap();
        assert_eq!(run.interval, 1.0, "the command line overrides the file");
        assert_eq!(run.max_flows, 1024);
        assert!(!run.keep_attached, "--no-keep-attached overrides the file's true");
        assert!(!run.kernel_log);
        assert_eq!(run.metrics.as_deref(), Some("9464"));
        assert_eq!(origins.of("max-flows"), Origin::File { path: origins.0["max-flows"].0.clone(), line: 2 });
        assert_eq!(origins.of("interval"), Origin::CommandLine);
    }

    #[test]
    fn test_an_interface_table_wins_over_the_top_level() {
        let text = "metrics = \"9464\"\nwindow = 10.0\n[interface.eth1]\nmetrics = \"9465\"\n";
        let (eth1, _) = run_with(&["peerscope", "run", "-i", "eth1"], text).unwrap();
        assert_eq!(eth1.metrics.as_deref(), Some("9465"));
        assert_eq!(eth1.engine.window, 10.0, "keys the table lacks come from the top level");
        let (eth0, _) = run_with(&["peerscope", "run", "-i", "eth0"], text).unwrap();
        assert_eq!(eth0.metrics.as_deref(), Some("9464"));
    }

    #[test]
    fn test_a_typo_names_file_line_and_key() {
        let e =
            run_with(&["peerscope", "run", "-i", "eth0"], "window = 20.0\nintervall = 5\n").unwrap_err().to_string();
        assert!(e.contains("p.toml:2:"), "{e}");
        assert!(e.contains("unknown key `intervall`") && e.contains("did you mean `interval`?"), "{e}");
        let e =
            run_with(&["peerscope", "run", "-i", "eth0"], "[interface.eth0]\nmax-flow = 5\n").unwrap_err().to_string();
        assert!(e.contains("p.toml:2:") && e.contains("`max-flow`") && e.contains("`max-flows`"), "{e}");
    }

    #[test]
    fn test_a_value_of_the_wrong_type_names_its_key() {
        let e =
            run_with(&["peerscope", "run", "-i", "eth0"], "top = 5\ninterval = \"fast\"\n").unwrap_err().to_string();
        assert!(e.contains("p.toml:2:") && e.contains("key `interval`"), "{e}");
    }

    #[test]
    fn test_invalid_values_are_explained_where_they_were_written() {
        let (run, origins) = run_with(&["peerscope", "run", "-i", "eth0"], "\n\nidle-timeout = -3.0\n").unwrap();
        let e = run.check().unwrap_err();
        let msg = origins.explain(&e);
        assert!(msg.contains("p.toml:3: key `idle-timeout`"), "{msg}");
    }

    /// `history` sets how many windows the engine keeps; flows are kept for the idle
    /// timeout, at least a window; a duration it cannot read names its key.
    #[test]
    fn test_history_and_idle_timeout_set_what_the_engine_keeps() {
        const S: u64 = 1_000_000_000;
        let (run, _) =
            run_with(&["peerscope", "run", "-i", "eth0", "--idle-timeout", "2"], "history = \"90m\"\n").unwrap();
        let r = run.retention(5 * S).unwrap();
        assert_eq!((r.windows, r.flow_linger_ns), (Some(1080), Some(5 * S)));
        let (run, _) = run_with(&["peerscope", "run", "-i", "eth0", "--history", "7d"], "").unwrap();
        let r = run.retention(20 * S).unwrap();
        assert_eq!((r.windows, r.flow_linger_ns), (Some(7 * 86_400 / 20), Some(300 * S)));
        for bad in ["3w", "-1h", "h", "0"] {
            let (run, origins) =
                run_with(&["peerscope", "run", "-i", "eth0"], &format!("history = {bad:?}\n")).unwrap();
            let msg = origins.explain(&run.check().unwrap_err());
            assert!(msg.contains("key `history`"), "{bad}: {msg}");
        }
    }

    /// The flags of `run` that have a key: all but `-i`, `--config` and the `--no-` forms.
    fn run_flags() -> Vec<String> {
        let cmd = Cli::command();
        let run = cmd.find_subcommand("run").unwrap();
        let mut flags: Vec<String> = run
            .get_arguments()
            .filter_map(|a| a.get_long())
            .filter(|l| !["help", "config", "iface", "verbose"].contains(l) && !l.starts_with("no-"))
            .map(str::to_string)
            .collect();
        flags.sort();
        flags
    }

    #[test]
    fn test_every_flag_has_a_key_and_a_no_form_when_it_can_be_switched() {
        let mut keys: Vec<String> = KEYS.iter().map(|k| key_name(k)).collect();
        keys.sort();
        assert_eq!(keys, run_flags(), "file keys and run's flags differ");
        let cmd = Cli::command();
        let run = cmd.find_subcommand("run").unwrap();
        for a in run.get_arguments() {
            let Some(long) = a.get_long() else { continue };
            // A switch, or a value that is absent unless given: both can be turned off.
            let switch = matches!(a.get_action(), clap::ArgAction::SetTrue);
            let optional = a.get_action().takes_values() && !a.is_required_set() && a.get_default_values().is_empty();
            let exempt = ["help", "config", "verbose", "netns"].contains(&long) || long.starts_with("no-");
            if (switch || optional) && !exempt {
                assert!(
                    run.get_arguments().any(|b| b.get_long() == Some(&format!("no-{long}"))),
                    "--{long} has no --no-{long}"
                );
            }
        }
    }

    #[test]
    fn test_the_shipped_sample_names_every_key_and_parses() {
        let text = include_str!("../../dist/peerscope.toml");
        let file = parse(text, "dist/peerscope.toml").unwrap();
        assert!(file.keep_attached.as_ref().is_some_and(|v| *v.get_ref()), "the service keeps the program attached");
        // Every key is in the sample, set or as a commented example, and each example
        // parses when uncommented.
        for key in KEYS.iter().map(|k| key_name(k)) {
            let key = key.as_str();
            let line = text
                .lines()
                .find(|l| {
                    let l = l.trim_start_matches(['#', ' ']);
                    l.split('=').next().map(str::trim) == Some(key) && l.contains('=')
                })
                .unwrap_or_else(|| panic!("the sample does not mention `{key}`"));
            let uncommented = line.trim_start_matches(['#', ' ']);
            parse(uncommented, "sample line").unwrap_or_else(|e| panic!("sample line {line:?}: {e}"));
        }
        let m = Cli::command().try_get_matches_from(["peerscope", "run", "-i", "eth0"]).unwrap();
        let Command::Run(mut run) = Cli::from_arg_matches(&m).unwrap().command else { panic!() };
        let (mut top, _) = file.split();
        merge(
            &mut run,
            m.subcommand_matches("run").unwrap(),
            &mut [&mut top],
            text,
            Path::new("x"),
            &mut Origins::default(),
        );
        run.check().unwrap();
    }
}
