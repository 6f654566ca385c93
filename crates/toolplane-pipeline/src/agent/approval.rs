//! [`ApprovalDetails`]: what a host shows a human about a paused call, read
//! from a [`PendingApproval`] without digging through untyped JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::state::PendingApproval;

/// What a host needs to put one paused call before a human: the approval id
/// to approve, the tool and its exact arguments, and the policy's rule and
/// explanation. Built by [`PendingApproval::details`]; serializable both ways,
/// so a host can store it, send it to a review UI, and read it back.
///
/// The fields come from the `approval_required` error the permission
/// interceptor returned (toolplane-security's `PermissionInterceptor` puts
/// `{"approval": {"id", "principal", "tool", "reason", ..}, "decision":
/// {"explanation": {"matched": [{"id", ..}]}}}` in its details; an
/// interceptor of your own may put `{"approval_id": ..}`). What the error
/// did not carry is `None`.
///
/// ```
/// use serde_json::json;
/// use toolplane_core::ToolCall;
/// use toolplane_pipeline::{ApprovalDetails, PendingApproval};
/// let pending = PendingApproval {
///     call: ToolCall::new("c1", "repo.delete", r#"{"name":"old-branch"}"#),
///     message: "tool `repo.delete` needs a human's approval".into(),
///     request: Some(json!({
///         "approval": {"id": "apr_1", "principal": "ada", "tool": "repo.delete",
///                      "reason": "rule `ask-deletes` (project layer, line 3) says ask"},
///         "decision": {"effect": "ask", "explanation": {"matched": [{"id": "ask-deletes"}]}}
///     })),
/// };
/// let details = pending.details();
/// assert_eq!(details.approval_id.as_deref(), Some("apr_1"));
/// assert_eq!(details.tool, "repo.delete");
/// assert_eq!(details.arguments["name"], "old-branch");
/// assert_eq!(details.rule.as_deref(), Some("ask-deletes"));
/// let stored = serde_json::to_string(&details)?;
/// assert_eq!(serde_json::from_str::<ApprovalDetails>(&stored)?, details);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApprovalDetails {
    /// The id to approve or reject with the policy's approval store, when the
    /// interceptor issued one.
    pub approval_id: Option<String>,
    /// The id of the paused call (the key of the run's decisions map).
    pub call_id: String,
    /// The tool, as the model named it.
    pub tool: String,
    /// The exact arguments the approval will be bound to (parsed; the raw
    /// text as a JSON string if it is not JSON).
    pub arguments: Value,
    /// Who the call is for, when the interceptor said.
    pub principal: Option<String>,
    /// The id of the policy rule that asked, when one did.
    pub rule: Option<String>,
    /// Why the policy asked, in words a person can read.
    pub explanation: String,
}

/// The shape of the details toolplane-security's permission interceptor
/// attaches, read leniently: every part may be missing.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Wire {
    approval: Option<WireApproval>,
    approval_id: Option<String>,
    decision: Option<WireDecision>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WireApproval {
    id: Option<String>,
    principal: Option<String>,
    reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WireDecision {
    explanation: Option<WireExplanation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WireExplanation {
    matched: Vec<WireRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WireRule {
    id: Option<String>,
}

impl PendingApproval {
    /// The typed view of this pending call: approval id, tool, arguments,
    /// rule and explanation.
    pub fn details(&self) -> ApprovalDetails {
        let wire: Wire = self
            .request
            .as_ref()
            .and_then(|v| Wire::deserialize(v).ok())
            .unwrap_or_default();
        let approval = wire.approval.unwrap_or_default();
        let rule = wire
            .decision
            .and_then(|d| d.explanation)
            .and_then(|e| e.matched.into_iter().find_map(|r| r.id));
        ApprovalDetails {
            approval_id: approval.id.or(wire.approval_id),
            call_id: self.call.id.clone(),
            tool: self.call.name.clone(),
            arguments: self
                .call
                .arguments_value()
                .unwrap_or_else(|_| Value::String(self.call.arguments.clone())),
            principal: approval.principal,
            rule,
            explanation: approval.reason.unwrap_or_else(|| self.message.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use toolplane_core::ToolCall;

    #[test]
    fn missing_or_foreign_details_still_give_the_call() {
        let mut pending = PendingApproval {
            call: ToolCall::new("c9", "fs.delete", "not json"),
            message: "needs a human".into(),
            request: None,
        };
        let d = pending.details();
        assert_eq!((d.call_id.as_str(), d.tool.as_str()), ("c9", "fs.delete"));
        assert_eq!(d.arguments, json!("not json"));
        assert_eq!(
            (d.approval_id, d.rule, d.explanation.as_str()),
            (None, None, "needs a human")
        );
        pending.request = Some(json!({"approval": "a string, not an object", "approval_id": 7}));
        assert_eq!(pending.details().approval_id, None);
        pending.request = Some(json!({"approval_id": "ap-c9"}));
        assert_eq!(pending.details().approval_id.as_deref(), Some("ap-c9"));
    }
}
