#![allow(clippy::unwrap_used, clippy::panic)]
//! Replays every recorded stream in the shared fixtures through a local HTTP
//! server and checks the exact tool calls, text, stop reasons and usage that
//! the fixtures' README lists.

mod server;

use std::path::PathBuf;

use serde_json::Value;
use server::{Reply, TestServer, accumulate, drain};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, Message, ProviderErrorKind, StopReason, StreamEvent, ToolCall, Usage,
};
use toolplane_providers::{AnthropicProvider, OpenAiProvider, ProviderConfig};

fn recorded(dir: &str) -> Option<Vec<PathBuf>> {
    let dir = toolplane_testkit::fixture(dir)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sse"))
        .collect();
    files.sort();
    Some(files)
}

fn req() -> ChatRequest {
    ChatRequest::new("gpt-4o-2024-08-06", vec![Message::user("hi")])
}

fn usage(input: u64, output: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        ..Usage::default()
    }
}

/// An independent reading of a Chat Completions stream with serde_json::Value:
/// (content text, refusal text).
fn oracle_texts(body: &str) -> (String, String) {
    let (mut text, mut refusal) = (String::new(), String::new());
    for line in body.lines() {
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            continue;
        };
        for c in v["choices"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["index"] == 0)
        {
            text.push_str(c["delta"]["content"].as_str().unwrap_or(""));
            refusal.push_str(c["delta"]["refusal"].as_str().unwrap_or(""));
        }
    }
    (text, refusal)
}

#[tokio::test]
async fn openai_recorded_chat_streams() {
    let Some(files) = recorded("providers/openai/chat-streams") else {
        return;
    };
    assert_eq!(files.len(), 12, "the README lists 12 OpenAI streams");
    for (i, path) in files.iter().enumerate() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let body = std::fs::read_to_string(path).unwrap();
        // Odd chunk sizes so that lines, CRLFs and UTF-8 characters split.
        let server = TestServer::start(vec![Reply::sse(&body, 7 + i * 13)]).await;
        let provider = OpenAiProvider::new(ProviderConfig::new(&server.url).with_api_key("sk-test-key")).unwrap();
        let stream = provider.chat_stream(&req(), &CallContext::new("t")).await.unwrap();
        let (events, err) = drain(stream).await;
        assert!(err.is_none(), "{name}: {err:?}");
        assert!(matches!(events.first(), Some(StreamEvent::Start { .. })), "{name}");
        assert!(matches!(events.last(), Some(StreamEvent::Stop { .. })), "{name}");
        let resp = accumulate("openai", &events).finish().unwrap();
        let calls: Vec<ToolCall> = resp.tool_calls().cloned().collect();
        let (text, refusal) = oracle_texts(&body);
        let expect = |stop: StopReason, u: Usage, want: &[(&str, &str, &str)]| {
            assert_eq!(resp.stop_reason, stop, "{name}");
            assert_eq!(resp.usage.input_tokens, u.input_tokens, "{name}");
            assert_eq!(resp.usage.output_tokens, u.output_tokens, "{name}");
            let want: Vec<ToolCall> = want.iter().map(|(id, n, a)| ToolCall::new(*id, *n, *a)).collect();
            assert_eq!(calls, want, "{name}");
        };
        match name.as_str() {
            "tool-calls-parallel-two" => expect(
                StopReason::ToolUse,
                usage(149, 60),
                &[
                    (
                        "call_JMW1whyEaYG438VE1OIflxA2",
                        "GetWeatherArgs",
                        r#"{"city": "Edinburgh", "country": "GB", "units": "c"}"#,
                    ),
                    (
                        "call_DNYTawLBoN8fj3KN6qU9N1Ou",
                        "get_stock_price",
                        r#"{"ticker": "AAPL", "exchange": "NASDAQ"}"#,
                    ),
                ],
            ),
            "tool-call-fragmented-args" => expect(
                StopReason::ToolUse,
                usage(48, 19),
                &[(
                    "call_CTf1nWJLqSeRgDqaCG27xZ74",
                    "get_weather",
                    r#"{"city":"San Francisco","state":"CA"}"#,
                )],
            ),
            "tool-call-single-b" => expect(
                StopReason::ToolUse,
                usage(44, 16),
                &[(
                    "call_4XzlGBLtUe9dy3GVNV4jhq7h",
                    "get_weather",
                    r#"{"city":"New York City"}"#,
                )],
            ),
            "tool-call-single-c" => expect(
                StopReason::ToolUse,
                usage(76, 24),
                &[(
                    "call_c91SqDXlYFuETYv8mUHzz6pp",
                    "GetWeatherArgs",
                    r#"{"city":"Edinburgh","country":"UK","units":"c"}"#,
                )],
            ),
            "text-length-cutoff" => {
                expect(StopReason::MaxTokens, usage(79, 1), &[]);
                assert_eq!(resp.text(), "{\"");
            }
            "text-refusal" => {
                expect(StopReason::EndTurn, usage(79, 11), &[]);
                assert!(resp.message.content.iter().any(|p| matches!(p, toolplane_core::ContentPart::Refusal { text } if text == "I'm sorry, I can't assist with that request.")));
                assert!(text.is_empty());
                assert_eq!(refusal, "I'm sorry, I can't assist with that request.");
            }
            "text-short" => {
                expect(StopReason::EndTurn, usage(9, 2), &[]);
                assert_eq!(resp.text(), "Foo!");
            }
            _ => {
                assert!(name.starts_with("text-stop"), "unexpected fixture {name}");
                assert_eq!(resp.stop_reason, StopReason::EndTurn, "{name}");
                // Some of these answers arrive as refusals; choice 0 only (text-stop-long has n=3).
                assert!(!(text.is_empty() && refusal.is_empty()), "{name}");
                let got_refusal: String = resp
                    .message
                    .content
                    .iter()
                    .filter_map(|p| match p {
                        toolplane_core::ContentPart::Refusal { text } => Some(text.as_str()),
                        _ => None,
                    })
                    .collect();
                assert_eq!(got_refusal, refusal, "{name}");
                assert_eq!(resp.text(), format!("{text}{refusal}"), "{name}");
                assert!(resp.usage.input_tokens > 0 && resp.usage.output_tokens > 0, "{name}");
                assert!(calls.is_empty());
            }
        }
        assert_eq!(resp.model, "gpt-4o-2024-08-06", "{name}");
        assert!(
            resp.id.as_deref().is_some_and(|id| id.starts_with("chatcmpl-")),
            "{name}"
        );
        let sent = server.last_request();
        assert_eq!(sent.path, "/chat/completions");
        assert_eq!(sent.headers["authorization"], "Bearer sk-test-key");
        assert_eq!(sent.body["stream"], true);
        assert_eq!(sent.body["stream_options"]["include_usage"], true);
    }
}

#[tokio::test]
async fn anthropic_recorded_message_streams() {
    let Some(files) = recorded("providers/anthropic/message-streams") else {
        return;
    };
    assert_eq!(files.len(), 7, "the README lists 7 Anthropic streams");
    for (i, path) in files.iter().enumerate() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let body = std::fs::read(path).unwrap();
        let server = TestServer::start(vec![Reply::sse(&body, 5 + i * 17)]).await;
        let provider = AnthropicProvider::new(ProviderConfig::new(&server.url).with_api_key("sk-ant-test")).unwrap();
        let stream = provider.chat_stream(&req(), &CallContext::new("t")).await.unwrap();
        let (events, err) = drain(stream).await;
        assert!(matches!(events.first(), Some(StreamEvent::Start { .. })), "{name}");
        let acc = accumulate("anthropic", &events);
        let seen = acc.usage();
        if name == "incomplete-partial-json-response" {
            let err = err.expect("a cut tool call is reported");
            assert_eq!(err.kind(), ProviderErrorKind::Incomplete, "{err}");
            assert!(err.message().contains("toolu_01EKqbqmZrGRXy18eN7m9kvY"), "{err}");
            assert!(
                !events
                    .iter()
                    .any(|e| matches!(e, StreamEvent::Stop { .. } | StreamEvent::ToolCallEnd { .. }))
            );
            assert_eq!((seen.input_tokens, seen.output_tokens), (450, 124));
            let partial = acc.finish_partial();
            assert_eq!(
                partial.text(),
                "I'll create a comprehensive tax guide for someone with multiple W2s and save it in a file called taxes.txt. Let me do that for you now."
            );
            continue;
        }
        assert!(err.is_none(), "{name}: {err:?}");
        let resp = acc.finish().unwrap();
        let calls: Vec<ToolCall> = resp.tool_calls().cloned().collect();
        let (stop, input, output, text) = match name.as_str() {
            "tool-use-response" => {
                assert_eq!(
                    calls,
                    vec![ToolCall::new(
                        "toolu_01NRLabsLyVHZPKxbKvkfSMn",
                        "get_weather",
                        r#"{"location": "Paris"}"#
                    )]
                );
                (
                    StopReason::ToolUse,
                    377,
                    65,
                    "I'll check the current weather in Paris for you.",
                )
            }
            "refusal-response" => (StopReason::Refusal, 20, 0, ""),
            "basic-response" => (StopReason::EndTurn, 11, 6, "Hello there!"),
            "compaction-response" => (StopReason::EndTurn, 30, 8, "Hello there!"),
            "fallback-credit-response" | "fallback-response" => (StopReason::EndTurn, 25, 8, "Hello there!"),
            other => panic!("unexpected fixture {other}"),
        };
        assert_eq!(resp.stop_reason, stop, "{name}");
        assert_eq!(resp.usage, usage(input, output), "{name}");
        assert_eq!(resp.text(), text, "{name}");
        if name != "tool-use-response" {
            assert!(calls.is_empty(), "{name}");
        }
        let sent = server.last_request();
        assert_eq!(sent.path, "/v1/messages");
        assert_eq!(sent.headers["x-api-key"], "sk-ant-test");
        assert_eq!(sent.headers["anthropic-version"], "2023-06-01");
        assert!(sent.headers.get("authorization").is_none());
    }
}

#[test]
fn output_tokens_of_message_delta_replace_earlier_counts() {
    // message_start says output 1; message_delta says 65 (cumulative): 65, not 66.
    let Some(dir) = toolplane_testkit::fixture("providers/anthropic/message-streams") else {
        return;
    };
    let body = std::fs::read(dir.join("tool-use-response.sse")).unwrap();
    let items = toolplane_providers::decode::decode_all(
        toolplane_providers::anthropic::MessagesDecoder::new("anthropic"),
        &body,
    );
    let usages: Vec<u64> = items
        .iter()
        .filter_map(|i| match i {
            Ok(StreamEvent::Usage { usage }) => Some(usage.output_tokens),
            _ => None,
        })
        .collect();
    assert_eq!(usages, vec![1, 65]);
}

#[test]
fn recorded_streams_decode_the_same_with_crlf_and_cr_line_endings() {
    use toolplane_providers::anthropic::MessagesDecoder;
    use toolplane_providers::decode::decode_all;
    use toolplane_providers::openai::ChatChunkDecoder;
    for (dir, anthropic) in [
        ("providers/openai/chat-streams", false),
        ("providers/anthropic/message-streams", true),
    ] {
        let Some(files) = recorded(dir) else { return };
        for path in files {
            let lf = std::fs::read_to_string(&path).unwrap();
            let decode = |body: &str| -> Vec<String> {
                let items = if anthropic {
                    decode_all(MessagesDecoder::new("anthropic"), body.as_bytes())
                } else {
                    decode_all(ChatChunkDecoder::new("openai"), body.as_bytes())
                };
                items.iter().map(|i| format!("{i:?}")).collect()
            };
            let want = decode(&lf);
            assert!(want.len() > 2, "{}", path.display());
            assert_eq!(decode(&lf.replace('\n', "\r\n")), want, "CRLF {}", path.display());
            assert_eq!(decode(&lf.replace('\n', "\r")), want, "CR {}", path.display());
        }
    }
}
