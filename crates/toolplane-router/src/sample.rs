//! Random draws for selection: a ChaCha8 stream per selection (so a seeded
//! router repeats its choices, and threads never share a lock), uniform,
//! normal and Beta variates.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// Draws for one selection.
#[derive(Debug)]
pub(crate) struct Draws {
    rng: ChaCha8Rng,
    spare: Option<f64>,
}

impl Draws {
    /// The stream `stream` of the generator seeded with `seed`.
    pub(crate) fn new(base: &ChaCha8Rng, stream: u64) -> Self {
        let mut rng = base.clone();
        rng.set_stream(stream);
        Self { rng, spare: None }
    }

    pub(crate) fn base(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    /// Uniform in `(0, 1)`.
    pub(crate) fn uniform(&mut self) -> f64 {
        ((self.rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.rng.next_u64()) * n as u128) >> 64) as usize
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

    /// Beta(a, b). `Beta(1, 1)` is a plain uniform.
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

    #[test]
    fn beta_mean_and_variance_match() {
        let base = Draws::base(7);
        let mut d = Draws::new(&base, 1);
        for (a, b) in [(2.0, 5.0), (30.0, 10.0), (0.5, 0.5), (1.0, 1.0)] {
            let n = 20_000;
            let xs: Vec<f64> = (0..n).map(|_| d.beta(a, b)).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
            let m = a / (a + b);
            let v = a * b / ((a + b) * (a + b) * (a + b + 1.0));
            assert!((mean - m).abs() < 0.01, "Beta({a},{b}) mean {mean} vs {m}");
            assert!((var - v).abs() < 0.1 * v + 1e-4, "Beta({a},{b}) var {var} vs {v}");
            assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
        }
    }

    #[test]
    fn streams_repeat_and_differ() {
        let base = Draws::base(42);
        let a: Vec<u64> = {
            let mut d = Draws::new(&base, 3);
            (0..4).map(|_| d.below(1000) as u64).collect()
        };
        let b: Vec<u64> = {
            let mut d = Draws::new(&base, 3);
            (0..4).map(|_| d.below(1000) as u64).collect()
        };
        let c: Vec<u64> = {
            let mut d = Draws::new(&base, 4);
            (0..4).map(|_| d.below(1000) as u64).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
