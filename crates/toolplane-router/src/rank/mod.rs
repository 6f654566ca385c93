//! Strategies as code: one file per strategy, each implementing [`Rank`]
//! (rank the candidates, say what the score means, show the figures behind
//! each score). A strategy is compiled for its task when the router is
//! built ([`compile`]); selection calls it through a [`View`] of the
//! catalogue and the live state for that task.
//!
//! Adding a strategy: a variant of the public [`Strategy`] enum (its
//! configuration) and one file here with its `Rank`, named in [`compile`].

use std::fmt;

use crate::error::RouterError;
use crate::expert::{Expert, Hot};
use crate::figures::{Figures, Packed, resolve};
use crate::ranking::{Draw, Ranked, Sink};
use crate::sample::{Draws, Master};
use crate::state::{ExpertState, TaskCell};
use crate::strategy::Strategy;

mod cheapest;
mod fixed;
mod least_latency;
mod thompson;
mod weighted;

/// What a strategy may read for one task: the catalogue's experts and the
/// live state's figures, indexed by expert.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) experts: &'a [Expert],
    pub(crate) hot: &'a [Hot],
    pub(crate) states: &'a [ExpertState],
    /// This task's cells.
    pub(crate) cells: &'a [TaskCell],
    /// This task's resolved figures.
    pub(crate) packed: &'a [Packed],
    /// This task's Beta prior.
    pub(crate) prior: (f64, f64),
    pub(crate) master: &'a Master,
}

impl View<'_> {
    /// An expert's figures for this task.
    #[inline]
    pub(crate) fn figures(&self, idx: usize) -> Figures {
        resolve(&self.hot[idx], &self.states[idx], &self.cells[idx], self.prior)
    }

    /// The draws of one selection; sets `stream` to which draw of the master seeded them.
    pub(crate) fn draws(&self, stream: &mut u64) -> Draws {
        let (d, s) = self.master.draws();
        *stream = s;
        d
    }
}

/// The figures behind one candidate's score, by name.
pub(crate) type Shown = Vec<(String, f64)>;

/// One strategy, compiled for one task.
pub(crate) trait Rank: Send + Sync + fmt::Debug {
    /// Ranks `cand` (expert indexes, all past the hard constraints, at least
    /// one) into `sink`; may reorder `cand`. Sets `stream` when it draws.
    fn rank(&self, v: &View<'_>, cand: &mut [u32], sink: &mut Sink, stream: &mut u64) -> Draw;

    /// What the scores mean, for explanations.
    fn score_meaning(&self) -> &'static str;

    /// The figures behind each score of `ranked` (a full ranking), in its order.
    fn shown(&self, v: &View<'_>, ranked: &[Ranked]) -> Vec<Shown>;
}

/// Compiles a task's strategy; `lookup` finds an expert by id, naming the field.
pub(crate) fn compile(
    strategy: &Strategy,
    experts: &[Expert],
    lookup: &dyn Fn(&str, &'static str) -> Result<usize, RouterError>,
) -> Result<Box<dyn Rank>, RouterError> {
    Ok(match strategy {
        Strategy::Static { order } => Box::new(fixed::Fixed::new(order, experts, lookup)?),
        Strategy::Weighted { weights } => Box::new(weighted::WeightedSum::new(*weights)),
        Strategy::Thompson { .. } => Box::new(thompson::Thompson),
        Strategy::LeastLatency => Box::new(least_latency::LeastLatency),
        Strategy::Cheapest { quality_floor, quality } => Box::new(cheapest::Cheapest {
            floor: *quality_floor,
            quality: *quality,
        }),
    })
}

/// Adds a figure when known.
pub(crate) fn put(shown: &mut Shown, name: &str, v: Option<f64>) {
    if let Some(v) = v {
        shown.push((name.to_owned(), v));
    }
}
