//! The audit interceptor: one record per tool call, whatever the outcome.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use toolplane_core::{CallContext, ToolError, ToolInterceptor, ToolInvocation, ToolNext, ToolOutput};

use super::{AuditRecord, AuditSink, now_ms};
use crate::redact::Redact;

tokio::task_local! {
    static DECISION: RefCell<Option<(String, String)>>;
}

/// Called by the permission interceptor so the audit record carries its
/// decision; does nothing outside an [`AuditInterceptor`].
pub(crate) fn note_decision(decision: &str, explanation: &str) {
    let _ = DECISION.try_with(|d| {
        *d.borrow_mut() = Some((decision.to_string(), explanation.to_string()));
    });
}

/// Writes one [`AuditRecord`] per tool call: who, the tool, the redacted
/// arguments, the permission decision and its explanation (when a
/// [`crate::PermissionInterceptor`] runs inside it), the result status, the
/// latency and the request id.
///
/// Put it *first* in the chain so denied and rate-limited calls are recorded
/// too. If the record cannot be stored the call fails closed: a tool that
/// already ran keeps its effect, but the caller gets an `internal` error
/// instead of the output, and with `audit_before` set the tool never runs
/// unless an intent record was stored first.
#[derive(Debug, Clone)]
pub struct AuditInterceptor {
    sink: Arc<dyn AuditSink>,
    audit_before: bool,
}

impl AuditInterceptor {
    /// Records to `sink`.
    pub fn new(sink: Arc<dyn AuditSink>) -> Self {
        Self {
            sink,
            audit_before: false,
        }
    }

    /// Also stores a `tool_call_intent` record before the tool runs, and
    /// refuses the call when that fails.
    pub fn with_intent_record(mut self) -> Self {
        self.audit_before = true;
        self
    }
}

fn base(inv: &ToolInvocation<'_>, ctx: &CallContext, event: &str) -> AuditRecord {
    let mut r = AuditRecord::event(event, ctx.request_id.clone(), ctx.principal_id());
    if let Some(p) = &ctx.principal {
        r.roles = p.roles.clone();
    }
    r.tool = Some(inv.spec.name.clone());
    r.call_id = Some(inv.call.id.clone());
    r.arguments = inv.args.clone();
    r
}

#[async_trait]
impl ToolInterceptor for AuditInterceptor {
    async fn intercept(
        &self,
        inv: &ToolInvocation<'_>,
        ctx: &CallContext,
        next: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError> {
        if self.audit_before {
            let rec = base(inv, ctx, "tool_call_intent");
            self.sink
                .append(rec.redacted())
                .await
                .map_err(|e| ToolError::internal(format!("audit log unavailable, call refused: {e}")))?;
        }
        let started = Instant::now();
        let started_ms = now_ms();
        let (result, decision) = DECISION
            .scope(RefCell::new(None), async {
                let r = next.run(inv, ctx).await;
                let d = DECISION.with(|d| d.borrow_mut().take());
                (r, d)
            })
            .await;
        let mut rec = base(inv, ctx, "tool_call");
        rec.started_ms = started_ms;
        rec.finished_ms = now_ms();
        rec.latency_us = started.elapsed().as_micros() as u64;
        if let Some((d, e)) = decision {
            rec.decision = Some(d);
            rec.explanation = Some(e);
        }
        match &result {
            Ok(out) if out.is_error => rec.status = "tool_error".into(),
            Ok(_) => rec.status = "ok".into(),
            Err(e) => {
                rec.status = e.kind().as_str().into();
                rec.error = Some(e.message().to_string());
            }
        }
        match self.sink.append(rec.redacted()).await {
            Ok(_) => result,
            Err(e) => Err(ToolError::internal(format!(
                "audit log unavailable, result withheld: {e}"
            ))),
        }
    }
}
