#![allow(clippy::unwrap_used, clippy::panic)]
//! A folder of five skills, two of them broken: loading, selection,
//! progressive disclosure, resources and tool narrowing.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use toolplane_core::{CallContext, Tool, ToolCall, ToolErrorKind, ToolInvocation, ToolNext, ToolOutput, ToolSpec};
use toolplane_skills::{SkillErrorKind, SkillSession, SkillSet};

fn skills_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/skills")
}

fn session() -> Arc<SkillSession> {
    let report = SkillSet::load_dir(skills_dir()).unwrap();
    SkillSession::new(Arc::new(report.skills))
}

#[test]
fn good_skills_load_and_broken_ones_are_reported_with_file_and_line() {
    let report = SkillSet::load_dir(skills_dir()).unwrap();
    let names: Vec<&str> = report.skills.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["github-triage", "pdf-forms", "sql-reports"]);
    assert_eq!(report.errors.len(), 2, "{:?}", report.errors);

    let yaml = &report.errors[0];
    assert_eq!(yaml.kind(), SkillErrorKind::InvalidFrontMatter);
    assert!(yaml.path().ends_with("broken-yaml/SKILL.md"));
    // The unclosed list opens on line 3 of the file; YAML notices it on line 3 or later.
    let line = yaml.line().unwrap();
    assert!((3..=5).contains(&line), "line {line}: {yaml}");
    assert!(yaml.to_string().contains(&format!("SKILL.md:{line}")), "{yaml}");

    let missing = &report.errors[1];
    assert_eq!(missing.kind(), SkillErrorKind::MissingField);
    assert!(missing.path().ends_with("missing-description/SKILL.md"));
    assert!(missing.message().contains("description"));

    let triage = report.skills.get("github-triage").unwrap();
    assert_eq!(triage.resources(), ["reference/labels.md"]);
    assert_eq!(triage.metadata()["owner"], "platform-team");
    assert_eq!(report.skills.get("pdf-forms").unwrap().license(), Some("Apache-2.0"));
    assert_eq!(
        report.skills.get("sql-reports").unwrap().allowed_tools().unwrap(),
        ["db.query", "fs.write"]
    );
}

#[test]
fn selection_ranks_by_description_and_keeps_top_k() {
    let report = SkillSet::load_dir(skills_dir()).unwrap();
    let skills = report.skills;
    let top = skills.select("label the new GitHub issues and close duplicates", 2);
    assert_eq!(top[0].skill.name(), "github-triage");
    assert!(top.len() <= 2);

    let top = skills.select("extract tables from a PDF document", 1);
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].skill.name(), "pdf-forms");

    let top = skills.select("weekly report from the warehouse", 3);
    assert_eq!(top[0].skill.name(), "sql-reports");
    assert!(top.iter().all(|m| m.score > 0.0));

    assert!(skills.select("bake sourdough bread", 3).is_empty());
}

#[test]
fn progressive_disclosure_names_then_body_then_resources() {
    let session = session();
    let prompt = session.prompt_for("triage github issues", 2);
    assert!(prompt.contains("github-triage: Triage GitHub issues"));
    assert!(
        !prompt.contains("Apply labels from"),
        "the body stays out until the skill is chosen"
    );

    let body = session.activate("github-triage").unwrap();
    assert!(body.contains("Apply labels from"));
    let prompt = session.prompt_for("triage github issues", 2);
    assert!(prompt.contains("## Active skill: github-triage"));
    assert!(prompt.contains("Apply labels from"));
    assert!(prompt.contains("reference/labels.md"));
    assert!(
        !prompt.contains("bug: something is broken"),
        "resources stay on disk until read"
    );

    let labels = session.read_resource("github-triage", "reference/labels.md").unwrap();
    assert!(labels.contains("bug: something is broken"));
}

#[tokio::test]
async fn the_internal_tools_activate_and_read_within_the_folder_only() {
    let session = session();
    let tools = session.tools();
    let activate = tools.iter().find(|t| t.spec().name == "skills.activate").unwrap();
    let read = tools.iter().find(|t| t.spec().name == "skills.read_resource").unwrap();
    let ctx = CallContext::default();

    let err = read
        .call(&json!({"skill": "pdf-forms", "path": "scripts/fill.py"}), &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::NotFound, "not active yet: {err}");

    let out = activate.call(&json!({"name": "pdf-forms"}), &ctx).await.unwrap();
    assert_eq!(out.content["resources"], json!(["scripts/fill.py"]));
    let out = read
        .call(&json!({"skill": "pdf-forms", "path": "scripts/fill.py"}), &ctx)
        .await
        .unwrap();
    assert_eq!(out.content, json!("print(\"filling\")\n"));

    for escape in [
        "../secret.txt",
        "/etc/passwd",
        "scripts/../../secret.txt",
        "",
        "nope.txt",
        "scripts",
    ] {
        let err = read
            .call(&json!({"skill": "pdf-forms", "path": escape}), &ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ToolErrorKind::InvalidArguments, "{escape}: {err}");
    }
    let err = activate
        .call(&json!({"name": "no-such-skill"}), &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::NotFound);
    assert!(err.message().contains("github-triage"), "lists the known skills: {err}");
    let err = activate.call(&json!({}), &ctx).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::InvalidArguments);
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let skill = dir.path().join("linker");
    std::fs::create_dir_all(&skill).unwrap();
    std::fs::write(
        skill.join("SKILL.md"),
        "---\nname: linker\ndescription: Links.\n---\nbody",
    )
    .unwrap();
    std::fs::write(dir.path().join("outside.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.txt"), skill.join("inside.txt")).unwrap();
    let report = SkillSet::load_dir(dir.path()).unwrap();
    assert!(report.errors.is_empty());
    assert!(
        report.skills.get("linker").unwrap().resources().is_empty(),
        "links are not listed"
    );
    let session = SkillSession::new(Arc::new(report.skills));
    session.activate("linker").unwrap();
    let err = session.read_resource("linker", "inside.txt").unwrap_err();
    assert_eq!(err.kind(), SkillErrorKind::InvalidResourcePath);
}

#[test]
fn an_oversized_resource_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let skill = dir.path().join("big");
    std::fs::create_dir_all(&skill).unwrap();
    std::fs::write(skill.join("SKILL.md"), "---\nname: big\ndescription: Big.\n---\n").unwrap();
    std::fs::write(skill.join("data.txt"), vec![b'x'; 2048]).unwrap();
    let report = SkillSet::load_dir(dir.path()).unwrap();
    let session = SkillSession::with_max_resource_bytes(Arc::new(report.skills), 1024);
    session.activate("big").unwrap();
    let err = session.read_resource("big", "data.txt").unwrap_err();
    assert_eq!(err.kind(), SkillErrorKind::ResourceTooLarge);
}

fn tool_specs() -> Vec<ToolSpec> {
    [
        "github.issues_create",
        "github.issues_list",
        "github.labels_list",
        "github.repos_delete",
        "db.query",
        "shell.run",
    ]
    .into_iter()
    .map(|n| ToolSpec::new(n, n))
    .collect()
}

fn names(tools: Vec<ToolSpec>) -> Vec<String> {
    tools.into_iter().map(|t| t.name).collect()
}

#[test]
fn allowed_tools_narrow_the_set_while_active() {
    let session = session();
    let all = tool_specs();
    assert_eq!(session.narrow(&all).len(), all.len(), "no active skill, no narrowing");

    session.activate("pdf-forms").unwrap();
    assert_eq!(
        session.narrow(&all).len(),
        all.len(),
        "a skill without allowed-tools does not narrow"
    );

    session.activate("github-triage").unwrap();
    assert_eq!(
        names(session.narrow(&all)),
        ["github.issues_create", "github.issues_list", "github.labels_list"]
    );
    assert!(session.allows_tool("skills.read_resource"), "internal tools stay");

    session.activate("sql-reports").unwrap();
    assert_eq!(
        names(session.narrow(&all)),
        [
            "github.issues_create",
            "github.issues_list",
            "github.labels_list",
            "db.query"
        ],
        "two narrowing skills: the union of their patterns"
    );

    assert!(session.deactivate("github-triage"));
    assert_eq!(names(session.narrow(&all)), ["db.query"]);
    assert!(session.deactivate("sql-reports"));
    assert_eq!(session.narrow(&all).len(), all.len());
}

#[derive(Debug)]
struct Noop(ToolSpec);

#[toolplane_core::async_trait]
impl Tool for Noop {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    async fn call(
        &self,
        _args: &serde_json::Value,
        _ctx: &CallContext,
    ) -> Result<ToolOutput, toolplane_core::ToolError> {
        Ok(ToolOutput::text("ran"))
    }
}

#[tokio::test]
async fn the_guard_refuses_tools_outside_the_active_skill() {
    let session = session();
    session.activate("github-triage").unwrap();
    let chain = vec![session.guard()];
    let ctx = CallContext::default();
    let args = json!({});

    let shell = Noop(ToolSpec::new("shell.run", "runs commands"));
    let call = ToolCall::new("c1", "shell.run", "{}");
    let inv = ToolInvocation {
        call: &call,
        args: &args,
        spec: shell.spec(),
    };
    let err = ToolNext::new(&chain, &shell).run(&inv, &ctx).await.unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::PermissionDenied);
    assert!(err.message().contains("github-triage"));

    let list = Noop(ToolSpec::new("github.issues_list", "lists issues"));
    let call = ToolCall::new("c2", "github.issues_list", "{}");
    let inv = ToolInvocation {
        call: &call,
        args: &args,
        spec: list.spec(),
    };
    let out = ToolNext::new(&chain, &list).run(&inv, &ctx).await.unwrap();
    assert_eq!(out.content, json!("ran"));
}
