//! A token bucket: an app may start `per_second` requests a second, in bursts of twice that.

use std::time::Instant;

/// One app's request allowance.
#[derive(Debug)]
pub(crate) struct Bucket {
    per_second: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket refilling `per_second` tokens a second.
    pub(crate) fn new(per_second: u32) -> Bucket {
        let per_second = f64::from(per_second.max(1));
        Bucket {
            per_second,
            capacity: per_second * 2.0,
            tokens: per_second * 2.0,
            last: Instant::now(),
        }
    }

    /// Takes a token; false when none is left.
    pub(crate) fn take(&mut self) -> bool {
        self.take_at(Instant::now())
    }

    fn take_at(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_the_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new(5);
        bucket.last = start;
        let taken = (0..20).filter(|_| bucket.take_at(start)).count();
        assert_eq!(taken, 10, "a burst of twice the rate");
        assert!(!bucket.take_at(start));
        // A second later, five more.
        let later = start + Duration::from_secs(1);
        let taken = (0..20).filter(|_| bucket.take_at(later)).count();
        assert_eq!(taken, 5);
    }
}
