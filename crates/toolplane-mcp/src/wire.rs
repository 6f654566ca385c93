//! Pure mappings between MCP's wire JSON and toolplane's vocabulary.
//!
//! Both directions work on the JSON the protocol defines (`Tool`,
//! `CallToolResult`), not on rmcp's Rust types, so the rules are testable
//! without a transport and survive an SDK bump unchanged.
//!
//! ```text
//!  MCP Tool {name, title, description, inputSchema, outputSchema, annotations}
//!        ⇅  spec_from_mcp_tool / mcp_tool_from_spec
//!  ToolSpec {name, description, input_schema, output_schema, annotations}
//!
//!  CallToolResult {content[], structuredContent, isError}
//!        ⇅  output_from_call_result / call_result_from_output
//!  ToolOutput {content, is_error}
//!
//!  params._meta {traceparent, tracestate}   (SEP-414: W3C Trace Context in `_meta`)
//!        ⇅  write_trace_meta / read_trace_meta
//!  CallContext extensions {TraceParent, TraceState}
//! ```

use serde_json::{Map, Value, json};
use toolplane_core::trace_context::{
    TRACEPARENT, TRACESTATE, TraceParent, TraceState, outgoing_traceparent, outgoing_tracestate,
};
use toolplane_core::{CallContext, ToolAnnotations, ToolError, ToolOutput, ToolSpec};

/// The tag every tool that came from an MCP server carries (besides
/// `mcp:<server>`), so a policy or a filter can select them.
pub const MCP_TAG: &str = "mcp";

/// A [`ToolSpec`] from one entry of a `tools/list` answer, named `name`
/// (the caller chooses the namespaced name; the remote name stays in the
/// entry). The annotations are copied as hints; whether a policy trusts
/// them is the policy's business (`untrusted_annotations`).
///
/// # Errors
/// A message naming the field when the entry has no name or no object
/// input schema.
pub fn spec_from_mcp_tool(tool: &Value, name: &str, server: &str) -> Result<ToolSpec, String> {
    let remote = tool
        .get("name")
        .and_then(Value::as_str)
        .ok_or("a tool without a `name`")?;
    let input = tool
        .get("inputSchema")
        .filter(|s| s.is_object())
        .cloned()
        .ok_or_else(|| format!("tool `{remote}`: `inputSchema` is missing or not an object"))?;
    let description = tool
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let hints = tool.get("annotations").cloned().unwrap_or(Value::Null);
    let flag = |key: &str| hints.get(key).and_then(Value::as_bool);
    let title = tool
        .get("title")
        .or_else(|| hints.get("title"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let annotations = ToolAnnotations {
        title,
        read_only: flag("readOnlyHint"),
        destructive: flag("destructiveHint"),
        idempotent: flag("idempotentHint"),
        open_world: flag("openWorldHint"),
        tags: vec![MCP_TAG.to_string(), format!("{MCP_TAG}:{server}")],
    };
    Ok(ToolSpec {
        name: name.to_string(),
        description,
        input_schema: input,
        output_schema: tool.get("outputSchema").filter(|s| s.is_object()).cloned(),
        annotations,
    })
}

/// The MCP `Tool` JSON for a toolplane tool, named `name` on the wire.
pub fn mcp_tool_from_spec(spec: &ToolSpec, name: &str) -> Value {
    let mut tool = Map::new();
    tool.insert("name".into(), Value::String(name.to_string()));
    if let Some(title) = &spec.annotations.title {
        tool.insert("title".into(), Value::String(title.clone()));
    }
    if !spec.description.is_empty() {
        tool.insert("description".into(), Value::String(spec.description.clone()));
    }
    let input = if spec.input_schema.is_object() {
        spec.input_schema.clone()
    } else {
        json!({"type": "object"})
    };
    tool.insert("inputSchema".into(), input);
    // MCP requires an object output schema; structured content is always an object.
    if let Some(out) = spec
        .output_schema
        .as_ref()
        .filter(|s| s.get("type").and_then(Value::as_str) == Some("object"))
    {
        tool.insert("outputSchema".into(), out.clone());
    }
    let a = &spec.annotations;
    let mut hints = Map::new();
    for (key, value) in [
        ("readOnlyHint", a.read_only),
        ("destructiveHint", a.destructive),
        ("idempotentHint", a.idempotent),
        ("openWorldHint", a.open_world),
    ] {
        if let Some(v) = value {
            hints.insert(key.into(), Value::Bool(v));
        }
    }
    if !hints.is_empty() {
        tool.insert("annotations".into(), Value::Object(hints));
    }
    Value::Object(tool)
}

/// A [`ToolOutput`] from a `CallToolResult`.
///
/// - `structuredContent` (an object) becomes the content when present: the
///   model gets the JSON the server's `outputSchema` describes;
/// - otherwise one text block becomes a text output, and anything else (several
///   blocks, images, audio, resource links, embedded resources) a JSON array of
///   parts: `{"type":"text","text"}`, `{"type":"image"|"audio","mime_type","data"}`
///   (base64 as sent), `{"type":"resource_link","uri","name",...}`,
///   `{"type":"resource","uri","mime_type","text"|"blob"}`;
/// - `isError: true` sets [`ToolOutput::is_error`], so the model reads the
///   server's own error text as a failed result.
pub fn output_from_call_result(result: &Value) -> ToolOutput {
    let is_error = result.get("isError").and_then(Value::as_bool).unwrap_or(false);
    let blocks: &[Value] = result
        .get("content")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let mut out = match result.get("structuredContent").filter(|v| !v.is_null()) {
        Some(structured) if !is_error => ToolOutput::json(structured.clone()),
        _ => match blocks {
            [] => ToolOutput::text(""),
            [one] if one.get("type").and_then(Value::as_str) == Some("text") => {
                ToolOutput::text(one.get("text").and_then(Value::as_str).unwrap_or_default())
            }
            many => ToolOutput::json(Value::Array(many.iter().map(part_from_block).collect())),
        },
    };
    out.is_error = is_error;
    out
}

fn part_from_block(block: &Value) -> Value {
    let kind = block.get("type").and_then(Value::as_str).unwrap_or("unknown");
    let s = |key: &str| block.get(key).cloned().unwrap_or(Value::Null);
    match kind {
        "text" => json!({"type": "text", "text": s("text")}),
        "image" | "audio" => json!({"type": kind, "mime_type": s("mimeType"), "data": s("data")}),
        "resource_link" => {
            let mut part = json!({"type": "resource_link", "uri": s("uri"), "name": s("name")});
            for (from, to) in [
                ("title", "title"),
                ("description", "description"),
                ("mimeType", "mime_type"),
            ] {
                if let Some(v) = block.get(from) {
                    part[to] = v.clone();
                }
            }
            part
        }
        "resource" => {
            let r = block.get("resource").cloned().unwrap_or(Value::Null);
            let mut part = json!({"type": "resource", "uri": r.get("uri").cloned().unwrap_or(Value::Null)});
            if let Some(m) = r.get("mimeType") {
                part["mime_type"] = m.clone();
            }
            for key in ["text", "blob"] {
                if let Some(v) = r.get(key) {
                    part[key] = v.clone();
                }
            }
            part
        }
        other => json!({"type": other, "raw": block}),
    }
}

/// The `CallToolResult` JSON for a toolplane result.
///
/// A string is one text block. Another value is one text block holding its
/// compact JSON and, when it is an object, also `structuredContent` (MCP's
/// structured output); a value that does not fit an object `outputSchema`
/// is sent as text only, so a client validating against the schema never
/// sees a mismatch. `is_error` becomes `isError`.
pub fn call_result_from_output(out: &ToolOutput, spec: Option<&ToolSpec>) -> Value {
    let text = out.to_model_text();
    let mut result = json!({"content": [{"type": "text", "text": text}]});
    let has_schema = spec.is_some_and(|s| s.output_schema.is_some());
    if out.content.is_object() && !out.is_error && (!out.truncated || !has_schema) {
        result["structuredContent"] = out.content.clone();
    }
    if out.is_error {
        result["isError"] = Value::Bool(true);
    }
    result
}

/// The `CallToolResult` JSON for a call that failed: the error's model text
/// with `isError`, which MCP clients hand to the model (a JSON-RPC error
/// would be shown to nobody).
pub fn call_result_from_error(err: &ToolError) -> Value {
    json!({
        "content": [{"type": "text", "text": err.to_model_text()}],
        "isError": true,
    })
}

/// Writes the W3C trace context of a request made for `ctx` into the
/// request's `params._meta` object, under the keys MCP reserves for it
/// (SEP-414, as in OpenTelemetry's MCP conventions): `traceparent` from
/// [`outgoing_traceparent`] (the process's trace-context source, else a
/// [`TraceParent`] in the context), and `tracestate` when the context holds
/// one for the same trace. Other keys (a `progressToken`) are left alone.
/// Returns whether a `traceparent` was written.
pub fn write_trace_meta(meta: &mut Map<String, Value>, ctx: &CallContext) -> bool {
    let Some(parent) = outgoing_traceparent(Some(ctx)) else {
        return false;
    };
    meta.insert(TRACEPARENT.into(), Value::String(parent.to_string()));
    match outgoing_tracestate(Some(ctx), &parent) {
        Some(state) => meta.insert(TRACESTATE.into(), Value::String(state.to_string())),
        None => meta.remove(TRACESTATE),
    };
    true
}

/// Reads the W3C trace context from a request's `params._meta` (SEP-414
/// keys): the `traceparent` when it is a valid W3C value, with the
/// `tracestate` when that is valid too. A missing, malformed or non-string
/// `traceparent` gives `None` (the call runs in a new trace); an invalid
/// `tracestate` is dropped and the `traceparent` kept, as W3C Trace Context
/// asks.
pub fn read_trace_meta(meta: &Map<String, Value>) -> Option<(TraceParent, Option<TraceState>)> {
    let parent: TraceParent = meta.get(TRACEPARENT)?.as_str()?.parse().ok()?;
    let state = meta
        .get(TRACESTATE)
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<TraceState>().ok());
    Some((parent, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_spec_round_trip_keeps_schema_and_hints() {
        let wire = json!({
            "name": "get-sum",
            "title": "Sum",
            "description": "Adds two numbers",
            "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"]},
            "outputSchema": {"type": "object", "properties": {"sum": {"type": "number"}}},
            "annotations": {"readOnlyHint": true, "destructiveHint": false}
        });
        let spec = spec_from_mcp_tool(&wire, "everything.get-sum", "everything").unwrap();
        assert_eq!(spec.name, "everything.get-sum");
        assert_eq!(spec.annotations.read_only, Some(true));
        assert_eq!(spec.annotations.title.as_deref(), Some("Sum"));
        assert_eq!(spec.annotations.tags, ["mcp", "mcp:everything"]);
        assert_eq!(spec.input_schema["required"], json!(["a"]));
        let back = mcp_tool_from_spec(&spec, "get-sum");
        assert_eq!(back["inputSchema"], wire["inputSchema"]);
        assert_eq!(back["outputSchema"], wire["outputSchema"]);
        assert_eq!(back["annotations"]["readOnlyHint"], true);
        assert_eq!(back["title"], "Sum");
    }

    #[test]
    fn a_tool_without_a_schema_is_refused_with_its_name() {
        let err = spec_from_mcp_tool(&json!({"name": "x"}), "s.x", "s").unwrap_err();
        assert!(err.contains("`x`") && err.contains("inputSchema"), "{err}");
        assert!(spec_from_mcp_tool(&json!({}), "s.x", "s").unwrap_err().contains("name"));
    }

    #[test]
    fn results_map_text_structured_images_links_and_errors() {
        let text = output_from_call_result(&json!({"content": [{"type": "text", "text": "hi"}]}));
        assert_eq!(text, ToolOutput::text("hi"));

        let structured = output_from_call_result(&json!({
            "content": [{"type": "text", "text": "{\"t\":1}"}],
            "structuredContent": {"t": 1}
        }));
        assert_eq!(structured.content, json!({"t": 1}));

        let mixed = output_from_call_result(&json!({"content": [
            {"type": "text", "text": "a tiny image"},
            {"type": "image", "mimeType": "image/png", "data": "iVBOR"},
            {"type": "resource_link", "uri": "demo://r/1", "name": "r1", "mimeType": "text/plain"},
            {"type": "resource", "resource": {"uri": "demo://r/2", "mimeType": "text/plain", "text": "body"}}
        ]}));
        assert_eq!(
            mixed.content[1],
            json!({"type": "image", "mime_type": "image/png", "data": "iVBOR"})
        );
        assert_eq!(mixed.content[2]["uri"], "demo://r/1");
        assert_eq!(mixed.content[2]["mime_type"], "text/plain");
        assert_eq!(mixed.content[3]["text"], "body");

        let failed =
            output_from_call_result(&json!({"content": [{"type": "text", "text": "no such city"}], "isError": true}));
        assert!(failed.is_error);
        assert_eq!(failed.to_model_text(), "no such city");
    }

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn trace_context_goes_into_meta_beside_the_progress_token() {
        let mut meta = Map::new();
        meta.insert("progressToken".into(), json!(7));
        assert!(!write_trace_meta(&mut meta, &CallContext::new("r")));
        assert_eq!(meta.len(), 1);

        let tp: TraceParent = PARENT.parse().unwrap();
        let ts: TraceState = "rojo=00f067aa0ba902b7".parse().unwrap();
        let ctx = CallContext::new("r").with_extension(tp).with_extension(ts);
        assert!(write_trace_meta(&mut meta, &ctx));
        assert_eq!(
            Value::Object(meta.clone()),
            json!({"progressToken": 7, "traceparent": PARENT, "tracestate": "rojo=00f067aa0ba902b7"})
        );
        let (back, state) = read_trace_meta(&meta).unwrap();
        assert_eq!(back, tp);
        assert_eq!(state.unwrap().as_str(), "rojo=00f067aa0ba902b7");
    }

    #[test]
    fn malformed_trace_context_in_meta_is_ignored() {
        for bad in [
            json!({}),
            json!({"traceparent": 17}),
            json!({"traceparent": "00-zz-00f067aa0ba902b7-01"}),
            json!({"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}),
            json!({"traceparent": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]}),
        ] {
            let Value::Object(meta) = bad else { unreachable!() };
            assert!(read_trace_meta(&meta).is_none(), "{meta:?}");
        }
        let Value::Object(meta) = json!({"traceparent": PARENT, "tracestate": "not key value"}) else {
            unreachable!()
        };
        let (tp, state) = read_trace_meta(&meta).unwrap();
        assert_eq!(tp.to_string(), PARENT);
        assert!(state.is_none());
    }

    #[test]
    fn outputs_become_call_results() {
        let r = call_result_from_output(&ToolOutput::json(json!({"a": 1})), None);
        assert_eq!(r["structuredContent"], json!({"a": 1}));
        assert_eq!(r["content"][0]["text"], "{\"a\":1}");
        let r = call_result_from_output(&ToolOutput::text("x").into_error(), None);
        assert_eq!(r["isError"], true);
        assert!(r.get("structuredContent").is_none());
        let r = call_result_from_error(&ToolError::invalid_arguments("/a: expected a number"));
        assert_eq!(r["isError"], true);
        assert!(
            r["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("/a: expected a number")
        );
    }
}
