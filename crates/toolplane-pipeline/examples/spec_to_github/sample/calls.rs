//! One GitHub call through the host's [`ToolExecutor`]: the arguments in the
//! shape the tool set wants, the result read back whatever its wrapping, and
//! list endpoints read page by page.

use serde_json::{Map, Value, json};
use toolplane_core::{CallContext, ToolCall, ToolOutput};

use super::{BodyStyle, SpecToGithub, SpecToGithubError};
use toolplane_pipeline::ToolExecutor;

/// Items asked for per list page (GitHub's maximum).
const PER_PAGE: u64 = 100;
/// The most list requests per resource, smaller pages after a cut result included.
const MAX_LIST_REQUESTS: u32 = 200;

pub(super) struct GithubCalls<'a> {
    pub(super) github: &'a dyn ToolExecutor,
    pub(super) options: &'a SpecToGithub,
    pub(super) ctx: &'a CallContext,
}

impl GithubCalls<'_> {
    /// Calls `tool` and returns the response body (for a write, the created object).
    pub(super) async fn call(&self, tool: &str, params: Value, body: Value) -> Result<Value, SpecToGithubError> {
        let out = self.call_output(tool, params, body).await?;
        if out.truncated {
            return Err(github_error(
                tool,
                "the response was cut (the tool's or the executor's output limit); raise the limit".into(),
                false,
            ));
        }
        Ok(response_json(out.content).0)
    }

    async fn call_output(&self, tool: &str, params: Value, body: Value) -> Result<ToolOutput, SpecToGithubError> {
        let args = arguments(self.options, params, body);
        let id = format!("spec-to-github-{tool}");
        let out = self
            .github
            .execute(&ToolCall::from_value(id, tool, &args), self.ctx)
            .await
            .map_err(|e| github_error(tool, e.to_string(), e.is_retryable()))?;
        if out.is_error {
            let (message, retryable) = error_message(&out);
            return Err(github_error(tool, message, retryable));
        }
        Ok(out)
    }

    /// Reads every page of a list endpoint. The next page is the result's
    /// `pagination.next_page` (the GitHub tool set reads it from the `Link`
    /// header); a result without `pagination` at all is followed while pages
    /// come back full. A result cut by an output limit is asked again in
    /// smaller pages covering the same items (100, 50, 25, 5, 1).
    pub(super) async fn list_all(&self, tool: &str, params: &Value) -> Result<Vec<Value>, SpecToGithubError> {
        let mut all = Vec::new();
        let mut per_page = PER_PAGE;
        let mut page: u64 = 1;
        for _ in 0..MAX_LIST_REQUESTS {
            let mut p = params.clone();
            if let Value::Object(m) = &mut p {
                m.insert("per_page".into(), json!(per_page));
                m.insert("page".into(), json!(page));
            }
            let out = self.call_output(tool, p, json!({})).await?;
            if out.truncated {
                let Some(smaller) = smaller_page(per_page) else {
                    return Err(github_error(
                        tool,
                        "one item is larger than the tool's or the executor's output limit; raise the limit".into(),
                        false,
                    ));
                };
                // Page `page` of `per_page` items starts where this page of `smaller` items does.
                page = (page - 1) * (per_page / smaller) + 1;
                per_page = smaller;
                continue;
            }
            let (body, next) = response_json(out.content);
            let Value::Array(items) = body else {
                return Err(github_error(
                    tool,
                    format!("expected a list, got {}", truncate(&body.to_string(), 200)),
                    false,
                ));
            };
            let full = items.len() as u64 >= per_page;
            all.extend(items);
            page = match next {
                Next::Page(n) if n > page => n,
                Next::Page(_) | Next::Last => return Ok(all),
                Next::Unknown if full => page + 1,
                Next::Unknown => return Ok(all),
            };
        }
        Err(github_error(
            tool,
            format!("more than {MAX_LIST_REQUESTS} pages; stopped so as not to miss what exists and create it twice"),
            false,
        ))
    }
}

/// The tool arguments: owner, repo, the query parameters, and the request
/// body placed as `style` says.
pub(super) fn arguments(options: &SpecToGithub, params: Value, body: Value) -> Value {
    let mut args = Map::new();
    args.insert("owner".into(), json!(options.owner));
    args.insert("repo".into(), json!(options.repo));
    if let Value::Object(p) = params {
        args.extend(p);
    }
    if let Value::Object(b) = body {
        if !b.is_empty() {
            match &options.body_style {
                BodyStyle::Nested(key) => {
                    args.insert(key.clone(), Value::Object(b));
                }
                BodyStyle::Flattened => args.extend(b),
            }
        }
    }
    Value::Object(args)
}

fn smaller_page(per_page: u64) -> Option<u64> {
    match per_page {
        p if p > 50 => Some(50),
        p if p > 25 => Some(25),
        p if p > 5 => Some(5),
        p if p > 1 => Some(1),
        _ => None,
    }
}

/// What a list result says about the next page.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// `pagination.next_page`.
    Page(u64),
    /// `pagination` without `next_page`: this is the last page.
    Last,
    /// No `pagination`: the tool set does not say.
    Unknown,
}

/// The JSON body of a GitHub tool result and what it says about paging.
/// Accepts `{status, headers, body, pagination}` (the GitHub tool set, any
/// `toolplane-openapi` HTTP tool), `{status, body}`, JSON text, or the body itself.
fn response_json(content: Value) -> (Value, Next) {
    match content {
        Value::String(s) => match serde_json::from_str::<Value>(&s) {
            Ok(v @ (Value::Object(_) | Value::Array(_))) => response_json(v),
            _ => (Value::String(s), Next::Unknown),
        },
        Value::Object(mut o) if o.contains_key("status") && o.contains_key("body") => {
            let next = match o.get("pagination") {
                Some(p) => p["next_page"].as_u64().map_or(Next::Last, Next::Page),
                None => Next::Unknown,
            };
            (response_json(o.remove("body").unwrap_or(Value::Null)).0, next)
        }
        other => (other, Next::Unknown),
    }
}

/// GitHub's message from an error result (`HTTP 422: Validation Failed
/// (label: already_exists)`), and whether trying later may help.
fn error_message(out: &ToolOutput) -> (String, bool) {
    let c = &out.content;
    let Some(status) = c.get("status").and_then(Value::as_u64) else {
        return (truncate(&out.to_model_text(), 500).to_string(), false);
    };
    let body = match &c["body"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
        other => other.clone(),
    };
    let mut message = match &body {
        Value::Object(_) => body["message"].as_str().unwrap_or("no message").to_string(),
        Value::String(s) => truncate(s, 300).to_string(),
        _ => "no message".to_string(),
    };
    let details: Vec<String> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(
            |e| match (e["resource"].as_str(), e["field"].as_str(), e["code"].as_str()) {
                (_, Some(field), Some(code)) => format!("{field}: {code}"),
                _ => e["message"].as_str().map_or_else(|| e.to_string(), str::to_string),
            },
        )
        .collect();
    if !details.is_empty() {
        message = format!("{message} ({})", details.join("; "));
    }
    let hint = c["hint"].as_str();
    if let Some(h) = hint {
        message = format!("{message}. {h}");
    }
    let secondary_limit = status == 403 && message.to_lowercase().contains("rate limit");
    let retryable = status == 429 || status >= 500 || hint.is_some() || secondary_limit;
    (format!("HTTP {status}: {message}"), retryable)
}

fn github_error(tool: &str, message: String, retryable: bool) -> SpecToGithubError {
    SpecToGithubError::Github {
        tool: tool.to_string(),
        message,
        retryable,
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_tool_responses_and_reads_pagination() {
        assert_eq!(
            response_json(json!({"status": 200, "headers": {}, "body": [1], "pagination": {"next_page": 3}})),
            (json!([1]), Next::Page(3))
        );
        assert_eq!(
            response_json(json!({"status": 200, "body": [1], "pagination": {"last_page": 1}})),
            (json!([1]), Next::Last)
        );
        assert_eq!(
            response_json(json!({"status": 200, "body": [1]})),
            (json!([1]), Next::Unknown)
        );
        assert_eq!(response_json(json!("[2]")), (json!([2]), Next::Unknown));
        assert_eq!(
            response_json(json!({"number": 3})),
            (json!({"number": 3}), Next::Unknown)
        );
    }

    #[test]
    fn bodies_go_flat_or_under_a_key() {
        let mut options = SpecToGithub::new("acme", "cal", "m");
        assert_eq!(options.body_style, BodyStyle::Flattened, "the toolplane-github shape");
        let flat = arguments(&options, json!({"state": "all"}), json!({"title": "t"}));
        assert_eq!(
            flat,
            json!({"owner": "acme", "repo": "cal", "state": "all", "title": "t"})
        );
        options.body_style = BodyStyle::Nested("body".into());
        let nested = arguments(&options, json!({}), json!({"title": "t"}));
        assert_eq!(nested, json!({"owner": "acme", "repo": "cal", "body": {"title": "t"}}));
        assert_eq!(
            arguments(&options, json!({}), json!({})),
            json!({"owner": "acme", "repo": "cal"})
        );
    }

    #[test]
    fn smaller_pages_divide_the_larger_ones() {
        let mut p = PER_PAGE;
        while let Some(s) = smaller_page(p) {
            assert_eq!(p % s, 0, "{p} / {s}");
            p = s;
        }
        assert_eq!(p, 1);
    }

    #[test]
    fn error_results_carry_githubs_message() {
        let out = ToolOutput::json(json!({"status": 422, "headers": {}, "body": {
            "message": "Validation Failed",
            "errors": [{"resource": "Label", "field": "name", "code": "already_exists"}]
        }}))
        .into_error();
        assert_eq!(
            error_message(&out),
            ("HTTP 422: Validation Failed (name: already_exists)".into(), false)
        );
        let out = ToolOutput::json(json!({"status": 403, "body": {"message": "API rate limit exceeded"},
            "hint": "GitHub's rate limit is spent; it resets at Unix time 1700000000."}))
        .into_error();
        let (message, retryable) = error_message(&out);
        assert!(retryable && message.contains("1700000000"), "{message}");
        let out = ToolOutput::text("boom").into_error();
        assert_eq!(error_message(&out), ("boom".into(), false));
    }
}
