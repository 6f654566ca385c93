//! Applying a plan to a repository: list first, create only what is missing.

use serde_json::{Value, json};
use toolplane_core::{CallContext, Usage};

use super::calls::GithubCalls;
use super::{GithubLink, IssuePlan, PlannedIssue, SpecToGithub, SpecToGithubError, SpecToGithubReport};
use toolplane_pipeline::ToolExecutor;

/// Creates the plan's labels, milestone and issues that the repository does
/// not have yet, and returns every one with its link.
///
/// # Errors
/// [`SpecToGithubError::InvalidPlan`] (see [`IssuePlan::validate`]) before any
/// GitHub call; [`SpecToGithubError::Github`] naming the tool and GitHub's message.
pub async fn apply_plan(
    github: &dyn ToolExecutor,
    plan: &IssuePlan,
    options: &SpecToGithub,
    ctx: &CallContext,
) -> Result<SpecToGithubReport, SpecToGithubError> {
    plan.validate()?;
    let api = GithubCalls { github, options, ctx };
    let names = &options.tools;

    // Labels: GitHub compares label names case-insensitively.
    let existing = api.list_all(&names.list_labels, &json!({})).await?;
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
    let milestones = api.list_all(&names.list_milestones, &json!({"state": "all"})).await?;
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
        .list_all(&names.list_issues, &json!({"state": "all"}))
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

/// The part of a title the marker keeps: lowercase letters and digits, runs
/// of anything else as one `-`. Titles that differ only in case or
/// punctuation share a slug (and so a marker).
pub(super) fn issue_slug(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn issue_marker(title: &str) -> String {
    format!("<!-- toolplane-spec-item: {} -->", issue_slug(title))
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
}
