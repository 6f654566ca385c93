//! Skills for toolplane agents: folders of instructions a model loads only
//! when it needs them.
//!
//! # Who should depend on this crate
//!
//! Hosts that give a model a library of procedures ("how we triage issues",
//! "how to fill in a PDF form") without paying for all of them in every
//! prompt. A skill is a folder with a `SKILL.md` (YAML front matter: `name`,
//! `description`, optional `allowed-tools` and `metadata`; a markdown body)
//! and optional resource files. This crate loads a directory of them (a bad
//! skill yields an error naming its file and line, and never stops the good
//! ones), picks the ones that fit a request (BM25 over names and
//! descriptions), discloses them progressively ([`SkillSession`]), and
//! narrows the tool set while a skill that declares `allowed-tools` is
//! active. Besides toolplane-core it needs only serde, serde_json,
//! serde_yaml_ng, async-trait and thiserror (no async runtime, no network);
//! the agent loop in toolplane-pipeline uses it, and so can any other loop.
//! The user guide is `docs/skills.md` in the repository.
//!
//! # Example
//!
//! ```no_run
//! use std::sync::Arc;
//! use toolplane_skills::{SkillSession, SkillSet};
//!
//! let report = SkillSet::load_dir("skills")?;
//! for e in &report.errors {
//!     eprintln!("skipped a skill: {e}"); // skills/broken/SKILL.md:3: invalid YAML ...
//! }
//! let session = SkillSession::new(Arc::new(report.skills));
//! // Names and descriptions of the three best skills go into the system prompt.
//! let system = session.prompt_for("turn this spec into GitHub issues", 3);
//! // The model activates one with the `skills.activate` tool; give it these tools
//! // and put `session.guard()` in the executor's interceptor chain.
//! let internal_tools = session.tools();
//! # Ok::<(), toolplane_skills::SkillError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod error;
mod select;
mod session;
mod set;
mod skill;
mod tools;

pub use error::{SkillError, SkillErrorKind};
pub use session::{DEFAULT_MAX_RESOURCE_BYTES, SkillSession};
pub use set::{LoadReport, SkillMatch, SkillSet};
pub use skill::{MAX_DESCRIPTION_LEN, MAX_NAME_LEN, Skill, tool_pattern_matches};
pub use tools::{ACTIVATE_TOOL, ActivateSkillTool, READ_RESOURCE_TOOL, ReadResourceTool, SkillToolGuard};
