//! Reading a policy layer from TOML, with errors that name line and column.

use globset::{Glob, GlobBuilder};
use regex::RegexBuilder;
use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use super::constraint::{ArgPath, Check, Constraint};
use super::url_host::HostAllowlist;
use super::{Effect, Layer, Rule};

/// A policy source that could not be loaded. The previous policy stays active.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The TOML itself is malformed or has an unknown or mistyped field.
    #[error("{origin}:{line}:{column}: {message}")]
    Syntax {
        /// Where the text came from (a file path or a name).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A rule is well-formed TOML but cannot be compiled (bad glob, regex, host, duplicate id).
    #[error("{origin}:{line}:{column}: rule `{rule}`: {message}")]
    Rule {
        /// Where the text came from.
        origin: String,
        /// 1-based line of the rule's table.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The rule's id.
        rule: String,
        /// What is wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("{origin}: cannot read: {message}")]
    Io {
        /// The path.
        origin: String,
        /// The OS error.
        message: String,
    },
}

/// Line and column (1-based) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, column)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    #[serde(default)]
    untrusted_annotations: Vec<Spanned<String>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    effect: Effect,
    tools: Vec<String>,
    #[serde(default)]
    principals: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    allow_destructive: bool,
    #[serde(default)]
    args: Vec<RawArg>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArg {
    path: String,
    equals: Option<Value>,
    one_of: Option<Vec<Value>>,
    min: Option<f64>,
    max: Option<f64>,
    glob: Option<String>,
    regex: Option<String>,
    url_hosts: Option<Vec<String>>,
    path_under: Option<String>,
    no_control: Option<bool>,
    #[serde(default)]
    optional: bool,
}

/// A parsed layer: its rules and the tools whose annotations are not trusted.
#[derive(Debug, Clone, Default)]
pub(crate) struct LayerRules {
    pub(crate) rules: Vec<Rule>,
    pub(crate) untrusted: Vec<String>,
}

/// Reads one layer. `origin` names the source in errors.
pub(crate) fn parse_layer(text: &str, origin: &str, layer: Layer) -> Result<LayerRules, PolicyError> {
    let raw: RawLayer = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        PolicyError::Syntax {
            origin: origin.to_string(),
            line,
            column,
            message: e.message().to_string(),
        }
    })?;
    let mut untrusted = Vec::with_capacity(raw.untrusted_annotations.len());
    for g in raw.untrusted_annotations {
        let (line, column) = line_col(text, g.span().start);
        Glob::new(g.get_ref()).map_err(|e| PolicyError::Syntax {
            origin: origin.to_string(),
            line,
            column,
            message: format!("untrusted_annotations: bad glob `{}`: {e}", g.get_ref()),
        })?;
        untrusted.push(g.into_inner());
    }
    let mut rules: Vec<Rule> = Vec::with_capacity(raw.rule.len());
    for spanned in raw.rule {
        let (line, column) = line_col(text, spanned.span().start);
        let r = spanned.into_inner();
        let err = |message: String| PolicyError::Rule {
            origin: origin.to_string(),
            line,
            column,
            rule: r.id.clone(),
            message,
        };
        if rules.iter().any(|x| x.id == r.id) {
            return Err(err("duplicate rule id in this layer".into()));
        }
        if r.tools.is_empty() {
            return Err(err("`tools` must name at least one tool or glob".into()));
        }
        for t in &r.tools {
            GlobBuilder::new(t)
                .literal_separator(false)
                .build()
                .map_err(|e| err(format!("bad tool glob `{t}`: {e}")))?;
        }
        let mut constraints = Vec::new();
        for a in r.args {
            let path = ArgPath::parse(&a.path).map_err(&err)?;
            let optional = a.optional;
            let mut push = |check: Check| {
                constraints.push(Constraint {
                    path: path.clone(),
                    desc: check.to_string(),
                    check,
                    optional,
                })
            };
            if let Some(v) = a.equals {
                push(Check::Equals(v));
            }
            if let Some(v) = a.one_of {
                push(Check::OneOf(v));
            }
            if a.min.is_some() || a.max.is_some() {
                push(Check::Range { min: a.min, max: a.max });
            }
            if let Some(g) = a.glob {
                let m = Glob::new(&g)
                    .map_err(|e| err(format!("args {}: bad glob `{g}`: {e}", a.path)))?
                    .compile_matcher();
                push(Check::Glob(g, m));
            }
            if let Some(re) = a.regex {
                let compiled = RegexBuilder::new(&re)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| err(format!("args {}: bad regex: {e}", a.path)))?;
                push(Check::Regex(compiled));
            }
            if let Some(hosts) = a.url_hosts {
                let list = HostAllowlist::new(&hosts).map_err(|e| err(format!("args {}: bad host: {e}", a.path)))?;
                push(Check::UrlHosts(hosts, list));
            }
            if let Some(root) = a.path_under {
                if !root.starts_with('/') {
                    return Err(err(format!("args {}: path_under must be absolute", a.path)));
                }
                push(Check::PathUnder(root));
            }
            if a.no_control == Some(true) {
                push(Check::NoControl);
            }
        }
        rules.push(Rule {
            id: r.id,
            layer,
            effect: r.effect,
            tools: r.tools,
            principals: r.principals,
            roles: r.roles,
            allow_destructive: r.allow_destructive,
            constraints,
            line,
        });
    }
    Ok(LayerRules { rules, untrusted })
}
