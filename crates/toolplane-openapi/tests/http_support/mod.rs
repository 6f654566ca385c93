//! A local echo server (axum on 127.0.0.1) and binding builders for the HTTP tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use toolplane_core::ToolSpec;
use toolplane_openapi::ConvertedTool;
use toolplane_openapi::binding::{
    BodyArgs, BodyBinding, BodyProperty, HttpBinding, HttpMethod, ParamBinding, ParamLocation, ParamStyle,
    SecurityRequirement,
};

/// Starts `router` on 127.0.0.1 (random port) and returns its address.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    addr
}

/// Answers every request with what it received: method, raw path and query,
/// headers, and the body (text when UTF-8, else base64).
pub async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let hs: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                Value::String(v.to_str().unwrap_or("?").to_owned()),
            )
        })
        .collect();
    let body_v = match std::str::from_utf8(&body) {
        Ok(t) => Value::String(t.to_owned()),
        Err(_) => json!({"base64": base64::engine::general_purpose::STANDARD.encode(&body)}),
    };
    (
        StatusCode::OK,
        axum::Json(json!({
            "method": method.as_str(),
            "path": uri.path(),
            "query": uri.query().unwrap_or(""),
            "headers": hs,
            "body": body_v,
        })),
    )
        .into_response()
}

/// An echo server.
pub async fn echo_server() -> SocketAddr {
    serve(Router::new().fallback(echo)).await
}

/// A parameter with an explicit style.
pub fn param(name: &str, location: ParamLocation, style: ParamStyle, explode: bool) -> ParamBinding {
    let mut p = ParamBinding::new(name, location);
    p.style = style;
    p.explode = explode;
    p.required = false;
    p
}

/// A converted tool from parts.
pub fn tool(name: &str, method: HttpMethod, path: &str, parameters: Vec<ParamBinding>) -> ConvertedTool {
    ConvertedTool {
        spec: ToolSpec::new(name, "test tool"),
        binding: HttpBinding {
            method,
            path_template: path.into(),
            servers: vec![],
            parameters,
            body: None,
            security: vec![],
        },
        operation_id: Some(name.into()),
        pointer: format!("/paths/{name}"),
        warnings: vec![],
    }
}

/// Adds a body built from properties.
pub fn with_body_props(mut t: ConvertedTool, media_type: &str, props: &[&str]) -> ConvertedTool {
    t.binding.body = Some(BodyBinding {
        media_type: media_type.into(),
        alternatives: vec![],
        required: true,
        args: BodyArgs::Properties {
            properties: props
                .iter()
                .map(|p| BodyProperty {
                    name: (*p).into(),
                    arg: (*p).into(),
                    required: false,
                })
                .collect(),
        },
        encoding: Default::default(),
    });
    t
}

/// Adds a body that is one whole argument `body`.
pub fn with_whole_body(mut t: ConvertedTool, media_type: &str) -> ConvertedTool {
    t.binding.body = Some(BodyBinding {
        media_type: media_type.into(),
        alternatives: vec![],
        required: true,
        args: BodyArgs::Whole { arg: "body".into() },
        encoding: Default::default(),
    });
    t
}

/// Sets the security alternatives.
pub fn with_security(mut t: ConvertedTool, security: Vec<SecurityRequirement>) -> ConvertedTool {
    t.binding.security = security;
    t
}
