//! Random draws for selection.
//!
//! The router holds a ChaCha8 generator seeded once (so a seeded router
//! repeats its choices); each selection takes one `u64` from it and seeds a
//! small xoshiro256++ generator for its own draws, so the shared generator
//! is held for nanoseconds and never while sampling.

use std::sync::Mutex;

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

/// The router's master generator and how many selections drew from it.
#[derive(Debug)]
pub(crate) struct Master(Mutex<(ChaCha8Rng, u64)>);

impl Master {
    pub(crate) fn new(seed: u64) -> Self {
        Self(Mutex::new((ChaCha8Rng::seed_from_u64(seed), 0)))
    }

    /// The draws of one selection and which draw of the master seeded them
    /// (1 for the first); the lock is held for one `u64`.
    pub(crate) fn draws(&self) -> (Draws, u64) {
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.1 += 1;
        let stream = guard.1;
        let seed = guard.0.next_u64();
        drop(guard);
        (Draws::new(seed), stream)
    }
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

/// How far above the mean (in posterior standard deviations) the pruning
/// bounds of a posterior sit, farthest first: the far one skips an expert
/// almost surely (its tail is drawn about once in 700), the nearer ones
/// serve experts close to the current best (tail drawn about one time in
/// 40 and in 9, still cheaper on average than a full draw). Speed knobs
/// only: results are exact for any values.
pub(crate) const TAIL_Z: [f64; 3] = [3.0, 2.0, 1.25];

/// "No pruning bound": a `q` no draw can exceed, with the whole mass above it.
pub(crate) const NO_BOUND: (f64, f64) = (2.0, 1.0);

/// The pruning bound of `Beta(a, b)`: a point `q` and the exact mass
/// `delta = P(X > q)` above it, or [`NO_BOUND`].
///
/// Computed when a verdict changes the posterior (about a microsecond),
/// never during selection. There is a bound only for `a >= 1`, `b > 1` and
/// `q` past the mode and below 1, where the log-density is concave and
/// falling beyond `q` (what [`Draws::beta_tail`] needs). `q` is rounded to
/// `f32` before `delta` is computed, so the stored pair agrees exactly; `delta`
/// itself is stored to `f32` precision (relative error about 6e-8).
pub(crate) fn tail_bound(a: f64, b: f64, z: f64) -> (f64, f64) {
    if !(a >= 1.0 && b > 1.0 && a.is_finite() && b.is_finite()) {
        return NO_BOUND;
    }
    let n = a + b;
    let mean = a / n;
    let sd = (a * b / (n * n * (n + 1.0))).sqrt();
    let mode = (a - 1.0) / (n - 2.0);
    let q = f64::from((mean + z * sd) as f32);
    if !(q > mode && q < 1.0) {
        return NO_BOUND;
    }
    match upper_tail(a, b, q) {
        Some(delta) if delta > 0.0 && delta < 0.5 => (q, delta),
        _ => NO_BOUND,
    }
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, nine terms; relative error about 1e-15).
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    use std::f64::consts::PI;
    if x < 0.5 {
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The continued fraction of the incomplete beta function (modified Lentz);
/// `None` when it does not converge (very large `a + b`).
fn beta_cf(a: f64, b: f64, x: f64) -> Option<f64> {
    const TINY: f64 = 1e-300;
    let fix = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / fix(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=2000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / fix(1.0 + aa * d);
        c = fix(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / fix(1.0 + aa * d);
        c = fix(1.0 + aa / c);
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            return Some(h);
        }
    }
    None
}

/// `P(X > x)` for `X ~ Beta(a, b)`, `0 < x < 1` (the regularized incomplete beta).
pub(crate) fn upper_tail(a: f64, b: f64, x: f64) -> Option<f64> {
    if !(x > 0.0 && x < 1.0) {
        return None;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (-x).ln_1p();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        Some(1.0 - front * beta_cf(a, b, x)? / a)
    } else {
        Some(front * beta_cf(b, a, 1.0 - x)? / b)
    }
}

impl Draws {
    /// `Beta(a, b)` conditioned on `X > q`, for a bound from [`tail_bound`]:
    /// rejection from the truncated exponential under the tangent of the
    /// (concave) log-density at `q`, which bounds it from above on `(q, 1)`.
    pub(crate) fn beta_tail(&mut self, a: f64, b: f64, q: f64) -> f64 {
        let slope = (a - 1.0) / q - (b - 1.0) / (1.0 - q);
        let len = 1.0 - q;
        let rate = -slope;
        let span = (-rate * len).exp_m1();
        for _ in 0..10_000 {
            let u = self.uniform();
            let y = if rate > 1e-9 {
                -(u * span).ln_1p() / rate
            } else {
                u * len
            };
            if !(y > 0.0 && y < len) {
                continue;
            }
            let log_ratio = (a - 1.0) * (y / q).ln_1p() + (b - 1.0) * (-y / len).ln_1p() - slope * y;
            // Accept when u <= exp(log_ratio); 1 + r <= exp(r) <= 1 / (1 - r)
            // (r <= 0) settle most cases without the exponential.
            let u = self.uniform();
            if u <= 1.0 + log_ratio {
                return q + y;
            }
            if u * (1.0 - log_ratio) > 1.0 {
                continue;
            }
            if u <= log_ratio.exp() {
                return q + y;
            }
        }
        // Unreachable for a bound from `tail_bound` (acceptance is high past the mode).
        q + 0.5 * len
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
    fn upper_tail_matches_closed_forms() {
        let close = |x: f64, y: f64| (x - y).abs() < 1e-12 * y.max(1e-300) + 1e-14;
        for (b, x) in [(3.0, 0.2), (17.5, 0.05), (40.0, 0.3)] {
            let want: f64 = (1.0f64 - x).powf(b);
            assert!(close(upper_tail(1.0, b, x).unwrap_or(-1.0), want), "Beta(1,{b}) at {x}");
        }
        for (a, x) in [(4.0, 0.7), (25.0, 0.95)] {
            let want = 1.0 - f64::powf(x, a);
            assert!(close(upper_tail(a, 1.0, x).unwrap_or(-1.0), want), "Beta({a},1) at {x}");
        }
        assert!(close(upper_tail(2.0, 3.0, 0.4).unwrap_or(-1.0), 0.4752));
        assert!(close(upper_tail(33.3, 33.3, 0.5).unwrap_or(-1.0), 0.5));
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }

    /// Mass, mean and variance of `Beta(a, b)` above `q`, by the midpoint rule.
    fn tail_by_quadrature(a: f64, b: f64, q: f64) -> (f64, f64, f64) {
        let steps = 20_000;
        let h = (1.0 - q) / f64::from(steps);
        let ln_norm = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b);
        let (mut z, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for i in 0..steps {
            let x = q + (f64::from(i) + 0.5) * h;
            let f = (ln_norm + (a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln()).exp() * h;
            z += f;
            s1 += f * x;
            s2 += f * x * x;
        }
        let mean = s1 / z;
        (z, mean, s2 / z - mean * mean)
    }

    #[test]
    fn tail_bound_mass_and_tail_draws_match_the_beta() {
        let mut d = Draws::new(21);
        for (a, b) in [
            (30.0, 10.0),
            (8.0, 20.0),
            (31.0, 4.5),
            (2.0, 9.0),
            (95.0, 7.0),
            (3.5, 1.8),
        ] {
            for z in TAIL_Z {
                let (q, delta) = tail_bound(a, b, z);
                if (q, delta) == NO_BOUND {
                    continue;
                }
                assert!(q < 1.0 && delta > 0.0 && delta < 0.25, "Beta({a},{b}): {q} {delta}");
                let (mass, mean, var) = tail_by_quadrature(a, b, q);
                assert!(
                    (delta - mass).abs() < 1e-5 * mass,
                    "Beta({a},{b}) mass above {q}: {delta} vs {mass}"
                );
                let n = 20_000;
                let tail: Vec<f64> = (0..n).map(|_| d.beta_tail(a, b, q)).collect();
                assert!(tail.iter().all(|x| *x > q && *x < 1.0));
                let (m, v) = moments(&tail);
                assert!(
                    (m - mean).abs() < 4.5 * (var / f64::from(n)).sqrt(),
                    "Beta({a},{b}) above {q}: mean {m} vs {mean}"
                );
                assert!(
                    (v - var).abs() < 0.06 * var,
                    "Beta({a},{b}) above {q}: variance {v} vs {var}"
                );
                if delta > 0.01 {
                    let draws = 100_000;
                    let p = (0..draws).filter(|_| d.beta(a, b) > q).count() as f64 / f64::from(draws);
                    let sd = (delta * (1.0 - delta) / f64::from(draws)).sqrt();
                    assert!(
                        (p - delta).abs() < 4.5 * sd,
                        "Beta({a},{b}) share above {q}: {p} vs {delta}"
                    );
                }
            }
        }
        assert_eq!(tail_bound(1.0, 1.0, TAIL_Z[2]), NO_BOUND);
        assert_eq!(tail_bound(0.5, 3.0, TAIL_Z[2]), NO_BOUND);
        assert_eq!(tail_bound(40.0, 1.0, TAIL_Z[2]), NO_BOUND);
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
        let (m1, m2) = (Master::new(9), Master::new(9));
        let ((mut d1, s1), (mut d2, s2)) = (m1.draws(), m2.draws());
        assert_eq!((s1, s2), (1, 1));
        assert_eq!(d1.below(1 << 40), d2.below(1 << 40));
        assert_eq!(m1.draws().1, 2);
    }
}
