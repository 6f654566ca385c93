//! The permission interceptor: evaluates the policy, asks for approvals.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use toolplane_core::{
    ApprovalToken, CallContext, ToolError, ToolErrorKind, ToolInterceptor, ToolInvocation, ToolNext, ToolOutput,
};

use crate::approval::{ApprovalStore, binding_hash};
use crate::audit::note_decision;
use crate::policy::{Effect, Explanation, PolicyStore};

/// Applies a [`PolicyStore`] to every tool call.
///
/// - allow: the call continues;
/// - deny: `permission_denied`, with the explanation in the message and the
///   decision in the details;
/// - ask: without an approval token, `approval_required` whose details hold
///   an [`crate::ApprovalRequest`]; with a token in the context's extensions
///   ([`ApprovalToken`]) bound to this principal, tool definition and
///   arguments, the call continues and the token is used up. A replayed,
///   expired or mismatched token gives `approval_required` again with a new
///   request, and says why.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_security::{ApprovalStore, PermissionInterceptor, policy::PolicyStore};
/// let interceptor = PermissionInterceptor::new(Arc::new(PolicyStore::new()), Arc::new(ApprovalStore::new()));
/// # let _ = interceptor;
/// ```
#[derive(Debug, Clone)]
pub struct PermissionInterceptor {
    policy: Arc<PolicyStore>,
    approvals: Arc<ApprovalStore>,
}

impl PermissionInterceptor {
    /// Uses `policy` and records pending approvals in `approvals`.
    pub fn new(policy: Arc<PolicyStore>, approvals: Arc<ApprovalStore>) -> Self {
        Self { policy, approvals }
    }
}

#[async_trait]
impl ToolInterceptor for PermissionInterceptor {
    async fn intercept(
        &self,
        inv: &ToolInvocation<'_>,
        ctx: &CallContext,
        next: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError> {
        let principal = ctx.principal.as_ref();
        let decision = self.policy.evaluate(principal, inv.spec, inv.args);
        let explanation = decision.explanation.to_string();
        trace_decision(decision.effect, &decision.explanation);
        match decision.effect {
            Effect::Allow => {
                note_decision("allow", &explanation);
                next.run(inv, ctx).await
            }
            Effect::Deny => {
                note_decision("deny", &explanation);
                Err(ToolError::permission_denied(format!(
                    "tool `{}` is not permitted for {}: {explanation}",
                    inv.spec.name,
                    ctx.principal_id()
                ))
                .with_details(json!({ "decision": decision })))
            }
            Effect::Ask => {
                let problem = match ctx.extensions.get::<ApprovalToken>() {
                    Some(token) => {
                        let binding = binding_hash(principal, inv.spec, inv.args);
                        match self.approvals.consume(token, &binding) {
                            Ok(()) => {
                                note_decision("approved", &format!("{explanation}; approval token accepted"));
                                return next.run(inv, ctx).await;
                            }
                            Err(e) => Some(e.to_string()),
                        }
                    }
                    None => None,
                };
                let request = self.approvals.request(principal, inv.spec, inv.args, &explanation);
                let message = match &problem {
                    Some(p) => format!("tool `{}` needs a new approval: {p}", inv.spec.name),
                    None => format!("tool `{}` needs a human's approval: {explanation}", inv.spec.name),
                };
                note_decision(
                    "ask",
                    &format!("{explanation}{}", problem.map(|p| format!("; {p}")).unwrap_or_default()),
                );
                Err(ToolError::new(ToolErrorKind::ApprovalRequired, message)
                    .with_details(json!({ "approval": request, "decision": decision })))
            }
        }
    }
}

/// The decision as a `toolplane.permission` event on the current
/// (`execute_tool`) span: the effect and the rule that made it (its id,
/// layer and line), or `default_deny`. Argument values are not recorded.
fn trace_decision(effect: Effect, explanation: &Explanation) {
    let rule = explanation.matched.first();
    let rule_id = match rule {
        Some(r) => r.id.as_str(),
        None if explanation.default_deny => "default_deny",
        None => "",
    };
    tracing::event!(
        target: "toolplane::permission",
        tracing::Level::INFO,
        toolplane.permission.decision = %effect,
        toolplane.permission.rule = rule_id,
        toolplane.permission.rule_layer = rule.map(|r| r.layer.as_str()),
        toolplane.permission.rule_line = rule.map(|r| r.line),
        toolplane.permission.tightened = explanation.tightened.as_deref(),
        "toolplane.permission"
    );
}
