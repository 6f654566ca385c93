#![allow(clippy::unwrap_used, clippy::panic)]
//! The spec-to-GitHub sample end to end through the real `toolplane-github`
//! tools and the registry's validating `Executor`: a scripted model plans, a
//! local fake GitHub (axum on 127.0.0.1) checks auth headers and bodies and
//! pages its lists with `Link` headers, and a second run creates nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use toolplane_core::{CallContext, ScriptedProvider};
use toolplane_github::{GithubConfig, Secret, github_tools};
#[path = "../examples/spec_to_github/sample/mod.rs"]
mod sample;

use sample::{SpecToGithub, apply_plan, spec_to_github};
use toolplane_registry::{Executor, ToolRegistry};

const TOKEN: &str = "ghp_test_token";

#[derive(Default)]
struct Repo {
    labels: Vec<Value>,
    milestones: Vec<Value>,
    issues: Vec<Value>,
    writes: Vec<(String, Value)>,
    rejected: Vec<String>,
    /// Every list request: `labels per_page=100 page=1`.
    lists: Vec<String>,
    /// Answer every request as GitHub does when the rate limit is spent.
    rate_limited: bool,
}

type Shared = Arc<Mutex<Repo>>;

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest"})),
    )
        .into_response()
}

/// GitHub refuses requests without a User-Agent, and answers 401 to a bad token.
fn header_problem(headers: &HeaderMap, method: &Method, repo: &Shared, uri: &Uri) -> Option<Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let ok_auth = auth == format!("Bearer {TOKEN}") || auth == format!("token {TOKEN}");
    let ua = headers.get("user-agent").is_some_and(|v| !v.is_empty());
    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or("");
    let json_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .starts_with("application/json");
    let version = headers.get("x-github-api-version").and_then(|v| v.to_str().ok());
    let problem = if !ok_auth {
        Some((StatusCode::UNAUTHORIZED, "Bad credentials"))
    } else if !ua {
        Some((
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        ))
    } else if !accept.contains("application/vnd.github+json") {
        Some((StatusCode::BAD_REQUEST, "Accept must be application/vnd.github+json"))
    } else if version != Some("2022-11-28") {
        Some((StatusCode::BAD_REQUEST, "X-GitHub-Api-Version must be 2022-11-28"))
    } else if *method == Method::POST && !json_body {
        Some((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        ))
    } else {
        None
    };
    if problem.is_none() && repo.lock().unwrap().rate_limited {
        let body = json!({"message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs.github.com/rest"});
        let headers = [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1700000000")];
        return Some((StatusCode::FORBIDDEN, headers, axum::Json(body)).into_response());
    }
    match problem {
        Some((status, msg)) => {
            repo.lock().unwrap().rejected.push(format!("{method} {uri}: {msg}"));
            Some(error(status, msg))
        }
        None => None,
    }
}

/// One page of a list as GitHub serves it: at most `max_per_page` items
/// whatever was asked, and a `Link` header naming the next and last pages.
fn list_page(
    repo: &mut Repo,
    kind: &str,
    items: &[Value],
    q: &HashMap<String, String>,
    max_per_page: usize,
    headers: &HeaderMap,
    uri: &Uri,
) -> Response {
    let asked = q.get("per_page").cloned().unwrap_or_else(|| "30".into());
    let per_page: usize = asked.parse::<usize>().unwrap_or(30).clamp(1, max_per_page);
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    repo.lists.push(format!("{kind} per_page={asked} page={page}"));
    let last = items.len().div_ceil(per_page).max(1);
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let link = |p: usize, rel: &str| format!("<http://{host}{}?per_page={asked}&page={p}>; rel=\"{rel}\"", uri.path());
    let mut links = Vec::new();
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
        links.push(link(page - 1, "prev"));
    }
    let body: Vec<Value> = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    let mut response = axum::Json(body).into_response();
    if !links.is_empty() {
        response.headers_mut().insert("link", links.join(", ").parse().unwrap());
    }
    response
}

async fn labels(
    State(repo): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Option<axum::Json<Value>>,
) -> Response {
    if let Some(r) = header_problem(&headers, &method, &repo, &uri) {
        return r;
    }
    let mut r = repo.lock().unwrap();
    if method == Method::GET {
        // A lower page maximum than asked for: only following `Link` finds page 2.
        let all = r.labels.clone();
        return list_page(&mut r, "labels", &all, &q, 30, &headers, &uri);
    }
    let body = body.map(|b| b.0).unwrap_or_default();
    let Some(label) = body["name"].as_str() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "name is missing");
    };
    let color = body["color"].as_str().unwrap_or("");
    if color.len() != 6 || !color.chars().all(|c| c.is_ascii_hexdigit()) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "color must be 6 hex digits");
    }
    if r.labels
        .iter()
        .any(|l| l["name"].as_str().unwrap().eq_ignore_ascii_case(label))
    {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: already_exists");
    }
    let created = json!({
        "id": r.labels.len() + 1,
        "name": label,
        "color": color,
        "description": body["description"],
        "url": format!("https://api.github.com/repos/{owner}/{name}/labels/{label}")
    });
    r.labels.push(created.clone());
    r.writes.push(("label".into(), body));
    (StatusCode::CREATED, axum::Json(created)).into_response()
}

async fn milestones(
    State(repo): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Option<axum::Json<Value>>,
) -> Response {
    if let Some(r) = header_problem(&headers, &method, &repo, &uri) {
        return r;
    }
    let mut r = repo.lock().unwrap();
    if method == Method::GET {
        let state = q.get("state").map(String::as_str).unwrap_or("open");
        let all: Vec<Value> = r
            .milestones
            .iter()
            .filter(|m| state == "all" || m["state"] == state)
            .cloned()
            .collect();
        return list_page(&mut r, "milestones", &all, &q, 100, &headers, &uri);
    }
    let body = body.map(|b| b.0).unwrap_or_default();
    let Some(title) = body["title"].as_str().filter(|t| !t.is_empty()) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "title is missing");
    };
    if r.milestones.iter().any(|m| m["title"] == title) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: already_exists");
    }
    let number = r.milestones.len() + 1;
    let created = json!({
        "number": number, "title": title, "state": "open", "description": body["description"],
        "html_url": format!("https://github.com/{owner}/{name}/milestone/{number}")
    });
    r.milestones.push(created.clone());
    r.writes.push(("milestone".into(), body));
    (StatusCode::CREATED, axum::Json(created)).into_response()
}

async fn issues(
    State(repo): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Option<axum::Json<Value>>,
) -> Response {
    if let Some(r) = header_problem(&headers, &method, &repo, &uri) {
        return r;
    }
    let mut r = repo.lock().unwrap();
    if method == Method::GET {
        let state = q.get("state").map(String::as_str).unwrap_or("open");
        let all: Vec<Value> = r
            .issues
            .iter()
            .filter(|i| state == "all" || i["state"] == state)
            .cloned()
            .collect();
        return list_page(&mut r, "issues", &all, &q, 100, &headers, &uri);
    }
    let body = body.map(|b| b.0).unwrap_or_default();
    let Some(title) = body["title"].as_str().filter(|t| !t.is_empty()) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "title is missing");
    };
    for label in body["labels"].as_array().cloned().unwrap_or_default() {
        if !r.labels.iter().any(|l| l["name"] == label) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("label {label} does not exist"),
            );
        }
    }
    if let Some(m) = body.get("milestone") {
        if !r.milestones.iter().any(|x| &x["number"] == m) {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "milestone does not exist");
        }
    }
    let number = r.issues.len() + 1;
    let created = json!({
        "number": number, "title": title, "body": body["body"], "state": "open",
        "labels": body["labels"], "milestone": body["milestone"],
        "html_url": format!("https://github.com/{owner}/{name}/issues/{number}")
    });
    r.issues.push(created.clone());
    r.writes.push(("issue".into(), body));
    (StatusCode::CREATED, axum::Json(created)).into_response()
}

async fn fake_github(repo: Shared) -> String {
    let app = Router::new()
        .route("/repos/{owner}/{repo}/labels", get(labels).post(labels))
        .route("/repos/{owner}/{repo}/milestones", get(milestones).post(milestones))
        .route("/repos/{owner}/{repo}/issues", get(issues).post(issues))
        .with_state(repo);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// The real GitHub tool set pointed at the fake, behind the registry's validating executor
/// (default limits: 64 KiB of output per call, on top of the tools' 96 KiB).
fn github_executor(base: &str, token: &str) -> Executor {
    let config = GithubConfig::new().with_base_url(base).with_token(Secret::new(token));
    let mut registry = ToolRegistry::new();
    registry.register_all(github_tools(&config).unwrap()).unwrap();
    Executor::new(registry)
}

const SPEC: &str = "# Team calendar\n\nUsers see a shared calendar, can add events, and get reminders by email.\n";

fn plan() -> Value {
    json!({
        "milestone": {"title": "Team calendar v1", "description": "The first usable calendar."},
        "issues": [
            {"title": "Shared calendar view", "body": "Render the month view.", "labels": ["feature", "Bug"],
             "acceptance_criteria": ["Shows all team events", "Loads in under 1 s"]},
            {"title": "Add events", "body": "A form to add an event.", "labels": ["feature"],
             "acceptance_criteria": ["Saves title, time and place"]},
            {"title": "Email reminders", "body": "Remind attendees.", "labels": ["feature", "infra"],
             "acceptance_criteria": ["Sends one email 15 minutes before"]}
        ]
    })
}

fn seeded_repo() -> Shared {
    let mut r = Repo::default();
    // 40 other labels put `bug` on the second page (the fake serves 30 labels a page).
    for n in 1..=40 {
        r.labels
            .push(json!({"id": n, "name": format!("area-{n}"), "color": "ededed",
            "url": format!("https://api.github.com/repos/acme/cal/labels/area-{n}")}));
    }
    r.labels.push(
        json!({"id": 41, "name": "bug", "color": "d73a4a", "url": "https://api.github.com/repos/acme/cal/labels/bug"}),
    );
    // 120 unrelated issues push the matching one onto a later page; their
    // bodies make a page of 100 larger than the tools' 96 KiB, so the run
    // must ask again in pages of 50.
    for n in 1..=120 {
        r.issues.push(
            json!({"number": n, "title": format!("Old issue {n}"), "body": "Some history. ".repeat(65), "state": "closed",
            "html_url": format!("https://github.com/acme/cal/issues/{n}")}),
        );
    }
    r.issues.push(
        json!({"number": 121, "title": "Add events", "body": "Filed by hand earlier.", "state": "open",
        "html_url": "https://github.com/acme/cal/issues/121"}),
    );
    // A pull request with a planned title must not count as the issue.
    r.issues.push(
        json!({"number": 122, "title": "Email reminders", "body": "", "state": "open",
        "pull_request": {"url": "https://api.github.com/repos/acme/cal/pulls/122"},
        "html_url": "https://github.com/acme/cal/pull/122"}),
    );
    Arc::new(Mutex::new(r))
}

#[tokio::test]
async fn a_spec_becomes_labels_a_milestone_and_issues_once() {
    let repo = seeded_repo();
    let base = fake_github(repo.clone()).await;
    let github = github_executor(&base, TOKEN);
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            // The first plan forgets acceptance criteria; the schema check sends it back.
            .with_text(r#"{"milestone": {"title": "Team calendar v1", "description": ""}, "issues": [{"title": "x", "body": "", "labels": []}]}"#)
            .with_text(format!("```json\n{}\n```", plan())),
    );
    let options = SpecToGithub::new("acme", "cal", "gpt-4o-mini");
    let ctx = CallContext::new("spec-1");

    let report = spec_to_github(provider.clone(), &github, SPEC, &options, &ctx)
        .await
        .unwrap();

    // The model saw the spec and, the second time, what was wrong with its first plan.
    let reqs = provider.requests();
    assert!(reqs[0].messages[1].text().contains("Team calendar"));
    assert_eq!(reqs[0].metadata.task_type.as_deref(), Some("planning"));
    assert_eq!(reqs[0].max_tokens, Some(crate::sample::PLAN_MAX_TOKENS));
    assert!(reqs[1].messages.last().unwrap().text().contains("acceptance_criteria"));

    {
        let r = repo.lock().unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        let kinds: Vec<&str> = r.writes.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            ["label", "label", "milestone", "issue", "issue"],
            "`bug` existed, `Add events` existed"
        );
        assert_eq!(r.writes[0].1["name"], "feature");
        assert_eq!(r.writes[1].1["name"], "infra");
        let issue = &r.writes[3].1;
        assert_eq!(issue["title"], "Shared calendar view");
        assert_eq!(
            issue["labels"],
            json!(["feature", "bug"]),
            "the repository's spelling of `Bug`"
        );
        assert_eq!(issue["milestone"], 1);
        let body = issue["body"].as_str().unwrap();
        assert!(
            body.contains("- [ ] Shows all team events") && body.contains("toolplane-spec-item: shared-calendar-view")
        );
        assert_eq!(
            r.writes[4].1["title"], "Email reminders",
            "a pull request of that title is not the issue"
        );
        // Labels: page 2 came from `pagination.next_page` (page 1 held 30 of the 100 asked for).
        // Issues: a page of 100 was cut by the output limit, so the same items were read in pages of 50.
        assert_eq!(
            r.lists,
            [
                "labels per_page=100 page=1",
                "labels per_page=100 page=2",
                "milestones per_page=100 page=1",
                "issues per_page=100 page=1",
                "issues per_page=50 page=1",
                "issues per_page=50 page=2",
                "issues per_page=50 page=3",
            ]
        );
    }

    assert_eq!(report.created_count(), 5);
    assert_eq!(report.milestone.url, "https://github.com/acme/cal/milestone/1");
    let links: Vec<(&str, bool)> = report.issues.iter().map(|i| (i.url.as_str(), i.created)).collect();
    assert_eq!(
        links,
        [
            ("https://github.com/acme/cal/issues/123", true),
            ("https://github.com/acme/cal/issues/121", false),
            ("https://github.com/acme/cal/issues/124", true),
        ]
    );
    assert_eq!(
        report.labels.iter().find(|l| l.title == "bug").map(|l| l.created),
        Some(false)
    );
    assert_eq!(report.usage.total_tokens(), 30);

    // Run again with the same plan: nothing new.
    let again = apply_plan(&github, &report.plan, &options, &ctx).await.unwrap();
    assert_eq!(again.created_count(), 0);
    assert_eq!(repo.lock().unwrap().writes.len(), 5);
    assert_eq!(again.issues[0].url, "https://github.com/acme/cal/issues/123");
    assert_eq!(again.labels.iter().filter(|l| !l.created).count(), 3);
    assert!(repo.lock().unwrap().rejected.is_empty());

    // Run the whole flow again, the model planning the same way: still nothing new.
    let provider = Arc::new(ScriptedProvider::new("scripted").with_text(plan().to_string()));
    let third = spec_to_github(provider, &github, SPEC, &options, &ctx).await.unwrap();
    assert_eq!(third.created_count(), 0);
    assert_eq!(repo.lock().unwrap().writes.len(), 5);
}

#[test]
fn the_default_tool_names_are_the_toolplane_github_tools() {
    use crate::sample::GithubToolNames;
    for (names, config) in [
        (GithubToolNames::default(), GithubConfig::new()),
        (
            GithubToolNames::toolplane_github("gh_"),
            GithubConfig::new().with_prefix("gh_"),
        ),
    ] {
        let tools = github_tools(&config).unwrap();
        let have: Vec<&str> = tools.iter().map(|t| t.spec().name.as_str()).collect();
        for name in [
            &names.list_labels,
            &names.create_label,
            &names.list_milestones,
            &names.create_milestone,
            &names.list_issues,
            &names.create_issue,
        ] {
            assert!(have.contains(&name.as_str()), "{name} is not among {have:?}");
        }
    }
}

#[tokio::test]
async fn a_bad_token_is_reported_with_githubs_message() {
    let repo = seeded_repo();
    let base = fake_github(repo.clone()).await;
    let github = github_executor(&base, "wrong");
    let provider = Arc::new(ScriptedProvider::new("scripted").with_text(plan().to_string()));
    let err = spec_to_github(
        provider,
        &github,
        SPEC,
        &SpecToGithub::new("acme", "cal", "m"),
        &CallContext::new("r"),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("`github_labels_list`") && msg.contains("HTTP 401: Bad credentials"),
        "{msg}"
    );
    assert!(!err.is_retryable());
    assert_eq!(repo.lock().unwrap().writes.len(), 0);
}

#[tokio::test]
async fn a_spent_rate_limit_is_retryable_and_says_when_it_resets() {
    let repo = seeded_repo();
    repo.lock().unwrap().rate_limited = true;
    let base = fake_github(repo.clone()).await;
    let github = github_executor(&base, TOKEN);
    let plan = serde_json::from_value(plan()).unwrap();
    let err = apply_plan(
        &github,
        &plan,
        &SpecToGithub::new("acme", "cal", "m"),
        &CallContext::new("r"),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("HTTP 403: API rate limit exceeded") && msg.contains("1700000000"),
        "{msg}"
    );
    assert!(err.is_retryable());
    assert_eq!(repo.lock().unwrap().writes.len(), 0);
}

#[tokio::test]
async fn an_empty_spec_or_a_plan_that_never_conforms_stops_before_github() {
    let repo = seeded_repo();
    let base = fake_github(repo.clone()).await;
    let github = github_executor(&base, TOKEN);
    let options = SpecToGithub::new("acme", "cal", "m");
    let provider = Arc::new(ScriptedProvider::new("scripted"));
    let err = spec_to_github(provider, &github, "  \n", &options, &CallContext::new("r"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "the spec is empty");

    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_text("not json")
            .with_text("{}")
            .with_text(r#"{"issues": []}"#),
    );
    let err = spec_to_github(provider, &github, SPEC, &options, &CallContext::new("r"))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("3 attempt(s)") && msg.contains("milestone"), "{msg}");
    assert_eq!(repo.lock().unwrap().writes.len(), 0);
}

#[tokio::test]
async fn titles_that_differ_only_in_punctuation_are_rejected_before_github() {
    use crate::sample::{IssuePlan, SpecToGithubError, plan_issues};
    let repo = seeded_repo();
    let base = fake_github(repo.clone()).await;
    let github = github_executor(&base, TOKEN);
    let options = SpecToGithub::new("acme", "cal", "m");
    let mut colliding = plan();
    colliding["issues"][1]["title"] = json!("Add OAuth login");
    colliding["issues"][2]["title"] = json!("Add OAuth-login!");

    // A plan from the model is refused when it is made.
    let provider = Arc::new(ScriptedProvider::new("scripted").with_text(colliding.to_string()));
    let err = plan_issues(provider, SPEC, &options, &CallContext::new("r"))
        .await
        .unwrap_err();
    assert!(matches!(err, SpecToGithubError::InvalidPlan(_)), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("`Add OAuth login`") && msg.contains("`Add OAuth-login!`"),
        "both titles are named: {msg}"
    );

    // A saved plan is refused before any GitHub call.
    let saved: IssuePlan = serde_json::from_value(colliding).unwrap();
    let err = apply_plan(&github, &saved, &options, &CallContext::new("r"))
        .await
        .unwrap_err();
    assert!(matches!(err, SpecToGithubError::InvalidPlan(_)), "{err}");
    assert!(
        err.to_string().contains("add-oauth-login"),
        "the shared marker is named: {err}"
    );
    assert_eq!(repo.lock().unwrap().writes.len(), 0);

    // A title with no letter or digit has no marker at all.
    let mut blank = plan();
    blank["issues"][0]["title"] = json!("???");
    let blank: IssuePlan = serde_json::from_value(blank).unwrap();
    let err = apply_plan(&github, &blank, &options, &CallContext::new("r"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`???`"), "{err}");
    assert_eq!(repo.lock().unwrap().writes.len(), 0);
}
