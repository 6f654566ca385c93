//! The one error mapper: HTTP statuses and vendor error bodies into
//! [`ProviderError`] kinds.
//!
//! | body shape | vendor |
//! | --- | --- |
//! | `{"error": {"message", "type", "code"}}` | OpenAI and compatible servers |
//! | `{"type": "error", "error": {"type", "message"}}` | Anthropic (also as a stream event after a 200) |
//! | `{"object": "error", "message", "type"}`, `{"detail": ...}` | Mistral (422 validation errors are a bare `detail`) |
//! | `{"message": ...}` | Cohere, which also uses 498 (invalid token) and 499 (cancelled) |
//! | `{"error": {"code", "message", "status", "details"}}` | Google (Gemini): `status` is the code, a `RetryInfo` detail's `retryDelay` the retry-after |
//!
//! The vendor's error type or code wins over the status where it says more
//! (`context_length_exceeded`, `overloaded_error`, `insufficient_quota`).
//! The provider's request id (`x-request-id`, `request-id`) and its
//! `retry-after` are kept on the error. API keys never reach a message: bodies
//! are quoted only through [`redact`], and every error the HTTP client
//! returns passes through [`Secrets::redact_error`](crate::redact::Secrets::redact_error).

use std::time::SystemTime;

use serde_json::Value;
use toolplane_core::{ProviderError, ProviderErrorKind};

use crate::ratelimit;

/// Header names that carry a provider's request id, in order of preference.
pub const REQUEST_ID_HEADERS: [&str; 4] = ["x-request-id", "request-id", "x-cohere-request-id", "apim-request-id"];

/// The kind an HTTP status means when the body says nothing more precise.
pub fn kind_for_status(status: u16) -> ProviderErrorKind {
    use ProviderErrorKind as K;
    match status {
        400 | 405 | 409 | 415 | 422 => K::InvalidRequest,
        401 | 498 => K::Authentication,
        402 | 403 => K::PermissionDenied,
        404 => K::NotFound,
        408 | 504 => K::Timeout,
        413 => K::ContextTooLong,
        429 => K::RateLimited,
        499 => K::Cancelled,
        503 | 529 => K::Overloaded,
        _ => K::Server,
    }
}

/// The kind a vendor's error `type` or `code` names, if it names one.
pub fn kind_for_code(code: &str) -> Option<ProviderErrorKind> {
    use ProviderErrorKind as K;
    Some(match code {
        "context_length_exceeded" | "string_above_max_length" | "request_too_large" => K::ContextTooLong,
        "rate_limit_exceeded" | "rate_limit_error" | "tokens" | "requests" => K::RateLimited,
        "overloaded_error" | "server_overloaded" | "service_unavailable" => K::Overloaded,
        "insufficient_quota" | "billing_error" | "permission_error" | "permission_denied" => K::PermissionDenied,
        "authentication_error" | "invalid_api_key" | "unauthorized" => K::Authentication,
        "not_found_error" | "model_not_found" => K::NotFound,
        "content_filter" | "content_policy_violation" => K::ContentFiltered,
        "invalid_request_error" | "invalid_prompt" => K::InvalidRequest,
        "api_error" | "server_error" | "internal_server_error" => K::Server,
        "timeout_error" => K::Timeout,
        // Google's canonical `error.status` names (Gemini).
        other => return crate::google_status::kind_for_status_name(other),
    })
}

/// Replaces anything that looks like an API key with `[redacted]` (the
/// pattern rules of [`crate::redact`]; the client also removes its own
/// configured key byte for byte, see [`Secrets`](crate::redact::Secrets)).
pub fn redact(text: &str) -> String {
    crate::redact::redact_patterns(text)
}

/// Reads a vendor error body: `(message, type or code)`.
pub fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(500)
            .collect::<String>();
        return ((!text.is_empty()).then_some(text), None);
    };
    error_fields(&v)
}

fn error_fields(v: &Value) -> (Option<String>, Option<String>) {
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    // OpenAI / Anthropic: an `error` object (or string).
    if let Some(err) = v.get("error") {
        if let Some(obj) = err.as_object() {
            let message = obj.get("message").and_then(as_text);
            let code = obj
                .get("code")
                .and_then(as_text)
                .filter(|c| kind_for_code(c).is_some())
                .or_else(|| obj.get("type").and_then(as_text))
                .or_else(|| obj.get("status").and_then(as_text));
            return (message, code);
        }
        if let Some(s) = err.as_str() {
            return (
                Some(s.to_owned()),
                v.get("type").and_then(as_text).filter(|t| t != "error"),
            );
        }
    }
    // Mistral validation errors: `{"detail": [{"loc", "msg", "type"}]}` or `{"detail": "..."}`.
    if let Some(detail) = v.get("detail") {
        let message = match detail {
            Value::Array(items) => items
                .iter()
                .map(|d| {
                    let loc = d
                        .get("loc")
                        .and_then(Value::as_array)
                        .map(|l| {
                            l.iter()
                                .map(|x| x.to_string().trim_matches('"').to_owned())
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default()
                        .join(".");
                    let msg = d.get("msg").and_then(Value::as_str).unwrap_or("invalid");
                    if loc.is_empty() {
                        msg.to_owned()
                    } else {
                        format!("{loc}: {msg}")
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
            other => as_text(other).unwrap_or_default(),
        };
        return (Some(message), None);
    }
    // Mistral `{"object":"error","message","type","code"}`, Cohere `{"message"}`.
    let message = v.get("message").and_then(as_text);
    let code = v
        .get("code")
        .and_then(as_text)
        .filter(|c| kind_for_code(c).is_some())
        .or_else(|| v.get("type").and_then(as_text).filter(|t| t != "error"));
    (message, code)
}

/// Maps a non-success HTTP response into an error.
///
/// ```
/// use toolplane_core::ProviderErrorKind;
/// use toolplane_providers::errors::from_response;
/// let headers = [("request-id", "req_1"), ("retry-after", "3")];
/// let get = |n: &str| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
/// let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
/// let err = from_response("anthropic", 529, get, body);
/// assert_eq!(err.kind(), ProviderErrorKind::Overloaded);
/// assert_eq!(err.request_id(), Some("req_1"));
/// assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(3)));
/// ```
pub fn from_response<'h>(
    provider: &str,
    status: u16,
    get: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
) -> ProviderError {
    let (message, code) = parse_error_body(body);
    // A specific vendor code wins; generic ones (`invalid_request_error`,
    // `api_error`) say less than the status.
    let mut kind = match code.as_deref().and_then(kind_for_code) {
        Some(k) if !matches!(k, ProviderErrorKind::InvalidRequest | ProviderErrorKind::Server) => k,
        _ => kind_for_status(status),
    };
    let json = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    if let Some(k) = crate::google_status::reason_kind(&json) {
        kind = k;
    }
    if kind == ProviderErrorKind::InvalidRequest && message.as_deref().is_some_and(mentions_context_window) {
        kind = ProviderErrorKind::ContextTooLong;
    }
    let mut text = format!("HTTP {status}");
    if let Some(code) = &code {
        text.push_str(&format!(" {code}"));
    }
    if let Some(m) = &message {
        text.push_str(": ");
        text.push_str(&redact(m));
    }
    let mut err = ProviderError::new(kind, provider, text).with_status(status);
    if let Some(id) = REQUEST_ID_HEADERS.iter().find_map(|h| get(h)) {
        err = err.with_request_id(id);
    }
    if let Some(after) =
        ratelimit::retry_after(&get, SystemTime::now()).or_else(|| crate::google_status::retry_delay(&json))
    {
        err = err.with_retry_after(after);
    }
    err
}

/// Maps an error that arrived as a stream event after a 200 (Anthropic
/// `{"type":"error"}`, OpenAI `{"error":{...}}`, Responses `error`).
pub fn from_stream_event(provider: &str, event: &Value, request_id: Option<&str>) -> ProviderError {
    let (message, code) = error_fields(event);
    let kind = code
        .as_deref()
        .and_then(kind_for_code)
        .unwrap_or(ProviderErrorKind::Server);
    let mut text = String::from("error event in the stream");
    if let Some(code) = &code {
        text.push_str(&format!(" ({code})"));
    }
    if let Some(m) = &message {
        text.push_str(": ");
        text.push_str(&redact(m));
    }
    let err = ProviderError::new(kind, provider, text);
    match request_id {
        Some(id) => err.with_request_id(id),
        None => err,
    }
}

fn mentions_context_window(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("context length")
        || m.contains("context window")
        || m.contains("prompt is too long")
        || m.contains("too many tokens")
        || m.contains("maximum context")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(status: u16, body: &str) -> ProviderError {
        from_response("p", status, |_| None, body.as_bytes())
    }

    #[test]
    fn vendor_shapes() {
        let e = map(
            400,
            r#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
        );
        assert_eq!(e.kind(), ProviderErrorKind::ContextTooLong);
        let e = map(
            422,
            r#"{"detail":[{"loc":["body","messages",0,"role"],"msg":"Input should be 'user'","type":"literal_error"}]}"#,
        );
        assert_eq!(e.kind(), ProviderErrorKind::InvalidRequest);
        assert!(
            e.message().contains("body.messages.0.role: Input should be 'user'"),
            "{}",
            e.message()
        );
        assert_eq!(
            map(498, r#"{"message":"invalid api token"}"#).kind(),
            ProviderErrorKind::Authentication
        );
        assert_eq!(
            map(499, r#"{"message":"request cancelled"}"#).kind(),
            ProviderErrorKind::Cancelled
        );
        assert_eq!(
            map(
                429,
                r#"{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}"#
            )
            .kind(),
            ProviderErrorKind::PermissionDenied
        );
        assert_eq!(
            map(500, r#"{"error":{"type":"invalid_request_error","message":"x"}}"#).kind(),
            ProviderErrorKind::Server
        );
        assert_eq!(map(502, "<html>bad gateway</html>").kind(), ProviderErrorKind::Server);
    }

    #[test]
    fn keys_are_redacted() {
        let e = map(
            401,
            r#"{"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz123. You can find your API key at https://platform.openai.com.","type":"invalid_request_error","code":"invalid_api_key"}}"#,
        );
        assert_eq!(e.kind(), ProviderErrorKind::Authentication);
        assert!(!e.to_string().contains("abcdefghijklmnop"), "{e}");
        assert!(e.to_string().contains("[redacted]"));
    }
}
