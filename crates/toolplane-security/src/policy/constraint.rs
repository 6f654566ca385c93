//! Argument constraints: predicates over one argument of a call.

use std::fmt;

use globset::GlobMatcher;
use regex::Regex;
use serde_json::Value;

use super::path_root::confine_path;
use super::url_host::{CanonicalHost, HostAllowlist, canonical_url_host};

/// One predicate on a JSON value.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    Equals(Value),
    OneOf(Vec<Value>),
    Range { min: Option<f64>, max: Option<f64> },
    Glob(String, GlobMatcher),
    Regex(Regex),
    UrlHosts(Vec<String>, HostAllowlist),
    PathUnder(String),
    NoControl,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Equals(v) => write!(f, "equals {v}"),
            Self::OneOf(v) => write!(f, "one of {}", Value::Array(v.clone())),
            Self::Range { min, max } => write!(
                f,
                "in range [{}, {}]",
                min.map_or("-inf".into(), |m| m.to_string()),
                max.map_or("inf".into(), |m| m.to_string())
            ),
            Self::Glob(g, _) => write!(f, "matches glob `{g}`"),
            Self::Regex(r) => write!(f, "matches regex `{}`", r.as_str()),
            Self::UrlHosts(h, _) => write!(f, "URL host in {h:?}"),
            Self::PathUnder(r) => write!(f, "path under {r}"),
            Self::NoControl => f.write_str("no control characters (CR, LF, NUL)"),
        }
    }
}

/// Canonical URL hosts already computed during one evaluation, by the
/// address of the argument value (several rules often check the same URL).
#[derive(Debug, Default)]
pub(crate) struct HostCache {
    hosts: Vec<(usize, Result<CanonicalHost, String>)>,
}

impl HostCache {
    fn host(&mut self, v: &Value, s: &str) -> Result<CanonicalHost, String> {
        let addr = v as *const Value as usize;
        if let Some((_, h)) = self.hosts.iter().find(|(a, _)| *a == addr) {
            return h.clone();
        }
        let h = canonical_url_host(s).map_err(|e| e.to_string());
        self.hosts.push((addr, h.clone()));
        h
    }
}

impl Check {
    /// `Ok(())` when `v` satisfies the predicate, else why not.
    pub(crate) fn test(&self, v: &Value, cache: &mut HostCache) -> Result<(), String> {
        match self {
            Self::Equals(want) => {
                if json_eq(v, want) {
                    Ok(())
                } else {
                    Err(format!("{} is not {want}", short(v)))
                }
            }
            Self::OneOf(list) => {
                if list.iter().any(|w| json_eq(v, w)) {
                    Ok(())
                } else {
                    Err(format!("{} is not one of the listed values", short(v)))
                }
            }
            Self::Range { min, max } => {
                let n = v.as_f64().ok_or_else(|| format!("{} is not a number", short(v)))?;
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) || n.is_nan() {
                    Err(format!("{n} is outside the range"))
                } else {
                    Ok(())
                }
            }
            Self::Glob(g, m) => {
                let s = v.as_str().ok_or_else(|| format!("{} is not a string", short(v)))?;
                if m.is_match(s) {
                    Ok(())
                } else {
                    Err(format!("{} does not match `{g}`", short(v)))
                }
            }
            Self::Regex(r) => {
                let s = v.as_str().ok_or_else(|| format!("{} is not a string", short(v)))?;
                if r.is_match(s) {
                    Ok(())
                } else {
                    Err(format!("{} does not match /{}/", short(v), r.as_str()))
                }
            }
            Self::UrlHosts(_, list) => {
                let s = v.as_str().ok_or_else(|| format!("{} is not a string", short(v)))?;
                let host = cache.host(v, s)?;
                if list.contains(&host) {
                    Ok(())
                } else {
                    Err(format!("host {host} is not in the allowlist"))
                }
            }
            Self::PathUnder(root) => {
                let s = v.as_str().ok_or_else(|| format!("{} is not a string", short(v)))?;
                confine_path(root, s).map(|_| ())
            }
            Self::NoControl => match v {
                Value::String(s) if s.chars().any(|c| c == '\r' || c == '\n' || c == '\0') => {
                    Err("value contains CR, LF or NUL".into())
                }
                Value::Array(a) => a.iter().try_for_each(|x| Self::NoControl.test(x, cache)),
                Value::Object(o) => o.iter().try_for_each(|(k, x)| {
                    if k.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
                        return Err("a key contains CR, LF or NUL".into());
                    }
                    Self::NoControl.test(x, cache)
                }),
                _ => Ok(()),
            },
        }
    }
}

/// Numbers compare by value (`1` equals `1.0`), everything else structurally.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

/// A JSON pointer whose `*` segments match every member or element.
#[derive(Debug, Clone)]
pub(crate) struct ArgPath {
    text: String,
    segments: Vec<String>,
}

impl ArgPath {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let t = if text.starts_with('/') || text.is_empty() {
            text.to_string()
        } else {
            format!("/{text}")
        };
        let segments = t
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        Ok(Self { text: t, segments })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The values at this path; `has_wildcard` says whether `*` was used.
    pub(crate) fn resolve<'v>(&self, root: &'v Value, out: &mut Vec<&'v Value>) {
        fn walk<'v>(v: &'v Value, segs: &[String], out: &mut Vec<&'v Value>) {
            let Some((first, rest)) = segs.split_first() else {
                out.push(v);
                return;
            };
            match (first.as_str(), v) {
                ("*", Value::Object(m)) => m.values().for_each(|x| walk(x, rest, out)),
                ("*", Value::Array(a)) => a.iter().for_each(|x| walk(x, rest, out)),
                (k, Value::Object(m)) => {
                    if let Some(x) = m.get(k) {
                        walk(x, rest, out)
                    }
                }
                (k, Value::Array(a)) => {
                    if let Some(x) = k.parse::<usize>().ok().and_then(|i| a.get(i)) {
                        walk(x, rest, out)
                    }
                }
                _ => {}
            }
        }
        walk(root, &self.segments, out);
    }

    pub(crate) fn has_wildcard(&self) -> bool {
        self.segments.iter().any(|s| s == "*")
    }
}

/// A predicate on the values found at a path.
#[derive(Debug, Clone)]
pub(crate) struct Constraint {
    pub(crate) path: ArgPath,
    pub(crate) check: Check,
    /// The check in words, computed once.
    pub(crate) desc: String,
    /// A missing argument passes (allow rules) instead of failing.
    pub(crate) optional: bool,
}

/// How a rule's constraint fared on one call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ArgOutcome {
    /// The JSON pointer of the argument (`*` matches every member).
    pub pointer: String,
    /// The constraint in words.
    pub constraint: String,
    /// Whether the argument satisfied it.
    pub passed: bool,
    /// Why not, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Constraint {
    /// Evaluates on the arguments. `all` = every value must pass (allow
    /// rules); otherwise one passing value is enough (deny and ask rules).
    pub(crate) fn eval(&self, args: &Value, all: bool, cache: &mut HostCache) -> ArgOutcome {
        let mut vals = Vec::new();
        self.path.resolve(args, &mut vals);
        let mut failure = None;
        let passed = if vals.is_empty() {
            if all && (self.optional || self.path.has_wildcard()) {
                true
            } else {
                failure = Some("argument is missing".to_string());
                false
            }
        } else if all {
            vals.iter().all(|v| match self.check.test(v, cache) {
                Ok(()) => true,
                Err(e) => {
                    failure = Some(e);
                    false
                }
            })
        } else {
            let mut any = false;
            for v in &vals {
                match self.check.test(v, cache) {
                    Ok(()) => {
                        any = true;
                        break;
                    }
                    Err(e) => failure = Some(e),
                }
            }
            any
        };
        ArgOutcome {
            pointer: self.path.as_str().to_string(),
            constraint: self.desc.clone(),
            passed,
            reason: if passed { None } else { failure },
        }
    }
}
