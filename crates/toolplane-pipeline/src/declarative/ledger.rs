//! What a run spent, and the budgets it may spend: one ledger for the
//! pipeline and one per step run, each charging its parents as well.

use std::sync::{Arc, Mutex, PoisonError};

use toolplane_core::Usage;

use super::definition::Budget;
use super::report::{RunReport, StepReport};

/// Tokens, money and provider calls.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Spent {
    pub(super) usage: Usage,
    pub(super) cost_usd: f64,
    pub(super) calls: u64,
}

impl Spent {
    pub(super) fn add(&mut self, other: &Spent) {
        self.usage.add(&other.usage);
        self.cost_usd += other.cost_usd;
        self.calls = self.calls.saturating_add(other.calls);
    }

    /// What a step's report says it spent (before a resume).
    pub(super) fn of_step(report: &StepReport) -> Self {
        Self {
            usage: report.usage,
            cost_usd: report.cost_usd,
            calls: report.provider_calls,
        }
    }

    /// What a run's report says it spent (before a resume).
    pub(super) fn of_run(report: &RunReport) -> Self {
        Self {
            usage: report.usage,
            cost_usd: report.cost_usd,
            calls: report.provider_calls,
        }
    }
}

/// A budget and what was charged to it. A charge goes to the ledger and to
/// every ledger above it (the enclosing steps, then the pipeline).
#[derive(Debug)]
pub(super) struct Ledger {
    /// The step whose budget this is; `None` for the pipeline.
    owner: Option<String>,
    budget: Budget,
    spent: Mutex<Spent>,
    parent: Option<Arc<Ledger>>,
}

impl Ledger {
    /// The pipeline's ledger, starting from what earlier parts of the run spent.
    pub(super) fn root(budget: Budget, prior: Spent) -> Arc<Self> {
        Arc::new(Self {
            owner: None,
            budget,
            spent: Mutex::new(prior),
            parent: None,
        })
    }

    /// A step's ledger under `parent`, starting from `prior` (a resumed step's earlier spending).
    pub(super) fn child(parent: &Arc<Self>, owner: &str, budget: Budget, prior: Spent) -> Arc<Self> {
        Arc::new(Self {
            owner: Some(owner.to_string()),
            budget,
            spent: Mutex::new(prior),
            parent: Some(Arc::clone(parent)),
        })
    }

    pub(super) fn spent(&self) -> Spent {
        *self.spent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Charges this ledger and every one above it.
    pub(super) fn charge(&self, amount: &Spent) {
        let mut ledger = Some(self);
        while let Some(l) = ledger {
            l.spent.lock().unwrap_or_else(PoisonError::into_inner).add(amount);
            ledger = l.parent.as_deref();
        }
    }

    fn chain(&self) -> impl Iterator<Item = &Ledger> {
        std::iter::successors(Some(self), |l| l.parent.as_deref())
    }

    /// What is left of every budget up the chain, as one budget (the tightest of each limit).
    pub(super) fn remaining(&self) -> Budget {
        let mut left = Budget::default();
        for l in self.chain() {
            let spent = l.spent();
            let b = &l.budget;
            left.max_tokens = min_opt(
                left.max_tokens,
                b.max_tokens.map(|m| m.saturating_sub(spent.usage.total_tokens())),
            );
            left.max_cost_usd = min_opt(left.max_cost_usd, b.max_cost_usd.map(|m| (m - spent.cost_usd).max(0.0)));
            left.max_steps = min_opt(
                left.max_steps,
                b.max_steps
                    .map(|m| u32::try_from(u64::from(m).saturating_sub(spent.calls)).unwrap_or(0)),
            );
        }
        left
    }

    /// Which budget up the chain is used up, if any, as a sentence.
    pub(super) fn exhausted(&self) -> Option<String> {
        self.chain().find_map(|l| {
            let spent = l.spent();
            let b = &l.budget;
            let what = if b.max_tokens.is_some_and(|m| spent.usage.total_tokens() >= m) {
                "token budget"
            } else if b.max_cost_usd.is_some_and(|m| spent.cost_usd >= m) {
                "cost budget"
            } else if b.max_steps.is_some_and(|m| spent.calls >= u64::from(m)) {
                "provider-call budget (`max_steps`)"
            } else {
                return None;
            };
            Some(match &l.owner {
                None => format!("the pipeline's {what} is used up"),
                Some(step) => format!("the {what} of step `{step}` is used up"),
            })
        })
    }
}

fn min_opt<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b < a { b } else { a }),
        (a, b) => a.or(b),
    }
}
