//! Random draws for selection.
//!
//! The router holds a ChaCha8 generator seeded once (so a seeded router
//! repeats its choices); each selection takes one `u64` from it and seeds a
//! small xoshiro256++ generator for its own draws, so the shared generator
//! is held for nanoseconds and never while sampling.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// Marsaglia and Tsang's `c = 1 / sqrt(9 (shape - 1/3))`.
pub(crate) fn mt_c(shape: f64) -> f64 {
    1.0 / (9.0 * (shape - 1.0 / 3.0)).sqrt()
}

/// True when `c` is `mt_c(shape)` to single precision (a stored pair may
/// belong to a newer or older posterior than the one just read).
fn mt_c_matches(shape: f64, c: f64) -> bool {
    (c * c * 9.0 * (shape - 1.0 / 3.0) - 1.0).abs() < 1e-6
}

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
    /// The low half of the last word the ziggurat used, for one 32-bit uniform.
    stash: Option<u32>,
}

const ZIG_R: f64 = 3.442_619_855_899;

/// Ziggurat tables for the normal distribution.
#[derive(Debug)]
struct Zig {
    k: [u32; 128],
    w: [f64; 128],
    f: [f64; 128],
}

fn tables() -> &'static Zig {
    static TABLES: std::sync::OnceLock<Zig> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let m1 = 2_147_483_648.0f64;
        let vn = 9.912_563_035_262_17e-3f64;
        let mut dn = ZIG_R;
        let mut tn = dn;
        let q = vn / (-0.5 * dn * dn).exp();
        let mut z = Zig {
            k: [0; 128],
            w: [0.0; 128],
            f: [0.0; 128],
        };
        z.k[0] = ((dn / q) * m1) as u32;
        z.k[1] = 0;
        z.w[0] = q / m1;
        z.w[127] = dn / m1;
        z.f[0] = 1.0;
        z.f[127] = (-0.5 * dn * dn).exp();
        for i in (1..=126).rev() {
            dn = (-2.0 * (vn / dn + (-0.5 * dn * dn).exp()).ln()).sqrt();
            z.k[i + 1] = ((dn / tn) * m1) as u32;
            tn = dn;
            z.f[i] = (-0.5 * dn * dn).exp();
            z.w[i] = dn / m1;
        }
        z
    })
}

impl Draws {
    pub(crate) fn new(seed: u64) -> Self {
        let mut x = seed;
        Self {
            s: [splitmix(&mut x), splitmix(&mut x), splitmix(&mut x), splitmix(&mut x)],
            stash: None,
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

    /// Uniform in `(0, 1)` with 32 bits, from the stash when there is one.
    fn uniform32(&mut self) -> f64 {
        let bits = match self.stash.take() {
            Some(b) => b,
            None => (self.next_u64() >> 32) as u32,
        };
        (f64::from(bits) + 0.5) * (1.0 / 4_294_967_296.0)
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Standard normal (Marsaglia and Tsang's ziggurat, 128 layers).
    pub(crate) fn normal(&mut self) -> f64 {
        let t = tables();
        loop {
            let word = self.next_u64();
            self.stash = Some(word as u32);
            let hz = (word >> 32) as u32 as i32;
            let iz = (hz & 127) as usize;
            if u64::from(hz.unsigned_abs()) < u64::from(t.k[iz]) {
                return f64::from(hz) * t.w[iz];
            }
            if iz == 0 {
                // The tail beyond R.
                loop {
                    let x = -self.uniform().ln() / ZIG_R;
                    let y = -self.uniform().ln();
                    if y + y >= x * x {
                        return if hz > 0 { ZIG_R + x } else { -ZIG_R - x };
                    }
                }
            }
            let x = f64::from(hz) * t.w[iz];
            if t.f[iz] + self.uniform() * (t.f[iz - 1] - t.f[iz]) < (-0.5 * x * x).exp() {
                return x;
            }
        }
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang.
    fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let g = self.gamma(shape + 1.0);
            return g * self.uniform().powf(1.0 / shape);
        }
        self.gamma_c(shape, mt_c(shape))
    }

    /// Gamma(shape, 1) for `shape >= 1` with `c = mt_c(shape)` given.
    fn gamma_c(&mut self, shape: f64, c: f64) -> f64 {
        let d = shape - 1.0 / 3.0;
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform32();
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

    /// Beta(a, b) with the Marsaglia-Tsang constants precomputed
    /// (`mt_c(a)`, `mt_c(b)`), checked and recomputed when they do not match.
    pub(crate) fn beta_c(&mut self, a: f64, b: f64, ca: f64, cb: f64) -> f64 {
        if !(a >= 1.0 && b >= 1.0) || (a == 1.0 && b == 1.0) {
            return self.beta(a, b);
        }
        let ca = if mt_c_matches(a, ca) { ca } else { mt_c(a) };
        let cb = if mt_c_matches(b, cb) { cb } else { mt_c(b) };
        let x = self.gamma_c(a, ca);
        let y = self.gamma_c(b, cb);
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
    fn normals_have_unit_variance_and_normal_tails() {
        let mut d = Draws::new(11);
        let xs: Vec<f64> = (0..200_000).map(|_| d.normal()).collect();
        let (mean, var) = moments(&xs);
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.015, "{var}");
        let beyond2 = xs.iter().filter(|x| x.abs() > 2.0).count() as f64 / xs.len() as f64;
        let beyond3 = xs.iter().filter(|x| x.abs() > 3.5).count() as f64 / xs.len() as f64;
        assert!((beyond2 - 0.0455).abs() < 0.003, "{beyond2}");
        assert!(
            beyond3 > 0.0002 && beyond3 < 0.0008,
            "tail beyond R is drawn: {beyond3}"
        );
    }

    #[test]
    fn beta_with_stale_constants_is_still_right() {
        let mut d = Draws::new(5);
        let (a, b) = (12.0, 30.0);
        for (ca, cb) in [(mt_c(a), mt_c(b)), (mt_c(a + 1.0), mt_c(b)), (0.0, 0.0)] {
            let xs: Vec<f64> = (0..40_000).map(|_| d.beta_c(a, b, ca, cb)).collect();
            let (mean, var) = moments(&xs);
            let v = a * b / ((a + b) * (a + b) * (a + b + 1.0));
            assert!((mean - a / (a + b)).abs() < 0.004, "{mean}");
            assert!((var - v).abs() < 0.06 * v, "{var} vs {v}");
        }
        assert!(mt_c_matches(a, f64::from(mt_c(a) as f32)));
        assert!(!mt_c_matches(a, mt_c(a + 1.0)));
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
