//! Distance between two located hosts.

/// The seed's distance ([M] §III-E): `D = k · sqrt((x2 − x1)² + (y2 − y1)²)`,
/// coordinates in degrees, k miles per degree (69.2). A flat-earth approximation
/// kept because the study's figures use it.
pub fn seed_distance_miles(a: (f64, f64), b: (f64, f64), k: f64) -> f64 {
    k * ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt()
}

/// Mean Earth radius in miles.
pub const EARTH_RADIUS_MILES: f64 = 3958.8;

/// Great-circle distance (haversine) in miles, given beside the seed's formula.
pub fn great_circle_miles(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_MILES * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_seed_distance_is_k_times_euclid() {
        // 3-4-5 triangle in degrees.
        assert!((seed_distance_miles((0.0, 0.0), (3.0, 4.0), 69.2) - 346.0).abs() < 1e-9);
    }

    #[test]
    fn test_great_circle_quarter_meridian() {
        let d = great_circle_miles((0.0, 0.0), (90.0, 0.0));
        assert!((d - EARTH_RADIUS_MILES * std::f64::consts::FRAC_PI_2).abs() < 1e-6);
    }
}
