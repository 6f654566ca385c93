//! The curated operations, hand-written after GitHub's REST description
//! (`@octokit/openapi` `api.github.com.json`): same operationIds, methods,
//! paths, parameter names and body properties; only the parameters an agent
//! needs are kept. A test checks them against the description when the
//! corpus is present.

use serde_json::{Value, json};
use toolplane_openapi::ConvertedTool;
use toolplane_openapi::http::OperationBuilder;

fn repo(b: OperationBuilder) -> OperationBuilder {
    b.path_param("owner", "The account owner of the repository (not case sensitive).")
        .path_param(
            "repo",
            "The name of the repository without the .git extension (not case sensitive).",
        )
}

fn paging(b: OperationBuilder) -> OperationBuilder {
    b.query(
        "per_page",
        json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 30}),
        "The number of results per page (max 100).",
        false,
    )
    .query(
        "page",
        json!({"type": "integer", "minimum": 1, "default": 1}),
        "The page number of the results to fetch; the `link` header's rel=\"next\" names the next one.",
        false,
    )
}

fn direction(b: OperationBuilder) -> OperationBuilder {
    b.query(
        "direction",
        json!({"type": "string", "enum": ["asc", "desc"]}),
        "The direction to sort the results by.",
        false,
    )
}

fn issue_number(b: OperationBuilder) -> OperationBuilder {
    b.path_param_typed(
        "issue_number",
        json!({"type": "integer"}),
        "The number that identifies the issue.",
    )
}

fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

fn issues() -> Vec<OperationBuilder> {
    let list = repo(OperationBuilder::get("issues_list", "/repos/{owner}/{repo}/issues"))
        .operation_id("issues/list-for-repo")
        .description("List issues in a repository (pull requests are included; they carry a `pull_request` key).")
        .query(
            "milestone",
            json!({"type": "string"}),
            "A milestone number, `*` for any, or `none`.",
            false,
        )
        .query(
            "state",
            json!({"type": "string", "enum": ["open", "closed", "all"], "default": "open"}),
            "Indicates the state of the issues to return.",
            false,
        )
        .query(
            "assignee",
            json!({"type": "string"}),
            "A user login, `none` or `*`.",
            false,
        )
        .query(
            "creator",
            json!({"type": "string"}),
            "The user that created the issue.",
            false,
        )
        .query(
            "labels",
            json!({"type": "string"}),
            "A list of comma separated label names, e.g. `bug,ui`.",
            false,
        )
        .query(
            "sort",
            json!({"type": "string", "enum": ["created", "updated", "comments"], "default": "created"}),
            "What to sort results by.",
            false,
        );
    let list = paging(direction(list).query(
        "since",
        json!({"type": "string", "format": "date-time"}),
        "Only issues updated at or after this time (ISO 8601).",
        false,
    ));
    let get = issue_number(repo(OperationBuilder::get(
        "issues_get",
        "/repos/{owner}/{repo}/issues/{issue_number}",
    )))
    .operation_id("issues/get")
    .description("Get one issue (or pull request) by number.");
    let create = repo(OperationBuilder::post("issues_create", "/repos/{owner}/{repo}/issues"))
        .operation_id("issues/create")
        .description("Create an issue.")
        .body_property("title", json!({"type": "string"}), "The title of the issue.", true)
        .body_property(
            "body",
            json!({"type": "string"}),
            "The contents of the issue (Markdown).",
            false,
        )
        .body_property("assignees", strings(), "Logins of users to assign.", false)
        .body_property(
            "milestone",
            json!({"type": ["integer", "null"]}),
            "The number of the milestone to associate this issue with.",
            false,
        )
        .body_property("labels", strings(), "Labels to associate with this issue.", false);
    let update = issue_number(repo(OperationBuilder::patch(
        "issues_update",
        "/repos/{owner}/{repo}/issues/{issue_number}",
    )))
    .operation_id("issues/update")
    .description("Update an issue: title, body, state, labels, assignees or milestone. Omitted fields are kept.")
    .body_property("title", json!({"type": "string"}), "The title of the issue.", false)
    .body_property("body", json!({"type": "string"}), "The contents of the issue.", false)
    .body_property(
        "state",
        json!({"type": "string", "enum": ["open", "closed"]}),
        "The open or closed state.",
        false,
    )
    .body_property(
        "state_reason",
        json!({"type": ["string", "null"], "enum": ["completed", "not_planned", "reopened", null]}),
        "The reason for the state change; ignored unless `state` changes.",
        false,
    )
    .body_property(
        "milestone",
        json!({"type": ["integer", "null"]}),
        "The milestone number, or null to remove the milestone.",
        false,
    )
    .body_property("labels", strings(), "Replaces all labels of the issue.", false)
    .body_property("assignees", strings(), "Replaces all assignees of the issue.", false);
    vec![list, get, create, update]
}

fn comments_labels_milestones() -> Vec<OperationBuilder> {
    let comments_list = paging(
        issue_number(repo(OperationBuilder::get(
            "issue_comments_list",
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        )))
        .operation_id("issues/list-comments")
        .description("List the comments of an issue or pull request, oldest first.")
        .query(
            "since",
            json!({"type": "string", "format": "date-time"}),
            "Only comments updated at or after this time (ISO 8601).",
            false,
        ),
    );
    let comments_create = issue_number(repo(OperationBuilder::post(
        "issue_comments_create",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    )))
    .operation_id("issues/create-comment")
    .description("Add a comment to an issue or pull request.")
    .body_property(
        "body",
        json!({"type": "string"}),
        "The contents of the comment (Markdown).",
        true,
    );
    let labels_list = paging(repo(OperationBuilder::get(
        "labels_list",
        "/repos/{owner}/{repo}/labels",
    )))
    .operation_id("issues/list-labels-for-repo")
    .description("List the labels of a repository.");
    let labels_create = repo(OperationBuilder::post("labels_create", "/repos/{owner}/{repo}/labels"))
        .operation_id("issues/create-label")
        .description("Create a label.")
        .body_property(
            "name",
            json!({"type": "string"}),
            "The name of the label (emoji allowed).",
            true,
        )
        .body_property(
            "color",
            json!({"type": "string", "pattern": "^[0-9a-fA-F]{6}$"}),
            "The hexadecimal color code without the leading #, e.g. `f29513`.",
            false,
        )
        .body_property(
            "description",
            json!({"type": "string"}),
            "A short description (100 characters or fewer).",
            false,
        );
    let milestones_list = repo(OperationBuilder::get(
        "milestones_list",
        "/repos/{owner}/{repo}/milestones",
    ))
    .operation_id("issues/list-milestones")
    .description("List the milestones of a repository.")
    .query(
        "state",
        json!({"type": "string", "enum": ["open", "closed", "all"], "default": "open"}),
        "The state of the milestones to return.",
        false,
    )
    .query(
        "sort",
        json!({"type": "string", "enum": ["due_on", "completeness"], "default": "due_on"}),
        "What to sort results by.",
        false,
    );
    let milestones_list = paging(direction(milestones_list));
    let milestones_create = repo(OperationBuilder::post(
        "milestones_create",
        "/repos/{owner}/{repo}/milestones",
    ))
    .operation_id("issues/create-milestone")
    .description("Create a milestone.")
    .body_property("title", json!({"type": "string"}), "The title of the milestone.", true)
    .body_property(
        "state",
        json!({"type": "string", "enum": ["open", "closed"]}),
        "The state of the milestone.",
        false,
    )
    .body_property(
        "description",
        json!({"type": "string"}),
        "A description of the milestone.",
        false,
    )
    .body_property(
        "due_on",
        json!({"type": "string", "format": "date-time"}),
        "The due date (ISO 8601, e.g. `2012-10-09T23:39:01Z`).",
        false,
    );
    vec![
        comments_list,
        comments_create,
        labels_list,
        labels_create,
        milestones_list,
        milestones_create,
    ]
}

fn pulls_contents_search() -> Vec<OperationBuilder> {
    let pulls_list = repo(OperationBuilder::get("pulls_list", "/repos/{owner}/{repo}/pulls"))
        .operation_id("pulls/list")
        .description("List pull requests of a repository.")
        .query(
            "state",
            json!({"type": "string", "enum": ["open", "closed", "all"], "default": "open"}),
            "Either `open`, `closed`, or `all`.",
            false,
        )
        .query("head", json!({"type": "string"}), "Filter by head user or organization and branch: `user:ref-name`.", false)
        .query("base", json!({"type": "string"}), "Filter by base branch name.", false)
        .query(
            "sort",
            json!({"type": "string", "enum": ["created", "updated", "popularity", "long-running"], "default": "created"}),
            "What to sort results by.",
            false,
        );
    let pulls_list = paging(direction(pulls_list));
    let pulls_get = repo(OperationBuilder::get(
        "pulls_get",
        "/repos/{owner}/{repo}/pulls/{pull_number}",
    ))
    .path_param_typed(
        "pull_number",
        json!({"type": "integer"}),
        "The number that identifies the pull request.",
    )
    .operation_id("pulls/get")
    .description("Get one pull request by number.");
    let contents = repo(OperationBuilder::get(
        "repos_get_content",
        "/repos/{owner}/{repo}/contents/{path}",
    ))
    .path_param_with_slashes(
        "path",
        "The file or directory path in the repository, e.g. `src/main.rs`.",
    )
    .query(
        "ref",
        json!({"type": "string"}),
        "The name of the commit, branch or tag (default: the default branch).",
        false,
    )
    .operation_id("repos/get-content")
    .description("Get a file (content base64-encoded in `content`) or a directory listing from a repository.");
    let search = |name: &str, path: &str, op: &str, what: &str, sorts: Value| {
        paging(
            OperationBuilder::get(name, path)
                .operation_id(op)
                .description(format!("Search {what} with GitHub's search syntax."))
                .query(
                    "q",
                    json!({"type": "string"}),
                    "The query: keywords and qualifiers, e.g. `repo:owner/name is:issue is:open label:bug`.",
                    true,
                )
                .query("sort", sorts, "Sorts the results (default: best match).", false)
                .query(
                    "order",
                    json!({"type": "string", "enum": ["desc", "asc"], "default": "desc"}),
                    "The order of the results; ignored without `sort`.",
                    false,
                ),
        )
    };
    let search_issues = search(
        "search_issues",
        "/search/issues",
        "search/issues-and-pull-requests",
        "issues and pull requests",
        json!({"type": "string", "enum": ["comments", "reactions", "created", "updated", "interactions"]}),
    );
    let search_code = search(
        "search_code",
        "/search/code",
        "search/code",
        "code (needs a token)",
        json!({"type": "string", "enum": ["indexed"]}),
    );
    vec![pulls_list, pulls_get, contents, search_issues, search_code]
}

/// The curated tools, with `prefix` before every name and tags set.
pub(crate) fn curated(prefix: &str) -> Vec<ConvertedTool> {
    let mut all = issues();
    all.extend(comments_labels_milestones());
    all.extend(pulls_contents_search());
    all.into_iter()
        .map(|b| {
            let mut t = b.tag("github").build();
            t.spec.name = format!("{prefix}{}", t.spec.name);
            if let Some(area) = t.operation_id.as_deref().and_then(|id| id.split('/').next()) {
                t.spec.annotations.tags.push(area.to_owned());
            }
            t
        })
        .collect()
}
