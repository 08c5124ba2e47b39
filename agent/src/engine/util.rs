//! Small numeric helpers that keep NaN and infinities out of every result.

/// `a / b`, or `None` when `b` is zero (or the result is not finite).
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    if b == 0.0 {
        return None;
    }
    let r = a / b;
    r.is_finite().then_some(r)
}

/// Mean of the values, `None` for none.
pub fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0u64);
    for v in values {
        sum += v;
        n += 1;
    }
    ratio(sum, n as f64)
}

/// A mean kept as it goes: the same sum, in the same order, as [`mean`] of all the
/// values, without keeping them (one per window would grow with the run).
#[derive(Clone, Copy, Debug, Default)]
pub struct RunningMean {
    sum: f64,
    n: u64,
}

impl RunningMean {
    pub fn add(&mut self, v: f64) {
        self.sum += v;
        self.n += 1;
    }

    /// Adds `v` `n` times.
    pub fn add_n(&mut self, v: f64, n: u64) {
        self.sum += v * n as f64;
        self.n += n;
    }

    pub fn mean(&self) -> Option<f64> {
        ratio(self.sum, self.n as f64)
    }

    pub fn count(&self) -> u64 {
        self.n
    }
}

/// Nanoseconds to seconds.
pub fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}
