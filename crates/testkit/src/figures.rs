//! Figures a test works out for itself, to hold the server's against: worked out here in
//! floating point, the way a spreadsheet does, not with the domain's integer arithmetic.

/// The `pct`th percentile of `minutes`, as a spreadsheet's `PERCENTILE.INC` gives it, in
/// milliseconds (rounded).
pub fn percentile_ms(minutes: &[i64], pct: f64) -> i64 {
    let mut v: Vec<f64> = minutes.iter().map(|m| (m * 60_000) as f64).collect();
    v.sort_by(f64::total_cmp);
    let rank = pct / 100.0 * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    (v[lo] + (v[hi] - v[lo]) * (rank - lo as f64)).round() as i64
}
