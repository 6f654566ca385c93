//! The gateway describes itself (`GET /openapi.json`, OpenAPI 3.1, built
//! from the route table), and our own converter turns that description into
//! tools that drive the gateway: toolplane can drive toolplane.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::*;
use toolplane_core::CallContext;
use toolplane_openapi::http::{HttpConfig, Secret, http_tools};
use toolplane_openapi::{ConvertOptions, Converter, OpenApiSpec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_description_converts_into_tools_that_call_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let r = client().get(format!("{}/openapi.json", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    // Every documented route answers (never the fallback's "no route").
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let url = format!(
                "{}{}",
                s.url,
                path.replace("{name}", "current_time").replace("{id}", "run_x")
            );
            let req = match method.as_str() {
                "get" => client().get(&url),
                "post" => client().post(&url).json(&json!({})),
                "delete" => client().delete(&url),
                other => panic!("method {other}"),
            };
            let r = req.bearer_auth(KEY).send().await.unwrap();
            let body = r.text().await.unwrap_or_default();
            assert!(
                !body.contains("no route for"),
                "{method} {path} is documented but not served"
            );
        }
    }

    let spec = OpenApiSpec::from_str(&doc.to_string()).unwrap();
    let conversion = Converter::new(ConvertOptions::default()).convert(&spec);
    let names: Vec<&str> = conversion.tools.iter().map(|t| t.spec.name.as_str()).collect();
    for expected in [
        "createChatCompletion",
        "createMessage",
        "listModels",
        "callTool",
        "startRun",
        "decideApprovals",
        "decideToolApproval",
        "recordFeedback",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let http = HttpConfig::new()
        .with_base_url(s.url.clone())
        .with_secret("bearerAuth", Secret::new(KEY));
    let tools = http_tools(conversion.tools, http).unwrap();
    let ctx = CallContext::new("drive-1");
    let find = |name: &str| tools.iter().find(|t| t.spec().name == name).unwrap().clone();

    let out = find("listModels").call(&json!({}), &ctx).await.unwrap();
    assert!(!out.is_error, "{:?}", out.content);
    assert!(out.content.to_string().contains("\"fast\""), "{:?}", out.content);

    let args = json!({"model": "fast", "messages": [{"role": "user", "content": "driven by toolplane"}]});
    let out = find("createChatCompletion").call(&args, &ctx).await.unwrap();
    assert!(!out.is_error, "{:?}", out.content);
    assert!(
        out.content.to_string().contains("driven by toolplane"),
        "{:?}",
        out.content
    );
    s.stop().await;
}
