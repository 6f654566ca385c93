//! What is fixed when a router is built: the experts, the task slots with
//! their policies, compiled strategies and rule masks, and the settings.
//! Nothing here changes afterwards; what does is the live state (`live.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use toolplane_core::{CallContext, ChatRequest, Price, PriceBook, ProviderStatsSource, StatsSink};

use crate::classify::{TaskClassifier, TaskSource};
use crate::error::RouterError;
use crate::expert::{Expert, Hot, PriceSource, Priced};
use crate::rank::{Rank, compile};
use crate::state::BreakerConfig;
use crate::strategy::TaskPolicy;

/// The name of the catch-all task slot.
pub(crate) const DEFAULT_TASK: &str = "default";

/// One task slot: its policy, compiled.
#[derive(Debug)]
pub(crate) struct TaskPlan {
    pub(crate) name: String,
    pub(crate) policy: TaskPolicy,
    /// The Beta prior of its posteriors, and the decay of a verdict.
    pub(crate) prior: (f64, f64),
    pub(crate) decay: f64,
    /// Which experts the rule allows (`None`: all).
    pub(crate) allowed: Option<Box<[bool]>>,
    pub(crate) ranker: Box<dyn Rank>,
}

/// The settings a catalogue is built from (the builder's, checked).
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) classifier: Arc<dyn TaskClassifier>,
    pub(crate) stats: Option<Arc<dyn ProviderStatsSource>>,
    /// Where verdicts and breaker openings are published for other routers.
    pub(crate) sink: Option<Arc<dyn StatsSink>>,
    /// This router's id in what it publishes.
    pub(crate) origin: u64,
    pub(crate) breaker: BreakerConfig,
    pub(crate) budget_usd: Option<f64>,
    /// Prices for experts without one of their own (read once, at build).
    pub(crate) prices: Option<Arc<dyn PriceBook>>,
    /// The price of experts neither they nor the book price.
    pub(crate) default_price: Option<Price>,
    pub(crate) seed: u64,
    pub(crate) max_attempts: usize,
    pub(crate) default_output_tokens: u64,
    pub(crate) latency_weight: f64,
}

/// The experts, task slots and settings of a router.
#[derive(Debug)]
pub(crate) struct Catalogue {
    pub(crate) experts: Vec<Expert>,
    /// What selection reads about each expert, packed.
    pub(crate) hot: Vec<Hot>,
    /// Each expert's price and where it came from.
    pub(crate) prices: Vec<Priced>,
    by_id: HashMap<String, usize>,
    /// Whether any expert has a budget (selection then runs the full checks).
    pub(crate) any_budget: bool,
    /// Task slots; 0 is [`DEFAULT_TASK`].
    pub(crate) tasks: Vec<TaskPlan>,
    /// Their names, in slot order.
    pub(crate) task_names: Vec<String>,
    pub(crate) settings: Settings,
}

/// A request's task type as routing resolved it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TaskOf<'a> {
    /// The task slot.
    pub(crate) slot: usize,
    /// The task type as given or classified (may have no slot of its own).
    pub(crate) name: &'a str,
    pub(crate) source: TaskSource,
}

impl Catalogue {
    /// Checks and compiles the set-up. Linear in experts times task slots.
    pub(crate) fn build(
        experts: Vec<Expert>,
        default_policy: TaskPolicy,
        policies: Vec<(String, TaskPolicy)>,
        settings: Settings,
    ) -> Result<Self, RouterError> {
        if experts.is_empty() {
            return Err(RouterError::NoExperts);
        }
        let number = |field: String, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(RouterError::InvalidNumber {
                    field,
                    message: format!("must be a finite number >= 0, got {v}"),
                })
            }
        };
        if let Some(b) = settings.budget_usd {
            number("budget_usd".into(), b)?;
        }
        if let Some(p) = &settings.default_price {
            p.validate().map_err(|x| RouterError::InvalidNumber {
                field: format!("default_price.{}", x.field),
                message: format!("must be a finite number >= 0 (USD per million tokens), got {}", x.value),
            })?;
        }
        let mut by_id = HashMap::with_capacity(experts.len());
        for (i, e) in experts.iter().enumerate() {
            if by_id.insert(e.id.clone(), i).is_some() {
                return Err(RouterError::DuplicateExpert(e.id.clone()));
            }
            if let Some(p) = &e.price {
                p.validate().map_err(|x| RouterError::InvalidNumber {
                    field: format!("experts[{i}].price.{}", x.field),
                    message: format!("must be a finite number >= 0 (USD per million tokens), got {}", x.value),
                })?;
            }
            if let Some(b) = e.budget_usd {
                number(format!("experts[{i}].budget_usd"), b)?;
            }
        }
        let mut named: Vec<(String, TaskPolicy)> = vec![(DEFAULT_TASK.to_owned(), default_policy)];
        for (t, p) in policies {
            if t == DEFAULT_TASK {
                named[0].1 = p;
            } else {
                named.push((t, p));
            }
        }
        for label in settings.classifier.labels() {
            if !named.iter().any(|(t, _)| *t == label) {
                let p = named[0].1.clone();
                named.push((label, p));
            }
        }
        let n = experts.len();
        let mut tasks = Vec::with_capacity(named.len());
        for (name, policy) in named {
            policy
                .strategy
                .validate()
                .map_err(|message| RouterError::InvalidPolicy {
                    task: name.clone(),
                    message,
                })?;
            let lookup = |id: &str, field: &'static str| {
                by_id.get(id).copied().ok_or_else(|| RouterError::UnknownExpert {
                    task: name.clone(),
                    field,
                    id: id.to_owned(),
                })
            };
            let ranker = compile(&policy.strategy, &experts, &lookup)?;
            let allowed = if policy.only.is_empty() {
                None
            } else {
                let mut mask = vec![false; n];
                for id in &policy.only {
                    mask[lookup(id, "only")?] = true;
                }
                Some(mask.into_boxed_slice())
            };
            let (decay, prior) = policy.strategy.bandit();
            tasks.push(TaskPlan {
                name,
                policy,
                prior,
                decay,
                allowed,
                ranker,
            });
        }
        let prices: Vec<Priced> = experts.iter().map(|e| resolve_price(e, &settings)).collect();
        Ok(Self {
            hot: experts
                .iter()
                .zip(&prices)
                .map(|(e, p)| Hot::new(e, p.price.as_ref()))
                .collect(),
            prices,
            any_budget: experts.iter().any(|e| e.budget_usd.is_some_and(f64::is_finite)),
            by_id,
            experts,
            task_names: tasks.iter().map(|t| t.name.clone()).collect(),
            tasks,
            settings,
        })
    }

    pub(crate) fn expert_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The slot of a task type (`default` when it has none).
    pub(crate) fn task_index(&self, name: &str) -> usize {
        self.tasks.iter().position(|t| t.name == name).unwrap_or(0)
    }

    /// The task type of a request: metadata, then context, then classifier.
    #[allow(deprecated)] // the context's task type is deprecated but still honoured
    pub(crate) fn task_of<'a>(&'a self, request: &'a ChatRequest, ctx: Option<&'a CallContext>) -> TaskOf<'a> {
        let (name, source) = if let Some(t) = request.metadata.task_type.as_deref() {
            (t, TaskSource::Metadata)
        } else if let Some(t) = ctx.and_then(|c| c.task_type.as_deref()) {
            (t, TaskSource::Context)
        } else {
            (self.settings.classifier.classify(request), TaskSource::Classifier)
        };
        TaskOf {
            slot: self.task_index(name),
            name,
            source,
        }
    }

    /// Experts tried at most for a task.
    #[inline]
    pub(crate) fn attempts(&self, task: usize) -> usize {
        self.tasks[task]
            .policy
            .max_attempts
            .unwrap_or(self.settings.max_attempts)
            .max(1)
    }

    /// The index of an expert's cell for a task in the live state's task-major arrays.
    pub(crate) fn cell_index(&self, expert: usize, task: usize) -> usize {
        task * self.experts.len() + expert
    }
}

/// An expert's price: its own, else the price book's for its provider and
/// model, else the default price, else none.
fn resolve_price(e: &Expert, settings: &Settings) -> Priced {
    let (price, source) = if let Some(p) = e.price {
        (Some(p), PriceSource::Expert)
    } else if let Some(p) = settings
        .prices
        .as_ref()
        .and_then(|b| b.price(&e.key.provider, &e.key.model))
    {
        (Some(p), PriceSource::PriceBook)
    } else if let Some(p) = settings.default_price {
        (Some(p), PriceSource::DefaultPrice)
    } else {
        (None, PriceSource::Unpriced)
    };
    Priced { price, source }
}
