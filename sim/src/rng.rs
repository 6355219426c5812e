//! The run's one random generator and the few distributions the simulator
//! draws from. Every random choice of a run (the population plan, latency,
//! jitter, loss, reordering, NAT port allocation, peer seeds) comes from one
//! [`SimRng`] seeded by the run's seed, in event order, so a seed replays
//! exactly.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The seeded generator (ChaCha8: fast, portable, reproducible).
#[derive(Clone, Debug)]
pub struct SimRng(ChaCha8Rng);

impl SimRng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        SimRng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// 64 random bits.
    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (`n > 0`; Lemire's method, no modulo bias worth
    /// speaking of at these sizes).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)` with 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`. Draws nothing when `p` is 0 or 1, so a
    /// feature that is switched off does not shift the stream.
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.unit() < p
    }

    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        let u = 1.0 - self.unit(); // (0, 1]
        -u.ln() * mean
    }

    /// Standard normal (Box–Muller, one value per call).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (core::f64::consts::TAU * u2).cos()
    }

    /// 32 random bytes (peer seeds and ids).
    pub fn bytes32(&mut self) -> [u8; 32] {
        let mut b = [0u8; 32];
        self.0.fill_bytes(&mut b);
        b
    }

    /// Picks an index with probability proportional to `weights` (at least
    /// one weight must be positive).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().filter(|w| **w > 0.0).sum();
        let mut x = self.unit() * total;
        let mut last = 0;
        for (i, w) in weights.iter().enumerate() {
            if *w <= 0.0 {
                continue;
            }
            last = i;
            if x < *w {
                return i;
            }
            x -= w;
        }
        last
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = SimRng::new(7);
        let mut b = SimRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.u64(), b.u64());
        }
        assert_ne!(SimRng::new(8).u64(), SimRng::new(7).u64());
    }

    #[test]
    fn distributions_are_sane() {
        let mut r = SimRng::new(1);
        let n = 20_000;
        let mean = (0..n).map(|_| r.exp(13_000.0)).sum::<f64>() / n as f64;
        assert!((mean - 13_000.0).abs() < 500.0, "{mean}");
        assert!((0..1000).all(|_| r.below(10) < 10));
        assert!((0..1000).all(|_| (5..=9).contains(&r.range(5, 9))));
        let w = [0.0, 1.0, 3.0];
        let mut c = [0u32; 3];
        for _ in 0..4000 {
            c[r.weighted(&w)] += 1;
        }
        assert_eq!(c[0], 0);
        assert!(c[2] > 2 * c[1]);
    }
}
