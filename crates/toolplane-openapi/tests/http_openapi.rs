#![allow(clippy::unwrap_used, clippy::panic)]
//! End to end: an OpenAPI 3.1 description is converted, the tools run over
//! HTTP against a local echo server. Checks that what conversion records in
//! the bindings (styles, renamed arguments, bodies, security, servers) reaches
//! the wire.
#![cfg(feature = "http")]

mod http_support;

use std::collections::HashMap;
use std::sync::Arc;

use http_support::echo_server;
use serde_json::{Value, json};
use toolplane_core::{CallContext, Tool};
use toolplane_openapi::http::{HttpConfig, Secret, http_tools};
use toolplane_openapi::{ConvertOptions, Converter, OpenApiSpec};

const SPEC: &str = r#"
openapi: 3.1.0
info: {title: Shop, version: "1"}
servers:
  - url: "http://{host}:{port}/{version}"
    variables:
      host: {default: "127.0.0.1"}
      port: {default: "9"}
      version: {default: v1, enum: [v1, v2]}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Shop-Key}
paths:
  /items/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    get:
      operationId: getItem
      security: [{key: []}]
      parameters:
        - {name: id, in: query, schema: {type: string}}
        - {name: fields, in: query, style: form, explode: false, schema: {type: array, items: {type: string}}}
        - {name: filter, in: query, style: deepObject, schema: {type: object, properties: {color: {type: string}}}}
        - {name: X-Trace, in: header, schema: {type: string}}
    put:
      operationId: putItem
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string}
                price: {type: number}
  /notes:
    post:
      operationId: postNote
      requestBody:
        required: true
        content:
          text/plain:
            schema: {type: string}
"#;

async fn tools() -> HashMap<String, Arc<dyn Tool>> {
    let addr = echo_server().await;
    let spec = OpenApiSpec::from_str(SPEC).unwrap();
    let conversion = Converter::new(ConvertOptions::default()).convert(&spec);
    let config = HttpConfig::new()
        .with_server_variable("port", addr.port().to_string())
        .with_server_variable("version", "v2")
        .with_secret("key", Secret::new("shop-key-1"));
    http_tools(conversion.tools, config)
        .unwrap()
        .into_iter()
        .map(|t| (t.spec().name.clone(), t))
        .collect()
}

fn arg_for<'a>(tool: &'a Arc<dyn Tool>, wanted: &[&'a str]) -> Vec<String> {
    let props = tool.spec().input_schema["properties"].as_object().unwrap();
    props
        .keys()
        .filter(|k| wanted.iter().any(|w| k.contains(w)))
        .cloned()
        .collect()
}

#[tokio::test]
async fn converted_operations_reach_the_wire() {
    let tools = tools().await;
    let get = &tools["getItem"];
    // `id` is both a path and a query parameter: conversion renames one; find both.
    let ids = arg_for(get, &["id"]);
    assert_eq!(ids.len(), 2, "{ids:?}");
    let mut args = json!({"fields": ["a", "b"], "filter": {"color": "red"}, "X-Trace": "t-1"});
    for (i, name) in ids.iter().enumerate() {
        args[name] = if get.spec().input_schema["properties"][name]["type"] == "integer" {
            json!(7)
        } else {
            json!(format!("q{i}"))
        };
    }
    let out = get.call(&args, &CallContext::new("t")).await.unwrap();
    let echoed = &out.content["body"];
    assert_eq!(out.content["status"], 200, "{}", out.content);
    assert_eq!(echoed["path"], "/v2/items/7");
    let query = echoed["query"].as_str().unwrap();
    assert!(
        query.contains("fields=a,b") && query.contains("filter%5Bcolor%5D=red"),
        "{query}"
    );
    assert!(query.starts_with("id=q") || query.contains("&id=q"), "{query}");
    assert_eq!(echoed["headers"]["x-trace"], "t-1");
    assert_eq!(echoed["headers"]["x-shop-key"], "shop-key-1");
    assert!(!get.spec().input_schema.to_string().contains("shop-key-1"));

    let out = tools["putItem"]
        .call(&json!({"id": 3, "name": "n", "price": 2.5}), &CallContext::new("t"))
        .await
        .unwrap();
    let echoed = &out.content["body"];
    assert_eq!(
        (echoed["method"].as_str(), echoed["path"].as_str()),
        (Some("PUT"), Some("/v2/items/3"))
    );
    let body: Value = serde_json::from_str(echoed["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"name": "n", "price": 2.5}));
    assert!(
        echoed["headers"].get("x-shop-key").is_none(),
        "putItem declares no security"
    );

    let note = &tools["postNote"];
    let arg = note.spec().input_schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let out = note
        .call(&json!({ arg: "hello" }), &CallContext::new("t"))
        .await
        .unwrap();
    assert_eq!(out.content["body"]["body"], "hello");
    assert_eq!(out.content["body"]["headers"]["content-type"], "text/plain");
}
