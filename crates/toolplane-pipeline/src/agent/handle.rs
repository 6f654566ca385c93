//! A run on its own task.

use super::{RunError, RunEvent, RunResult};

/// A run on its own task: its events, then its result.
#[derive(Debug)]
pub struct RunHandle {
    pub(super) events: tokio::sync::mpsc::UnboundedReceiver<RunEvent>,
    pub(super) task: tokio::task::JoinHandle<Result<RunResult, RunError>>,
}

impl RunHandle {
    /// The next event, or `None` once the run is over and every event was read.
    pub async fn next_event(&mut self) -> Option<RunEvent> {
        self.events.recv().await
    }

    /// Waits for the result (events not yet read are dropped).
    ///
    /// # Errors
    /// The run's error, or [`RunError::Aborted`] if the task panicked.
    pub async fn finish(self) -> Result<RunResult, RunError> {
        self.task.await.map_err(|e| RunError::Aborted(e.to_string()))?
    }
}
