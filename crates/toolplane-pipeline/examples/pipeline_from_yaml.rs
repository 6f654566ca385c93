#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]
//! Load a declarative pipeline from YAML and run it offline against a
//! scripted model and an in-memory issue tracker, then print the report.
//!
//! ```text
//! cargo run -p toolplane-pipeline --example pipeline_from_yaml
//! ```

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use toolplane_core::{CallContext, ScriptedProvider, Tool, ToolError, ToolOutput, ToolSpec, async_trait};
use toolplane_pipeline::{Pipeline, PipelineDef, PipelineRuntime};
use toolplane_registry::Executor;

/// An issue tracker kept in memory.
#[derive(Debug)]
struct Tracker {
    spec: ToolSpec,
    issues: Mutex<Vec<Value>>,
}

#[async_trait]
impl Tool for Tracker {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }
    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let mut issues = self.issues.lock().unwrap();
        issues.push(args.clone());
        Ok(ToolOutput::json(
            json!({"number": issues.len(), "title": args["title"]}),
        ))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/triage.yaml");
    let def = PipelineDef::from_path(path).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });

    let tracker = Arc::new(Tracker {
        spec: ToolSpec::new("tracker.create_issue", "Files an issue.").with_input_schema(json!({
            "type": "object",
            "required": ["title"],
            "properties": {"title": {"type": "string"}, "labels": {"type": "array", "items": {"type": "string"}}}
        })),
        issues: Mutex::new(Vec::new()),
    });
    let model = Arc::new(
        ScriptedProvider::new("scripted")
            .with_text(
                json!({"reports": [
                    {"title": "Crash when saving a draft", "kind": "bug"},
                    {"title": "How do I export?", "kind": "question"},
                    {"title": "Login loops on Safari", "kind": "bug"}
                ]})
                .to_string(),
            )
            .with_text("Two new bugs: a crash on saving drafts and a login loop on Safari."),
    );
    let runtime = PipelineRuntime::new(Arc::new(
        Executor::from_tools([tracker.clone() as Arc<dyn Tool>]).unwrap(),
    ))
    .with_default_provider(model)
    .with_default_model("gpt-4o-mini")
    .with_function("only_bugs", |reports| {
        Ok(Value::Array(
            reports
                .as_array()
                .ok_or("expected a list of reports")?
                .iter()
                .filter(|r| r["kind"] == "bug")
                .cloned()
                .collect(),
        ))
    });
    let pipeline = Pipeline::new(def, runtime).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let reports = json!([
        "App crashes when I save a draft",
        "How do I export my data?",
        "Login keeps looping on Safari"
    ]);
    let run = pipeline
        .run(json!({"reports": reports}), &CallContext::new("triage-1"))
        .await;
    println!("{}", run.report);
    println!("filed: {}", serde_json::to_string(&run.outputs["file"]).unwrap());
    println!("summary: {}", run.outputs["summary"]);
}
