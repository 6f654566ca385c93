//! What a pipeline is made of, as data: defined in code or read from YAML or TOML.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::PipelineError;
use super::template::Condition;

/// Limits for a step or a whole pipeline. Unset means unlimited.
///
/// On the pipeline, a budget covers the whole run (a resumed run included).
/// On a prompt step it covers all the step's attempts; on a branch or map
/// step, everything nested in it (all items of a map together). Tool and
/// transform steps spend nothing, so a budget on one is refused by
/// [`PipelineDef::validate`]. Once a budget is used up, the next step (or
/// attempt, or map item) under it ends `budget_exceeded`, and a prompt
/// step's tool loop is given only what is left of every budget above it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Budget {
    /// Tokens (input + output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Money, in US dollars (needs a cost model in the runtime).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
    /// Provider calls (each turn of a prompt step's tool loop is one). A
    /// prompt step without a `max_steps` of its own still stops after the
    /// loop's default of 16 calls per attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u32>,
}

/// A pipeline: a name, limits and steps run in order. Each step's output is
/// stored under its name, for later steps to use as `{{steps.NAME...}}`.
///
/// ```
/// use toolplane_pipeline::PipelineDef;
/// let def = PipelineDef::from_yaml_str(r#"
/// name: summarize
/// steps:
///   - name: summary
///     prompt:
///       prompt: "Summarize: {{input.text}}"
///     timeout_ms: 30000
///     retries: 1
/// "#).unwrap();
/// assert_eq!(def.steps[0].name, "summary");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineDef {
    /// The pipeline's name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Limits over all steps.
    #[serde(default)]
    pub budget: Budget,
    /// The steps, in order.
    pub steps: Vec<StepDef>,
}

/// One named step with its kind and its options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StepDefRaw", into = "StepDefRaw")]
pub struct StepDef {
    /// The step's name, unique in the pipeline (letters, digits, `_`, `-`).
    pub name: String,
    /// What the step does.
    pub kind: StepKind,
    /// Timeout, retries and budget.
    pub options: StepOptions,
}

/// Timeout, retries and budget of a step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepOptions {
    /// The most time one attempt may take, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Attempts after the first one fails.
    pub retries: u32,
    /// The wait before the first retry, doubled for each further one, in milliseconds.
    pub retry_delay_ms: u64,
    /// Limits of this step over all its attempts (a branch or map: with
    /// everything nested in it). Refused on tool and transform steps.
    pub budget: Budget,
    /// Run the step only when this holds; otherwise it is skipped.
    pub when: Option<Condition>,
}

/// The kinds of step.
#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// Ask a model (with tools, optionally for JSON output).
    Prompt(PromptStep),
    /// Call one tool.
    Tool(ToolStep),
    /// Compute a value from earlier outputs.
    Transform(TransformStep),
    /// Run one list of steps or another.
    Branch(BranchStep),
    /// Run a step for every item of a list.
    Map(MapStep),
}

impl StepKind {
    /// `prompt`, `tool`, `transform`, `branch` or `map`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Prompt(_) => "prompt",
            Self::Tool(_) => "tool",
            Self::Transform(_) => "transform",
            Self::Branch(_) => "branch",
            Self::Map(_) => "map",
        }
    }
}

/// Ask a model. `prompt` and `system` are templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptStep {
    /// A provider registered in the runtime by this name; the default provider otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The task type, for the router and metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<String>,
    /// The model; the runtime's default otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The system message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The user message.
    pub prompt: String,
    /// Tool name patterns (`github.issues_*`) the model may call; none by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// When set, the answer must be JSON satisfying this schema; it becomes the step's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Non-conforming answers sent back for repair (default 2).
    #[serde(default = "default_output_repairs")]
    pub output_repairs: u32,
    /// Offer the model the names and descriptions of the `k` skills of the
    /// runtime that best fit the prompt, with the tools to open them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<usize>,
}

fn default_output_repairs() -> u32 {
    2
}

impl Default for PromptStep {
    fn default() -> Self {
        Self {
            provider: None,
            task_type: None,
            model: None,
            system: None,
            prompt: String::new(),
            tools: Vec::new(),
            output_schema: None,
            output_repairs: default_output_repairs(),
            skills: None,
        }
    }
}

/// Call one tool with templated arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolStep {
    /// The tool's name.
    pub name: String,
    /// The arguments; strings may hold `{{path}}` templates.
    #[serde(default = "empty_object")]
    pub args: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// Compute a value: render `input` (a JSON value whose strings may be
/// templates), then apply a registered function, if named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformStep {
    /// The value to render.
    pub input: Value,
    /// A function registered in the runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

/// Run `then` when the condition holds, else `otherwise`. The step's output
/// is the last output of the list that ran (null for an empty list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchStep {
    /// The condition.
    #[serde(rename = "if")]
    pub condition: Condition,
    /// Steps when it holds.
    #[serde(default)]
    pub then: Vec<StepDef>,
    /// Steps when it does not.
    #[serde(default, rename = "else")]
    pub otherwise: Vec<StepDef>,
}

/// Run `step` for every item of the list at `over`, at most `concurrency` at
/// once. Inside, `{{item}}` is the item and `{{index}}` its position. The
/// output is the list of the inner outputs, in item order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapStep {
    /// A path to a list (`steps.plan.issues`).
    pub over: String,
    /// Items run at once (default 4).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// The step run per item.
    pub step: Box<StepDef>,
}

fn default_concurrency() -> usize {
    4
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepDefRaw {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prompt: Option<PromptStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tool: Option<ToolStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transform: Option<TransformStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    branch: Option<BranchStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    map: Option<MapStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timeout_ms: Option<u64>,
    #[serde(default)]
    retries: u32,
    #[serde(default)]
    retry_delay_ms: u64,
    #[serde(default)]
    budget: Budget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    when: Option<Condition>,
}

impl TryFrom<StepDefRaw> for StepDef {
    type Error = String;

    fn try_from(raw: StepDefRaw) -> Result<Self, String> {
        let mut kinds = Vec::new();
        if let Some(p) = raw.prompt {
            kinds.push(StepKind::Prompt(p));
        }
        if let Some(t) = raw.tool {
            kinds.push(StepKind::Tool(t));
        }
        if let Some(t) = raw.transform {
            kinds.push(StepKind::Transform(t));
        }
        if let Some(b) = raw.branch {
            kinds.push(StepKind::Branch(b));
        }
        if let Some(m) = raw.map {
            kinds.push(StepKind::Map(m));
        }
        if kinds.len() != 1 {
            let found: Vec<&str> = kinds.iter().map(StepKind::as_str).collect();
            return Err(format!(
                "step `{}` must have exactly one of `prompt`, `tool`, `transform`, `branch`, `map`; found {}",
                raw.name,
                if found.is_empty() {
                    "none".to_string()
                } else {
                    found.join(", ")
                }
            ));
        }
        let kind = kinds.remove(0);
        Ok(Self {
            name: raw.name,
            kind,
            options: StepOptions {
                timeout_ms: raw.timeout_ms,
                retries: raw.retries,
                retry_delay_ms: raw.retry_delay_ms,
                budget: raw.budget,
                when: raw.when,
            },
        })
    }
}

impl From<StepDef> for StepDefRaw {
    fn from(s: StepDef) -> Self {
        let mut raw = StepDefRaw {
            name: s.name,
            prompt: None,
            tool: None,
            transform: None,
            branch: None,
            map: None,
            timeout_ms: s.options.timeout_ms,
            retries: s.options.retries,
            retry_delay_ms: s.options.retry_delay_ms,
            budget: s.options.budget,
            when: s.options.when,
        };
        match s.kind {
            StepKind::Prompt(p) => raw.prompt = Some(p),
            StepKind::Tool(t) => raw.tool = Some(t),
            StepKind::Transform(t) => raw.transform = Some(t),
            StepKind::Branch(b) => raw.branch = Some(b),
            StepKind::Map(m) => raw.map = Some(m),
        }
        raw
    }
}

impl StepDef {
    /// A step of a kind with default options.
    pub fn new(name: impl Into<String>, kind: StepKind) -> Self {
        Self {
            name: name.into(),
            kind,
            options: StepOptions::default(),
        }
    }

    /// A prompt step.
    pub fn prompt(name: impl Into<String>, step: PromptStep) -> Self {
        Self::new(name, StepKind::Prompt(step))
    }

    /// A tool step.
    pub fn tool(name: impl Into<String>, tool: impl Into<String>, args: Value) -> Self {
        Self::new(
            name,
            StepKind::Tool(ToolStep {
                name: tool.into(),
                args,
            }),
        )
    }

    /// A transform step.
    pub fn transform(name: impl Into<String>, input: Value, function: Option<&str>) -> Self {
        Self::new(
            name,
            StepKind::Transform(TransformStep {
                input,
                function: function.map(str::to_string),
            }),
        )
    }

    /// A branch step.
    pub fn branch(name: impl Into<String>, condition: Condition, then: Vec<StepDef>, otherwise: Vec<StepDef>) -> Self {
        Self::new(
            name,
            StepKind::Branch(BranchStep {
                condition,
                then,
                otherwise,
            }),
        )
    }

    /// A map step.
    pub fn map(name: impl Into<String>, over: impl Into<String>, concurrency: usize, step: StepDef) -> Self {
        Self::new(
            name,
            StepKind::Map(MapStep {
                over: over.into(),
                concurrency,
                step: Box::new(step),
            }),
        )
    }

    /// Sets the per-attempt timeout.
    pub fn with_timeout_ms(mut self, ms: u64) -> Self {
        self.options.timeout_ms = Some(ms);
        self
    }

    /// Sets the retries and the first retry delay.
    pub fn with_retries(mut self, retries: u32, delay_ms: u64) -> Self {
        self.options.retries = retries;
        self.options.retry_delay_ms = delay_ms;
        self
    }

    /// Sets the budget.
    pub fn with_budget(mut self, budget: Budget) -> Self {
        self.options.budget = budget;
        self
    }

    /// Runs the step only when `condition` holds.
    pub fn when(mut self, condition: Condition) -> Self {
        self.options.when = Some(condition);
        self
    }
}

impl PipelineDef {
    /// A pipeline with steps and no budget.
    pub fn new(name: impl Into<String>, steps: Vec<StepDef>) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            budget: Budget::default(),
            steps,
        }
    }

    /// Reads YAML.
    ///
    /// # Errors
    /// [`PipelineError::Parse`] with the line and column, or [`PipelineError::Invalid`].
    pub fn from_yaml_str(text: &str) -> Result<Self, PipelineError> {
        let def: Self = serde_yaml_ng::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map_or((None, None), |l| (Some(l.line()), Some(l.column())));
            // The location is reported once, in the error's own fields.
            let text = e.to_string();
            let message = text.find(" at line ").map_or(text.as_str(), |i| &text[..i]).to_string();
            PipelineError::Parse {
                format: "YAML",
                line,
                column,
                message,
            }
        })?;
        def.validate()?;
        Ok(def)
    }

    /// Reads TOML (steps as `[[steps]]` tables).
    ///
    /// # Errors
    /// [`PipelineError::Parse`] with the line and column, or [`PipelineError::Invalid`].
    pub fn from_toml_str(text: &str) -> Result<Self, PipelineError> {
        let def: Self = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((None, None), |span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                (Some(line), Some(column))
            });
            PipelineError::Parse {
                format: "TOML",
                line,
                column,
                message: e.message().to_string(),
            }
        })?;
        def.validate()?;
        Ok(def)
    }

    /// Reads a `.yaml`/`.yml` or `.toml` file.
    ///
    /// # Errors
    /// [`PipelineError::Io`], [`PipelineError::Parse`] (the message names the file), [`PipelineError::Invalid`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, PipelineError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let parsed = match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Self::from_yaml_str(&text),
            Some("toml") => Self::from_toml_str(&text),
            _ => {
                return Err(PipelineError::Io {
                    path: path.display().to_string(),
                    message: "unknown extension; use .yaml, .yml or .toml".into(),
                });
            }
        };
        parsed.map_err(|e| match e {
            PipelineError::Parse {
                format,
                line,
                column,
                message,
            } => PipelineError::Parse {
                format,
                line,
                column,
                message: format!("{}: {message}", path.display()),
            },
            other => other,
        })
    }

    /// Every step, nested ones included, depth first.
    pub fn all_steps(&self) -> Vec<&StepDef> {
        let mut out = Vec::new();
        collect(&self.steps, &mut out);
        out
    }
}

fn collect<'a>(steps: &'a [StepDef], out: &mut Vec<&'a StepDef>) {
    for s in steps {
        out.push(s);
        match &s.kind {
            StepKind::Branch(b) => {
                collect(&b.then, out);
                collect(&b.otherwise, out);
            }
            StepKind::Map(m) => collect(std::slice::from_ref(m.step.as_ref()), out),
            _ => {}
        }
    }
}
