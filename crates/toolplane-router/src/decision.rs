//! Explained decisions: what the router would do with a request, and why.

use std::fmt;

use serde::{Deserialize, Serialize};
use toolplane_core::ChatRequest;

use crate::router::Inner;
use crate::select::{Draw, Query};
use crate::strategy::Strategy;
use crate::weighted::{Figures, lower_better};

/// Where the task type came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskSource {
    /// The request's `metadata.task_type`.
    Metadata,
    /// The call context's `task_type`.
    Context,
    /// The classifier.
    Classifier,
    /// Given by the caller of [`Router::explain_for`](crate::Router::explain_for).
    Given,
}

/// One expert that passed the hard constraints, with its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Expert id.
    pub expert: String,
    /// Place in the ranking, 1 = first choice.
    pub rank: usize,
    /// The strategy's score (see [`Decision::score_meaning`]).
    pub score: f64,
    /// The figures behind the score, by name.
    pub figures: Vec<(String, f64)>,
}

/// One expert a hard constraint removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exclusion {
    /// Expert id.
    pub expert: String,
    /// The constraint: `rule`, `tools`, `streaming`, `context_window`,
    /// `healthy`, `budget` or `router_budget`.
    pub constraint: String,
    /// What exactly failed.
    pub detail: String,
}

/// A routing decision and its reasons. `Display` prints it for people,
/// `Serialize` for programs.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_core::{ChatRequest, Message, ScriptedProvider};
/// use toolplane_router::{Expert, Router, Strategy, TaskPolicy};
/// let router = Router::builder()
///     .expert(Expert::new(Arc::new(ScriptedProvider::new("a")), "small").with_priority(2))
///     .expert(Expert::new(Arc::new(ScriptedProvider::new("b")), "large").with_priority(1))
///     .policy("code", TaskPolicy::new(Strategy::Static { order: vec![] }))
///     .seed(1)
///     .build()
///     .unwrap();
/// let d = router.explain_for("code", &ChatRequest::new("", vec![Message::user("fix this")]));
/// assert_eq!(d.chosen.as_deref(), Some("b/large"));
/// assert!(d.to_string().contains("chosen: b/large"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The task type.
    pub task_type: String,
    /// Where it came from.
    pub task_source: TaskSource,
    /// The task slot used (`default` when the task type has no policy or slot).
    pub policy: String,
    /// The strategy, described.
    pub strategy: String,
    /// What the scores mean.
    pub score_meaning: String,
    /// The first choice, if any expert is left.
    pub chosen: Option<String>,
    /// Tried next, in order, on retryable errors.
    pub fallbacks: Vec<String>,
    /// Every expert that passed the hard constraints, best first.
    pub candidates: Vec<Candidate>,
    /// Every expert removed, and why.
    pub excluded: Vec<Exclusion>,
    /// The random part, if any.
    pub draw: Option<String>,
    /// The estimated input tokens of the request.
    pub estimated_input_tokens: u64,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.task_source {
            TaskSource::Metadata => "request metadata",
            TaskSource::Context => "call context",
            TaskSource::Classifier => "classifier",
            TaskSource::Given => "given",
        };
        writeln!(f, "task: {} (from {source}, policy {})", self.task_type, self.policy)?;
        writeln!(f, "strategy: {}", self.strategy)?;
        writeln!(f, "estimated input tokens: {}", self.estimated_input_tokens)?;
        match &self.chosen {
            Some(c) => writeln!(f, "chosen: {c}")?,
            None => writeln!(f, "chosen: none (every expert was removed)")?,
        }
        if !self.fallbacks.is_empty() {
            writeln!(f, "fallbacks: {}", self.fallbacks.join(", "))?;
        }
        if !self.candidates.is_empty() {
            writeln!(f, "candidates (score = {}):", self.score_meaning)?;
            for c in &self.candidates {
                write!(f, "  {:>3}. {:<32} {:>10.4}", c.rank, c.expert, c.score)?;
                let figs: Vec<String> = c
                    .figures
                    .iter()
                    .map(|(k, v)| {
                        if v.abs() >= 100.0 {
                            format!("{k} {v:.0}")
                        } else {
                            format!("{k} {v:.4}")
                        }
                    })
                    .collect();
                if !figs.is_empty() {
                    write!(f, "   [{}]", figs.join(", "))?;
                }
                writeln!(f)?;
            }
        }
        if !self.excluded.is_empty() {
            writeln!(f, "excluded:")?;
            for x in &self.excluded {
                writeln!(f, "  {:<32} {}: {}", x.expert, x.constraint, x.detail)?;
            }
        }
        if let Some(d) = &self.draw {
            writeln!(f, "draw: {d}")?;
        }
        Ok(())
    }
}

impl Inner {
    pub(crate) fn decide(&self, request: &ChatRequest, task: usize, task_name: String, source: TaskSource) -> Decision {
        let q = Query::new(self, request, task, false);
        let sel = self.select(&q, usize::MAX, true, &[]);
        let strategy = &self.policies[task].strategy;
        let attempts = self.attempts(task);
        let id = |i: usize| self.experts[i].id.clone();
        let figs: Vec<Figures> = sel.ranked.iter().map(|r| self.figures(r.idx, task)).collect();
        let (lat, cost) = self.ranges(task, sel.ranked.iter().map(|r| r.idx));
        let candidates = sel
            .ranked
            .iter()
            .zip(&figs)
            .enumerate()
            .map(|(n, (r, f))| {
                let mut figures = Vec::new();
                let mut put = |k: &str, v: Option<f64>| {
                    if let Some(v) = v {
                        figures.push((k.to_owned(), v));
                    }
                };
                match strategy {
                    Strategy::Static { .. } => put("priority", Some(f64::from(self.experts[r.idx].priority))),
                    Strategy::Weighted { .. } => {
                        put("latency_p95_ms", f.latency_ms);
                        put("latency_norm", Some(lower_better(f.latency_ms, lat)));
                        put("success_rate", f.success);
                        put("cost_per_1k", f.cost_1k);
                        put("cost_norm", Some(lower_better(f.cost_1k, cost)));
                        put("win_rate", f.win_rate);
                    }
                    Strategy::Thompson { .. } => {
                        let (a, b) = self.cell(r.idx, task).posterior.get();
                        put("alpha", Some(a));
                        put("beta", Some(b));
                        put("mean", Some(a / (a + b)));
                    }
                    Strategy::LeastLatency => put("p2c_winner", Some(f64::from(r.tier))),
                    Strategy::Cheapest { quality, .. } => {
                        put("quality", self.quality(r.idx, task, *quality));
                        put("cost_per_1k", f.cost_1k);
                        put("above_floor", Some(f64::from(r.tier)));
                    }
                }
                let consecutive = self.states[r.idx].breaker.consecutive_failures();
                if consecutive > 0 {
                    put("consecutive_failures", Some(f64::from(consecutive)));
                }
                Candidate {
                    expert: id(r.idx),
                    rank: n + 1,
                    score: r.key,
                    figures,
                }
            })
            .collect();
        let draw = match sel.draw {
            Draw::None => None,
            Draw::Samples => Some(format!(
                "one Beta sample per candidate, from draw {} of the ChaCha8 generator seeded {}",
                sel.stream, self.seed
            )),
            Draw::TwoChoices { winner, loser } => Some(format!(
                "power of two choices drew {} and {} (draw {} of the ChaCha8 generator seeded {}); {} has the lower latency",
                id(winner),
                id(loser),
                sel.stream,
                self.seed,
                id(winner)
            )),
            Draw::FloorUnmet => Some("no candidate meets the quality floor: best quality first".into()),
        };
        Decision {
            task_type: task_name,
            task_source: source,
            policy: self.tasks[task].clone(),
            strategy: strategy.to_string(),
            score_meaning: match strategy {
                Strategy::Static { .. } => "minus the static rank",
                Strategy::Weighted { .. } => "weighted sum of normalized figures, 0..1",
                Strategy::Thompson { .. } => "a draw from the win-rate posterior",
                Strategy::LeastLatency => "minus the EWMA latency in ms (the two-choice winner goes first)",
                Strategy::Cheapest { .. } => "minus the cost per 1k tokens above the floor, else the quality",
            }
            .to_owned(),
            chosen: sel.ranked.first().map(|r| id(r.idx)),
            fallbacks: sel
                .ranked
                .iter()
                .skip(1)
                .take(attempts - 1)
                .map(|r| id(r.idx))
                .collect(),
            candidates,
            excluded: sel
                .removed
                .iter()
                .map(|(i, r)| Exclusion {
                    expert: id(*i),
                    constraint: r.constraint().to_owned(),
                    detail: r.detail(),
                })
                .collect(),
            draw,
            estimated_input_tokens: q.input_tokens,
        }
    }
}
