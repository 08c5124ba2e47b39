//! Stability of the parent set ([M] §III-G).
//!
//! With `P_n` the parents of window n, `A_n = P_n \ P_{n-1}` and `L_n = P_{n-1} \ P_n`:
//! `S_n = 1 − |P_{n-1} ∩ P_n| / |P_n|` and `X_n = 1 − |P_n| / (|P_n| + |A_n| + |L_n|)`.
//!
//! Stated values where the formulas divide by zero:
//! - the first window has no `P_{n-1}`: both are `null`, `note = "first_window"`;
//! - `|P_n| = 0`: `S_n = 1` if `P_{n-1}` had parents (all of them left), `0` if not
//!   (nothing changed), `note = "empty_parent_set"`;
//!   `X_n` is then `1` when parents left (from the formula) and `0` when
//!   `P_{n-1}` was empty too.

use std::collections::BTreeSet;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::util::RunningMean;

/// Why a value is a stated one rather than the formula's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StabilityNote {
    FirstWindow,
    EmptyParentSet,
}

impl StabilityNote {
    pub fn name(self) -> &'static str {
        match self {
            StabilityNote::FirstWindow => "first_window",
            StabilityNote::EmptyParentSet => "empty_parent_set",
        }
    }
}

/// `S_n`, `X_n` and the set sizes of one window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Stability {
    pub s_n: Option<f64>,
    pub x_n: Option<f64>,
    /// |P_n|, |P_{n-1} ∩ P_n|, |A_n|, |L_n|.
    pub parents: usize,
    pub kept_parents: usize,
    pub new_parents: usize,
    pub left_parents: usize,
    pub note: Option<StabilityNote>,
}

impl Stability {
    /// An empty parent set after an empty one.
    pub fn empty_after_empty() -> Self {
        stability(Some(&BTreeSet::new()), &BTreeSet::new())
    }
}

/// The formulas on two parent sets.
pub fn stability(prev: Option<&BTreeSet<IpAddr>>, cur: &BTreeSet<IpAddr>) -> Stability {
    let Some(prev) = prev else {
        return Stability {
            s_n: None,
            x_n: None,
            parents: cur.len(),
            kept_parents: 0,
            new_parents: cur.len(),
            left_parents: 0,
            note: Some(StabilityNote::FirstWindow),
        };
    };
    let kept = prev.intersection(cur).count();
    let new = cur.difference(prev).count();
    let left = prev.difference(cur).count();
    let p = cur.len();
    if p == 0 {
        let changed = if prev.is_empty() { 0.0 } else { 1.0 };
        return Stability {
            s_n: Some(changed),
            x_n: Some(changed),
            parents: 0,
            kept_parents: kept,
            new_parents: new,
            left_parents: left,
            note: Some(StabilityNote::EmptyParentSet),
        };
    }
    let s = 1.0 - kept as f64 / p as f64;
    let x = 1.0 - p as f64 / (p + new + left) as f64;
    Stability {
        s_n: Some(s),
        x_n: Some(x),
        parents: p,
        kept_parents: kept,
        new_parents: new,
        left_parents: left,
        note: None,
    }
}

/// Keeps `P_{n-1}` between windows.
#[derive(Clone, Debug, Default)]
pub struct StabilityTracker {
    prev: Option<BTreeSet<IpAddr>>,
    s: RunningMean,
    x: RunningMean,
    empty_windows: usize,
}

impl StabilityTracker {
    pub fn observe(&mut self, cur: BTreeSet<IpAddr>) -> Stability {
        let st = stability(self.prev.as_ref(), &cur);
        if st.note == Some(StabilityNote::EmptyParentSet) {
            self.empty_windows += 1;
        } else if let (Some(s), Some(x)) = (st.s_n, st.x_n) {
            self.s.add(s);
            self.x.add(x);
        }
        self.prev = Some(cur);
        st
    }

    /// `n` more windows with no parent, after one (see `Engine::observe_empty_windows`).
    pub fn add_empty_windows(&mut self, n: u64) {
        debug_assert!(self.prev.as_ref().is_some_and(|p| p.is_empty()));
        self.empty_windows += n as usize;
    }

    pub fn summary(&self) -> StabilitySummary {
        StabilitySummary {
            mean_s_n: self.s.mean(),
            mean_x_n: self.x.mean(),
            windows_averaged: self.s.count() as usize,
            windows_with_empty_parent_set: self.empty_windows,
        }
    }
}

/// Means over the windows where the formulas apply (not the first window, not
/// windows with no parent).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct StabilitySummary {
    pub mean_s_n: Option<f64>,
    pub mean_x_n: Option<f64>,
    pub windows_averaged: usize,
    pub windows_with_empty_parent_set: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::scenario::rates;
    use crate::testing::*;

    /// See [`crate::testing::scenario::rates`]: P0 = {RA}, P1 = ∅, P2 = {RA, RB}, P3 = {RA}.
    #[test]
    fn test_stability_with_empty_window_and_returning_parent() {
        let r = analyze(&rates(), window_config(20)).report;
        let st: Vec<_> = r.windows.iter().map(|w| w.stability.clone()).collect();
        // P0 = {RA}: no predecessor.
        assert_eq!((st[0].s_n, st[0].x_n, st[0].note), (None, None, Some(StabilityNote::FirstWindow)));
        // P1 = ∅ after {RA}: stated S = X = 1 (every parent left).
        assert_eq!((st[1].s_n, st[1].x_n, st[1].note), (Some(1.0), Some(1.0), Some(StabilityNote::EmptyParentSet)));
        assert_eq!(st[1].left_parents, 1);
        // P2 = {RA, RB} after ∅ (RA returns): S = 1 − 0/2 = 1, X = 1 − 2/(2+2+0) = 0.5.
        assert_eq!(
            (st[2].s_n, st[2].x_n, st[2].new_parents, st[2].left_parents, st[2].note),
            (Some(1.0), Some(0.5), 2, 0, None)
        );
        // P3 = {RA} after {RA, RB}: S = 1 − 1/1 = 0, X = 1 − 1/(1+0+1) = 0.5.
        assert_eq!((st[3].s_n, st[3].x_n, st[3].kept_parents, st[3].left_parents), (Some(0.0), Some(0.5), 1, 1));
        assert_eq!(r.stability.mean_s_n, Some(0.5));
        assert_eq!(r.stability.mean_x_n, Some(0.5));
        assert_eq!(r.stability.windows_with_empty_parent_set, 1);
    }
}
