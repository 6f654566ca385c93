//! Random draws for selection.
//!
//! The router holds a ChaCha8 generator seeded once (so a seeded router
//! repeats its choices); each selection takes one `u64` from it and seeds a
//! small xoshiro256++ generator for its own draws, so the shared generator
//! is held for nanoseconds and never while sampling.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// The router's master generator.
pub(crate) fn master(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Takes the seed of one selection from the master generator.
pub(crate) fn next_seed(master: &mut ChaCha8Rng) -> u64 {
    master.next_u64()
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Draws for one selection (xoshiro256++).
#[derive(Debug)]
pub(crate) struct Draws {
    s: [u64; 4],
    spare: Option<f64>,
}

impl Draws {
    pub(crate) fn new(seed: u64) -> Self {
        let mut x = seed;
        Self {
            s: [splitmix(&mut x), splitmix(&mut x), splitmix(&mut x), splitmix(&mut x)],
            spare: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `(0, 1)`.
    pub(crate) fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Standard normal (Marsaglia's polar method, keeping the spare).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let m = (-2.0 * s.ln() / s).sqrt();
                self.spare = Some(v * m);
                return u * m;
            }
        }
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang.
    fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let g = self.gamma(shape + 1.0);
            return g * self.uniform().powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
                return d * v;
            }
        }
    }

    /// Beta(a, b), exactly (two gamma variates). `Beta(1, 1)` is a plain uniform.
    pub(crate) fn beta(&mut self, a: f64, b: f64) -> f64 {
        if !(a > 0.0 && b > 0.0) {
            return 0.5;
        }
        if a == 1.0 && b == 1.0 {
            return self.uniform();
        }
        let x = self.gamma(a);
        let y = self.gamma(b);
        if x + y > 0.0 { x / (x + y) } else { 0.5 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        (mean, xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n)
    }

    #[test]
    fn beta_mean_and_variance_match() {
        let mut d = Draws::new(7);
        for (a, b) in [
            (2.0, 5.0),
            (30.0, 10.0),
            (0.5, 0.5),
            (1.0, 1.0),
            (3.0, 3.0),
            (90.0, 11.0),
            (4.0, 40.0),
        ] {
            let m = a / (a + b);
            let v = a * b / ((a + b) * (a + b) * (a + b + 1.0));
            let xs: Vec<f64> = (0..40_000).map(|_| d.beta(a, b)).collect();
            let (mean, var) = moments(&xs);
            assert!((mean - m).abs() < 0.006, "Beta({a},{b}) mean {mean} vs {m}");
            assert!((var - v).abs() < 0.06 * v + 1e-4, "Beta({a},{b}) var {var} vs {v}");
            assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
        }
    }

    #[test]
    fn same_seed_same_draws() {
        let a: Vec<usize> = {
            let mut d = Draws::new(3);
            (0..4).map(|_| d.below(1000)).collect()
        };
        let b: Vec<usize> = {
            let mut d = Draws::new(3);
            (0..4).map(|_| d.below(1000)).collect()
        };
        let c: Vec<usize> = {
            let mut d = Draws::new(4);
            (0..4).map(|_| d.below(1000)).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut m1 = master(9);
        let mut m2 = master(9);
        assert_eq!(next_seed(&mut m1), next_seed(&mut m2));
    }
}
