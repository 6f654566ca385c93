#![allow(clippy::unwrap_used, clippy::panic)]
//! HTTP execution against a local server: parameter styles, bodies, server
//! variables, the result shape, the byte budget, redirects and CR/LF.
#![cfg(feature = "http")]

mod http_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use http_support::*;
use serde_json::{Value, json};
use toolplane_core::{CallContext, Tool, ToolErrorKind};
use toolplane_openapi::binding::{HttpMethod, ParamLocation as L, ParamStyle as S, ServerBinding, ServerVariable};
use toolplane_openapi::http::{HttpConfig, HttpRuntime, HttpTool, http_tools};

fn config(addr: std::net::SocketAddr) -> HttpConfig {
    HttpConfig::new().with_base_url(format!("http://{addr}"))
}

async fn run(t: toolplane_openapi::ConvertedTool, cfg: HttpConfig, args: Value) -> toolplane_core::ToolOutput {
    let rt = HttpRuntime::new(cfg).unwrap();
    let tool = HttpTool::new(t, rt).unwrap();
    tool.call(&args, &CallContext::new("t")).await.unwrap()
}

/// Echoed request of a call.
async fn echoed(t: toolplane_openapi::ConvertedTool, args: Value) -> Value {
    let addr = echo_server().await;
    let out = run(t, config(addr), args).await;
    assert_eq!(out.content["status"], 200, "{}", out.content);
    out.content["body"].clone()
}

#[tokio::test]
async fn path_styles_reach_the_wire() {
    let cases = [
        (S::Simple, false, json!([3, 4, 5]), "/items/3,4,5"),
        (S::Simple, true, json!({"role": "admin"}), "/items/role=admin"),
        (S::Label, false, json!(5), "/items/.5"),
        (S::Label, true, json!([3, 4]), "/items/.3.4"),
        (S::Matrix, false, json!([3, 4]), "/items/;id=3,4"),
        (S::Matrix, true, json!([3, 4]), "/items/;id=3;id=4"),
        (S::Simple, false, json!("a/b c"), "/items/a%2Fb%20c"),
    ];
    for (style, explode, value, want) in cases {
        let mut p = param("id", L::Path, style, explode);
        p.required = true;
        let t = tool("get_item", HttpMethod::Get, "/items/{id}", vec![p]);
        let got = echoed(t, json!({"id": value})).await;
        assert_eq!(got["path"], want, "{style:?} explode={explode}");
    }
}

#[tokio::test]
async fn query_styles_reach_the_wire() {
    let cases = [
        (S::Form, true, json!([1, 2]), "f=1&f=2"),
        (S::Form, false, json!([1, 2]), "f=1,2"),
        (S::Form, true, json!({"a": "x", "b": "y"}), "a=x&b=y"),
        (S::SpaceDelimited, false, json!([1, 2]), "f=1%202"),
        (S::PipeDelimited, false, json!([1, 2]), "f=1|2"),
        (
            S::DeepObject,
            true,
            json!({"a": "x", "b": "y"}),
            "f%5Ba%5D=x&f%5Bb%5D=y",
        ),
        (S::Form, true, json!("x&y=z"), "f=x%26y%3Dz"),
    ];
    for (style, explode, value, want) in cases {
        let t = tool(
            "list",
            HttpMethod::Get,
            "/list",
            vec![param("f", L::Query, style, explode)],
        );
        let got = echoed(t, json!({"f": value})).await;
        assert_eq!(got["query"], want, "{style:?} explode={explode}");
    }
}

#[tokio::test]
async fn header_and_cookie_params_and_renamed_args() {
    let mut q = param("id", L::Query, S::Form, true);
    q.arg = "query_id".into();
    let t = tool(
        "h",
        HttpMethod::Get,
        "/h/{id}",
        vec![
            {
                let mut p = param("id", L::Path, S::Simple, false);
                p.required = true;
                p
            },
            q,
            param("X-Trace", L::Header, S::Simple, false),
            param("session", L::Cookie, S::Form, true),
            {
                let mut p = param("filter", L::Query, S::Form, true);
                p.content_type = Some("application/json".into());
                p
            },
        ],
    );
    let got = echoed(
        t,
        json!({"id": 7, "query_id": 8, "X-Trace": ["a", "b"], "session": "s 1", "filter": {"k": 1}}),
    )
    .await;
    assert_eq!(got["path"], "/h/7");
    assert_eq!(got["query"], "id=8&filter=%7B%22k%22%3A1%7D");
    assert_eq!(got["headers"]["x-trace"], "a,b");
    assert_eq!(got["headers"]["cookie"], "session=s%201");
}

#[tokio::test]
async fn bodies_of_each_media_type() {
    let t = with_body_props(
        tool("j", HttpMethod::Post, "/j", vec![]),
        "application/json",
        &["name", "n"],
    );
    let got = echoed(t, json!({"name": "x", "n": 2})).await;
    assert_eq!(got["headers"]["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(got["body"].as_str().unwrap()).unwrap(),
        json!({"name": "x", "n": 2})
    );

    let t = with_body_props(
        tool("f", HttpMethod::Post, "/f", vec![]),
        "application/x-www-form-urlencoded",
        &["name", "tags"],
    );
    let got = echoed(t, json!({"name": "a b", "tags": ["x", "y"]})).await;
    assert_eq!(got["headers"]["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(got["body"], "name=a%20b&tags=x&tags=y");

    let mut t = with_body_props(
        tool("m", HttpMethod::Post, "/m", vec![]),
        "multipart/form-data",
        &["title", "file"],
    );
    t.spec.input_schema = json!({"type": "object", "properties": {"title": {"type": "string"}, "file": {"type": "string", "contentEncoding": "base64"}}});
    let got = echoed(t, json!({"title": "T", "file": "aGVsbG8="})).await;
    let ct = got["headers"]["content-type"].as_str().unwrap();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let body = got["body"].as_str().unwrap();
    assert!(body.contains("name=\"title\"\r\n\r\nT\r\n"));
    assert!(body.contains("filename=\"file\"\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n"));

    let t = with_whole_body(tool("t", HttpMethod::Put, "/t", vec![]), "text/plain");
    let got = echoed(t, json!({"body": "plain text"})).await;
    assert_eq!(
        (got["method"].as_str(), got["body"].as_str()),
        (Some("PUT"), Some("plain text"))
    );
    assert_eq!(got["headers"]["content-type"], "text/plain");

    let t = with_whole_body(tool("o", HttpMethod::Post, "/o", vec![]), "application/octet-stream");
    let got = echoed(t, json!({"body": "AAEC/w=="})).await;
    assert_eq!(got["body"]["base64"], "AAEC/w==");
    assert_eq!(got["headers"]["content-type"], "application/octet-stream");
}

#[tokio::test]
async fn bad_arguments_are_invalid_arguments() {
    let addr = echo_server().await;
    let rt = HttpRuntime::new(config(addr)).unwrap();
    let mut p = param("id", L::Path, S::Simple, false);
    p.required = true;
    let t = HttpTool::new(tool("g", HttpMethod::Get, "/g/{id}", vec![p]), rt.clone()).unwrap();
    let e = t.call(&json!({}), &CallContext::new("t")).await.unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::InvalidArguments);
    assert!(e.message().contains("`id`"), "{}", e.message());
    let o = with_whole_body(tool("o", HttpMethod::Post, "/o", vec![]), "application/octet-stream");
    let t = HttpTool::new(o, rt).unwrap();
    let e = t
        .call(&json!({"body": "%%%"}), &CallContext::new("t"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::InvalidArguments);
}

#[tokio::test]
async fn crlf_in_a_header_value_is_refused_before_sending() {
    let addr = echo_server().await;
    let t = tool(
        "h",
        HttpMethod::Get,
        "/h",
        vec![param("X-Note", L::Header, S::Simple, false)],
    );
    let tool = HttpTool::new(t, HttpRuntime::new(config(addr)).unwrap()).unwrap();
    for bad in ["ok\r\nX-Injected: 1", "ok\nX-Injected: 1"] {
        let e = tool
            .call(&json!({"X-Note": bad}), &CallContext::new("t"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ToolErrorKind::InvalidArguments);
        assert!(e.message().contains("CR, LF"), "{}", e.message());
    }
    assert!(HttpRuntime::new(config(addr).with_header("X-Bad", "a\r\nb")).is_err());
}

#[tokio::test]
async fn server_variables_fill_the_base_url() {
    let addr = echo_server().await;
    let mut t = tool("v", HttpMethod::Get, "/ping", vec![]);
    t.binding.servers = vec![ServerBinding {
        url: "http://{host}:{port}/{version}".into(),
        description: None,
        variables: BTreeMap::from([
            (
                "host".into(),
                ServerVariable {
                    default: "127.0.0.1".into(),
                    enum_values: vec![],
                    description: None,
                },
            ),
            (
                "port".into(),
                ServerVariable {
                    default: "1".into(),
                    enum_values: vec![],
                    description: None,
                },
            ),
            (
                "version".into(),
                ServerVariable {
                    default: "v1".into(),
                    enum_values: vec!["v1".into(), "v2".into()],
                    description: None,
                },
            ),
        ]),
    }];
    let cfg = HttpConfig::new()
        .with_server_variable("port", addr.port().to_string())
        .with_server_variable("version", "v2");
    let out = run(t.clone(), cfg, json!({})).await;
    assert_eq!(out.content["body"]["path"], "/v2/ping");
    let bad = HttpConfig::new()
        .with_server_variable("port", addr.port().to_string())
        .with_server_variable("version", "v9");
    let e = HttpTool::new(t.clone(), HttpRuntime::new(bad).unwrap()).unwrap_err();
    assert!(e.to_string().contains("must be one of"), "{e}");
    t.binding.servers[0].url = "/relative".into();
    assert!(HttpTool::new(t, HttpRuntime::new(HttpConfig::new()).unwrap()).is_err());
}

async fn redirecting_server(target: String) -> std::net::SocketAddr {
    let r = Router::new()
        .route(
            "/away",
            get(move || async move { (StatusCode::FOUND, [(header::LOCATION, target)]).into_response() }),
        )
        .route(
            "/here",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/landed")]).into_response() }),
        )
        .fallback(echo);
    serve(r).await
}

#[tokio::test]
async fn redirects_stay_on_the_host() {
    let other = echo_server().await;
    let addr = redirecting_server(format!("http://{other}/stolen")).await;
    let rt = HttpRuntime::new(config(addr)).unwrap();
    let away = HttpTool::new(tool("away", HttpMethod::Get, "/away", vec![]), rt.clone()).unwrap();
    let e = away.call(&json!({}), &CallContext::new("t")).await.unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::PermissionDenied);
    assert!(
        e.message().contains("refused") && e.message().contains("configured host"),
        "{}",
        e.message()
    );

    let here = HttpTool::new(tool("here", HttpMethod::Get, "/here", vec![]), rt).unwrap();
    let out = here.call(&json!({}), &CallContext::new("t")).await.unwrap();
    assert_eq!(out.content["body"]["path"], "/landed");

    // Same port, other host name.
    let addr2 = redirecting_server("http://localhost:1/x".into()).await;
    let t = HttpTool::new(
        tool("away", HttpMethod::Get, "/away", vec![]),
        HttpRuntime::new(config(addr2)).unwrap(),
    )
    .unwrap();
    assert_eq!(
        t.call(&json!({}), &CallContext::new("t")).await.unwrap_err().kind(),
        ToolErrorKind::PermissionDenied
    );
    // Not http(s): never followed; the model sees the 302 as a reported failure.
    let addr3 = redirecting_server("file:///etc/passwd".into()).await;
    let t = HttpTool::new(
        tool("away", HttpMethod::Get, "/away", vec![]),
        HttpRuntime::new(config(addr3)).unwrap(),
    )
    .unwrap();
    match t.call(&json!({}), &CallContext::new("t")).await {
        Ok(out) => assert!(out.is_error && out.content["status"] == 302, "{}", out.content),
        Err(e) => assert_eq!(e.kind(), ToolErrorKind::PermissionDenied),
    }
}

#[tokio::test]
async fn non_2xx_is_a_readable_result_and_bodies_are_budgeted() {
    let r = Router::new()
        .route(
            "/missing",
            get(|| async {
                (
                    StatusCode::NOT_FOUND,
                    [("x-ratelimit-remaining", "41"), ("set-cookie", "s=1")],
                    axum::Json(json!({"message": "Not Found"})),
                )
            }),
        )
        .route("/big", get(|| async { "x".repeat(10_000) }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    let addr = serve(r).await;
    let tools = http_tools(
        vec![
            tool("missing", HttpMethod::Get, "/missing", vec![]),
            tool("big", HttpMethod::Get, "/big", vec![]),
            tool("slow", HttpMethod::Get, "/slow", vec![]),
        ],
        config(addr)
            .with_max_response_bytes(100)
            .with_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let ctx = CallContext::new("t");
    let out = tools[0].call(&json!({}), &ctx).await.unwrap();
    assert!(out.is_error);
    assert_eq!(out.content["status"], 404);
    assert_eq!(out.content["body"]["message"], "Not Found");
    assert_eq!(out.content["headers"]["x-ratelimit-remaining"], "41");
    assert!(out.content["headers"].get("set-cookie").is_none());

    let out = tools[1].call(&json!({}), &ctx).await.unwrap();
    assert!(out.truncated && !out.is_error);
    let body = out.content["body"].as_str().unwrap();
    assert!(
        body.starts_with(&"x".repeat(100)) && body.ends_with("[truncated: 100 of 10000 bytes shown]"),
        "{body}"
    );

    let e = tools[2].call(&json!({}), &ctx).await.unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::Timeout);
    let _: Vec<Arc<dyn Tool>> = tools;
}

#[tokio::test]
async fn unreachable_host_is_upstream() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let t = HttpTool::new(
        tool("g", HttpMethod::Get, "/g", vec![]),
        HttpRuntime::new(config(addr)).unwrap(),
    )
    .unwrap();
    let e = t.call(&json!({}), &CallContext::new("t")).await.unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::Upstream);
    assert!(e.is_retryable());
}

#[tokio::test]
async fn deadline_and_cancel_flag_stop_the_call() {
    let r = Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        "late"
    });
    let addr = serve(r).await;
    let t = HttpTool::new(
        tool("slow", HttpMethod::Get, "/slow", vec![]),
        HttpRuntime::new(config(addr)).unwrap(),
    )
    .unwrap();
    // The call's deadline is shorter than the configured 30 s.
    let ctx = CallContext::new("t").with_timeout(Duration::from_millis(200));
    assert_eq!(
        t.call(&json!({}), &ctx).await.unwrap_err().kind(),
        ToolErrorKind::Timeout
    );
    // An expired deadline: nothing is sent.
    let ctx = CallContext::new("t").with_timeout(Duration::ZERO);
    assert_eq!(
        t.call(&json!({}), &ctx).await.unwrap_err().kind(),
        ToolErrorKind::Timeout
    );
    // The host cancels while the request is in flight.
    let ctx = CallContext::new("t");
    let flag = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        flag.cancel();
    });
    assert_eq!(
        t.call(&json!({}), &ctx).await.unwrap_err().kind(),
        ToolErrorKind::Cancelled
    );
}

#[tokio::test]
async fn dot_segments_are_refused_and_form_bodies_follow_their_encoding() {
    let addr = echo_server().await;
    let rt = HttpRuntime::new(config(addr)).unwrap();
    let mut p = param("name", L::Path, S::Simple, false);
    p.required = true;
    let t = HttpTool::new(tool("g", HttpMethod::Get, "/files/{name}/meta", vec![p]), rt.clone()).unwrap();
    for bad in ["..", ".", "%2e%2e"] {
        let r = t.call(&json!({"name": bad}), &CallContext::new("t")).await;
        match bad {
            "%2e%2e" => assert_eq!(r.unwrap().content["body"]["path"], "/files/%252e%252e/meta"),
            _ => assert_eq!(r.unwrap_err().kind(), ToolErrorKind::InvalidArguments, "{bad}"),
        }
    }

    let mut form = with_body_props(
        tool("f", HttpMethod::Post, "/f", vec![]),
        "application/x-www-form-urlencoded",
        &["filter", "ids"],
    );
    let body = form.binding.body.as_mut().unwrap();
    body.encoding.insert(
        "filter".into(),
        toolplane_openapi::binding::PropertyEncoding {
            style: Some(S::DeepObject),
            explode: Some(true),
            ..Default::default()
        },
    );
    body.encoding.insert(
        "ids".into(),
        toolplane_openapi::binding::PropertyEncoding {
            style: Some(S::Form),
            explode: Some(false),
            ..Default::default()
        },
    );
    let t = HttpTool::new(form, rt).unwrap();
    let out = t
        .call(
            &json!({"filter": {"color": "red"}, "ids": [1, 2]}),
            &CallContext::new("t"),
        )
        .await
        .unwrap();
    assert_eq!(out.content["body"]["body"], "filter%5Bcolor%5D=red&ids=1,2");
}

#[tokio::test]
async fn header_parameters_replace_configured_headers() {
    let addr = echo_server().await;
    let t = tool(
        "h",
        HttpMethod::Get,
        "/h",
        vec![param("X-Client", L::Header, S::Simple, false)],
    );
    let cfg = config(addr)
        .with_header("X-Client", "default")
        .with_header("X-Other", "kept");
    let out = run(t.clone(), cfg.clone(), json!({"X-Client": "mine"})).await;
    assert_eq!(out.content["body"]["headers"]["x-client"], "mine");
    assert_eq!(out.content["body"]["headers"]["x-other"], "kept");
    let out = run(t, cfg, json!({})).await;
    assert_eq!(out.content["body"]["headers"]["x-client"], "default");
}
