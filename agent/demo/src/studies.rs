//! The studies beside the demo: each headline figure of [M] and [H]
//! (`METHODS.md` §3–§6, §9), the value the study reports, and the same figure of
//! this run's monitored peer from the engine's report, with whether it agrees.
//!
//! A figure agrees when this run's value lies in a stated range around the study's
//! value: the study's own range where it gives one (3–5 parents, 15–20 children,
//! 8:1–16:1), about half to one and a half times its value where it says "about"
//! (~50% → 35–65%). Which figures apply depends on the monitored peer's profile: [M]
//! reports children and upload for a campus host, and none for a low-capacity or
//! NATed one.

use std::fmt::Write as _;

use peerscope::{
    engine,
    schema::demo::{StudyFigure, StudyVerdict},
};

use super::plan::Profile;

/// One row before its value is known.
struct Row {
    figure: &'static str,
    study: &'static str,
    study_value: &'static str,
    range: (Option<f64>, Option<f64>),
    unit: &'static str,
}

const fn row(
    figure: &'static str,
    study: &'static str,
    study_value: &'static str,
    lo: f64,
    hi: f64,
    unit: &'static str,
) -> Row {
    Row { figure, study, study_value, range: (Some(lo), Some(hi)), unit }
}

/// The studies' figures for a monitored peer of `profile`, beside `r`'s; `run_s`
/// is how long the peer was measured.
pub fn compare(r: &engine::Report, profile: Profile, run_s: f64) -> Vec<StudyFigure> {
    let pct = |x: Option<f64>| x.map(|v| v * 100.0);
    let f = &r.family;
    let mut out = vec![
        figure(
            row("parents per window (mean)", "[M] §III-D", "3–5", 3.0, 5.0, "count"),
            f.mean_parents_per_window,
            None,
        ),
        figure(
            row("parents that change per window (mean S_n)", "[M] §III-G", "~30%", 15.0, 45.0, "%"),
            pct(r.stability.mean_s_n),
            None,
        ),
        figure(
            row("contacted hosts that became parents", "[M] §III-D", "~1%", 0.5, 2.0, "%"),
            pct(f.parent_fraction_of_contacted),
            Some(format!("{} of {} contacted hosts", f.hosts_ever_parent, f.contacted_hosts)),
        ),
    ];
    match profile {
        Profile::Campus => out.extend([
            figure(
                row("children per window (mean)", "[M] §III-D", "15–20 (high-capacity host)", 15.0, 20.0, "count"),
                f.mean_children_per_window,
                None,
            ),
            figure(
                row("contacted hosts that became children", "[M] §III-D", "~2%", 1.0, 4.0, "%"),
                pct(f.child_fraction_of_contacted),
                Some(format!("{} of {} contacted hosts", f.hosts_ever_child, f.contacted_hosts)),
            ),
            figure(
                row(
                    "upload : download (IP bytes)",
                    "[M] §III-D",
                    "8:1 (App-A), 16:1 (App-B), campus",
                    8.0,
                    16.0,
                    "ratio",
                ),
                f.upload_download_ratio,
                None,
            ),
        ]),
        Profile::Residential => out.extend([
            figure(
                row("children per window (mean)", "[M] §III-D", "0 (low-capacity host)", 0.0, 0.5, "count"),
                f.mean_children_per_window,
                None,
            ),
            figure(
                row("upload : download (IP bytes)", "[H] Table 1", "residential: little or nothing", 0.0, 1.0, "ratio"),
                f.upload_download_ratio,
                None,
            ),
        ]),
        Profile::Nat => out.extend([
            figure(
                row("children per window (mean)", "[M] §III-D", "0 (NATed host)", 0.0, 0.5, "count"),
                f.mean_children_per_window,
                None,
            ),
            figure(
                row("upload : download (IP bytes)", "[M] §III-D", "NATed: barely uploads", 0.0, 0.1, "ratio"),
                f.upload_download_ratio,
                None,
            ),
        ]),
    }
    let p = &r.peers;
    out.push(figure(
        row("top peer's share of video download", "[H] §6", "~50%", 35.0, 65.0, "%"),
        pct(p.top_video_download.as_ref().map(|t| t.share)),
        p.top_video_download.as_ref().map(|t| format!("{}", t.peer)),
    ));
    if profile == Profile::Campus {
        out.push(figure(
            row("top peer's share of video upload", "[H] §6", "~5%", 2.5, 10.0, "%"),
            pct(p.top_video_upload.as_ref().map(|t| t.share)),
            p.top_video_upload.as_ref().map(|t| format!("{}", t.peer)),
        ));
    }
    let s = &r.sessions;
    out.push(figure(
        row("median video session", "[H] §4.1", "~20 s", 10.0, 40.0, "s"),
        s.median_video_session_s,
        Some(format!("{} video sessions", s.video_sessions)),
    ));
    let long = row("video sessions lasting 15 min or more", "[H] §4.1", "~10%", 5.0, 15.0, "%");
    if run_s < 900.0 {
        out.push(figure(long, None, Some(format!("the run lasted {run_s:.0} s, less than 15 min"))));
    } else {
        out.push(figure(long, pct(s.video_sessions_at_least_15_min_fraction), None));
    }
    let c = &r.cost;
    out.push(figure(
        row(
            "cost of download",
            "[M] §III-F",
            "~13K miles/byte (US campus host fed from Asia)",
            9_000.0,
            17_000.0,
            "miles/byte",
        ),
        c.download_miles_per_byte,
        None,
    ));
    if profile == Profile::Campus {
        out.push(figure(
            row("cost of upload", "[M] §III-F", "~5K miles/byte", 2_500.0, 7_500.0, "miles/byte"),
            c.upload_miles_per_byte,
            None,
        ));
    }
    out
}

fn figure(r: Row, value: Option<f64>, note: Option<String>) -> StudyFigure {
    let (lo, hi) = r.range;
    let verdict = match value {
        None => StudyVerdict::NotShown,
        Some(v) if lo.is_none_or(|lo| v >= lo) && hi.is_none_or(|hi| v <= hi) => StudyVerdict::Agrees,
        Some(_) => StudyVerdict::Differs,
    };
    StudyFigure {
        figure: r.figure.to_string(),
        study: r.study.to_string(),
        study_value: r.study_value.to_string(),
        agree_min: lo,
        agree_max: hi,
        value,
        unit: r.unit.to_string(),
        verdict,
        note,
    }
}

/// A value in its unit, for the table.
fn show(v: f64, unit: &str) -> String {
    match unit {
        "%" => format!("{v:.1}%"),
        "s" => format!("{v:.1} s"),
        "ratio" => format!("{v:.1}:1"),
        "miles/byte" => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    }
}

/// The table printed at the end of the demo.
pub fn render(figures: &[StudyFigure]) -> String {
    let mut t = String::new();
    let agree = figures.iter().filter(|f| f.verdict == StudyVerdict::Agrees).count();
    let shown = figures.iter().filter(|f| f.verdict != StudyVerdict::NotShown).count();
    let _ = writeln!(t, "   the studies beside this run: {agree} of {shown} figures agree");
    let _ = writeln!(t, "   {:<42} {:<11} {:<46} {:>10}  verdict", "figure", "study", "the study's value", "this run");
    for f in figures {
        let range = match (f.agree_min, f.agree_max) {
            (Some(lo), Some(hi)) => format!("{}–{}", show(lo, &f.unit), show(hi, &f.unit)),
            (Some(lo), None) => format!("≥ {}", show(lo, &f.unit)),
            (None, Some(hi)) => format!("≤ {}", show(hi, &f.unit)),
            (None, None) => String::new(),
        };
        let verdict = match f.verdict {
            StudyVerdict::Agrees => format!("agrees ({range})"),
            StudyVerdict::Differs => format!("DIFFERS (agrees within {range})"),
            StudyVerdict::NotShown => "not shown".to_string(),
        };
        let value = f.value.map_or_else(|| "n/a".to_string(), |v| show(v, &f.unit));
        let note = f.note.as_deref().map(|n| format!("; {n}")).unwrap_or_default();
        let _ = writeln!(t, "   {:<42} {:<11} {:<46} {:>10}  {verdict}{note}", f.figure, f.study, f.study_value, value);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_a_value_agrees_inside_its_range_and_a_missing_one_is_not_shown() {
        let r = || row("parents per window (mean)", "[M] §III-D", "3–5", 3.0, 5.0, "count");
        assert_eq!(figure(r(), Some(3.0), None).verdict, StudyVerdict::Agrees);
        assert_eq!(figure(r(), Some(5.0), None).verdict, StudyVerdict::Agrees);
        assert_eq!(figure(r(), Some(2.9), None).verdict, StudyVerdict::Differs);
        assert_eq!(figure(r(), None, None).verdict, StudyVerdict::NotShown);
        let open = Row { range: (Some(8.0), None), ..r() };
        assert_eq!(figure(open, Some(100.0), None).verdict, StudyVerdict::Agrees);
    }

    #[test]
    fn test_each_profile_gets_its_own_contrast_and_the_table_says_what_differs() {
        let me = std::net::Ipv4Addr::new(198, 51, 100, 10);
        let mut r = engine::Engine::new(Default::default(), engine::MonitoredHost::new([me.into()])).finish();
        r.family.mean_parents_per_window = Some(3.4);
        r.family.mean_children_per_window = Some(17.0);
        r.family.upload_download_ratio = Some(2.0);
        r.sessions.median_video_session_s = Some(21.0);
        let campus = compare(&r, Profile::Campus, 90.0);
        let by = |fs: &[StudyFigure], name: &str| fs.iter().find(|f| f.figure.starts_with(name)).unwrap().clone();
        assert_eq!(by(&campus, "parents per window").verdict, StudyVerdict::Agrees);
        assert_eq!(by(&campus, "children per window").verdict, StudyVerdict::Agrees);
        assert_eq!(by(&campus, "upload : download").verdict, StudyVerdict::Differs, "2:1 is not 8:1–16:1");
        assert_eq!(by(&campus, "median video session").verdict, StudyVerdict::Agrees);
        let long = by(&campus, "video sessions lasting 15 min");
        assert_eq!((long.verdict, long.value), (StudyVerdict::NotShown, None));
        assert!(long.note.unwrap().contains("90 s"));
        let nat = compare(&r, Profile::Nat, 90.0);
        assert_eq!(by(&nat, "children per window").study_value, "0 (NATed host)");
        assert_eq!(by(&nat, "children per window").verdict, StudyVerdict::Differs, "17 children is not none");
        assert!(!nat.iter().any(|f| f.figure.starts_with("cost of upload")), "[M] gives no upload cost for it");
        let text = render(&campus);
        assert!(text.contains("DIFFERS (agrees within 8.0:1–16.0:1)"), "{text}");
        assert!(text.contains("the studies beside this run: 3 of"), "parents, children, median session: {text}");
    }
}
