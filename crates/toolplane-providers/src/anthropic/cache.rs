//! Prompt caching for the Messages API: `cache_control` breakpoints placed
//! on a finished request body from the provider-neutral
//! [`PromptCache`](toolplane_core::PromptCache).
//!
//! Anthropic caches the prefix up to each breakpoint, in the order tools,
//! system, messages, and accepts at most four per request. The breakpoints
//! go, in this order and while the budget lasts, on: the last tool, the
//! system prompt, the last block of the last message (so the next turn reads
//! the whole conversation so far), and the last block of the user turn before
//! it (a hit even when the newest turn pushed the previous breakpoint beyond
//! Anthropic's look-back window). Breakpoints already in the body (from
//! `extra`) count against the four. Thinking blocks cannot carry one; the
//! nearest block before them does.

use serde_json::{Value, json};
use toolplane_core::{CacheTtl, PromptCache};

/// The `anthropic-beta` value sent with one-hour breakpoints (harmless where
/// the lifetime is generally available).
pub(crate) const EXTENDED_TTL_BETA: &str = "extended-cache-ttl-2025-04-11";

/// Anthropic's limit of `cache_control` breakpoints per request.
pub(crate) const MAX_BREAKPOINTS: usize = 4;

fn control(ttl: CacheTtl) -> Value {
    match ttl {
        CacheTtl::FiveMinutes => json!({ "type": "ephemeral" }),
        CacheTtl::OneHour => json!({ "type": "ephemeral", "ttl": "1h" }),
    }
}

fn count(v: &Value) -> usize {
    match v {
        Value::Object(o) => usize::from(o.contains_key("cache_control")) + o.values().map(count).sum::<usize>(),
        Value::Array(a) => a.iter().map(count).sum(),
        _ => 0,
    }
}

/// The last block of `content` that may carry a breakpoint.
fn last_cacheable(content: &mut Value) -> Option<&mut Value> {
    content
        .as_array_mut()?
        .iter_mut()
        .rev()
        .find(|b| !matches!(b["type"].as_str(), Some("thinking" | "redacted_thinking")))
}

/// Adds the breakpoints `cache` asks for to a `POST /v1/messages` body.
pub(crate) fn apply(body: &mut Value, cache: &PromptCache) {
    let mut budget = MAX_BREAKPOINTS.saturating_sub(count(body));
    let cc = control(cache.ttl);
    let mark = |target: Option<&mut Value>, budget: &mut usize| {
        if *budget == 0 {
            return;
        }
        if let Some(Value::Object(o)) = target {
            if !o.contains_key("cache_control") {
                o.insert("cache_control".into(), cc.clone());
                *budget -= 1;
            }
        }
    };
    mark(
        body.get_mut("tools")
            .and_then(Value::as_array_mut)
            .and_then(|t| t.last_mut()),
        &mut budget,
    );
    if let Some(Value::String(text)) = body.get("system") {
        let blocks = json!([{ "type": "text", "text": text }]);
        body["system"] = blocks;
    }
    mark(
        body.get_mut("system")
            .and_then(Value::as_array_mut)
            .and_then(|s| s.last_mut()),
        &mut budget,
    );
    let Some(messages) = body.get_mut("messages").and_then(Value::as_array_mut) else {
        return;
    };
    let last = messages.len().checked_sub(1);
    let previous_user = last.and_then(|l| (0..l).rev().find(|&i| messages[i]["role"] == "user"));
    for i in [last, previous_user].into_iter().flatten() {
        let content = &mut messages[i]["content"];
        if let Value::String(text) = content {
            *content = json!([{ "type": "text", "text": text }]);
        }
        mark(last_cacheable(content), &mut budget);
    }
}
