//! The permission and audit interceptors in a real chain.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use toolplane_core::*;
use toolplane_security::audit::{AuditInterceptor, MemorySink};
use toolplane_security::policy::{Layer, PolicyStore};
use toolplane_security::{ApprovalRequest, ApprovalStore, PermissionInterceptor};

#[derive(Debug)]
struct Echo(ToolSpec);

#[async_trait]
impl Tool for Echo {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    async fn call(&self, args: &Value, _: &CallContext) -> Result<ToolOutput, ToolError> {
        if args.get("fail").is_some() {
            return Err(ToolError::upstream(
                "backend said: Authorization: Bearer leaked-token-123 invalid",
            ));
        }
        Ok(ToolOutput::json(args.clone()))
    }
}

struct Fixture {
    chain: Vec<Arc<dyn ToolInterceptor>>,
    approvals: Arc<ApprovalStore>,
    sink: Arc<MemorySink>,
}

fn fixture() -> Fixture {
    let policy = Arc::new(PolicyStore::new());
    policy
        .load_str(
            Layer::Project,
            "p.toml",
            "[[rule]]\nid='read'\neffect='allow'\ntools=['fs.read']\n\
             [[rule]]\nid='del'\neffect='ask'\ntools=['fs.delete']\n",
        )
        .unwrap();
    let approvals = Arc::new(ApprovalStore::new());
    let sink = Arc::new(MemorySink::new());
    Fixture {
        chain: vec![
            Arc::new(AuditInterceptor::new(sink.clone())),
            Arc::new(PermissionInterceptor::new(policy, approvals.clone())),
        ],
        approvals,
        sink,
    }
}

async fn run(f: &Fixture, tool: &Echo, args: Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
    let call = ToolCall::from_value("c1", &tool.0.name, &args);
    let inv = ToolInvocation {
        call: &call,
        args: &args,
        spec: &tool.0,
    };
    ToolNext::new(&f.chain, tool).run(&inv, ctx).await
}

fn alice() -> CallContext {
    CallContext::new("req-1").with_principal(Principal::new("alice"))
}

fn request_of(e: &ToolError) -> ApprovalRequest {
    let d = &e.details().unwrap()["approval"];
    ApprovalRequest {
        id: d["id"].as_str().unwrap().into(),
        principal: d["principal"].as_str().unwrap().into(),
        tool: d["tool"].as_str().unwrap().into(),
        binding: d["binding"].as_str().unwrap().into(),
        reason: d["reason"].as_str().unwrap().into(),
    }
}

#[tokio::test]
async fn denied_calls_are_explained_and_audited() {
    let f = fixture();
    let tool = Echo(ToolSpec::new("shell.exec", ""));
    let err = run(&f, &tool, json!({"cmd": "rm -rf /"}), &alice()).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::PermissionDenied);
    assert!(
        err.message().contains("no rule matched: default deny"),
        "{}",
        err.message()
    );
    let rec = &f.sink.records()[0];
    assert_eq!(rec.decision.as_deref(), Some("deny"));
    assert_eq!(rec.status, "permission_denied");
    assert_eq!(rec.tool.as_deref(), Some("shell.exec"));
    assert_eq!(rec.principal, "alice");
}

#[tokio::test]
async fn error_texts_are_redacted_in_the_audit_record() {
    let f = fixture();
    let tool = Echo(ToolSpec::new("fs.read", ""));
    let err = run(&f, &tool, json!({"fail": true}), &alice()).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::Upstream);
    let rec = &f.sink.records()[0];
    assert_eq!(rec.decision.as_deref(), Some("allow"));
    assert!(
        !rec.error.as_deref().unwrap().contains("leaked-token-123"),
        "{:?}",
        rec.error
    );
}

#[tokio::test]
async fn approvals_are_single_use_and_bound_to_arguments_and_tool() {
    let f = fixture();
    let tool = Echo(ToolSpec::new("fs.delete", "Deletes a file."));
    let args = json!({"path": "/tmp/a"});
    let err = run(&f, &tool, args.clone(), &alice()).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::ApprovalRequired);
    let req = request_of(&err);
    assert_eq!((req.principal.as_str(), req.tool.as_str()), ("alice", "fs.delete"));
    let token = f.approvals.approve(&req.id, Duration::from_secs(60)).unwrap();
    let ctx = alice().with_extension(token.clone());

    // Changed arguments: refused, the token stays for the approved call.
    let err = run(&f, &tool, json!({"path": "/etc"}), &ctx).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::ApprovalRequired);
    assert!(
        err.message()
            .contains("different principal, tool definition or arguments"),
        "{}",
        err.message()
    );
    // A changed tool definition: refused too.
    let changed = Echo(ToolSpec::new("fs.delete", "Deletes a file or a folder tree."));
    let err = run(&f, &changed, args.clone(), &ctx).await.unwrap_err();
    assert!(
        err.message().contains("different principal, tool definition"),
        "{}",
        err.message()
    );
    // Another principal: refused.
    let bob = CallContext::new("r2")
        .with_principal(Principal::new("bob"))
        .with_extension(token.clone());
    assert!(run(&f, &tool, args.clone(), &bob).await.is_err());

    // The approved call runs once (same arguments in another key order bind the same way).
    let out = run(&f, &tool, json!({"path": "/tmp/a"}), &ctx).await.unwrap();
    assert_eq!(out.content, args);
    // Replayed: refused with a clear message and a fresh request.
    let err = run(&f, &tool, args.clone(), &ctx).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::ApprovalRequired);
    assert!(
        err.message().contains("unknown or was already used"),
        "{}",
        err.message()
    );
    assert_ne!(request_of(&err).id, req.id);

    let decisions: Vec<String> = f.sink.records().iter().map(|r| r.decision.clone().unwrap()).collect();
    assert_eq!(decisions, ["ask", "ask", "ask", "ask", "approved", "ask"]);
}

#[tokio::test]
async fn expired_approvals_are_refused() {
    let f = fixture();
    let tool = Echo(ToolSpec::new("fs.delete", ""));
    let err = run(&f, &tool, json!({}), &alice()).await.unwrap_err();
    let token = f.approvals.approve(&request_of(&err).id, Duration::ZERO).unwrap();
    let err = run(&f, &tool, json!({}), &alice().with_extension(token))
        .await
        .unwrap_err();
    assert!(err.message().contains("expired"), "{}", err.message());
}
