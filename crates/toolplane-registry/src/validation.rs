//! Compiling input schemas and turning violations into errors a model can fix.

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, PatternOptions, Validator};
use serde_json::{Value, json};
use toolplane_core::{ToolError, ToolSpec};

use crate::nearest::nearest;

const MESSAGE_CAP: usize = 300;

/// Compiles a tool input schema: draft 2020-12, formats asserted, `pattern`
/// and `patternProperties` on the linear-time `regex` engine (a hostile
/// pattern or input cannot make matching backtrack), no remote `$ref`.
pub(crate) fn compile_schema(schema: &Value) -> Result<Validator, String> {
    if !schema.is_object() {
        return Err("the input schema must be a JSON object".into());
    }
    if let Some(t) = schema.get("type") {
        if t != "object" {
            return Err(format!(
                "the input schema must describe an object (\"type\": \"object\"), not {t}"
            ));
        }
    }
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_pattern_options(PatternOptions::regex())
        .build(schema)
        .map_err(|e| {
            let at = e.instance_path().as_str();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("at {at}: {e}")
            }
        })
}

/// Validates `args`; on failure, an `invalid_arguments` error listing up to
/// `max` violations, each with its JSON pointer and, where one is near, the
/// property name the model probably meant.
pub(crate) fn check_arguments(
    validator: &Validator,
    spec: &ToolSpec,
    args: &Value,
    max: usize,
) -> Result<(), ToolError> {
    if validator.is_valid(args) {
        return Ok(());
    }
    let mut violations = Vec::new();
    let mut lines = Vec::new();
    let mut total = 0usize;
    for err in validator.iter_errors(args) {
        total += 1;
        if violations.len() >= max {
            continue;
        }
        let pointer = err.instance_path().as_str().to_string();
        let shown = if pointer.is_empty() {
            "/".to_string()
        } else {
            pointer.clone()
        };
        let mut message = cap(err.to_string());
        let hint = suggestion(&err, spec, args);
        if let Some(h) = &hint {
            message.push_str("; ");
            message.push_str(h);
        }
        lines.push(format!("{shown}: {message}"));
        let mut v = json!({"pointer": shown, "keyword": err.kind().keyword(), "message": message});
        if let Some(h) = hint {
            v["suggestion"] = Value::String(h);
        }
        violations.push(v);
    }
    let more = if total > violations.len() {
        format!(" (and {} more)", total - violations.len())
    } else {
        String::new()
    };
    Err(ToolError::invalid_arguments(format!(
        "the arguments of `{}` do not match its input schema: {}{more}",
        spec.name,
        lines.join("; ")
    ))
    .with_details(json!({"tool": spec.name, "violations": violations, "total": total})))
}

fn cap(mut s: String) -> String {
    if s.len() > MESSAGE_CAP {
        let mut cut = MESSAGE_CAP;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

/// "did you mean …" for an unknown property or a missing required one.
fn suggestion(err: &jsonschema::ValidationError<'_>, spec: &ToolSpec, args: &Value) -> Option<String> {
    let instance = args.pointer(err.instance_path().as_str())?.as_object()?;
    let schema_path = err.schema_path().as_str();
    let parent = &schema_path[..schema_path.rfind('/')?];
    let known: Vec<&str> = spec
        .input_schema
        .pointer(parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let hints: Vec<String> = unexpected
                .iter()
                .filter_map(|u| {
                    let free = known.iter().copied().filter(|k| !instance.contains_key(*k));
                    nearest(u, free).map(|k| format!("did you mean `{k}` instead of `{u}`?"))
                })
                .collect();
            (!hints.is_empty()).then(|| hints.join(" "))
        }
        ValidationErrorKind::Required { property } => {
            let missing = property.as_str()?;
            let strangers = instance.keys().map(String::as_str).filter(|k| !known.contains(k));
            nearest(missing, strangers).map(|k| format!("`{k}` may be a misspelling of `{missing}`"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ToolSpec {
        ToolSpec::new("weather", "").with_input_schema(json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "pattern": "^[A-Z][a-z]+$"},
                "days": {"type": "integer", "minimum": 1}
            },
            "required": ["city"],
            "additionalProperties": false
        }))
    }

    fn check(args: Value) -> Result<(), ToolError> {
        let s = spec();
        let v = compile_schema(&s.input_schema).unwrap();
        check_arguments(&v, &s, &args, 20)
    }

    #[test]
    fn lists_every_violation_with_pointer_and_suggestion() {
        let err = check(json!({"ciy": "Paris", "days": "two"})).unwrap_err();
        let d = err.details().unwrap();
        let pointers: Vec<&str> = d["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["pointer"].as_str().unwrap())
            .collect();
        assert!(pointers.contains(&"/days"), "{pointers:?}");
        assert!(pointers.contains(&"/"), "{pointers:?}");
        assert!(
            err.message().contains("did you mean `city` instead of `ciy`?"),
            "{}",
            err.message()
        );
        assert!(
            err.message().contains("`ciy` may be a misspelling of `city`"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn pattern_uses_the_linear_engine() {
        let s = ToolSpec::new("p", "")
            .with_input_schema(json!({"type":"object","properties":{"s":{"type":"string","pattern":"^(a+)+$"}}}));
        let v = compile_schema(&s.input_schema).unwrap();
        let evil = format!("{}!", "a".repeat(50_000));
        assert!(check_arguments(&v, &s, &json!({"s": evil}), 20).is_err());
        let backref = json!({"type":"object","properties":{"s":{"type":"string","pattern":"(a)\\1"}}});
        assert!(compile_schema(&backref).is_err());
    }

    #[test]
    fn refuses_non_object_schemas() {
        assert!(compile_schema(&json!(true)).is_err());
        assert!(
            compile_schema(&json!({"type": "string"}))
                .unwrap_err()
                .contains("object")
        );
    }
}
