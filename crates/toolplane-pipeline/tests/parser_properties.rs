#![allow(clippy::unwrap_used, clippy::panic)]
//! Pipeline definitions, templates and model answers never make the library panic.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::json;
use toolplane_core::CallContext;
use toolplane_pipeline::{Pipeline, PipelineDef, PipelineRuntime, StepDef, extract_json};
use toolplane_registry::{Executor, ToolRegistry};

proptest! {
    #[test]
    fn yaml_and_toml_never_panic(text in "[a-z:_\\-\\[\\]{}\"' \\n=.,#]{0,300}") {
        let _ = PipelineDef::from_yaml_str(&text);
        let _ = PipelineDef::from_toml_str(&text);
    }

    #[test]
    fn json_extraction_never_panics(text in "\\PC{0,300}") {
        let _ = extract_json(&text);
    }

    #[test]
    fn templates_render_or_fail_cleanly(template in "[a-z.{} 0-9]{0,60}") {
        let def = PipelineDef::new("p", vec![StepDef::transform("t", json!(template), None)]);
        if let Ok(pipeline) = Pipeline::new(def, PipelineRuntime::new(Arc::new(Executor::new(ToolRegistry::new())))) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
            let run = rt.block_on(pipeline.run(json!({"a": {"b": [1, 2]}}), &CallContext::new("r")));
            let status = run.report.status;
            prop_assert!(matches!(status, toolplane_pipeline::StepStatus::Succeeded | toolplane_pipeline::StepStatus::Failed));
        }
    }
}
