//! Latency percentiles.

use std::time::Duration;

use serde::Serialize;

/// Percentiles of a latency sample, in microseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    /// Sample size.
    pub count: usize,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Largest.
    pub max_us: f64,
}

impl Latency {
    /// Summarises `samples` (sorted in place).
    pub fn of(samples: &mut [Duration]) -> Latency {
        samples.sort_unstable();
        let pick = |q: f64| -> f64 {
            if samples.is_empty() {
                return f64::NAN;
            }
            let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
            micros(samples[index.min(samples.len() - 1)])
        };
        Latency {
            count: samples.len(),
            p50_us: pick(0.50),
            p90_us: pick(0.90),
            p99_us: pick(0.99),
            max_us: samples.last().copied().map(micros).unwrap_or(f64::NAN),
        }
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_samples() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
        let l = Latency::of(&mut samples);
        assert_eq!(l.count, 100);
        assert_eq!(l.p50_us.round(), 51.0);
        assert_eq!(l.p99_us.round(), 99.0);
        assert_eq!(l.max_us.round(), 100.0);
    }
}
