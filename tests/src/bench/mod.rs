//! Benchmarks, run by `cargo xtask bench`. Each measures peerscope beside a reference
//! in the same run and reports the ratio; none asserts a time.
//!
//! BENCHMARKS.md is a header and `## ` sections. A run replaces the sections it
//! measured and keeps the others (`--only=analyze` must not erase the kernel figures),
//! so each section says on which machine and day it was measured.

pub mod analyze;
pub mod dissect;
pub mod ipfix;
pub mod kernel;
pub mod net;
pub mod poll;
pub mod proc;

/// A section of BENCHMARKS.md.
pub struct Section {
    pub title: String,
    pub body: String,
}

/// The sections of a BENCHMARKS.md text, in order, after its header.
fn split(existing: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for line in existing.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            out.push(Section { title: title.trim().to_string(), body: String::new() });
        } else if let Some(s) = out.last_mut() {
            s.body.push_str(line);
            s.body.push('\n');
        }
    }
    for s in &mut out {
        s.body = s.body.trim().to_string();
    }
    out
}

/// The body of the section titled `title` in a BENCHMARKS.md text.
pub fn section_body(existing: &str, title: &str) -> Option<String> {
    split(existing).into_iter().find(|s| s.title == title).map(|s| s.body)
}

/// Sections a benchmark wrote under another title before: (old title, new title). The
/// old section takes the new title in place, so a run that measures it replaces it.
pub const RENAMED: &[(&str, &str)] =
    &[("Kernel program cost per packet (XDP ingress)", "Kernel program cost per packet")];

/// BENCHMARKS.md after a run: `header`, then the existing sections in their order with
/// those this run measured replaced ([`RENAMED`] ones by their new title), then this
/// run's new sections.
pub fn merge(existing: &str, header: &str, measured: &[Section]) -> String {
    let mut md = header.trim_end().to_string();
    md.push('\n');
    let mut old = split(existing);
    for s in &mut old {
        if let Some((_, new)) = RENAMED.iter().find(|(o, _)| *o == s.title) {
            s.title = new.to_string();
        }
    }
    let body_of = |title: &str| measured.iter().find(|s| s.title == title).map(|s| s.body.trim());
    for s in &old {
        let body = body_of(&s.title).unwrap_or(&s.body);
        md.push_str(&format!("\n\n## {}\n\n{}\n", s.title, body));
    }
    for s in measured.iter().filter(|m| !old.iter().any(|o| o.title == m.title)) {
        md.push_str(&format!("\n\n## {}\n\n{}\n", s.title, s.body.trim()));
    }
    md
}

/// The text before the first section (the file's title and what it says of itself).
pub fn header_of(existing: &str) -> &str {
    match existing.find("\n## ") {
        Some(i) => &existing[..i],
        None => existing,
    }
}

/// `existing` without its sections whose title starts with `prefix` (a run that
/// writes them again under a new title: the soak names its length and rate).
pub fn without(existing: &str, prefix: &str) -> String {
    let kept: Vec<Section> = split(existing).into_iter().filter(|s| !s.title.starts_with(prefix)).collect();
    merge("", header_of(existing), &kept)
}

/// The line each section starts with: the day and the machine it was measured on.
/// The line that heads a section: the machine and day, and the load average when the
/// run began (`load`, see [`load_average`]).
pub fn machine(load: &str) -> String {
    format!(
        "Measured on {}, {} CPUs, kernel {}; load average when the run began {load} (other work on the machine moves every figure).",
        today(),
        num_cpus(),
        kernel_release()
    )
}

/// The 1-minute load average, as /proc/loadavg gives it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string()
}

/// Today's UTC date, as `date` prints it: the bench runs where coreutils are.
fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "an unknown day".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "# peerscope benchmarks\n\nold header\n\n\n## Kernel\n\nkernel table\n\nmore kernel\n\n\n## Analyze\n\nold analyze\n";

    fn section(title: &str, body: &str) -> Section {
        Section { title: title.into(), body: body.into() }
    }

    #[test]
    fn test_without_drops_a_kind_of_section_and_keeps_the_rest() {
        let md = merge(OLD, header_of(OLD), &[section("Soak: 3 min", "old soak\n")]);
        let out = without(&md, "Soak");
        assert!(!out.contains("Soak") && out.contains("## Kernel") && out.contains("## Analyze"), "{out}");
        assert!(out.starts_with("# peerscope benchmarks\n\nold header\n"), "{out}");
    }

    #[test]
    fn test_header_is_what_comes_before_the_first_section() {
        assert_eq!(header_of(OLD), "# peerscope benchmarks\n\nold header\n\n");
        assert_eq!(header_of("# only a title\n"), "# only a title\n");
    }

    #[test]
    fn test_merge_replaces_measured_sections_and_keeps_the_others() {
        let md = merge(OLD, "# peerscope benchmarks\n\nnew header\n", &[section("Analyze", "new analyze\n")]);
        assert!(md.starts_with("# peerscope benchmarks\n\nnew header\n"), "{md}");
        assert!(!md.contains("old header"), "{md}");
        assert_eq!(section_body(&md, "Kernel").as_deref(), Some("kernel table\n\nmore kernel"));
        assert_eq!(section_body(&md, "Analyze").as_deref(), Some("new analyze"));
        assert!(!md.contains("old analyze"), "{md}");
        // The kept section stays before the replaced one, in the file's order.
        assert!(md.find("## Kernel").unwrap() < md.find("## Analyze").unwrap());
    }

    #[test]
    fn test_merge_appends_new_sections_and_is_stable() {
        let once = merge(OLD, "# h\n", &[section("Soak", "flat")]);
        assert_eq!(section_body(&once, "Soak").as_deref(), Some("flat"));
        assert_eq!(section_body(&once, "Analyze").as_deref(), Some("old analyze"));
        assert!(once.find("## Analyze").unwrap() < once.find("## Soak").unwrap());
        // Merging the same run again changes nothing.
        assert_eq!(merge(&once, "# h\n", &[section("Soak", "flat")]), once);
    }

    #[test]
    fn test_merge_replaces_a_renamed_section_in_place() {
        let (old_title, new_title) = RENAMED[0];
        let old = format!("# h\n\n## {old_title}\n\nold kernel\n\n## Analyze\n\na\n");
        let md = merge(&old, "# h\n", &[section(new_title, "both hooks")]);
        assert_eq!(section_body(&md, old_title), None, "{md}");
        assert_eq!(section_body(&md, new_title).as_deref(), Some("both hooks"));
        assert!(md.find(new_title).unwrap() < md.find("## Analyze").unwrap(), "in the old one's place: {md}");
        assert_eq!(section_body(&md, "Analyze").as_deref(), Some("a"));
    }

    #[test]
    fn test_merge_into_an_empty_file() {
        let md = merge("", "# h\n", &[section("A", "a"), section("B", "b")]);
        assert_eq!(section_body(&md, "A").as_deref(), Some("a"));
        assert_eq!(section_body(&md, "B").as_deref(), Some("b"));
        assert_eq!(section_body(&md, "C"), None);
    }
}
