#![allow(clippy::unwrap_used, clippy::panic)]
//! Executor behaviour: interceptors, timeouts, deadlines, cancellation,
//! the concurrency limit, panics, output caps, offered sets and discovery.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use serde_json::{Value, json};
use toolplane_core::{CallContext, Tool, ToolCall, ToolError, ToolErrorKind, ToolInterceptor, ToolInvocation};
use toolplane_core::{ToolNext, ToolOutput, ToolSpec};
use toolplane_registry::{Executor, ExecutorConfig, ToolRegistry, builtin};

/// Sleeps `ms` milliseconds, tracking how many run at once.
#[derive(Debug)]
struct Sleepy {
    spec: ToolSpec,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

#[async_trait]
impl Tool for Sleepy {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }
    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(args["ms"].as_u64().unwrap_or(0))).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(ToolOutput::json(args["ms"].clone()))
    }
}

#[derive(Debug)]
struct Explodes(ToolSpec);

#[async_trait]
impl Tool for Explodes {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    #[allow(clippy::panic)]
    async fn call(&self, _args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        panic!("boom")
    }
}

#[derive(Debug)]
struct Big(ToolSpec);

#[async_trait]
impl Tool for Big {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    async fn call(&self, _args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::json(json!({"rows": vec!["row"; 10_000]})))
    }
}

/// Records every call and refuses tools tagged `admin`.
#[derive(Debug, Default)]
struct Audit(Mutex<Vec<String>>);

#[async_trait]
impl ToolInterceptor for Audit {
    async fn intercept(
        &self,
        inv: &ToolInvocation<'_>,
        ctx: &CallContext,
        next: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError> {
        self.0.lock().push(format!("{}:{}", inv.call.id, inv.spec.name));
        if inv.spec.annotations.tags.iter().any(|t| t == "admin") {
            return Err(ToolError::permission_denied(format!(
                "`{}` is an admin tool",
                inv.spec.name
            )));
        }
        next.run(inv, ctx).await
    }
}

fn sleepy(running: &Arc<AtomicUsize>, peak: &Arc<AtomicUsize>) -> Arc<dyn Tool> {
    Arc::new(Sleepy {
        spec: ToolSpec::new("sleep", "Sleeps.").with_input_schema(json!({
            "type": "object", "properties": {"ms": {"type": "integer", "minimum": 0}}, "required": ["ms"]
        })),
        running: Arc::clone(running),
        peak: Arc::clone(peak),
    })
}

fn setup(config: ExecutorConfig) -> (Executor, Arc<Audit>, Arc<AtomicUsize>) {
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut reg = ToolRegistry::new();
    reg.register(sleepy(&running, &peak)).unwrap();
    reg.register(Arc::new(Explodes(ToolSpec::new("explode", "Panics."))))
        .unwrap();
    reg.register(Arc::new(Big(ToolSpec::new("big", "Large output."))))
        .unwrap();
    reg.register(Arc::new(Big(ToolSpec::new("admin.wipe", "Wipes.").with_tag("admin"))))
        .unwrap();
    reg.register_all(builtin::builtin_tools()).unwrap();
    let audit = Arc::new(Audit::default());
    let exec = Executor::builder(reg)
        .config(config)
        .interceptor(audit.clone())
        .with_discovery_tools()
        .build()
        .unwrap();
    (exec, audit, peak)
}

#[tokio::test]
async fn batches_keep_order_respect_the_limit_and_survive_panics() {
    let (exec, audit, peak) = setup(ExecutorConfig {
        max_concurrency: 2,
        ..ExecutorConfig::default()
    });
    let calls = vec![
        ToolCall::new("a", "sleep", r#"{"ms":30}"#),
        ToolCall::new("b", "explode", "{}"),
        ToolCall::new("c", "sleep", r#"{"ms":1}"#),
        ToolCall::new("d", "admin__wipe", "{}"),
        ToolCall::new("e", "sleep", r#"{"ms":10}"#),
        ToolCall::new("f", "sleep", r#"{"ms":5}"#),
    ];
    let results = exec.execute_batch(&calls, &CallContext::new("r")).await;
    assert_eq!(results[0].as_ref().unwrap().content, 30);
    let boom = results[1].as_ref().unwrap_err();
    assert_eq!(boom.kind(), ToolErrorKind::Internal);
    assert!(
        boom.message().contains("`explode` panicked: boom"),
        "{}",
        boom.message()
    );
    assert_eq!(results[2].as_ref().unwrap().content, 1);
    assert_eq!(results[3].as_ref().unwrap_err().kind(), ToolErrorKind::PermissionDenied);
    assert_eq!(results[4].as_ref().unwrap().content, 10);
    assert_eq!(results[5].as_ref().unwrap().content, 5);
    assert!(peak.load(Ordering::SeqCst) <= 2);
    let seen = audit.0.lock().clone();
    assert!(seen.contains(&"d:admin.wipe".to_string()), "{seen:?}");
    assert_eq!(seen.len(), 6);
}

#[tokio::test]
async fn timeouts_and_deadlines_and_cancellation() {
    let (exec, _, _) = setup(ExecutorConfig {
        timeout: Some(Duration::from_millis(20)),
        ..ExecutorConfig::default()
    });
    let slow = ToolCall::new("s", "sleep", r#"{"ms":5000}"#);
    let err = exec.execute(&slow, &CallContext::new("t")).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::Timeout);
    assert!(err.message().contains("within 20 ms"), "{}", err.message());
    assert!(err.is_retryable());

    let (exec, _, _) = setup(ExecutorConfig {
        timeout: None,
        ..ExecutorConfig::default()
    });
    let ctx = CallContext::new("d").with_timeout(Duration::from_millis(10));
    assert_eq!(
        exec.execute(&slow, &ctx).await.unwrap_err().kind(),
        ToolErrorKind::Timeout
    );

    let ctx = CallContext::new("c");
    ctx.cancel.cancel();
    assert_eq!(
        exec.execute(&slow, &ctx).await.unwrap_err().kind(),
        ToolErrorKind::Cancelled
    );
}

#[tokio::test]
async fn output_is_capped_with_a_marker() {
    let (exec, _, _) = setup(ExecutorConfig {
        max_output_bytes: 1000,
        ..ExecutorConfig::default()
    });
    let out = exec
        .execute(&ToolCall::new("b", "big", ""), &CallContext::new("o"))
        .await
        .unwrap();
    assert!(out.truncated);
    let text = out.to_model_text();
    assert!(
        text.contains("[truncated: showing the first 1000 of 60010 bytes"),
        "{}",
        &text[900..]
    );
    assert!(text.starts_with(r#"{"rows":["row","#));
}

#[tokio::test]
async fn search_then_call_reaches_tools_that_are_not_offered() {
    let (exec, audit, _) = setup(ExecutorConfig::default());
    exec.set_offered(Some(vec!["search_tools".into(), "call_tool".into()]))
        .unwrap();
    let names: Vec<String> = exec.specs().iter().map(|s| s.name.clone()).collect();
    assert_eq!(names, ["search_tools", "call_tool"]);
    assert!(Arc::ptr_eq(&exec.specs(), &exec.specs()));
    assert!(exec.set_offered(Some(vec!["nope".into()])).is_err());

    let ctx = CallContext::new("disc");
    let found = exec
        .execute(
            &ToolCall::new("1", "search_tools", r#"{"query":"time zone now","limit":2}"#),
            &ctx,
        )
        .await
        .unwrap();
    assert_eq!(found.content["tools"][0]["name"], "current_time");
    assert!(found.content["tools"][0]["input_schema"]["properties"]["time_zone"].is_object());

    let args = json!({"name": "json_query", "arguments": {"data": {"a": [5, 6]}, "query": "a[-1]"}});
    let out = exec
        .execute(&ToolCall::from_value("2", "call_tool", &args), &ctx)
        .await
        .unwrap();
    assert_eq!(out.content["matches"], json!([6]));

    // The target's own schema still applies, and its errors keep their kind.
    let args = json!({"name": "json_query", "arguments": {"query": 1}});
    let err = exec
        .execute(&ToolCall::from_value("3", "call_tool", &args), &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::InvalidArguments);
    assert!(err.message().contains("json_query"), "{}", err.message());
    let args = json!({"name": "admin.wipe"});
    let err = exec
        .execute(&ToolCall::from_value("4", "call_tool", &args), &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::PermissionDenied);
    let args = json!({"name": "call_tool", "arguments": {"name": "big"}});
    let err = exec
        .execute(&ToolCall::from_value("5", "call_tool", &args), &ctx)
        .await
        .unwrap_err();
    assert!(err.message().contains("directly"), "{}", err.message());
    let seen = audit.0.lock().clone();
    assert!(
        seen.contains(&"call_tool:admin.wipe:admin.wipe".to_string()),
        "{seen:?}"
    );
}

#[tokio::test]
async fn nested_calls_do_not_deadlock_at_a_limit_of_one() {
    let (exec, _, _) = setup(ExecutorConfig {
        max_concurrency: 1,
        ..ExecutorConfig::default()
    });
    let args = json!({"name": "sleep", "arguments": {"ms": 1}});
    let out = tokio::time::timeout(
        Duration::from_secs(5),
        exec.execute(&ToolCall::from_value("n", "call_tool", &args), &CallContext::new("n")),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(out.content, 1);
}

#[tokio::test]
async fn registering_and_unregistering_changes_specs() {
    let (exec, _, _) = setup(ExecutorConfig::default());
    let before = exec.specs();
    assert!(exec.unregister("admin__wipe").is_some());
    let after = exec.specs();
    assert_eq!(after.len() + 1, before.len());
    let err = exec
        .execute(&ToolCall::new("x", "admin.wipe", "{}"), &CallContext::new("u"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::NotFound);
    assert!(
        exec.register(Arc::new(Big(ToolSpec::new("Big", "Look-alike."))))
            .is_err()
    );
}

#[tokio::test]
async fn strict_exports_round_trip_through_the_executor() {
    use toolplane_registry::Profile;
    let registry = || {
        let mut r = ToolRegistry::new();
        r.register_all(builtin::builtin_tools()).unwrap();
        r
    };
    let exported = registry()
        .export(Profile::OpenAiStrict, &["current_time", "json_query"])
        .unwrap();
    assert!(exported.warnings[0].to_string().contains("`json_query`: not strict"));
    let tools = exported.tools_field();
    let f = &tools[0]["function"];
    assert_eq!(f["strict"], true);
    assert_eq!(f["parameters"]["required"], json!(["at", "time_zone"]));
    assert_eq!(f["parameters"]["additionalProperties"], false);
    // `data` is free-form, so json_query falls back to non-strict.
    assert_eq!(tools[1]["function"]["strict"], false);

    // Strict mode makes the model send `at` as null; the executor drops it again.
    let call = ToolCall::new("s", "current_time", r#"{"time_zone":"Asia/Tokyo","at":null}"#);
    let lenient = Executor::builder(registry())
        .config(ExecutorConfig {
            arguments_profile: Some(toolplane_schema::Profile::OpenAiStrict),
            ..ExecutorConfig::default()
        })
        .build()
        .unwrap();
    let out = lenient.execute(&call, &CallContext::new("s")).await.unwrap();
    assert_eq!(out.content["time_zone"], "Asia/Tokyo");
    let plain = Executor::new(registry());
    assert!(plain.config().arguments_profile.is_none());
    let err = plain.execute(&call, &CallContext::new("s")).await.unwrap_err();
    assert!(err.message().contains("/at"), "{}", err.message());
}

#[tokio::test]
async fn executor_futures_can_be_spawned() {
    fn assert_send<T: Send + 'static>(t: T) -> T {
        t
    }
    let (exec, _, _) = setup(ExecutorConfig::default());
    let task = assert_send(async move {
        let ctx = CallContext::new("spawned");
        let one = exec.execute(&ToolCall::new("1", "sleep", r#"{"ms":1}"#), &ctx).await;
        let many = exec
            .execute_batch(&[ToolCall::new("2", "sleep", r#"{"ms":1}"#)], &ctx)
            .await;
        (one.is_ok(), many.len())
    });
    assert_eq!(tokio::spawn(task).await.unwrap(), (true, 1));
}

/// A tool exported with the `gemini` schema profile gets safe property names; with the executor told which
/// profile the model saw, the model's arguments reach the tool under the
/// original names and validate against the internal schema.
#[tokio::test]
async fn arguments_written_against_a_gemini_export_are_restored_before_validation() {
    let odata = || {
        let spec = ToolSpec::new("odata_query", "Queries with OData options.").with_input_schema(json!({
            "type": "object",
            "properties": {"$filter": {"type": "string"}, "$top": {"type": "integer"}},
            "required": ["$filter"],
            "additionalProperties": false
        }));
        let mut registry = ToolRegistry::new();
        registry
            .register(Arc::new(toolplane_core::EchoTool::new(spec)))
            .unwrap();
        registry
    };
    let registry = odata();
    let exported = registry.export_all(toolplane_registry::Profile::Gemini).tools_field();
    let text = exported.to_string();
    assert!(!text.contains("$filter"), "Gemini must not see `$filter`: {text}");

    // The model answers with the names it was shown.
    let call = ToolCall::new("c1", "odata_query", r#"{"filter": "age gt 3", "top": 2}"#);
    let ctx = CallContext::new("r1");

    let plain = Executor::new(odata());
    let err = plain.execute(&call, &ctx).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::InvalidArguments);

    let config = ExecutorConfig {
        arguments_profile: Some(toolplane_schema::Profile::Gemini),
        ..Default::default()
    };
    let restoring = Executor::builder(registry).config(config).build().unwrap();
    let out = restoring.execute(&call, &ctx).await.unwrap();
    assert_eq!(out.content, json!({"$filter": "age gt 3", "$top": 2}));
}
