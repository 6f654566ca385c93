//! A curated GitHub REST tool set for LLM agents: issues, comments, labels,
//! milestones, pull requests, repository contents and search — fifteen tools
//! that run over HTTP with `toolplane-openapi`'s executor.
//!
//! # Who should depend on this crate
//!
//! Hosts that give a model GitHub access without loading GitHub's 13 MB
//! OpenAPI description: the operations are compiled in (hand-written after
//! the description, same operationIds, paths and parameter names). Nothing
//! is read from disk or the network until a tool is called.
//!
//! # Tools
//!
//! | tool | operation |
//! | --- | --- |
//! | `github_issues_list`, `github_issues_get`, `github_issues_create`, `github_issues_update` | `issues/list-for-repo`, `issues/get`, `issues/create`, `issues/update` |
//! | `github_issue_comments_list`, `github_issue_comments_create` | `issues/list-comments`, `issues/create-comment` |
//! | `github_labels_list`, `github_labels_create` | `issues/list-labels-for-repo`, `issues/create-label` |
//! | `github_milestones_list`, `github_milestones_create` | `issues/list-milestones`, `issues/create-milestone` |
//! | `github_pulls_list`, `github_pulls_get` | `pulls/list`, `pulls/get` |
//! | `github_repos_get_content` | `repos/get-content` |
//! | `github_search_issues`, `github_search_code` | `search/issues-and-pull-requests`, `search/code` |
//!
//! Each result is `{status, headers, body}`; list results add
//! `pagination: {next_page, last_page, ...}` read from the `Link` header, and
//! a GitHub error (404, 422, rate limit) is a result with `is_error` set that
//! carries GitHub's message.
//!
//! # Example
//!
//! ```no_run
//! use toolplane_github::{GithubConfig, github_tools};
//! // GITHUB_TOKEN, and GITHUB_API_URL for GitHub Enterprise Server.
//! let tools = github_tools(&GithubConfig::from_env()).expect("valid configuration");
//! assert_eq!(tools.len(), 15);
//! ```
//!
//! # A wrapper for another API
//!
//! This crate is a pattern to copy: describe the operations with
//! [`OperationBuilder`](toolplane_openapi::http::OperationBuilder) (or convert
//! an OpenAPI description with `toolplane_openapi::Converter`), then build the
//! tools with one shared configuration:
//!
//! ```no_run
//! use serde_json::json;
//! use toolplane_openapi::http::{http_tools, Credential, HttpConfig, OperationBuilder, Secret};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tools = http_tools(
//!     [OperationBuilder::post("tracker_comment_create", "/issues/{id}/comments")
//!         .description("Comment on an issue.")
//!         .path_param("id", "The issue id, e.g. ENG-123")
//!         .body_property("body", json!({"type": "string"}), "Markdown text", true)
//!         .build()],
//!     HttpConfig::new()
//!         .with_base_url("https://tracker.example.com/api")
//!         .with_default_credential(Credential::bearer(Secret::from_env("TRACKER_TOKEN")?)),
//! )?;
//! # Ok(()) }
//! ```
//!
//! The token comes from `GITHUB_TOKEN` (or [`GithubConfig::with_token`]) and is
//! held as a [`Secret`]: it is sent as `Authorization: Bearer` and appears in
//! no schema, error or debug output.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod catalog;
mod pagination;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use toolplane_core::{CallContext, Tool, ToolError, ToolOutput, ToolSpec};
use toolplane_openapi::ConvertedTool;
pub use toolplane_openapi::http::Secret;
use toolplane_openapi::http::{Credential, HttpConfig, HttpRuntime, HttpSetupError, HttpTool};

pub use pagination::{Pagination, parse_link_header};

/// GitHub.com's API.
pub const DEFAULT_BASE_URL: &str = "https://api.github.com";
/// The REST API version requested (`X-GitHub-Api-Version`).
pub const API_VERSION: &str = "2022-11-28";
/// The default tool name prefix.
pub const DEFAULT_PREFIX: &str = "github_";

/// Where the tools send requests and how they authenticate.
///
/// ```
/// use toolplane_github::{GithubConfig, Secret};
/// let c = GithubConfig::new()
///     .with_base_url("https://ghe.example.com/api/v3")
///     .with_token(Secret::new("ghp_example"));
/// assert!(!format!("{c:?}").contains("ghp_example"));
/// ```
#[derive(Debug, Clone)]
pub struct GithubConfig {
    /// The API root: `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server.
    pub base_url: String,
    /// The token (`GITHUB_TOKEN`); without one only public data is readable, at a low rate limit.
    pub token: Option<Secret>,
    /// Prefix of every tool name.
    pub prefix: String,
    /// `User-Agent` (GitHub refuses requests without one).
    pub user_agent: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Response body bytes given to the model.
    pub max_response_bytes: usize,
    /// Only the read-only tools (lists, gets, contents, search).
    pub read_only: bool,
}

impl Default for GithubConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            token: None,
            prefix: DEFAULT_PREFIX.into(),
            user_agent: concat!("toolplane-github/", env!("CARGO_PKG_VERSION")).into(),
            timeout: Duration::from_secs(30),
            max_response_bytes: 96 * 1024,
            read_only: false,
        }
    }
}

impl GithubConfig {
    /// GitHub.com, no token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `GITHUB_TOKEN` (optional) and `GITHUB_API_URL` (optional, set by
    /// GitHub Actions, also on GitHub Enterprise Server).
    pub fn from_env() -> Self {
        let mut c = Self {
            token: Secret::from_env("GITHUB_TOKEN").ok(),
            ..Self::default()
        };
        if let Ok(url) = std::env::var("GITHUB_API_URL") {
            if !url.trim().is_empty() {
                c.base_url = url.trim().to_owned();
            }
        }
        c
    }

    /// Sets the API root.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the token.
    pub fn with_token(mut self, token: Secret) -> Self {
        self.token = Some(token);
        self
    }

    /// Sets the tool name prefix (`""` for none).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets the timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the response byte budget.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Keeps only the ten read-only tools (no create or update).
    pub fn with_read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Fails when no token is configured (for write tools, search of code).
    pub fn require_token(self) -> Result<Self, GithubError> {
        if self.token.is_none() {
            return Err(GithubError::MissingToken);
        }
        Ok(self)
    }

    /// The HTTP configuration the tools run with.
    pub fn http_config(&self) -> HttpConfig {
        let mut c = HttpConfig::new()
            .with_base_url(self.base_url.clone())
            .with_header("accept", "application/vnd.github+json")
            .with_header("x-github-api-version", API_VERSION)
            .with_header("user-agent", self.user_agent.clone())
            .with_timeout(self.timeout)
            .with_max_response_bytes(self.max_response_bytes)
            .with_response_headers([
                "content-type",
                "link",
                "location",
                "retry-after",
                "x-ratelimit-limit",
                "x-ratelimit-remaining",
                "x-ratelimit-reset",
                "x-ratelimit-resource",
                "x-github-request-id",
            ]);
        if let Some(t) = &self.token {
            c = c.with_default_credential(Credential::bearer(t.clone()));
        }
        c
    }
}

/// The tool set could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// No token configured where one is required.
    #[error("no GitHub token: set GITHUB_TOKEN or GithubConfig::with_token")]
    MissingToken,
    /// The base URL or a header is not usable.
    #[error("GitHub tools: {0}")]
    Setup(#[from] HttpSetupError),
}

/// The curated operations as tool definitions with their HTTP bindings
/// (for inspection, or to run with your own [`HttpConfig`]).
pub fn github_tool_definitions(prefix: &str) -> Vec<ConvertedTool> {
    catalog::curated(prefix)
}

/// The curated GitHub tools, sharing one HTTP client.
pub fn github_tools(config: &GithubConfig) -> Result<Vec<Arc<dyn Tool>>, GithubError> {
    let runtime = HttpRuntime::new(config.http_config())?;
    github_tool_definitions(&config.prefix)
        .into_iter()
        .filter(|t| !config.read_only || t.spec.annotations.is_read_only())
        .map(|t| {
            let inner = HttpTool::new(t, runtime.clone())?;
            Ok(Arc::new(GithubTool { inner }) as Arc<dyn Tool>)
        })
        .collect()
}

/// One GitHub tool: an [`HttpTool`] whose results also carry `pagination`
/// (from `Link`) and, when the rate limit is spent, a `hint`.
#[derive(Debug)]
pub struct GithubTool {
    inner: HttpTool,
}

impl GithubTool {
    /// The underlying HTTP tool.
    pub fn http(&self) -> &HttpTool {
        &self.inner
    }
}

#[async_trait]
impl Tool for GithubTool {
    fn spec(&self) -> &ToolSpec {
        self.inner.spec()
    }

    async fn call(&self, args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let mut out = self.inner.call(args, ctx).await?;
        pagination::annotate(&mut out.content);
        Ok(out)
    }
}
