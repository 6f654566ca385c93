//! Answers that must be JSON satisfying a schema: ask, check, and send the
//! violations back to the model until it complies or the repair budget is spent.

use serde_json::Value;
use toolplane_core::{CallContext, Message, ResponseFormat};

use crate::{AgentLoop, RunError, RunOutcome, RunResult, RunState};

/// Why a structured answer could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StructuredError {
    /// The output schema is not a valid JSON Schema.
    #[error("the output schema is invalid: {0}")]
    InvalidSchema(String),
    /// The run failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The run paused for approval or a limit stopped it before a valid answer.
    #[error("the run ended without an answer: {0:?}")]
    NoAnswer(Box<RunResult>),
    /// The model's last answer still did not satisfy the schema.
    #[error("the answer does not satisfy the output schema after {attempts} attempt(s): {problems}")]
    NonConforming {
        /// Answers checked.
        attempts: u32,
        /// The last problems found.
        problems: String,
        /// The run's state after the last answer.
        state: Box<RunState>,
    },
}

/// Runs `state` on `agent` and parses the answer as JSON satisfying `schema`.
/// A non-conforming answer is sent back to the model with the problems, at
/// most `max_repairs` times. The request asks the provider for the schema
/// (`response_format`) where it can enforce it.
///
/// # Errors
/// [`StructuredError`]: an invalid schema, a failed run, a run that paused
/// or stopped, or answers that never conformed.
pub async fn structured_answer(
    agent: &AgentLoop,
    mut state: RunState,
    schema: &Value,
    max_repairs: u32,
    ctx: &CallContext,
) -> Result<(Value, RunState), StructuredError> {
    let validator = jsonschema::validator_for(schema).map_err(|e| StructuredError::InvalidSchema(e.to_string()))?;
    if state.request.response_format.is_none() {
        state.request.response_format = Some(ResponseFormat::JsonSchema {
            name: "output".into(),
            schema: schema.clone(),
            strict: false,
        });
    }
    let first = agent.run(state, ctx).await?;
    check_answers(agent, first, &validator, max_repairs, ctx).await
}

/// Like [`structured_answer`], for a run that already produced its first
/// result: typically one paused for approval and then resumed with
/// [`AgentLoop::resume`].
///
/// # Errors
/// As [`structured_answer`].
pub async fn structured_answer_after(
    agent: &AgentLoop,
    first: RunResult,
    schema: &Value,
    max_repairs: u32,
    ctx: &CallContext,
) -> Result<(Value, RunState), StructuredError> {
    let validator = jsonschema::validator_for(schema).map_err(|e| StructuredError::InvalidSchema(e.to_string()))?;
    check_answers(agent, first, &validator, max_repairs, ctx).await
}

async fn check_answers(
    agent: &AgentLoop,
    first: RunResult,
    validator: &jsonschema::Validator,
    max_repairs: u32,
    ctx: &CallContext,
) -> Result<(Value, RunState), StructuredError> {
    let mut attempts = 0;
    let mut result = first;
    loop {
        let text = match &result.outcome {
            RunOutcome::Answered(r) => r.text(),
            _ => return Err(StructuredError::NoAnswer(Box::new(result))),
        };
        attempts += 1;
        let mut state = result.state;
        let problems = match extract_json(&text) {
            Err(e) => e,
            Ok(value) => {
                let problems: Vec<String> = validator
                    .iter_errors(&value)
                    .take(20)
                    .map(|e| {
                        let path = e.instance_path().to_string();
                        format!("{}: {e}", if path.is_empty() { "/" } else { &path })
                    })
                    .collect();
                if problems.is_empty() {
                    return Ok((value, state));
                }
                problems.join("; ")
            }
        };
        if attempts > max_repairs {
            return Err(StructuredError::NonConforming {
                attempts,
                problems,
                state: Box::new(state),
            });
        }
        state.request.messages.push(Message::user(format!(
            "Your answer does not satisfy the required JSON schema: {problems}. Answer again with only the corrected JSON."
        )));
        result = agent.run(state, ctx).await?;
    }
}

/// The JSON value in a model's answer: the whole text, or the body of a
/// fenced code block, or the span from the first `{`/`[` to the last `}`/`]`.
///
/// # Errors
/// A message naming the line and column where parsing failed.
pub fn extract_json(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if let Ok(v) = serde_json::from_str(trimmed) {
        return Ok(v);
    }
    let fenced = trimmed
        .find("```")
        .and_then(|start| {
            let after = &trimmed[start + 3..];
            let body_start = after.find('\n')? + 1;
            let body = &after[body_start..];
            body.find("```").map(|end| &body[..end])
        })
        .map(str::trim);
    let candidate = fenced.unwrap_or_else(|| {
        let start = trimmed.find(['{', '[']).unwrap_or(0);
        let end = trimmed.rfind(['}', ']']).map_or(trimmed.len(), |e| e + 1);
        if start < end { &trimmed[start..end] } else { trimmed }
    });
    serde_json::from_str(candidate).map_err(|e| {
        format!(
            "the answer is not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_json_in_fences_and_prose() {
        assert_eq!(extract_json("{\"a\":1}").unwrap()["a"], 1);
        assert_eq!(extract_json("Here:\n```json\n{\"a\":2}\n```\nDone").unwrap()["a"], 2);
        assert_eq!(extract_json("The plan is {\"a\":3} as asked.").unwrap()["a"], 3);
        assert!(extract_json("no json here").unwrap_err().contains("line 1"));
    }
}
