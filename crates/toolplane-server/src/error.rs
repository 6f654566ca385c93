//! Error bodies in the shape each client SDK expects, with the status that
//! makes the SDK raise the right exception.
//!
//! | status | OpenAI `error.type` | Anthropic `error.type` |
//! | --- | --- | --- |
//! | 400 | `invalid_request_error` | `invalid_request_error` |
//! | 401 | `authentication_error` | `authentication_error` |
//! | 403 | `permission_error` | `permission_error` |
//! | 404 | `not_found_error` | `not_found_error` |
//! | 413 | `invalid_request_error` | `request_too_large` |
//! | 429 | `rate_limit_error` / `insufficient_quota` | `rate_limit_error` |
//! | 502/504 | `upstream_error` | `api_error` |
//! | 503 | `overloaded_error` | `overloaded_error` |

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use toolplane_core::{ProviderError, ProviderErrorKind, ToolError, ToolErrorKind};

/// Which SDK is on the other end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAI's SDKs and everything else.
    OpenAi,
    /// Anthropic's SDKs (`/v1/messages`).
    Anthropic,
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error type (`invalid_request_error`, ...), OpenAI spelling.
    pub kind: &'static str,
    /// What went wrong, for a human.
    pub message: String,
    /// The request field at fault.
    pub param: Option<String>,
    /// A machine code (`invalid_api_key`, `budget_exceeded`, ...).
    pub code: Option<String>,
    /// When to try again.
    pub retry_after: Option<Duration>,
    /// The body shape.
    pub dialect: Dialect,
    /// Further members of the OpenAI-shaped `error` object (`approval`,
    /// `details`), for clients that act on them (boxed: most errors have none).
    pub extra: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl ApiError {
    /// An error with a status, type and message, OpenAI-shaped.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            param: None,
            code: None,
            retry_after: None,
            dialect: Dialect::OpenAi,
            extra: None,
        }
    }

    /// 400 about a request field.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message).with_param(param)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found_error", message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authentication_error", message).with_code("invalid_api_key")
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission_error", message).with_code("permission_denied")
    }

    /// 503 with a retry-after: the server sheds load.
    pub fn overloaded(message: impl Into<String>, retry_after: Duration) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded_error", message).with_retry_after(retry_after)
    }

    /// Names the field at fault.
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Sets the machine code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets the retry-after.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Adds a member to the OpenAI-shaped `error` object (not to the
    /// standard four, which it cannot replace).
    pub fn with_extra(mut self, name: &str, value: serde_json::Value) -> Self {
        if !matches!(name, "message" | "type" | "param" | "code") {
            self.extra.get_or_insert_default().insert(name.to_owned(), value);
        }
        self
    }

    /// Renders for `dialect`.
    pub fn in_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// The body as JSON.
    pub fn body(&self) -> serde_json::Value {
        match self.dialect {
            Dialect::OpenAi => {
                let mut error = self.extra.as_deref().cloned().unwrap_or_default();
                error.insert("message".into(), json!(self.message));
                error.insert("type".into(), json!(self.kind));
                error.insert("param".into(), json!(self.param));
                error.insert("code".into(), json!(self.code));
                json!({ "error": error })
            }
            Dialect::Anthropic => json!({
                "type": "error",
                "error": {"type": self.anthropic_type(), "message": self.message},
            }),
        }
    }

    fn anthropic_type(&self) -> &'static str {
        match self.status.as_u16() {
            400 | 422 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            503 | 529 => "overloaded_error",
            _ => "api_error",
        }
    }

    /// The JSON Schema of [`ApiError::body`] in `dialect` (for `GET /openapi.json`).
    pub fn schema(dialect: Dialect) -> serde_json::Value {
        match dialect {
            Dialect::OpenAi => json!({
                "type": "object",
                "required": ["error"],
                "additionalProperties": false,
                "properties": {"error": {
                    "type": "object",
                    "required": ["message", "type", "param", "code"],
                    "additionalProperties": false,
                    "properties": {
                        "message": {"type": "string", "description": "What went wrong, for a human."},
                        "type": {"type": "string", "description": "`invalid_request_error`, `authentication_error`, `permission_error`, `not_found_error`, `rate_limit_error`, `insufficient_quota`, `overloaded_error`, `upstream_error`, `server_error`."},
                        "param": {"type": ["string", "null"], "description": "The request field at fault."},
                        "code": {"type": ["string", "null"], "description": "A machine code (`invalid_api_key`, `budget_exceeded`, `malformed_json`, ...)."}
                    }
                }}
            }),
            Dialect::Anthropic => json!({
                "type": "object",
                "required": ["type", "error"],
                "additionalProperties": false,
                "properties": {
                    "type": {"const": "error"},
                    "error": {
                        "type": "object",
                        "required": ["type", "message"],
                        "additionalProperties": false,
                        "properties": {
                            "type": {"enum": ["invalid_request_error", "authentication_error", "permission_error",
                                "not_found_error", "request_too_large", "rate_limit_error", "overloaded_error", "api_error"]},
                            "message": {"type": "string"}
                        }
                    }
                }
            }),
        }
    }

    /// A provider's (or the router's, or a limit's) error, with the status an SDK maps right.
    pub fn from_provider(e: &ProviderError) -> Self {
        use ProviderErrorKind as K;
        let (status, kind, code) = match e.kind() {
            K::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", "rate_limited"),
            K::QuotaExceeded => (StatusCode::TOO_MANY_REQUESTS, "insufficient_quota", "budget_exceeded"),
            K::InvalidRequest => (StatusCode::BAD_REQUEST, "invalid_request_error", "invalid_request"),
            K::ContextTooLong => (
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "context_length_exceeded",
            ),
            K::ContentFiltered => (StatusCode::BAD_REQUEST, "invalid_request_error", "content_filter"),
            K::NotFound => (StatusCode::NOT_FOUND, "not_found_error", "model_not_found"),
            K::Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded_error",
                "upstream_overloaded",
            ),
            K::Timeout => (StatusCode::GATEWAY_TIMEOUT, "upstream_error", "upstream_timeout"),
            // An upstream key problem is the gateway operator's, not the caller's.
            K::Authentication | K::PermissionDenied => (StatusCode::BAD_GATEWAY, "upstream_error", "upstream_auth"),
            K::NoProvider => (StatusCode::SERVICE_UNAVAILABLE, "overloaded_error", "no_provider"),
            K::Cancelled => (StatusCode::BAD_REQUEST, "invalid_request_error", "cancelled"),
            _ => (StatusCode::BAD_GATEWAY, "upstream_error", "upstream_error"),
        };
        let mut out = Self::new(status, kind, e.message().to_owned()).with_code(code);
        out.retry_after = e
            .retry_after()
            .or_else(|| matches!(status.as_u16(), 429 | 503).then_some(Duration::from_secs(1)));
        out
    }

    /// A tool's error: 403 for a denied call (the policy's explanation), 429
    /// for a rate limit, 400 for bad arguments, 404 for an unknown tool.
    pub fn from_tool(e: &ToolError) -> Self {
        use ToolErrorKind as K;
        let text = e.to_string();
        let mut out = match e.kind() {
            K::InvalidArguments => Self::invalid("arguments", text).with_code("invalid_arguments"),
            K::NotFound => Self::not_found(text).with_code("tool_not_found"),
            K::PermissionDenied => Self::forbidden(text),
            K::ApprovalRequired => Self::forbidden(text).with_code("approval_required"),
            K::RateLimited => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", text).with_code("rate_limited")
            }
            K::Timeout => Self::new(StatusCode::GATEWAY_TIMEOUT, "upstream_error", text).with_code("tool_timeout"),
            K::Upstream => Self::new(StatusCode::BAD_GATEWAY, "upstream_error", text).with_code("tool_upstream"),
            _ => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", text),
        };
        out.retry_after = e.retry_after();
        out
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body())).into_response();
        if let Some(after) = self.retry_after {
            let secs = after.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_dialect() {
        let e = ApiError::invalid("messages", "`messages` is required");
        let b = e.body();
        assert_eq!(b["error"]["param"], "messages");
        assert_eq!(b["error"]["type"], "invalid_request_error");
        let b = ApiError::unauthorized("no key").in_dialect(Dialect::Anthropic).body();
        assert_eq!(b["type"], "error");
        assert_eq!(b["error"]["type"], "authentication_error");
    }

    #[test]
    fn budget_errors_are_429_with_retry_after() {
        let p = ProviderError::new(ProviderErrorKind::QuotaExceeded, "router", "spent")
            .with_retry_after(Duration::from_millis(2500));
        let r = ApiError::from_provider(&p).into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "3");
    }
}
