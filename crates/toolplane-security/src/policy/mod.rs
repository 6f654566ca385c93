//! Tool permission policies: allow / ask / deny rules in layers, evaluated
//! with default deny and explained.
//!
//! ```toml
//! untrusted_annotations = ["mcp.*"]   # these tools' hints are ignored
//!
//! [[rule]]
//! id = "read-repo"
//! effect = "allow"                    # allow | ask | deny
//! tools = ["github.*"]                # globs on the tool name
//! roles = ["dev"]                     # optional; also `principals = ["alice"]`
//! [[rule.args]]
//! path = "/url"                       # a JSON pointer; `*` matches every member
//! url_hosts = ["api.github.com"]      # also equals, one_of, min/max, glob, regex,
//!                                     # path_under, no_control
//! optional = true                     # a missing argument passes (allow rules)
//! ```
//!
//! A rule applies when the tool name matches one of its globs, the principal
//! matches (when principals or roles are given), and its argument constraints
//! hold. For `allow` rules every value at a path must pass and a missing
//! argument fails; for `ask` and `deny` rules one matching value triggers the
//! rule. Deny beats ask beats allow whatever the order or the layer, so a
//! managed layer's deny cannot be overridden by a project or user layer.
//! Nothing matching means deny.

mod constraint;
mod eval;
mod load;
mod path_root;
mod store;
mod url_host;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use constraint::ArgOutcome;
pub use eval::Policy;
pub use load::PolicyError;
pub use path_root::confine_path;
pub use store::PolicyStore;
pub use url_host::{CanonicalHost, HostAllowlist, UrlHostError, canonical_url_host};

/// What a rule, or a decision, says about a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The call may run.
    Allow,
    /// A human must approve first.
    Ask,
    /// The call must not run.
    Deny,
}

impl Effect {
    /// `allow`, `ask` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Ask => "ask",
            Self::Deny => "deny",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where rules come from, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// Set by an administrator; its denies cannot be overridden.
    Managed,
    /// Checked in with a project.
    Project,
    /// A user's own preferences.
    User,
}

impl Layer {
    /// `managed`, `project` or `user`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Managed => "managed",
            Self::Project => "project",
            Self::User => "user",
        }
    }

    /// All layers, highest first.
    pub const ALL: [Layer; 3] = [Layer::Managed, Layer::Project, Layer::User];
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) layer: Layer,
    pub(crate) effect: Effect,
    pub(crate) tools: Vec<String>,
    pub(crate) principals: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) allow_destructive: bool,
    pub(crate) constraints: Vec<constraint::Constraint>,
    pub(crate) line: usize,
}

/// A rule that applied to a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// The rule's id.
    pub id: String,
    /// Its layer.
    pub layer: Layer,
    /// Its effect.
    pub effect: Effect,
    /// The line of its table in the source.
    pub line: usize,
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Explanation {
    /// The rules that applied, strongest effect first.
    pub matched: Vec<RuleRef>,
    /// Argument checks of the rules whose tool and principal matched.
    pub arguments: Vec<(String, ArgOutcome)>,
    /// Set when no rule applied.
    pub default_deny: bool,
    /// Set when the tool's annotations tightened the result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tightened: Option<String>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.default_deny {
            f.write_str("no rule matched: default deny")?;
        } else {
            for (i, r) in self.matched.iter().enumerate() {
                if i > 0 {
                    f.write_str("; ")?;
                }
                write!(
                    f,
                    "rule `{}` ({} layer, line {}) says {}",
                    r.id, r.layer, r.line, r.effect
                )?;
            }
        }
        if let Some(t) = &self.tightened {
            write!(f, "; {t}")?;
        }
        for (rule, a) in &self.arguments {
            match &a.reason {
                None => write!(f, "; rule `{rule}`: {} passed ({})", a.pointer, a.constraint)?,
                Some(why) => write!(f, "; rule `{rule}`: {} failed {}: {why}", a.pointer, a.constraint)?,
            }
        }
        Ok(())
    }
}

/// The outcome of a permission check: allow, ask or deny, and why. (Named
/// apart from the router's `Decision`, which explains a routing choice.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionDecision {
    /// Allow, ask or deny.
    pub effect: Effect,
    /// Why.
    pub explanation: Explanation,
}

/// The old name of [`PermissionDecision`].
#[deprecated(
    since = "0.2.0",
    note = "renamed PermissionDecision (the router has its own Decision)"
)]
pub type Decision = PermissionDecision;

impl fmt::Display for PermissionDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.effect, self.explanation)
    }
}
