#![allow(clippy::unwrap_used, clippy::panic)]
//! The curated tools against a local fake GitHub (axum on 127.0.0.1) under a
//! GitHub Enterprise style prefix (`/api/v3`): auth and API headers,
//! pagination through `Link`, bodies, error answers and the rate limit. The
//! routes exist only under `/api/v3` (axum strips the prefix from `Uri` in
//! nested handlers), so every answer proves the base path was kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use toolplane_core::{CallContext, Tool, ToolErrorKind};
use toolplane_github::{GithubConfig, Secret, github_tool_definitions, github_tools};

const TOKEN: &str = "ghp_fake_token_0123456789";

#[derive(Default)]
struct Repo {
    issues: Vec<Value>,
    comments: HashMap<u64, Vec<Value>>,
    labels: Vec<Value>,
    milestones: Vec<Value>,
}

type Shared = Arc<Mutex<Repo>>;

fn gh_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest"})),
    )
        .into_response()
}

fn check(headers: &HeaderMap) -> Option<Response> {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if h("authorization") != format!("Bearer {TOKEN}") {
        return Some(gh_error(StatusCode::UNAUTHORIZED, "Bad credentials"));
    }
    if h("user-agent").is_empty() {
        return Some(gh_error(
            StatusCode::FORBIDDEN,
            "Please make sure your request has a User-Agent header",
        ));
    }
    if h("accept") != "application/vnd.github+json" || h("x-github-api-version") != "2022-11-28" {
        return Some(gh_error(StatusCode::BAD_REQUEST, "unexpected Accept or API version"));
    }
    None
}

/// A page of `items` with GitHub's `Link` header.
fn paged(uri: &Uri, q: &HashMap<String, String>, items: &[Value]) -> Response {
    let per = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30usize).max(1);
    let page = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1usize).max(1);
    let last = items.len().div_ceil(per).max(1);
    let slice: Vec<Value> = items.iter().skip((page - 1) * per).take(per).cloned().collect();
    let base = format!("http://fake{}?per_page={per}", uri.path());
    let mut links = Vec::new();
    if page < last {
        links.push(format!("<{base}&page={}>; rel=\"next\"", page + 1));
        links.push(format!("<{base}&page={last}>; rel=\"last\""));
    }
    if page > 1 {
        links.push(format!("<{base}&page={}>; rel=\"prev\"", page - 1));
        links.push(format!("<{base}&page=1>; rel=\"first\""));
    }
    let mut resp = axum::Json(Value::Array(slice)).into_response();
    if !links.is_empty() {
        resp.headers_mut().insert("link", links.join(", ").parse().unwrap());
    }
    resp.headers_mut()
        .insert("x-ratelimit-remaining", "4999".parse().unwrap());
    resp
}

async fn issues(
    State(s): State<Shared>,
    Path((owner, _repo)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
    body: Option<axum::Json<Value>>,
) -> Response {
    if let Some(r) = check(&headers) {
        return r;
    }
    if owner == "limited" {
        let mut r = gh_error(StatusCode::FORBIDDEN, "API rate limit exceeded for user ID 1.");
        r.headers_mut().insert("x-ratelimit-remaining", "0".parse().unwrap());
        r.headers_mut()
            .insert("x-ratelimit-reset", "1700000000".parse().unwrap());
        return r;
    }
    let mut repo = s.lock().unwrap();
    match body {
        None => {
            let state = q.get("state").map(String::as_str).unwrap_or("open");
            let label = q.get("labels").cloned();
            let items: Vec<Value> = repo
                .issues
                .iter()
                .filter(|i| state == "all" || i["state"] == state)
                .filter(|i| {
                    label
                        .as_ref()
                        .is_none_or(|l| i["labels"].as_array().unwrap().iter().any(|x| x["name"] == *l))
                })
                .cloned()
                .collect();
            paged(&uri, &q, &items)
        }
        Some(axum::Json(b)) => {
            let title = b.get("title").and_then(Value::as_str).unwrap_or("");
            if title.is_empty() {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    axum::Json(json!({"message": "Validation Failed", "errors": [{"resource": "Issue", "code": "missing_field", "field": "title"}]})),
                )
                    .into_response();
            }
            let number = repo.issues.len() as u64 + 1;
            let labels: Vec<Value> = b
                .get("labels")
                .and_then(Value::as_array)
                .map(|l| l.iter().map(|n| json!({"name": n})).collect())
                .unwrap_or_default();
            let issue = json!({"number": number, "title": title, "body": b.get("body"), "state": "open", "labels": labels, "milestone": b.get("milestone")});
            repo.issues.push(issue.clone());
            (
                StatusCode::CREATED,
                [("location", format!("http://fake/repos/o/r/issues/{number}"))],
                axum::Json(issue),
            )
                .into_response()
        }
    }
}

async fn issue(
    State(s): State<Shared>,
    Path((_o, _r, n)): Path<(String, String, u64)>,
    headers: HeaderMap,
    body: Option<axum::Json<Value>>,
) -> Response {
    if let Some(r) = check(&headers) {
        return r;
    }
    let mut repo = s.lock().unwrap();
    let Some(issue) = repo.issues.iter_mut().find(|i| i["number"] == n) else {
        return gh_error(StatusCode::NOT_FOUND, "Not Found");
    };
    if let Some(axum::Json(Value::Object(patch))) = body {
        for (k, v) in patch {
            issue[k] = v;
        }
    }
    axum::Json(issue.clone()).into_response()
}

async fn comments(
    State(s): State<Shared>,
    Path((_o, _r, n)): Path<(String, String, u64)>,
    Query(q): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
    body: Option<axum::Json<Value>>,
) -> Response {
    if let Some(r) = check(&headers) {
        return r;
    }
    let mut repo = s.lock().unwrap();
    let list = repo.comments.entry(n).or_default();
    match body {
        None => paged(&uri, &q, list),
        Some(axum::Json(b)) => {
            let c = json!({"id": list.len() + 1, "body": b["body"]});
            list.push(c.clone());
            (StatusCode::CREATED, axum::Json(c)).into_response()
        }
    }
}

async fn labels(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
    body: Option<axum::Json<Value>>,
) -> Response {
    if let Some(r) = check(&headers) {
        return r;
    }
    let mut repo = s.lock().unwrap();
    match body {
        None => paged(&uri, &q, &repo.labels),
        Some(axum::Json(b)) => {
            if repo.labels.iter().any(|l| l["name"] == b["name"]) {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    axum::Json(json!({"message": "Validation Failed", "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}]})),
                )
                    .into_response();
            }
            repo.labels.push(b.clone());
            (StatusCode::CREATED, axum::Json(b)).into_response()
        }
    }
}

async fn milestones(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
    body: Option<axum::Json<Value>>,
) -> Response {
    if let Some(r) = check(&headers) {
        return r;
    }
    let mut repo = s.lock().unwrap();
    match body {
        None => paged(&uri, &q, &repo.milestones),
        Some(axum::Json(mut b)) => {
            b["number"] = json!(repo.milestones.len() + 1);
            repo.milestones.push(b.clone());
            (StatusCode::CREATED, axum::Json(b)).into_response()
        }
    }
}

async fn pulls(Query(q): Query<HashMap<String, String>>, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(r) = check(&headers) {
        return r;
    }
    let items: Vec<Value> = (1..=3)
        .map(|n| json!({"number": n, "state": "open", "base": {"ref": q.get("base")}}))
        .collect();
    paged(&uri, &q, &items)
}

async fn pull(Path((_o, _r, n)): Path<(String, String, u64)>, headers: HeaderMap) -> Response {
    if let Some(r) = check(&headers) {
        return r;
    }
    if n == 2 {
        axum::Json(json!({"number": 2, "title": "Add feature", "merged": false})).into_response()
    } else {
        gh_error(StatusCode::NOT_FOUND, "Not Found")
    }
}

async fn contents(
    Path((_o, _r, path)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = check(&headers) {
        return r;
    }
    axum::Json(json!({"path": path, "raw_path": uri.path(), "ref": q.get("ref"), "encoding": "base64", "content": "Zm4gbWFpbigpIHt9Cg=="})).into_response()
}

async fn search(Query(q): Query<HashMap<String, String>>, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(r) = check(&headers) {
        return r;
    }
    axum::Json(json!({"total_count": 1, "incomplete_results": false, "items": [{"q": q.get("q"), "path": uri.path(), "raw_query": uri.query()}]})).into_response()
}

async fn fake_github() -> (String, Shared) {
    let state: Shared = Arc::default();
    let api = Router::new()
        .route("/repos/{owner}/{repo}/issues", get(issues).post(issues))
        .route("/repos/{owner}/{repo}/issues/{n}", get(issue).patch(issue))
        .route(
            "/repos/{owner}/{repo}/issues/{n}/comments",
            get(comments).post(comments),
        )
        .route("/repos/{owner}/{repo}/labels", get(labels).post(labels))
        .route("/repos/{owner}/{repo}/milestones", get(milestones).post(milestones))
        .route("/repos/{owner}/{repo}/pulls", get(pulls))
        .route("/repos/{owner}/{repo}/pulls/{n}", get(pull))
        .route("/repos/{owner}/{repo}/contents/{*path}", get(contents))
        .route("/search/issues", get(search))
        .route("/search/code", get(search))
        .with_state(state.clone());
    let app = Router::new().nest("/api/v3", api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/api/v3"), state)
}

struct Gh {
    tools: HashMap<String, Arc<dyn Tool>>,
}

impl Gh {
    async fn new(token: &str) -> (Self, Shared) {
        let (base, state) = fake_github().await;
        let cfg = GithubConfig::new().with_base_url(base).with_token(Secret::new(token));
        let tools = github_tools(&cfg)
            .unwrap()
            .into_iter()
            .map(|t| (t.spec().name.clone(), t))
            .collect();
        (Self { tools }, state)
    }

    async fn call(&self, name: &str, args: Value) -> toolplane_core::ToolOutput {
        self.tools[name].call(&args, &CallContext::new("t")).await.unwrap()
    }
}

#[tokio::test]
async fn issues_create_list_paginate_get_update() {
    let (gh, _) = Gh::new(TOKEN).await;
    for i in 1..=5 {
        let out = gh
            .call(
                "github_issues_create",
                json!({"owner": "o", "repo": "r", "title": format!("Issue {i}"), "labels": ["bug"], "milestone": null}),
            )
            .await;
        assert_eq!(out.content["status"], 201, "{}", out.content);
        assert!(
            out.content["headers"]["location"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/issues/{i}"))
        );
    }
    let out = gh
        .call(
            "github_issues_list",
            json!({"owner": "o", "repo": "r", "per_page": 2, "labels": "bug"}),
        )
        .await;
    assert_eq!(out.content["body"].as_array().unwrap().len(), 2);
    assert_eq!(out.content["pagination"], json!({"next_page": 2, "last_page": 3}));
    assert_eq!(out.content["headers"]["x-ratelimit-remaining"], "4999");
    let out = gh
        .call(
            "github_issues_list",
            json!({"owner": "o", "repo": "r", "per_page": 2, "page": 3}),
        )
        .await;
    assert_eq!(out.content["body"][0]["title"], "Issue 5");
    assert_eq!(out.content["pagination"], json!({"prev_page": 2, "first_page": 1}));

    let out = gh
        .call(
            "github_issues_update",
            json!({"owner": "o", "repo": "r", "issue_number": 2, "state": "closed", "state_reason": "completed"}),
        )
        .await;
    assert_eq!(out.content["body"]["state"], "closed");
    let out = gh
        .call(
            "github_issues_get",
            json!({"owner": "o", "repo": "r", "issue_number": 2}),
        )
        .await;
    assert_eq!(
        (
            out.content["body"]["title"].as_str(),
            out.content["body"]["state_reason"].as_str()
        ),
        (Some("Issue 2"), Some("completed"))
    );
    let out = gh
        .call(
            "github_issues_list",
            json!({"owner": "o", "repo": "r", "state": "closed"}),
        )
        .await;
    assert_eq!(out.content["body"].as_array().unwrap().len(), 1);
    assert!(out.content.get("pagination").is_none());
}

#[tokio::test]
async fn comments_labels_milestones() {
    let (gh, state) = Gh::new(TOKEN).await;
    gh.call("github_issues_create", json!({"owner": "o", "repo": "r", "title": "T"}))
        .await;
    let out = gh
        .call(
            "github_issue_comments_create",
            json!({"owner": "o", "repo": "r", "issue_number": 1, "body": "LGTM"}),
        )
        .await;
    assert_eq!(out.content["status"], 201);
    let out = gh
        .call(
            "github_issue_comments_list",
            json!({"owner": "o", "repo": "r", "issue_number": 1}),
        )
        .await;
    assert_eq!(out.content["body"][0]["body"], "LGTM");

    let out = gh
        .call(
            "github_labels_create",
            json!({"owner": "o", "repo": "r", "name": "bug", "color": "f29513"}),
        )
        .await;
    assert_eq!(out.content["status"], 201);
    let dup = gh
        .call(
            "github_labels_create",
            json!({"owner": "o", "repo": "r", "name": "bug"}),
        )
        .await;
    assert!(dup.is_error);
    assert_eq!(dup.content["status"], 422);
    assert_eq!(dup.content["body"]["errors"][0]["code"], "already_exists");
    let out = gh.call("github_labels_list", json!({"owner": "o", "repo": "r"})).await;
    assert_eq!(out.content["body"], json!([{"name": "bug", "color": "f29513"}]));

    let out = gh
        .call(
            "github_milestones_create",
            json!({"owner": "o", "repo": "r", "title": "v1", "due_on": "2030-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(out.content["body"]["number"], 1);
    let out = gh
        .call(
            "github_milestones_list",
            json!({"owner": "o", "repo": "r", "state": "all"}),
        )
        .await;
    assert_eq!(out.content["body"][0]["title"], "v1");
    assert_eq!(state.lock().unwrap().milestones.len(), 1);
}

#[tokio::test]
async fn pulls_contents_and_search() {
    let (gh, _) = Gh::new(TOKEN).await;
    let out = gh
        .call(
            "github_pulls_list",
            json!({"owner": "o", "repo": "r", "base": "main", "per_page": 1}),
        )
        .await;
    assert_eq!(out.content["body"][0]["base"]["ref"], "main");
    assert_eq!(out.content["pagination"]["last_page"], 3);
    let out = gh
        .call("github_pulls_get", json!({"owner": "o", "repo": "r", "pull_number": 2}))
        .await;
    assert_eq!(out.content["body"]["title"], "Add feature");

    let out = gh
        .call(
            "github_repos_get_content",
            json!({"owner": "o", "repo": "r", "path": "src/main file.rs", "ref": "dev"}),
        )
        .await;
    assert_eq!(
        out.content["body"]["raw_path"],
        "/repos/o/r/contents/src/main%20file.rs"
    );
    assert_eq!(out.content["body"]["ref"], "dev");
    for sneaky in ["../../../search/code", "a/./b", "x/.."] {
        let e = gh.tools["github_repos_get_content"]
            .call(
                &json!({"owner": "o", "repo": "r", "path": sneaky}),
                &CallContext::new("t"),
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ToolErrorKind::InvalidArguments, "{sneaky}");
    }
    // A literal `%2e%2E` is data: its `%` is encoded, so no parser reads it as `..`.
    let out = gh
        .call(
            "github_repos_get_content",
            json!({"owner": "o", "repo": "r", "path": "%2e%2E/x"}),
        )
        .await;
    assert_eq!(out.content["body"]["raw_path"], "/repos/o/r/contents/%252e%252E/x");
    let out = gh
        .call(
            "github_repos_get_content",
            json!({"owner": "o", "repo": "r", "path": "docs/..hidden/a.b"}),
        )
        .await;
    assert_eq!(out.content["body"]["raw_path"], "/repos/o/r/contents/docs/..hidden/a.b");

    let out = gh
        .call(
            "github_search_issues",
            json!({"q": "repo:o/r is:issue label:bug", "sort": "created"}),
        )
        .await;
    assert_eq!(out.content["body"]["items"][0]["q"], "repo:o/r is:issue label:bug");
    assert_eq!(
        out.content["body"]["items"][0]["raw_query"],
        "q=repo%3Ao%2Fr%20is%3Aissue%20label%3Abug&sort=created"
    );
    let out = gh.call("github_search_code", json!({"q": "fn main repo:o/r"})).await;
    assert_eq!(out.content["body"]["items"][0]["path"], "/search/code");
}

#[tokio::test]
async fn error_answers_are_readable_results() {
    let (gh, _) = Gh::new(TOKEN).await;
    let out = gh
        .call(
            "github_issues_get",
            json!({"owner": "o", "repo": "r", "issue_number": 99}),
        )
        .await;
    assert!(out.is_error);
    assert_eq!(
        (out.content["status"].as_u64(), out.content["body"]["message"].as_str()),
        (Some(404), Some("Not Found"))
    );
    let out = gh
        .call("github_issues_create", json!({"owner": "o", "repo": "r", "title": ""}))
        .await;
    assert_eq!(out.content["status"], 422);
    assert_eq!(out.content["body"]["errors"][0]["field"], "title");
    let out = gh
        .call("github_issues_list", json!({"owner": "limited", "repo": "r"}))
        .await;
    assert!(out.is_error);
    assert!(out.content["hint"].as_str().unwrap().contains("1700000000"));
    let e = gh.tools["github_issues_get"]
        .call(&json!({"owner": "o", "repo": "r"}), &CallContext::new("t"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::InvalidArguments);
}

#[tokio::test]
async fn bad_token_is_a_401_result_without_the_token() {
    let (gh, _) = Gh::new("ghp_wrong_token_value").await;
    let out = gh.call("github_labels_list", json!({"owner": "o", "repo": "r"})).await;
    assert!(out.is_error);
    assert_eq!(out.content["body"]["message"], "Bad credentials");
    assert!(!out.content.to_string().contains("ghp_wrong_token_value"));
    assert!(!format!("{:?}", gh.tools["github_labels_list"]).contains("ghp_wrong_token_value"));
}

#[tokio::test]
async fn read_only_set_has_no_writes() {
    let (base, state) = fake_github().await;
    let cfg = GithubConfig::new()
        .with_base_url(base)
        .with_token(Secret::new(TOKEN))
        .with_read_only(true);
    let tools = github_tools(&cfg).unwrap();
    assert_eq!(tools.len(), 10);
    assert!(tools.iter().all(|t| t.spec().annotations.is_read_only()));
    assert!(
        !tools
            .iter()
            .any(|t| t.spec().name.ends_with("_create") || t.spec().name.ends_with("_update"))
    );
    let list = tools.iter().find(|t| t.spec().name == "github_labels_list").unwrap();
    list.call(&json!({"owner": "o", "repo": "r"}), &CallContext::new("t"))
        .await
        .unwrap();
    assert!(state.lock().unwrap().labels.is_empty());
}

#[test]
fn definitions_are_fifteen_with_unique_valid_names() {
    let defs = github_tool_definitions("github_");
    assert_eq!(defs.len(), 15);
    let mut names: Vec<&str> = defs.iter().map(|d| d.spec.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 15);
    for d in &defs {
        let n = &d.spec.name;
        assert!(
            n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{n}"
        );
        assert!(!d.spec.description.is_empty(), "{n}");
        assert!(d.spec.annotations.tags.contains(&"github".to_string()));
        assert_eq!(d.spec.input_schema["type"], "object");
        assert!(!d.spec.input_schema.to_string().to_lowercase().contains("token"), "{n}");
    }
    let get = defs.iter().find(|d| d.spec.name == "github_issues_get").unwrap();
    assert!(get.spec.annotations.is_read_only());
}
