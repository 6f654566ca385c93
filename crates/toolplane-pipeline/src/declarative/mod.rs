//! Declarative pipelines: named steps run in order, each with its timeout,
//! retries and budget, producing a [`RunReport`].
//!
//! ```text
//!  input ─► [prompt: plan] ─► [map over steps.plan.items ×4 ─► tool] ─► [branch if …] ─► outputs + report
//!              │ own provider / task type, tools, output schema
//! ```

mod definition;
mod ledger;
mod meter;
mod prompt_step;
mod report;
mod resume;
mod run;
mod template;
mod validate;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use toolplane_core::{CallContext, ChatProvider, Price, PriceBook};

pub use definition::{
    BranchStep, Budget, MapStep, PipelineDef, PromptStep, StepDef, StepKind, StepOptions, ToolStep, TransformStep,
};
pub use report::{RunReport, StepReport, StepStatus};
pub use template::Condition;

use crate::agent::Pricer;
use crate::{ApprovalDecision, PendingApproval, ToolExecutor};
use toolplane_skills::{SkillSet, tool_pattern_matches};

/// Why a pipeline could not be read or built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The file could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// YAML or TOML that does not parse into a pipeline.
    #[error("{format} {}: {message}", location(*.line, *.column))]
    Parse {
        /// `YAML` or `TOML`.
        format: &'static str,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// A step breaks a rule, or names something the runtime does not have.
    #[error("step `{step}`: {message}")]
    Invalid {
        /// The step.
        step: String,
        /// What is wrong.
        message: String,
    },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}"),
        (Some(l), None) => format!("line {l}"),
        _ => "input".to_string(),
    }
}

/// A function a transform step can name.
pub type TransformFn = Arc<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;

/// What a pipeline's steps run against: providers by name, the tool
/// executor, transform functions, prices and the default model.
#[derive(Clone)]
pub struct PipelineRuntime {
    default_provider: Option<Arc<dyn ChatProvider>>,
    providers: HashMap<String, Arc<dyn ChatProvider>>,
    executor: Arc<dyn ToolExecutor>,
    functions: HashMap<String, TransformFn>,
    prices: Pricer,
    default_model: String,
    skills: Option<Arc<SkillSet>>,
}

impl fmt::Debug for PipelineRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineRuntime")
            .field(
                "default_provider",
                &self.default_provider.as_ref().map(|p| p.name().to_string()),
            )
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .field("executor", &self.executor)
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .field("default_model", &self.default_model)
            .finish()
    }
}

impl PipelineRuntime {
    /// A runtime over a tool executor, with no providers yet.
    pub fn new(executor: Arc<dyn ToolExecutor>) -> Self {
        Self {
            default_provider: None,
            providers: HashMap::new(),
            executor,
            functions: HashMap::new(),
            prices: Pricer::default(),
            default_model: "default".into(),
            skills: None,
        }
    }

    /// Skills that prompt steps with `skills: k` offer to the model.
    pub fn with_skills(mut self, skills: Arc<SkillSet>) -> Self {
        self.skills = Some(skills);
        self
    }

    /// The provider of prompt steps that name none (the router fits well here).
    pub fn with_default_provider(mut self, provider: Arc<dyn ChatProvider>) -> Self {
        self.default_provider = Some(provider);
        self
    }

    /// A provider prompt steps can name.
    pub fn with_provider(mut self, name: impl Into<String>, provider: Arc<dyn ChatProvider>) -> Self {
        self.providers.insert(name.into(), provider);
        self
    }

    /// The model of prompt steps that name none.
    pub fn with_default_model(mut self, model: impl Into<String>) -> Self {
        self.default_model = model.into();
        self
    }

    /// A transform function.
    pub fn with_function(
        mut self,
        name: impl Into<String>,
        f: impl Fn(Value) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        self.functions.insert(name.into(), Arc::new(f));
        self
    }

    /// Prices each response from `book` by the provider and model that
    /// answered (as [`AgentLoop::with_prices`](crate::AgentLoop::with_prices)),
    /// for cost budgets and the report.
    pub fn with_prices(mut self, book: Arc<dyn PriceBook>) -> Self {
        self.prices.book = Some(book);
        self
    }

    /// The price of models the book does not know (of every model, without
    /// a book), USD per million tokens.
    pub fn with_default_price(mut self, price: impl Into<Price>) -> Self {
        self.prices.default = Some(price.into());
        self
    }
}

/// A pipeline checked against its runtime, ready to run (many times).
///
/// ```
/// use std::sync::Arc;
/// use serde_json::json;
/// use toolplane_core::{CallContext, ScriptedProvider};
/// use toolplane_pipeline::{Pipeline, PipelineDef, PipelineRuntime, StepStatus};
/// use toolplane_registry::{Executor, ToolRegistry};
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// # rt.block_on(async {
/// let def = PipelineDef::from_toml_str(r#"
/// name = "greet"
/// [[steps]]
/// name = "hello"
/// prompt = { prompt = "Greet {{input.who}}." }
/// [[steps]]
/// name = "shout"
/// transform = { input = "{{steps.hello}}", function = "upper" }
/// "#).unwrap();
/// let runtime = PipelineRuntime::new(Arc::new(Executor::new(ToolRegistry::new())))
///     .with_default_provider(Arc::new(ScriptedProvider::new("p").with_text("Hello, Ada.")))
///     .with_function("upper", |v| Ok(json!(v.as_str().unwrap_or_default().to_uppercase())));
/// let pipeline = Pipeline::new(def, runtime).unwrap();
/// let run = pipeline.run(json!({"who": "Ada"}), &CallContext::new("r")).await;
/// assert_eq!(run.report.status, StepStatus::Succeeded);
/// assert_eq!(run.outputs["shout"], "HELLO, ADA.");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Pipeline {
    def: PipelineDef,
    runtime: PipelineRuntime,
}

/// What a pipeline run produced. Serializable, so a run that waits for
/// approvals can be stored and resumed in another process.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PipelineRun {
    /// Each finished step's output by name.
    pub outputs: serde_json::Map<String, Value>,
    /// The report.
    pub report: RunReport,
}

impl PipelineRun {
    /// True when every step succeeded or was skipped by its condition.
    pub fn succeeded(&self) -> bool {
        self.report.status == StepStatus::Succeeded
    }

    /// The calls that wait for a human's decision, in report order: those of
    /// waiting top-level steps and of waiting steps nested in them (a
    /// branch's steps, a map's items). Decide them by call id and pass the
    /// decisions to [`Pipeline::resume`].
    pub fn pending_approvals(&self) -> Vec<&PendingApproval> {
        fn collect<'a>(steps: &'a [StepReport], out: &mut Vec<&'a PendingApproval>) {
            for s in steps.iter().filter(|s| s.status == StepStatus::NeedsApproval) {
                out.extend(s.approvals.iter());
                collect(&s.children, out);
            }
        }
        let mut out = Vec::new();
        collect(&self.report.steps, &mut out);
        out
    }
}

impl Pipeline {
    /// Checks the definition against the runtime: named providers and
    /// functions exist, tool steps name tools the executor has, and each
    /// tool pattern of a prompt step matches at least one tool.
    ///
    /// # Errors
    /// [`PipelineError::Invalid`] naming the step and what is missing.
    pub fn new(def: PipelineDef, runtime: PipelineRuntime) -> Result<Self, PipelineError> {
        def.validate()?;
        let specs = runtime.executor.specs();
        let invalid = |step: &str, message: String| PipelineError::Invalid {
            step: step.to_string(),
            message,
        };
        for step in def.all_steps() {
            match &step.kind {
                StepKind::Prompt(p) => {
                    match &p.provider {
                        Some(name) if !runtime.providers.contains_key(name) => {
                            let mut known: Vec<&String> = runtime.providers.keys().collect();
                            known.sort();
                            return Err(invalid(
                                &step.name,
                                format!("no provider is named `{name}`; the runtime has {known:?}"),
                            ));
                        }
                        None if runtime.default_provider.is_none() => {
                            return Err(invalid(
                                &step.name,
                                "the step names no provider and the runtime has no default provider".into(),
                            ));
                        }
                        _ => {}
                    }
                    if p.skills.is_some() && runtime.skills.is_none() {
                        return Err(invalid(
                            &step.name,
                            "the step offers skills but the runtime has none".into(),
                        ));
                    }
                    for pattern in &p.tools {
                        if !specs.iter().any(|s| tool_pattern_matches(pattern, &s.name)) {
                            return Err(invalid(&step.name, format!("tool pattern `{pattern}` matches no tool")));
                        }
                    }
                }
                StepKind::Tool(t) => {
                    if !specs.iter().any(|s| s.name == t.name) {
                        return Err(invalid(&step.name, format!("no tool is named `{}`", t.name)));
                    }
                }
                StepKind::Transform(t) => {
                    if let Some(f) = &t.function {
                        if !runtime.functions.contains_key(f) {
                            return Err(invalid(&step.name, format!("no transform function is named `{f}`")));
                        }
                    }
                }
                StepKind::Branch(_) | StepKind::Map(_) => {}
            }
        }
        Ok(Self { def, runtime })
    }

    /// The definition.
    pub fn def(&self) -> &PipelineDef {
        &self.def
    }

    /// Runs the steps in order with `input` as `{{input}}`. A failed step
    /// stops the run; the steps after it are reported as skipped.
    pub async fn run(&self, input: Value, ctx: &CallContext) -> PipelineRun {
        run::run_pipeline(self, input, ctx, None).await
    }

    /// Continues a run that waited for approvals: steps that succeeded keep
    /// their outputs, each waiting step continues with the `decisions` (by
    /// call id, as listed by [`PipelineRun::pending_approvals`]), approved
    /// tool calls run with their [`ApprovalToken`](toolplane_core::ApprovalToken),
    /// and the steps after run as usual. A waiting call without a decision
    /// leaves its step waiting.
    ///
    /// Waiting steps may be nested: a branch continues the steps of the list
    /// that ran, and a map keeps the items that succeeded and continues the
    /// ones that wait (items that failed run again).
    ///
    /// Call ids are unique in a run: a tool step's call is `STEP-ATTEMPT`
    /// (`delete-1`), inside map item `i` `STEP[i]-ATTEMPT`; a prompt step's
    /// calls keep the model's ids, prefixed `STEP[i]/` inside map item `i`
    /// (`ask[1]/call_7`), since models reuse ids across conversations.
    pub async fn resume(
        &self,
        input: Value,
        previous: &PipelineRun,
        decisions: &HashMap<String, ApprovalDecision>,
        ctx: &CallContext,
    ) -> PipelineRun {
        run::run_pipeline(self, input, ctx, Some(run::Resume { previous, decisions })).await
    }
}
