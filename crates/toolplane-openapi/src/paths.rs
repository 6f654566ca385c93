//! The operations a description's `paths` hold, in path then method order,
//! with warnings about what cannot become an operation (webhooks, unreadable
//! path items, malformed path templates, OpenAPI 3.2 additions).

use serde_json::Value;

use crate::binding::{ConversionWarning, HttpMethod};
use crate::spec::{OpenApiSpec, escape};

/// One operation as found in the description, before conversion.
pub(crate) struct RawOp<'s> {
    pub(crate) method: HttpMethod,
    pub(crate) path: String,
    pub(crate) pointer: String,
    pub(crate) doc: usize,
    pub(crate) op: &'s Value,
    pub(crate) item_doc: usize,
    pub(crate) item: &'s Value,
    pub(crate) operation_id: Option<String>,
    pub(crate) tags: Vec<String>,
}

/// Every operation of the description, in path then method order, plus
/// warnings about path items that could not be read.
pub(crate) fn operations(spec: &OpenApiSpec) -> (Vec<RawOp<'_>>, Vec<ConversionWarning>) {
    let mut ops = Vec::new();
    let mut warnings = Vec::new();
    let root = spec.document();
    if root
        .get("webhooks")
        .is_some_and(|w| w.as_object().is_some_and(|o| !o.is_empty()))
    {
        warnings.push(ConversionWarning {
            pointer: "/webhooks".into(),
            message: "webhooks describe calls the API makes, not operations; not converted".into(),
        });
    }
    let v3_2 = spec.openapi_version().starts_with("3.2");
    if v3_2 {
        warnings.push(ConversionWarning {
            pointer: "/openapi".into(),
            message: format!(
                "OpenAPI {} is read as 3.1; its additions are not converted (`query` operations, \
                 `additionalOperations`, `in: querystring` parameters)",
                spec.openapi_version()
            ),
        });
    }
    let Some(paths) = root.get("paths").and_then(Value::as_object) else {
        return (ops, warnings);
    };
    for (path, raw_item) in paths {
        let item_pointer = format!("/paths/{}", escape(path));
        if let Some(problem) = template_problem(path) {
            warnings.push(ConversionWarning {
                pointer: item_pointer.clone(),
                message: format!(
                    "path template `{path}` has unbalanced braces ({problem}); only well-formed `{{name}}` \
                     placeholders become arguments"
                ),
            });
        }
        let (item_doc, item) = match spec.deref(0, raw_item) {
            Ok(x) => x,
            Err(e) => {
                warnings.push(ConversionWarning {
                    pointer: item_pointer,
                    message: format!("path item skipped: {e}"),
                });
                continue;
            }
        };
        if !item.is_object() {
            continue;
        }
        for key in ["query", "additionalOperations"] {
            if item.get(key).is_some() {
                let what = if key == "query" {
                    "a `query` operation (OpenAPI 3.2)"
                } else {
                    "`additionalOperations` (OpenAPI 3.2)"
                };
                warnings.push(ConversionWarning {
                    pointer: format!("{item_pointer}/{key}"),
                    message: format!("{what}: not converted"),
                });
            }
        }
        for method in HttpMethod::ALL {
            let Some(op) = item.get(method.key()) else { continue };
            let pointer = format!("{item_pointer}/{}", method.key());
            let (doc, op) = match spec.deref(item_doc, op) {
                Ok((d, op)) if op.is_object() => (d, op),
                Ok(_) | Err(_) => {
                    warnings.push(ConversionWarning {
                        pointer,
                        message: "operation skipped: not an object".into(),
                    });
                    continue;
                }
            };
            let operation_id = op.get("operationId").and_then(Value::as_str).map(str::to_string);
            let tags = op
                .get("tags")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            ops.push(RawOp {
                method,
                path: path.clone(),
                pointer,
                doc,
                op,
                item_doc,
                item,
                operation_id,
                tags,
            });
        }
    }
    (ops, warnings)
}

/// Why a path template's braces do not pair up (`/c/{{id}}`, `/a/{id`, `/a/id}`), if they do not.
fn template_problem(path: &str) -> Option<&'static str> {
    let mut open = false;
    for c in path.chars() {
        match (c, open) {
            ('{', true) => return Some("a `{` inside a placeholder"),
            ('{', false) => open = true,
            ('}', true) => open = false,
            ('}', false) => return Some("a `}` without its `{`"),
            _ => {}
        }
    }
    open.then_some("a `{` that is never closed")
}
