//! The sample pipeline: a product spec in markdown becomes labels, a
//! milestone and issues in a GitHub repository, idempotently.
//!
//! ```text
//!  spec.md ─► model: plan as JSON (schema-checked, repaired) ─► IssuePlan
//!  IssuePlan ─► list labels ─► create missing ─► list milestones ─► create if missing
//!            ─► list issues (all pages) ─► create the ones not there yet ─► links
//! ```
//!
//! Every GitHub call goes through a [`ToolExecutor`] holding the GitHub tool
//! set (`github.issues_*`), so the host's interceptors (permissions, rate
//! limits, audit) apply. Running twice creates nothing twice: an issue is
//! recognised by a marker in its body (`<!-- toolplane-spec-item: slug -->`)
//! or by its exact title; labels by name (case-insensitive); the milestone by title.

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use toolplane_core::{CallContext, ChatProvider, ChatRequest, Message, ToolCall, Usage};

use crate::structured::{StructuredError, structured_answer};
use crate::{AgentLoop, LoopConfig, RunState, ToolBox, ToolExecutor};

/// The most list pages read per resource (100 items a page).
const MAX_PAGES: u32 = 50;
const PER_PAGE: u32 = 100;

/// The names of the GitHub tools used. The defaults follow the GitHub tool
/// set's naming (`github.` + the OpenAPI operation id in snake case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GithubToolNames {
    /// `GET /repos/{owner}/{repo}/labels`.
    pub list_labels: String,
    /// `POST /repos/{owner}/{repo}/labels`.
    pub create_label: String,
    /// `GET /repos/{owner}/{repo}/milestones`.
    pub list_milestones: String,
    /// `POST /repos/{owner}/{repo}/milestones`.
    pub create_milestone: String,
    /// `GET /repos/{owner}/{repo}/issues`.
    pub list_issues: String,
    /// `POST /repos/{owner}/{repo}/issues`.
    pub create_issue: String,
}

impl Default for GithubToolNames {
    fn default() -> Self {
        Self {
            list_labels: "github.issues_list_labels_for_repo".into(),
            create_label: "github.issues_create_label".into(),
            list_milestones: "github.issues_list_milestones".into(),
            create_milestone: "github.issues_create_milestone".into(),
            list_issues: "github.issues_list_for_repo".into(),
            create_issue: "github.issues_create".into(),
        }
    }
}

/// Where the request body goes in a GitHub tool's arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyStyle {
    /// Under one key, beside the path and query parameters (`{"owner":..,"body":{..}}`).
    Nested(String),
    /// Merged with the path and query parameters.
    Flattened,
}

impl Default for BodyStyle {
    fn default() -> Self {
        Self::Nested("body".into())
    }
}

/// Options of [`spec_to_github`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecToGithub {
    /// The repository owner.
    pub owner: String,
    /// The repository name.
    pub repo: String,
    /// The model asked to plan.
    pub model: String,
    /// Use this milestone title instead of the planned one.
    #[serde(default)]
    pub milestone_title: Option<String>,
    /// Non-conforming plans sent back to the model for repair. Default 2.
    #[serde(default = "default_repairs")]
    pub plan_repairs: u32,
    /// The GitHub tool names.
    #[serde(default)]
    pub tools: GithubToolNames,
    /// How request bodies are passed to the tools.
    #[serde(default)]
    pub body_style: BodyStyle,
}

fn default_repairs() -> u32 {
    2
}

impl SpecToGithub {
    /// Options for a repository and a model, with the defaults.
    pub fn new(owner: impl Into<String>, repo: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            repo: repo.into(),
            model: model.into(),
            milestone_title: None,
            plan_repairs: default_repairs(),
            tools: GithubToolNames::default(),
            body_style: BodyStyle::default(),
        }
    }
}

/// The model's plan: one milestone and its issues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuePlan {
    /// The milestone the issues belong to.
    pub milestone: PlannedMilestone,
    /// The issues, in order.
    pub issues: Vec<PlannedIssue>,
}

/// A planned milestone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedMilestone {
    /// Its title.
    pub title: String,
    /// What it delivers.
    #[serde(default)]
    pub description: String,
}

/// A planned issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedIssue {
    /// The title.
    pub title: String,
    /// The description, in markdown.
    pub body: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Testable statements that say when the issue is done.
    pub acceptance_criteria: Vec<String>,
}

/// The JSON Schema a plan must satisfy.
pub fn plan_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["milestone", "issues"],
        "properties": {
            "milestone": {
                "type": "object",
                "additionalProperties": false,
                "required": ["title", "description"],
                "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": 200},
                    "description": {"type": "string"}
                }
            },
            "issues": {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["title", "body", "labels", "acceptance_criteria"],
                    "properties": {
                        "title": {"type": "string", "minLength": 1, "maxLength": 256},
                        "body": {"type": "string"},
                        "labels": {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1, "maxLength": 50},
                            "maxItems": 10
                        },
                        "acceptance_criteria": {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1},
                            "minItems": 1
                        }
                    }
                }
            }
        }
    })
}

/// A GitHub object the run found or created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GithubLink {
    /// The title or name.
    pub title: String,
    /// The issue or milestone number (0 for labels).
    pub number: u64,
    /// The web address, when GitHub gave one.
    pub url: String,
    /// True when this run created it; false when it was already there.
    pub created: bool,
}

/// What [`spec_to_github`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecToGithubReport {
    /// The plan that was applied.
    pub plan: IssuePlan,
    /// Labels, created or found.
    pub labels: Vec<GithubLink>,
    /// The milestone, created or found.
    pub milestone: GithubLink,
    /// The issues in plan order, created or found.
    pub issues: Vec<GithubLink>,
    /// Tokens the planning used.
    pub usage: Usage,
}

impl SpecToGithubReport {
    /// How many objects (labels, milestone, issues) this run created.
    pub fn created_count(&self) -> usize {
        self.labels.iter().filter(|l| l.created).count()
            + usize::from(self.milestone.created)
            + self.issues.iter().filter(|i| i.created).count()
    }
}

/// Why the spec could not be turned into issues.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecToGithubError {
    /// The spec is empty.
    #[error("the spec is empty")]
    EmptySpec,
    /// The model's plan never satisfied the schema, or the run failed.
    #[error("planning failed: {0}")]
    Plan(#[from] StructuredError),
    /// A plan that passed the schema is still unusable (duplicate titles, say).
    #[error("the plan is unusable: {0}")]
    InvalidPlan(String),
    /// A GitHub call failed.
    #[error("GitHub `{tool}` failed: {message}")]
    Github {
        /// The tool.
        tool: String,
        /// What it said.
        message: String,
        /// Whether trying again may help (rate limits, timeouts).
        retryable: bool,
    },
}

impl SpecToGithubError {
    /// Whether running again may succeed (a rate limit, a timeout, an upstream failure).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Github { retryable, .. } => *retryable,
            Self::Plan(StructuredError::Run(e)) => e.is_retryable(),
            _ => false,
        }
    }
}

/// Plans `spec_markdown` with the model, then applies the plan to the
/// repository (see [`apply_plan`]).
///
/// # Errors
/// [`SpecToGithubError`]: an empty spec, a plan that never conformed, a GitHub failure.
pub async fn spec_to_github(
    provider: Arc<dyn ChatProvider>,
    github: &dyn ToolExecutor,
    spec_markdown: &str,
    options: &SpecToGithub,
    ctx: &CallContext,
) -> Result<SpecToGithubReport, SpecToGithubError> {
    let (plan, usage) = plan_issues(provider, spec_markdown, options, ctx).await?;
    let mut report = apply_plan(github, &plan, options, ctx).await?;
    report.usage = usage;
    Ok(report)
}

/// Asks the model for an [`IssuePlan`] of the spec, checked against
/// [`plan_schema`] and repaired if need be. Save it to apply the same plan
/// again later: a model may plan differently on a second run.
///
/// # Errors
/// [`SpecToGithubError::EmptySpec`], [`SpecToGithubError::Plan`], [`SpecToGithubError::InvalidPlan`].
pub async fn plan_issues(
    provider: Arc<dyn ChatProvider>,
    spec_markdown: &str,
    options: &SpecToGithub,
    ctx: &CallContext,
) -> Result<(IssuePlan, Usage), SpecToGithubError> {
    if spec_markdown.trim().is_empty() {
        return Err(SpecToGithubError::EmptySpec);
    }
    let system = "You are a technical program manager. Split the product spec into GitHub issues \
        that one engineer can each finish in a few days. Answer with JSON only, matching the schema: \
        a milestone (title, description) and issues (title, markdown body, labels such as `feature`, \
        `bug`, `docs`, `infra`, and testable acceptance criteria).";
    let request = ChatRequest::new(
        options.model.clone(),
        vec![
            Message::system(system),
            Message::user(format!(
                "Plan this spec as issues. JSON schema:\n{}\n\nSpec:\n\n{spec_markdown}",
                plan_schema()
            )),
        ],
    )
    .with_task_type("planning");
    let agent = AgentLoop::new(provider, Arc::new(ToolBox::new())).with_config(LoopConfig {
        max_steps: 4,
        ..LoopConfig::default()
    });
    let state = RunState::new("spec-to-github:plan", request);
    let (value, state) = structured_answer(&agent, state, &plan_schema(), options.plan_repairs, ctx).await?;
    let plan: IssuePlan = serde_json::from_value(value).map_err(|e| SpecToGithubError::InvalidPlan(e.to_string()))?;
    let mut titles = HashSet::new();
    for issue in &plan.issues {
        if !titles.insert(issue.title.trim().to_lowercase()) {
            return Err(SpecToGithubError::InvalidPlan(format!(
                "two issues are titled `{}`",
                issue.title
            )));
        }
    }
    Ok((plan, state.usage))
}

/// Creates the plan's labels, milestone and issues that the repository does
/// not have yet, and returns every one with its link.
///
/// # Errors
/// [`SpecToGithubError::Github`] naming the tool and GitHub's message.
pub async fn apply_plan(
    github: &dyn ToolExecutor,
    plan: &IssuePlan,
    options: &SpecToGithub,
    ctx: &CallContext,
) -> Result<SpecToGithubReport, SpecToGithubError> {
    let api = GithubCalls { github, options, ctx };
    let names = &options.tools;

    // Labels: GitHub compares label names case-insensitively.
    let existing = api.list_all(&names.list_labels, json!({})).await?;
    let mut have: Vec<(String, String)> = existing
        .iter()
        .filter_map(|l| Some((l["name"].as_str()?.to_string(), str_field(l, "url"))))
        .collect();
    let mut labels = Vec::new();
    let mut wanted: Vec<&str> = Vec::new();
    for label in plan.issues.iter().flat_map(|i| i.labels.iter()) {
        if !wanted.iter().any(|w| w.eq_ignore_ascii_case(label)) {
            wanted.push(label);
        }
    }
    for label in wanted {
        if let Some((name, url)) = have.iter().find(|(n, _)| n.eq_ignore_ascii_case(label)) {
            labels.push(GithubLink {
                title: name.clone(),
                number: 0,
                url: url.clone(),
                created: false,
            });
            continue;
        }
        let created = api
            .call(
                &names.create_label,
                json!({}),
                json!({"name": label, "color": label_color(label), "description": "Created by toolplane spec-to-github"}),
            )
            .await?;
        have.push((label.to_string(), str_field(&created, "url")));
        labels.push(GithubLink {
            title: label.to_string(),
            number: 0,
            url: str_field(&created, "url"),
            created: true,
        });
    }

    // The milestone, by exact title, open or closed.
    let title = options
        .milestone_title
        .clone()
        .unwrap_or_else(|| plan.milestone.title.clone());
    let milestones = api.list_all(&names.list_milestones, json!({"state": "all"})).await?;
    let milestone = match milestones.iter().find(|m| m["title"].as_str() == Some(title.as_str())) {
        Some(m) => GithubLink {
            title: title.clone(),
            number: m["number"].as_u64().unwrap_or(0),
            url: str_field(m, "html_url"),
            created: false,
        },
        None => {
            let m = api
                .call(
                    &names.create_milestone,
                    json!({}),
                    json!({"title": title, "description": plan.milestone.description}),
                )
                .await?;
            GithubLink {
                title: title.clone(),
                number: m["number"].as_u64().ok_or_else(|| SpecToGithubError::Github {
                    tool: names.create_milestone.clone(),
                    message: "the response has no milestone `number`".into(),
                    retryable: false,
                })?,
                url: str_field(&m, "html_url"),
                created: true,
            }
        }
    };

    // Issues, by marker or exact title; pull requests share the endpoint and are skipped.
    let existing: Vec<Value> = api
        .list_all(&names.list_issues, json!({"state": "all"}))
        .await?
        .into_iter()
        .filter(|i| i.get("pull_request").is_none())
        .collect();
    let mut issues = Vec::with_capacity(plan.issues.len());
    for planned in &plan.issues {
        let marker = issue_marker(&planned.title);
        let found = existing.iter().find(|i| {
            i["body"].as_str().is_some_and(|b| b.contains(&marker))
                || i["title"].as_str() == Some(planned.title.as_str())
        });
        if let Some(i) = found {
            issues.push(GithubLink {
                title: planned.title.clone(),
                number: i["number"].as_u64().unwrap_or(0),
                url: str_field(i, "html_url"),
                created: false,
            });
            continue;
        }
        // The repository's spelling of each label: GitHub matches names case-insensitively
        // when listing, but an issue must name a label exactly.
        let issue_labels: Vec<&str> = planned
            .labels
            .iter()
            .map(|l| {
                labels
                    .iter()
                    .find(|have| have.title.eq_ignore_ascii_case(l))
                    .map_or(l.as_str(), |have| have.title.as_str())
            })
            .collect();
        let created = api
            .call(
                &names.create_issue,
                json!({}),
                json!({
                    "title": planned.title,
                    "body": issue_body(planned),
                    "labels": issue_labels,
                    "milestone": milestone.number,
                }),
            )
            .await?;
        issues.push(GithubLink {
            title: planned.title.clone(),
            number: created["number"].as_u64().unwrap_or(0),
            url: str_field(&created, "html_url"),
            created: true,
        });
    }
    Ok(SpecToGithubReport {
        plan: plan.clone(),
        labels,
        milestone,
        issues,
        usage: Usage::default(),
    })
}

/// The issue text: the planned body, the acceptance criteria as a task list,
/// and the marker that recognises the issue on the next run.
pub fn issue_body(issue: &PlannedIssue) -> String {
    let mut body = issue.body.trim().to_string();
    body.push_str("\n\n## Acceptance criteria\n\n");
    for c in &issue.acceptance_criteria {
        body.push_str("- [ ] ");
        body.push_str(c.trim());
        body.push('\n');
    }
    body.push('\n');
    body.push_str(&issue_marker(&issue.title));
    body.push('\n');
    body
}

fn issue_marker(title: &str) -> String {
    let slug: String = title
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("<!-- toolplane-spec-item: {slug} -->")
}

/// A stable colour per label name, so reruns and other hosts agree.
fn label_color(name: &str) -> String {
    // FNV-1a: tiny, stable across versions and platforms (unlike std's hasher).
    let mut h: u32 = 0x811c_9dc5;
    for b in name.to_lowercase().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{:06x}", h & 0x00ff_ffff)
}

fn str_field(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

struct GithubCalls<'a> {
    github: &'a dyn ToolExecutor,
    options: &'a SpecToGithub,
    ctx: &'a CallContext,
}

impl GithubCalls<'_> {
    async fn call(&self, tool: &str, params: Value, body: Value) -> Result<Value, SpecToGithubError> {
        let mut args = json!({"owner": self.options.owner, "repo": self.options.repo});
        if let (Value::Object(a), Value::Object(p)) = (&mut args, params) {
            a.extend(p);
        }
        if !body.as_object().is_some_and(serde_json::Map::is_empty) {
            match (&self.options.body_style, &mut args) {
                (BodyStyle::Nested(key), Value::Object(a)) => {
                    a.insert(key.clone(), body);
                }
                (BodyStyle::Flattened, Value::Object(a)) => {
                    if let Value::Object(b) = body {
                        a.extend(b);
                    }
                }
                _ => {}
            }
        }
        let id = format!("spec-to-github-{tool}");
        let out = self
            .github
            .execute(&ToolCall::from_value(id, tool, &args), self.ctx)
            .await
            .map_err(|e| SpecToGithubError::Github {
                tool: tool.to_string(),
                message: e.to_string(),
                retryable: e.is_retryable(),
            })?;
        if out.is_error {
            return Err(SpecToGithubError::Github {
                tool: tool.to_string(),
                message: out.to_model_text(),
                retryable: false,
            });
        }
        Ok(response_json(out.content))
    }

    /// Reads every page of a list endpoint.
    async fn list_all(&self, tool: &str, params: Value) -> Result<Vec<Value>, SpecToGithubError> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let mut p = params.clone();
            if let Value::Object(m) = &mut p {
                m.insert("per_page".into(), json!(PER_PAGE));
                m.insert("page".into(), json!(page));
            }
            let items = match self.call(tool, p, json!({})).await? {
                Value::Array(items) => items,
                other => {
                    return Err(SpecToGithubError::Github {
                        tool: tool.to_string(),
                        message: format!("expected a list, got {}", truncate(&other.to_string(), 200)),
                        retryable: false,
                    });
                }
            };
            let n = items.len();
            all.extend(items);
            if n < PER_PAGE as usize {
                break;
            }
        }
        Ok(all)
    }
}

/// The JSON a GitHub tool returned: a body wrapped with its status, JSON text, or the value itself.
fn response_json(content: Value) -> Value {
    match content {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        Value::Object(mut o) if o.contains_key("status") && o.contains_key("body") => {
            response_json(o.remove("body").unwrap_or(Value::Null))
        }
        other => other,
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
    fn markers_and_colors_are_stable() {
        assert_eq!(
            issue_marker("Add  OAuth login!"),
            "<!-- toolplane-spec-item: add-oauth-login -->"
        );
        assert_eq!(label_color("Feature"), label_color("feature"));
        assert_eq!(label_color("feature").len(), 6);
        let body = issue_body(&PlannedIssue {
            title: "T".into(),
            body: "Do it.".into(),
            labels: vec![],
            acceptance_criteria: vec!["works".into()],
        });
        assert!(body.contains("- [ ] works") && body.contains("toolplane-spec-item: t"));
    }

    #[test]
    fn unwraps_tool_responses() {
        assert_eq!(response_json(json!({"status": 200, "body": [1]})), json!([1]));
        assert_eq!(response_json(json!("[2]")), json!([2]));
        assert_eq!(response_json(json!({"number": 3})), json!({"number": 3}));
    }
}
