//! Paths into the run's data, `{{path}}` templates, and conditions.
//!
//! The data a step sees is one JSON object: `input` (the pipeline's input),
//! `steps` (each finished step's output by name) and, inside a map, `item`
//! and `index`. A path is dotted: `steps.plan.issues.0.title`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Looks a dotted path up; numeric segments index lists.
pub(crate) fn lookup<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim();
    if path.is_empty() {
        return Some(data);
    }
    path.split('.').try_fold(data, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// Checks that every `{{` closes.
pub(crate) fn check_template(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start..].find("}}") else {
            return Err(format!(
                "`{{{{` at byte {} is never closed by `}}}}`",
                text.len() - rest.len() + start
            ));
        };
        if rest[start + 2..start + end].trim().is_empty() {
            return Err("an empty `{{}}` placeholder".into());
        }
        rest = &rest[start + end + 2..];
    }
    Ok(())
}

/// Renders a template string. A string that is exactly one placeholder
/// becomes the value itself (a list stays a list); otherwise each placeholder
/// is replaced by the value's text (strings as they are, others as JSON).
pub(crate) fn render_str(text: &str, data: &Value) -> Result<Value, String> {
    let trimmed = text.trim();
    if let Some(inner) = trimmed.strip_prefix("{{").and_then(|t| t.strip_suffix("}}")) {
        if !inner.contains("{{") && !inner.contains("}}") {
            return lookup(data, inner)
                .cloned()
                .ok_or_else(|| format!("`{{{{{}}}}}`: nothing at `{}`", inner.trim(), inner.trim()));
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            return Err("a `{{` is never closed".into());
        };
        let path = rest[start + 2..start + end].trim();
        let value = lookup(data, path).ok_or_else(|| format!("`{{{{{path}}}}}`: nothing at `{path}`"))?;
        match value {
            Value::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

/// Renders every string inside a JSON value.
pub(crate) fn render_value(value: &Value, data: &Value) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) if s.contains("{{") => render_str(s, data)?,
        Value::Array(a) => Value::Array(a.iter().map(|v| render_value(v, data)).collect::<Result<_, _>>()?),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| render_value(v, data).map(|v| (k.clone(), v)))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// A test on the run's data, for branches and `when`.
///
/// ```
/// use toolplane_pipeline::Condition;
/// let c: Condition = serde_yaml_ng::from_str("greater_than: {path: steps.plan.count, value: 3}").unwrap();
/// assert!(c.holds(&serde_json::json!({"steps": {"plan": {"count": 5}}})));
/// ```
// Read through a JSON value: YAML readers want `!tags` for enums, and a
// condition is written as a one-key mapping (`truthy: path`) in every format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub enum Condition {
    /// The path holds a value (null included).
    Exists(String),
    /// The path holds a value other than null, false, 0, "" or an empty list or object.
    Truthy(String),
    /// The path holds this value. Numbers compare by value (`3` equals
    /// `3.0`), also inside lists and objects; everything else compares exactly.
    Equals {
        /// The path.
        path: String,
        /// The value.
        value: Value,
    },
    /// The path holds a number greater than `value` (a list or string: its length).
    GreaterThan {
        /// The path.
        path: String,
        /// The bound.
        value: f64,
    },
    /// The path holds a number less than `value` (a list or string: its length).
    LessThan {
        /// The path.
        path: String,
        /// The bound.
        value: f64,
    },
    /// The inner condition does not hold.
    Not(Box<Condition>),
    /// Every inner condition holds.
    All(Vec<Condition>),
    /// At least one inner condition holds.
    Any(Vec<Condition>),
}

impl TryFrom<Value> for Condition {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        serde_json::from_value::<ConditionRepr>(value)
            .map(Self::from)
            .map_err(|e| format!("invalid condition: {e}"))
    }
}

impl From<Condition> for Value {
    fn from(c: Condition) -> Self {
        serde_json::to_value(ConditionRepr::from(c)).unwrap_or(Value::Null)
    }
}

/// The derived form of [`Condition`], read and written through JSON.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ConditionRepr {
    Exists(String),
    Truthy(String),
    Equals { path: String, value: Value },
    GreaterThan { path: String, value: f64 },
    LessThan { path: String, value: f64 },
    Not(Box<ConditionRepr>),
    All(Vec<ConditionRepr>),
    Any(Vec<ConditionRepr>),
}

impl From<ConditionRepr> for Condition {
    fn from(r: ConditionRepr) -> Self {
        match r {
            ConditionRepr::Exists(p) => Self::Exists(p),
            ConditionRepr::Truthy(p) => Self::Truthy(p),
            ConditionRepr::Equals { path, value } => Self::Equals { path, value },
            ConditionRepr::GreaterThan { path, value } => Self::GreaterThan { path, value },
            ConditionRepr::LessThan { path, value } => Self::LessThan { path, value },
            ConditionRepr::Not(c) => Self::Not(Box::new(Self::from(*c))),
            ConditionRepr::All(cs) => Self::All(cs.into_iter().map(Self::from).collect()),
            ConditionRepr::Any(cs) => Self::Any(cs.into_iter().map(Self::from).collect()),
        }
    }
}

impl From<Condition> for ConditionRepr {
    fn from(c: Condition) -> Self {
        match c {
            Condition::Exists(p) => Self::Exists(p),
            Condition::Truthy(p) => Self::Truthy(p),
            Condition::Equals { path, value } => Self::Equals { path, value },
            Condition::GreaterThan { path, value } => Self::GreaterThan { path, value },
            Condition::LessThan { path, value } => Self::LessThan { path, value },
            Condition::Not(c) => Self::Not(Box::new(Self::from(*c))),
            Condition::All(cs) => Self::All(cs.into_iter().map(Self::from).collect()),
            Condition::Any(cs) => Self::Any(cs.into_iter().map(Self::from).collect()),
        }
    }
}

impl Condition {
    /// Evaluates the condition; a missing path makes every test but `not` false.
    pub fn holds(&self, data: &Value) -> bool {
        match self {
            Self::Exists(p) => lookup(data, p).is_some(),
            Self::Truthy(p) => lookup(data, p).is_some_and(truthy),
            Self::Equals { path, value } => lookup(data, path).is_some_and(|v| json_equal(v, value)),
            Self::GreaterThan { path, value } => lookup(data, path).and_then(magnitude).is_some_and(|n| n > *value),
            Self::LessThan { path, value } => lookup(data, path).and_then(magnitude).is_some_and(|n| n < *value),
            Self::Not(c) => !c.holds(data),
            Self::All(cs) => cs.iter().all(|c| c.holds(data)),
            Self::Any(cs) => cs.iter().any(|c| c.holds(data)),
        }
    }
}

/// JSON equality with numbers compared by value: integers exactly, and a
/// float with anything numerically.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                x == y
            } else if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                x == y
            } else if x.is_f64() || y.is_f64() {
                x.as_f64() == y.as_f64()
            } else {
                // A negative integer and one above i64::MAX.
                false
            }
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn magnitude(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Array(a) => Some(a.len() as f64),
        Value::String(s) => Some(s.chars().count() as f64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_values_and_text() {
        let data = json!({"input": {"n": 3, "s": "x"}, "steps": {"a": [1, 2]}});
        assert_eq!(render_str("{{ steps.a }}", &data).unwrap(), json!([1, 2]));
        assert_eq!(
            render_str("n={{input.n}} s={{input.s}}", &data).unwrap(),
            json!("n=3 s=x")
        );
        assert_eq!(render_str("{{steps.a.1}}", &data).unwrap(), json!(2));
        assert!(render_str("{{steps.b}}", &data).unwrap_err().contains("steps.b"));
        assert!(check_template("a {{ b").is_err());
        assert!(check_template("a {{ b }} c").is_ok());
    }

    #[test]
    fn conditions() {
        let data = json!({"x": [1], "y": 0, "z": "ok"});
        assert!(Condition::Truthy("x".into()).holds(&data));
        assert!(!Condition::Truthy("y".into()).holds(&data));
        assert!(Condition::Exists("y".into()).holds(&data));
        assert!(Condition::Not(Box::new(Condition::Exists("w".into()))).holds(&data));
        assert!(
            Condition::Equals {
                path: "z".into(),
                value: json!("ok")
            }
            .holds(&data)
        );
        assert!(
            Condition::LessThan {
                path: "x".into(),
                value: 2.0
            }
            .holds(&data)
        );
    }
}
