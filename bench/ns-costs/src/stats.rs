//! Median and 99th percentile of a cell's samples.
//!
//! The median is the middle of the sorted samples (the mean of the two
//! middle ones for an even count); the 99th percentile is the nearest-rank
//! one, the sample at rank ceil(0.99 n) counting from 1: with 200 runs the
//! 198th smallest, with 100 runs the 99th, with fewer than 100 the largest
//! or close to it. Nearest rank rather than interpolation: a p99 is then
//! always a duration some run really took.

/// A cell's summary, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub runs: usize,
    pub median_ns: f64,
    pub p99_ns: f64,
}

/// Summarise `samples` (nanoseconds, in any order); `None` when empty.
pub fn summarise(samples: &[u64]) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let median_ns = match n % 2 {
        1 => sorted[n / 2] as f64,
        _ => (sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0,
    };
    Some(Summary {
        runs: n,
        median_ns,
        p99_ns: sorted[nearest_rank(n, 99) - 1] as f64,
    })
}

/// The 1-based rank of the `percent`th percentile among `n` sorted samples:
/// ceil(percent * n / 100), at least 1. Integer arithmetic, so that 99% of
/// 100 is exactly 99, not 99.00000000000001 rounded up to 100.
pub fn nearest_rank(n: usize, percent: usize) -> usize {
    (percent * n).div_ceil(100).max(1)
}

/// A duration for the table, in microseconds: one decimal below 100 µs,
/// whole microseconds above (the noise is larger than the digit).
pub fn micros(ns: f64) -> String {
    let us = ns / 1000.0;
    match us < 100.0 {
        true => format!("{us:.1}"),
        false => format!("{us:.0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_has_no_summary() {
        assert_eq!(summarise(&[]), None);
    }

    #[test]
    fn one_sample_is_its_own_median_and_p99() {
        let s = summarise(&[7]);
        assert_eq!(
            s,
            Some(Summary {
                runs: 1,
                median_ns: 7.0,
                p99_ns: 7.0
            })
        );
    }

    #[test]
    fn median_of_odd_and_even_counts_in_any_order() {
        assert_eq!(summarise(&[5, 1, 3]).map(|s| s.median_ns), Some(3.0));
        assert_eq!(summarise(&[4, 1, 3, 2]).map(|s| s.median_ns), Some(2.5));
    }

    #[test]
    fn p99_is_a_nearest_rank() {
        // 1..=100: the 99th smallest is 99, not the maximum.
        let hundred: Vec<u64> = (1..=100).rev().collect();
        let s = summarise(&hundred);
        assert_eq!(s.map(|s| (s.median_ns, s.p99_ns)), Some((50.5, 99.0)));
        // 200 runs: rank 198, so the two slowest runs are outliers it ignores.
        let mut two_hundred: Vec<u64> = (1..=198).collect();
        two_hundred.extend([1_000_000, 2_000_000]);
        assert_eq!(summarise(&two_hundred).map(|s| s.p99_ns), Some(198.0));
        // Fewer than 100 runs: the largest.
        assert_eq!(summarise(&[1, 2, 3, 50]).map(|s| s.p99_ns), Some(50.0));
    }

    #[test]
    fn nearest_ranks() {
        assert_eq!(nearest_rank(1, 99), 1);
        assert_eq!(nearest_rank(100, 99), 99);
        assert_eq!(nearest_rank(101, 99), 100);
        assert_eq!(nearest_rank(200, 99), 198);
        assert_eq!(nearest_rank(200, 50), 100);
    }

    #[test]
    fn micros_keep_one_decimal_below_100() {
        assert_eq!(micros(1_234.0), "1.2");
        assert_eq!(micros(99_940.0), "99.9");
        assert_eq!(micros(123_456.0), "123");
        assert_eq!(micros(4_500_000.0), "4500");
    }
}
