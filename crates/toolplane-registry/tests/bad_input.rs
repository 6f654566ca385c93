#![allow(clippy::unwrap_used, clippy::panic)]
//! Every kind of bad input the issue lists, in one batch: each call fails with
//! a clear error of the right kind, and the good calls around it complete.

use std::sync::Arc;

use serde_json::json;
use toolplane_core::{CallContext, EchoTool, Tool, ToolCall, ToolErrorKind, ToolSpec};
use toolplane_registry::{Executor, ExecutorConfig, ToolRegistry};

fn weather() -> Arc<dyn Tool> {
    Arc::new(EchoTool::new(
        ToolSpec::new("weather.forecast", "Forecast for a city.").with_input_schema(json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "maxLength": 100},
                "days": {"type": "integer", "minimum": 1, "maximum": 14},
                "data": {}
            },
            "required": ["city"],
            "additionalProperties": false
        })),
    ))
}

fn executor() -> Executor {
    let mut reg = ToolRegistry::new();
    reg.register(weather()).unwrap();
    Executor::builder(reg)
        .config(ExecutorConfig {
            arguments: toolplane_registry::ArgumentLimits {
                max_bytes: 1 << 20,
                max_depth: 32,
            },
            ..ExecutorConfig::default()
        })
        .build()
        .unwrap()
}

fn call(id: &str, args: impl Into<String>) -> ToolCall {
    ToolCall::new(id, "weather.forecast", args)
}

#[tokio::test]
async fn every_bad_input_fails_alone_and_clearly() {
    let exec = executor();
    let deep = format!(r#"{{"city":"x","data":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    let huge = format!(r#"{{"city":"{}"}}"#, "a".repeat(50 * 1024 * 1024));
    let cases: Vec<(ToolCall, Option<(ToolErrorKind, &str)>)> = vec![
        (call("ok1", r#"{"city":"Paris","days":3}"#), None),
        (
            call("json", r#"{"city":"Paris""#),
            Some((ToolErrorKind::InvalidArguments, "not valid JSON")),
        ),
        (
            call("type", r#"{"city":42}"#),
            Some((ToolErrorKind::InvalidArguments, "/city")),
        ),
        (
            call("required", r#"{"days":2}"#),
            Some((ToolErrorKind::InvalidArguments, "\"city\" is a required property")),
        ),
        (
            call("extra", r#"{"city":"Paris","cty":"x"}"#),
            Some((ToolErrorKind::InvalidArguments, "Additional properties are not allowed")),
        ),
        (
            call("deep", deep),
            Some((ToolErrorKind::InvalidArguments, "nest deeper than 32")),
        ),
        (
            call("huge", huge),
            Some((ToolErrorKind::InvalidArguments, "the limit is 1048576 bytes")),
        ),
        (
            call("dup", r#"{"city":"Paris","city":"Rome"}"#),
            Some((ToolErrorKind::InvalidArguments, "duplicate key `city`")),
        ),
        (
            call("bigint", r#"{"city":"x","days":123456789012345678901234567890}"#),
            Some((ToolErrorKind::InvalidArguments, "outside the 64-bit range")),
        ),
        (
            call("bigfloat", r#"{"city":"x","data":1e999}"#),
            Some((ToolErrorKind::InvalidArguments, "out of range")),
        ),
        (
            call("surrogate", r#"{"city":"\udc00"}"#),
            Some((ToolErrorKind::InvalidArguments, "not valid JSON")),
        ),
        (
            ToolCall::new("unknown", "weather.forcast", "{}"),
            Some((ToolErrorKind::NotFound, "did you mean `weather__forecast`?")),
        ),
        (
            call("array", "[]"),
            Some((ToolErrorKind::InvalidArguments, "must be a JSON object")),
        ),
        (call("ok2", r#"{"city":"Rome"}"#), None),
    ];
    let calls: Vec<ToolCall> = cases.iter().map(|(c, _)| c.clone()).collect();
    let results = exec.execute_batch(&calls, &CallContext::new("bad-input")).await;
    assert_eq!(results.len(), cases.len());
    for ((c, expected), result) in cases.iter().zip(&results) {
        match (expected, result) {
            (None, Ok(out)) => assert!(out.content.is_object(), "{}", c.id),
            (Some((kind, needle)), Err(e)) => {
                assert_eq!(e.kind(), *kind, "{}: {e}", c.id);
                assert!(
                    e.message().contains(needle),
                    "{}: `{}` lacks `{needle}`",
                    c.id,
                    e.message()
                );
                assert!(
                    e.message().len() < 2_000,
                    "{}: message of {} bytes",
                    c.id,
                    e.message().len()
                );
                assert!(e.to_model_text().starts_with("error ("), "{}", c.id);
            }
            (want, got) => panic!("{}: expected {want:?}, got {got:?}", c.id),
        }
    }
    assert_eq!(results[0].as_ref().unwrap().content["days"], 3);
    assert_eq!(results[13].as_ref().unwrap().content["city"], "Rome");
}

#[tokio::test]
async fn invalid_utf8_is_refused_with_its_offset() {
    let exec = executor();
    let ctx = CallContext::new("utf8");
    let err = exec
        .execute_bytes("c1", "weather.forecast", b"{\"city\":\"Par\xC3\x28is\"}", &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::InvalidArguments);
    assert!(err.message().contains("not valid UTF-8"), "{}", err.message());
    assert!(err.message().contains("byte 12"), "{}", err.message());
    let ok = exec
        .execute_bytes("c2", "weather__forecast", "{\"city\":\"Zürich\"}".as_bytes(), &ctx)
        .await;
    assert_eq!(ok.unwrap().content["city"], "Zürich");
}

#[tokio::test]
async fn violations_are_all_listed_with_pointers() {
    let exec = executor();
    let err = exec
        .execute(
            &call("c", r#"{"city":7,"days":99,"cityy":"x"}"#),
            &CallContext::new("v"),
        )
        .await
        .unwrap_err();
    let details = err.details().unwrap();
    let pointers: Vec<&str> = details["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(details["total"], 3, "{details}");
    assert!(
        pointers.contains(&"/city") && pointers.contains(&"/days") && pointers.contains(&"/"),
        "{pointers:?}"
    );
    // `city` is already given, so `cityy` gets no "did you mean" (only free names are suggested).
    assert!(err.message().contains("'cityy' was unexpected"), "{}", err.message());
    assert!(!err.message().contains("did you mean"), "{}", err.message());

    let err = exec
        .execute(&call("c", r#"{"ctiy":"Paris"}"#), &CallContext::new("v"))
        .await
        .unwrap_err();
    assert!(
        err.message().contains("did you mean `city` instead of `ctiy`?"),
        "{}",
        err.message()
    );
    let v = &err.details().unwrap()["violations"];
    assert!(
        v.as_array().unwrap().iter().any(|x| x["suggestion"].as_str().is_some()),
        "{v}"
    );
}
