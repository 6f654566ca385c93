#![allow(clippy::unwrap_used, clippy::panic)]
//! The interceptor chains run in order, can short-circuit, and see what they should.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures_util::StreamExt;
use serde_json::json;
use toolplane_core::*;

#[derive(Debug)]
struct Log(&'static str, Arc<Mutex<Vec<String>>>);

#[async_trait]
impl ToolInterceptor for Log {
    async fn intercept(
        &self,
        inv: &ToolInvocation<'_>,
        ctx: &CallContext,
        next: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError> {
        self.1
            .lock()
            .unwrap()
            .push(format!("{} before {}", self.0, inv.spec.name));
        let out = next.run(inv, ctx).await;
        self.1.lock().unwrap().push(format!("{} after", self.0));
        out
    }
}

#[derive(Debug)]
struct Deny;

#[async_trait]
impl ToolInterceptor for Deny {
    async fn intercept(
        &self,
        _inv: &ToolInvocation<'_>,
        _ctx: &CallContext,
        _next: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError> {
        Err(ToolError::permission_denied("no"))
    }
}

#[tokio::test]
async fn tool_chain_runs_in_order_and_can_stop() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let tool = EchoTool::new(ToolSpec::new("echo", "echo"));
    let call = ToolCall::new("c1", "echo", r#"{"a":1}"#);
    let args = call.arguments_value().unwrap();
    let inv = ToolInvocation {
        call: &call,
        args: &args,
        spec: tool.spec(),
    };
    let chain: Vec<Arc<dyn ToolInterceptor>> =
        vec![Arc::new(Log("outer", log.clone())), Arc::new(Log("inner", log.clone()))];
    let out = ToolNext::new(&chain, &tool)
        .run(&inv, &CallContext::default())
        .await
        .unwrap();
    assert_eq!(out.content, json!({"a": 1}));
    assert_eq!(
        *log.lock().unwrap(),
        ["outer before echo", "inner before echo", "inner after", "outer after"]
    );

    let chain: Vec<Arc<dyn ToolInterceptor>> = vec![Arc::new(Deny), Arc::new(Log("never", log.clone()))];
    let err = ToolNext::new(&chain, &tool)
        .run(&inv, &CallContext::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::PermissionDenied);
    assert_eq!(log.lock().unwrap().len(), 4, "the interceptor after a deny never ran");
}

#[derive(Debug, Default)]
struct CountStreams(Mutex<u32>);

#[async_trait]
impl ChatInterceptor for CountStreams {
    async fn chat_stream(
        &self,
        req: &ChatRequest,
        ctx: &CallContext,
        next: ChatNext<'_>,
    ) -> Result<ChatStream, ProviderError> {
        *self.0.lock().unwrap() += 1;
        next.chat_stream(req, ctx).await
    }
}

#[tokio::test]
async fn intercepted_provider_streams_a_scripted_answer() {
    let inner = Arc::new(ScriptedProvider::new("scripted").with_tool_calls(vec![
        ToolCall::new("c1", "now", "{}"),
        ToolCall::new("c2", "echo", r#"{"x":true}"#),
    ]));
    let counter = Arc::new(CountStreams::default());
    let provider = InterceptedProvider::new(inner.clone(), vec![counter.clone()]);
    let req = ChatRequest::new("m", vec![Message::user("go")]);
    let mut stream = provider.chat_stream(&req, &CallContext::default()).await.unwrap();
    let mut acc = StreamAccumulator::new("scripted", "m");
    while let Some(ev) = stream.next().await {
        acc.push(&ev.unwrap());
    }
    let resp = acc.finish().unwrap();
    let calls: Vec<_> = resp.tool_calls().cloned().collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].arguments, r#"{"x":true}"#);
    assert_eq!(resp.stop_reason, StopReason::ToolUse);
    assert_eq!(resp.usage.total_tokens(), 15);
    assert_eq!(*counter.0.lock().unwrap(), 1);
    assert_eq!(inner.requests().len(), 1);
}

#[tokio::test]
async fn a_stream_without_stop_is_incomplete() {
    let mut acc = StreamAccumulator::new("p", "m");
    acc.push(&StreamEvent::TextDelta {
        text: "half an ans".into(),
    });
    assert!(!acc.is_complete());
    let err = acc.finish().unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::Incomplete);
}

#[tokio::test]
async fn an_exhausted_script_is_an_error_not_a_panic() {
    let p = ScriptedProvider::new("s");
    let err = p
        .chat(&ChatRequest::new("m", vec![]), &CallContext::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ProviderErrorKind::InvalidRequest);
}

#[test]
fn wire_forms_round_trip() {
    let msg = Message {
        role: Role::Assistant,
        content: vec![
            ContentPart::Thinking {
                text: "hmm".into(),
                signature: Some("sig".into()),
            },
            ContentPart::Text { text: "hi".into() },
            ContentPart::ToolCall(ToolCall::new("c", "f", "{}")),
        ],
    };
    let v = serde_json::to_value(&msg).unwrap();
    assert_eq!(v["content"][2]["type"], "tool_call");
    let back: Message = serde_json::from_value(v).unwrap();
    assert_eq!(back, msg);
    let stop: StopReason = serde_json::from_value(json!({"other": "weird"})).unwrap();
    assert_eq!(stop, StopReason::Other("weird".into()));
    assert_eq!(serde_json::to_value(StopReason::ToolUse).unwrap(), "tool_use");
}

#[test]
fn tool_call_arguments() {
    assert_eq!(ToolCall::new("c", "f", "").arguments_value().unwrap(), json!({}));
    assert!(ToolCall::new("c", "f", "{").arguments_value().is_err());
}

#[cfg(feature = "schemars")]
mod typed {
    use super::*;
    use schemars::JsonSchema;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        /// The city.
        city: String,
        unit: Option<Unit>,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    enum Unit {
        Celsius,
        Fahrenheit,
    }

    #[tokio::test]
    async fn typed_tool_derives_schema_and_rejects_bad_args() {
        let t = tool_fn("weather", "Weather.", |a: Args| async move {
            Ok::<_, ToolError>(format!("sunny in {}", a.city))
        });
        let s = &t.spec().input_schema;
        assert!(s.get("$schema").is_none());
        assert_eq!(s["properties"]["city"]["description"], "The city.");
        assert!(s["$defs"]["Unit"].is_object());
        let out = t.call(&json!({"city": "Oslo"}), &CallContext::default()).await.unwrap();
        assert_eq!(out.to_model_text(), "sunny in Oslo");
        let err = t.call(&json!({"city": 3}), &CallContext::default()).await.unwrap_err();
        assert_eq!(err.kind(), ToolErrorKind::InvalidArguments);
        assert!(err.message().contains("weather"));
    }
}
