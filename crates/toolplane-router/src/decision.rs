//! Explained decisions: what the router would do with a request, and why.

use std::fmt;

use serde::{Deserialize, Serialize};
use toolplane_core::Price;

use crate::catalogue::{Catalogue, TaskOf};
use crate::classify::TaskSource;
use crate::live::LiveState;
use crate::ranking::Draw;
use crate::select::{Query, Selection, estimate_usd};
use crate::state::SRC_FIGURES;

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
    /// Where the expert's price came from: `expert` (its own), `price_book`,
    /// `default_price` or `unpriced`.
    pub price_source: String,
    /// The price, USD per million tokens (`None` when unpriced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    /// The most this request can cost on this expert, in USD: its estimated
    /// input and `max_tokens` (or the router's default output) at the price,
    /// rounded up to a micro-USD, which is what a budget reserves for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_cost_usd: Option<f64>,
    /// What the router noticed about this expert's figures (for example a
    /// stats source that gave a NaN latency, which counts as unknown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One expert a hard constraint removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exclusion {
    /// Expert id.
    pub expert: String,
    /// The constraint: `rule`, `tools`, `streaming`, `context_window`,
    /// `healthy`, `unpriced` (a budget applies and the expert has no price),
    /// `budget` or `router_budget`.
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
                write!(f, "  {:>3}. {:<32} {:>10}", c.rank, c.expert, fmt_num(c.score))?;
                let mut figs: Vec<String> = c.figures.iter().map(|(k, v)| format!("{k} {}", fmt_num(*v))).collect();
                match c.estimated_cost_usd {
                    Some(usd) => figs.push(format!("at most ${usd:.6} ({})", c.price_source)),
                    None => figs.push("unpriced".into()),
                }
                if !figs.is_empty() {
                    write!(f, "   [{}]", figs.join(", "))?;
                }
                writeln!(f)?;
                for note in &c.notes {
                    writeln!(f, "       note: {note}")?;
                }
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

/// A score or figure as printed: never `-0`, four decimals, whole
/// numbers from 100 up, and significant digits below 0.001.
pub(crate) fn fmt_num(v: f64) -> String {
    let v = v + 0.0; // -0.0 + 0.0 is +0.0
    let a = v.abs();
    if a == 0.0 {
        "0".to_owned()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 0.001 {
        format!("{v:.4}")
    } else {
        format!("{v:.2e}")
    }
}

/// Explains a selection made with [`Want::All`](crate::select::Want::All).
pub(crate) fn explain(cat: &Catalogue, live: &LiveState, q: &Query, task: &TaskOf<'_>, sel: &Selection) -> Decision {
    let plan = &cat.tasks[sel.task];
    let attempts = cat.attempts(sel.task);
    let id = |i: usize| cat.experts[i].id.clone();
    let view = live.view(cat, sel.task);
    let shown = plan.ranker.shown(&view, &sel.ranked);
    let candidates = sel
        .ranked
        .iter()
        .zip(shown)
        .enumerate()
        .map(|(n, (r, mut figures))| {
            let consecutive = live.states[r.idx].breaker.consecutive_failures();
            if consecutive > 0 {
                figures.push(("consecutive_failures".into(), f64::from(consecutive)));
            }
            for f in &mut figures {
                f.1 += 0.0;
            }
            let rejected = view.cells[r.idx]
                .src_rejected
                .load(std::sync::atomic::Ordering::Relaxed);
            let notes = SRC_FIGURES
                .iter()
                .enumerate()
                .filter(|(b, _)| rejected & (1 << b) != 0)
                .map(|(_, name)| format!("the stats source gave a {name} that makes no sense: treated as unknown"))
                .collect();
            let priced = cat.prices[r.idx];
            Candidate {
                expert: id(r.idx),
                rank: n + 1,
                score: r.key + 0.0,
                figures,
                price_source: priced.source.as_str().to_owned(),
                price: priced.price,
                estimated_cost_usd: estimate_usd(cat, r.idx, q),
                notes,
            }
        })
        .collect();
    let seed = cat.settings.seed;
    let draw = match sel.draw {
        Draw::None => None,
        Draw::Samples => Some(format!(
            "one Beta sample per candidate, from draw {} of the ChaCha8 generator seeded {seed}",
            sel.stream
        )),
        Draw::TwoChoices { winner, loser } => Some(format!(
            "power of two choices drew {} and {} (draw {} of the ChaCha8 generator seeded {seed}); {} has the lower latency",
            id(winner),
            id(loser),
            sel.stream,
            id(winner)
        )),
        Draw::FloorUnmet => Some("no candidate meets the quality floor: best quality first".into()),
    };
    Decision {
        task_type: task.name.to_owned(),
        task_source: task.source,
        policy: plan.name.clone(),
        strategy: plan.policy.strategy.to_string(),
        score_meaning: plan.ranker.score_meaning().to_owned(),
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
