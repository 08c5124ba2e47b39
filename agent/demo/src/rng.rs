//! splitmix64: enough randomness for a cast and a peer's choices, no dependency.
//! Seeded, so a run can be repeated.

#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n) (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Log-normal with the given median and shape σ (Box–Muller): heavy-tailed
    /// durations.
    pub fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        let (u1, u2) = (1.0 - self.unit(), self.unit());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        median * (sigma * z).exp()
    }

    /// One of `weights`' indices, each as likely as its weight (None if all are 0).
    pub fn weighted(&mut self, weights: &[f64]) -> Option<usize> {
        let total: f64 = weights.iter().filter(|w| **w > 0.0).sum();
        if total <= 0.0 {
            return None;
        }
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if *w > 0.0 {
                if x < *w {
                    return Some(i);
                }
                x -= w;
            }
        }
        weights.iter().rposition(|w| *w > 0.0)
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_unit_and_below_stay_in_range_and_repeat() {
        let (mut a, mut b) = (Rng::new(3), Rng::new(3));
        for _ in 0..1000 {
            let u = a.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(a.below(7) < 7);
            assert_eq!(b.unit(), u);
            b.below(7);
        }
        let mut v: Vec<u32> = (0..20).collect();
        a.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
        assert_ne!(v, sorted, "a shuffle of 20 moves something");
    }

    #[test]
    fn test_log_normal_median_and_weighted_shares() {
        let mut r = Rng::new(9);
        let mut d: Vec<f64> = (0..4001).map(|_| r.log_normal(20.0, 1.0)).collect();
        d.sort_by(f64::total_cmp);
        assert!((17.0..23.0).contains(&d[2000]), "median {}", d[2000]);
        assert!(d[3800] > 80.0, "a long tail: 95th percentile {}", d[3800]);
        let mut hits = [0usize; 3];
        for _ in 0..3000 {
            hits[r.weighted(&[1.0, 0.0, 2.0]).unwrap()] += 1;
        }
        assert_eq!(hits[1], 0);
        assert!((850..1150).contains(&hits[0]), "{hits:?}");
        assert_eq!(r.weighted(&[0.0, 0.0]), None);
        assert_eq!(r.weighted(&[]), None);
    }
}
