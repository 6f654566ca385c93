//! Checks of a pipeline definition that need no runtime
//! ([`PipelineDef::validate`]). This file reads the definition's types; the
//! definition does not import it.

use std::collections::HashSet;

use serde_json::Value;

use super::PipelineError;
use super::definition::{Budget, PipelineDef, StepDef, StepKind};
use super::template::check_template;

impl PipelineDef {
    /// Checks what can be checked without a runtime: unique step names,
    /// non-empty prompts, output schemas that compile, templates that close,
    /// map concurrency of at least one, no budget on a tool or transform step.
    ///
    /// # Errors
    /// [`PipelineError::Invalid`] naming the step.
    pub fn validate(&self) -> Result<(), PipelineError> {
        let mut names = HashSet::new();
        validate_steps(&self.steps, &mut names)
    }
}

fn invalid(step: &str, message: impl Into<String>) -> PipelineError {
    PipelineError::Invalid {
        step: step.to_string(),
        message: message.into(),
    }
}

fn validate_steps(steps: &[StepDef], names: &mut HashSet<String>) -> Result<(), PipelineError> {
    for s in steps {
        let name = s.name.as_str();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(invalid(
                name,
                "a step name must be non-empty letters, digits, `_` or `-`",
            ));
        }
        if !names.insert(name.to_string()) {
            return Err(invalid(name, "two steps share this name; outputs are stored by name"));
        }
        match &s.kind {
            StepKind::Prompt(p) => {
                if p.prompt.trim().is_empty() {
                    return Err(invalid(name, "`prompt` is empty"));
                }
                check_template(&p.prompt).map_err(|m| invalid(name, format!("prompt: {m}")))?;
                if let Some(system) = &p.system {
                    check_template(system).map_err(|m| invalid(name, format!("system: {m}")))?;
                }
                if let Some(schema) = &p.output_schema {
                    jsonschema::validator_for(schema)
                        .map_err(|e| invalid(name, format!("`output_schema` is not a valid JSON Schema: {e}")))?;
                }
            }
            StepKind::Tool(t) => {
                if t.name.is_empty() {
                    return Err(invalid(name, "the tool name is empty"));
                }
                refuse_budget(s)?;
                check_value_templates(&t.args).map_err(|m| invalid(name, format!("args: {m}")))?;
            }
            StepKind::Transform(t) => {
                refuse_budget(s)?;
                check_value_templates(&t.input).map_err(|m| invalid(name, format!("input: {m}")))?;
            }
            StepKind::Branch(b) => {
                validate_steps(&b.then, names)?;
                validate_steps(&b.otherwise, names)?;
            }
            StepKind::Map(m) => {
                if m.concurrency == 0 {
                    return Err(invalid(name, "`concurrency` must be at least 1"));
                }
                validate_steps(std::slice::from_ref(m.step.as_ref()), names)?;
            }
        }
    }
    Ok(())
}

/// Tool and transform steps spend no tokens, money or provider calls, so a
/// budget on one could never stop anything: refuse it rather than ignore it.
fn refuse_budget(s: &StepDef) -> Result<(), PipelineError> {
    if s.options.budget == Budget::default() {
        return Ok(());
    }
    Err(invalid(
        &s.name,
        format!(
            "a {} step spends no tokens, money or provider calls, so a `budget` on it has no effect; \
             put it on the pipeline or on an enclosing prompt, branch or map step",
            s.kind.as_str()
        ),
    ))
}

fn check_value_templates(v: &Value) -> Result<(), String> {
    match v {
        Value::String(s) => check_template(s),
        Value::Array(a) => a.iter().try_for_each(check_value_templates),
        Value::Object(o) => o.values().try_for_each(check_value_templates),
        _ => Ok(()),
    }
}
