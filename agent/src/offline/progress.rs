//! Progress bar on stderr for long files (off when stderr is not a terminal).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Files below this size finish too fast to need a bar.
pub const MIN_BYTES: u64 = 8 << 20;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar over `total` bytes when `wanted`, the file is large and stderr is a TTY.
    pub fn new(wanted: bool, total: u64, label: &str) -> Self {
        let bar = (wanted && total >= MIN_BYTES && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new(total);
            if let Ok(s) = ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})") {
                b.set_style(s.progress_chars("=> "));
            }
            b.set_message(label.to_string());
            b
        });
        Progress { bar }
    }

    pub fn set(&self, pos: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
