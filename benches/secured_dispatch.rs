//! What do permissions, a rate limit and the audit log cost per tool call?
//!
//! The question a host asks before turning security on. One run measures, on
//! the same no-op tool and the same small arguments:
//! - `bare`: the registry's `Executor` with no interceptors (lookup, strict
//!   parse, cached schema validation, permit, timeout, dispatch);
//! - `permissions`: plus the `PermissionInterceptor` over a policy of 100 rules;
//! - `permissions_ratelimit`: plus a keyed `RateLimitInterceptor`;
//! - `secured`: plus the `AuditInterceptor` writing every call to a bounded
//!   in-memory sink (`MemorySink::bounded(1024)`, a ring: redaction and the
//!   record are measured, not the growth of an ever larger vector), the
//!   quickstart's tool chain without the disk.
//!
//! Run with `cargo bench -p toolplane --bench secured_dispatch`; the ratios to
//! `bare` are the figures to quote. The file sink's fsync cost is measured by
//! `cargo bench -p toolplane-security --bench security`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;

use criterion::Criterion;
use serde_json::json;
use toolplane::registry::{Executor, ToolRegistry};
use toolplane::security::audit::{AuditInterceptor, MemorySink};
use toolplane::security::limits::{LocalRateLimiter, RateLimitInterceptor, RateQuota};
use toolplane::security::policy::{Layer, PolicyStore};
use toolplane::security::{ApprovalStore, PermissionInterceptor};
use toolplane::vocab::{CallContext, EchoTool, Principal, ToolCall, ToolInterceptor, ToolSpec};

fn policy() -> Arc<PolicyStore> {
    let mut text = String::new();
    for i in 0..99 {
        text.push_str(&format!(
            "[[rule]]\nid = \"other-{i}\"\neffect = \"allow\"\nroles = [\"member\"]\ntools = [\"ns{i}.*\"]\n\n"
        ));
    }
    text.push_str(
        "[[rule]]\nid = \"lookup\"\neffect = \"allow\"\nroles = [\"member\"]\ntools = [\"lookup\"]\n\
         [[rule.args]]\npath = \"/limit\"\nmin = 1\nmax = 100\n",
    );
    let store = Arc::new(PolicyStore::new());
    store.load_str(Layer::Project, "bench.toml", &text).unwrap();
    store
}

fn executor(chain: Vec<Arc<dyn ToolInterceptor>>) -> Executor {
    let spec = ToolSpec::new("lookup", "Looks a record up.").with_input_schema(json!({
        "type": "object",
        "properties": {"id": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}, "verbose": {"type": "boolean"}},
        "required": ["id"],
        "additionalProperties": false
    }));
    let mut registry = ToolRegistry::new();
    registry.register(Arc::new(EchoTool::new(spec))).unwrap();
    let mut builder = Executor::builder(registry);
    for i in chain {
        builder = builder.interceptor(i);
    }
    builder.build().unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let policy = policy();
    let permission = || -> Arc<dyn ToolInterceptor> {
        Arc::new(PermissionInterceptor::new(
            policy.clone(),
            Arc::new(ApprovalStore::new()),
        ))
    };
    let limiter = || -> Arc<dyn ToolInterceptor> {
        let quota = RateQuota::per_second(100_000_000);
        Arc::new(RateLimitInterceptor::new(Arc::new(
            LocalRateLimiter::new(quota, 1_000_000).unwrap(),
        )))
    };
    let variants = [
        ("bare", executor(vec![])),
        ("permissions", executor(vec![permission()])),
        ("permissions_ratelimit", executor(vec![permission(), limiter()])),
        (
            "secured",
            executor(vec![
                Arc::new(AuditInterceptor::new(Arc::new(MemorySink::bounded(1024)))),
                permission(),
                limiter(),
            ]),
        ),
    ];
    let call = ToolCall::new("c1", "lookup", r#"{"id": "rec-42", "limit": 10, "verbose": false}"#);
    let ctx = CallContext::new("bench").with_principal(Principal::new("ada").with_role("member"));
    let mut group = c.benchmark_group("secured_dispatch");
    for (name, exec) in &variants {
        rt.block_on(exec.execute(&call, &ctx)).unwrap();
        group.bench_function(*name, |b| b.iter(|| rt.block_on(exec.execute(&call, &ctx)).unwrap()));
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
