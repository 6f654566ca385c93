//! Strategies and the per-task policies that choose them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How much each figure counts in [`Strategy::Weighted`]. Each figure is
/// normalized to `[0, 1]` over the candidates (lower latency and cost score
/// higher); a missing figure scores 0.5.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// Weight of the 95th percentile latency.
    pub latency: f64,
    /// Weight of the success rate.
    pub success: f64,
    /// Weight of the cost per 1,000 tokens.
    pub cost: f64,
    /// Weight of the win rate.
    pub win_rate: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            latency: 1.0,
            success: 2.0,
            cost: 1.0,
            win_rate: 2.0,
        }
    }
}

/// Which figure [`Strategy::Cheapest`] holds to its floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityMetric {
    /// Win rate from the statistics source, else the router's own posterior mean.
    #[default]
    WinRate,
    /// Success rate from the statistics source, else the router's own average.
    SuccessRate,
}

/// How to rank the experts that pass the hard constraints.
///
/// In TOML: `strategy = { kind = "thompson", decay = 0.99 }`.
///
/// ```
/// use toolplane_router::Strategy;
/// let s: Strategy = serde_json::from_str(r#"{"kind":"cheapest","quality_floor":0.7}"#).unwrap();
/// assert_eq!(s.name(), "cheapest");
/// assert_eq!(Strategy::thompson().name(), "thompson");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Strategy {
    /// Fixed order: experts named in `order` first, in that order, then the
    /// rest by their priority (lower first), then by declaration order.
    Static {
        /// Expert ids, best first.
        #[serde(default)]
        order: Vec<String>,
    },
    /// A weighted sum of normalized latency p95, success rate, cost and win rate.
    Weighted {
        /// The weights.
        #[serde(default)]
        weights: Weights,
    },
    /// Thompson sampling on win rate: one draw from each expert's Beta
    /// posterior, highest draw first. Each verdict first multiplies the
    /// expert's evidence by `decay`, so the posterior holds about
    /// `1 / (1 - decay)` recent verdicts and follows a provider that changes.
    Thompson {
        /// Evidence kept per verdict, in `(0, 1]`.
        #[serde(default = "default_decay")]
        decay: f64,
        /// Prior wins.
        #[serde(default = "one")]
        prior_alpha: f64,
        /// Prior losses.
        #[serde(default = "one")]
        prior_beta: f64,
    },
    /// Least latency: the lower EWMA latency of two experts drawn at random
    /// (power of two choices, which spreads load better than always taking
    /// the fastest); an expert with no latency yet counts as fastest.
    LeastLatency,
    /// The cheapest expert whose quality is at least `quality_floor`; when
    /// none is, the best quality first.
    Cheapest {
        /// The lowest acceptable quality, in `[0, 1]`.
        quality_floor: f64,
        /// Which figure is the quality.
        #[serde(default)]
        quality: QualityMetric,
    },
}

fn default_decay() -> f64 {
    0.99
}

fn one() -> f64 {
    1.0
}

impl Default for Strategy {
    fn default() -> Self {
        Self::Weighted {
            weights: Weights::default(),
        }
    }
}

impl Strategy {
    /// Thompson sampling with decay 0.99 and a uniform prior.
    pub fn thompson() -> Self {
        Self::Thompson {
            decay: default_decay(),
            prior_alpha: 1.0,
            prior_beta: 1.0,
        }
    }

    /// The kind as written in configuration.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Static { .. } => "static",
            Self::Weighted { .. } => "weighted",
            Self::Thompson { .. } => "thompson",
            Self::LeastLatency => "least_latency",
            Self::Cheapest { .. } => "cheapest",
        }
    }

    /// The Beta prior and decay used for this task's posteriors (defaults
    /// when the strategy is not Thompson, so verdicts still count).
    pub(crate) fn bandit(&self) -> (f64, (f64, f64)) {
        match self {
            Self::Thompson {
                decay,
                prior_alpha,
                prior_beta,
            } => (*decay, (*prior_alpha, *prior_beta)),
            _ => (default_decay(), (1.0, 1.0)),
        }
    }

    /// Checks the numbers; the message names the field.
    pub(crate) fn validate(&self) -> Result<(), String> {
        match self {
            Self::Thompson {
                decay,
                prior_alpha,
                prior_beta,
            } => {
                if !(*decay > 0.0 && *decay <= 1.0) {
                    return Err(format!("decay must be in (0, 1], got {decay}"));
                }
                if !(*prior_alpha > 0.0 && *prior_beta > 0.0) {
                    return Err("prior_alpha and prior_beta must be positive".into());
                }
            }
            Self::Cheapest { quality_floor, .. } if !(0.0..=1.0).contains(quality_floor) => {
                return Err(format!("quality_floor must be in [0, 1], got {quality_floor}"));
            }
            Self::Weighted { weights } => {
                let w = [weights.latency, weights.success, weights.cost, weights.win_rate];
                if w.iter().any(|x| !x.is_finite() || *x < 0.0) || w.iter().sum::<f64>() <= 0.0 {
                    return Err("weights must be non-negative and not all zero".into());
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Static { order } if order.is_empty() => f.write_str("static (by priority)"),
            Self::Static { order } => write!(f, "static (order: {})", order.join(", ")),
            Self::Weighted { weights: w } => write!(
                f,
                "weighted (latency {}, success {}, cost {}, win rate {})",
                w.latency, w.success, w.cost, w.win_rate
            ),
            Self::Thompson {
                decay,
                prior_alpha,
                prior_beta,
            } => write!(f, "thompson (decay {decay}, prior Beta({prior_alpha}, {prior_beta}))"),
            Self::LeastLatency => f.write_str("least_latency (EWMA, power of two choices)"),
            Self::Cheapest { quality_floor, quality } => {
                write!(f, "cheapest ({quality:?} >= {quality_floor})")
            }
        }
    }
}

/// How one task type is routed.
///
/// ```
/// use toolplane_router::{Strategy, TaskPolicy};
/// let p = TaskPolicy::new(Strategy::LeastLatency).only(["fast-a", "fast-b"]).with_max_attempts(2);
/// assert_eq!(p.only, vec!["fast-a".to_string(), "fast-b".to_string()]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskPolicy {
    /// The ranking strategy.
    pub strategy: Strategy,
    /// When not empty, only these experts may take the task (a static rule).
    pub only: Vec<String>,
    /// Experts tried at most per request (first choice plus fallbacks);
    /// `None` takes the router's setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<usize>,
}

impl TaskPolicy {
    /// A policy with a strategy and no rules.
    pub fn new(strategy: Strategy) -> Self {
        Self {
            strategy,
            ..Self::default()
        }
    }

    /// Allows only these experts.
    pub fn only<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.only = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Sets how many experts a request may try.
    pub fn with_max_attempts(mut self, n: usize) -> Self {
        self.max_attempts = Some(n);
        self
    }
}
