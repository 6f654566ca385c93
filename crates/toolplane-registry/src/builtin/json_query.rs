//! `json_query`: select values from JSON data with a JSON Pointer or a small
//! path syntax.
//!
//! | syntax | meaning |
//! | --- | --- |
//! | `/a/0/b` (or empty) | JSON Pointer (RFC 6901): at most one match |
//! | `$` | the whole document (optional at the start of a path) |
//! | `.name`, `name`, `['name']`, `["a b"]` | an object member |
//! | `[2]`, `[-1]` | an array element (negative counts from the end) |
//! | `[1:3]`, `[:2]`, `[-2:]` | an array slice |
//! | `.*`, `[*]` | every member or element |
//! | `..name` | `name` at any depth |
//! | `[?(@.status == "open")]`, `[?(@.n > 2)]`, `[?(@.tag)]` | elements whose field compares (`==` `!=` `<` `<=` `>` `>=`) or exists |

use async_trait::async_trait;
use serde_json::{Value, json};
use toolplane_core::{CallContext, Tool, ToolAnnotations, ToolError, ToolOutput, ToolSpec};

/// The `json_query` tool: arguments `data` (any JSON), `query` (a pointer or
/// path, table in the module docs) and `limit` (most matches returned,
/// default 100); the result is `{"matches": [...], "count": n}` where `count`
/// is the number of matches before the limit.
///
/// ```
/// use toolplane_core::{CallContext, Tool};
/// use toolplane_registry::builtin::JsonQuery;
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let data = serde_json::json!({"issues": [{"id": 1, "state": "open"}, {"id": 2, "state": "closed"}]});
/// let args = serde_json::json!({"data": data, "query": "$.issues[?(@.state == \"open\")].id"});
/// let out = JsonQuery::new().call(&args, &CallContext::default()).await.unwrap();
/// assert_eq!(out.content["matches"], serde_json::json!([1]));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct JsonQuery {
    spec: ToolSpec,
}

impl Default for JsonQuery {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonQuery {
    /// The tool.
    pub fn new() -> Self {
        let spec = ToolSpec::new(
            "json_query",
            "Select values from JSON data with a JSON Pointer (/items/0/name) or a path ($.items[*].name, \
             ..id, [-1], [1:3], [?(@.state == \"open\")]). Returns the matches and their count.",
        )
        .with_input_schema(json!({
            "type": "object",
            "properties": {
                "data": {"description": "The JSON document to query."},
                "query": {"type": "string", "maxLength": 1000,
                          "description": "A JSON Pointer starting with `/`, or a path such as `$.items[*].name`."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100,
                          "description": "Most matches to return."}
            },
            "required": ["data", "query"],
            "additionalProperties": false
        }))
        .with_annotations(ToolAnnotations {
            read_only: Some(true),
            idempotent: Some(true),
            open_world: Some(false),
            tags: vec!["json".into(), "data".into()],
            ..ToolAnnotations::default()
        });
        Self { spec }
    }
}

#[async_trait]
impl Tool for JsonQuery {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let data = args.get("data").unwrap_or(&Value::Null);
        let query = args.get("query").and_then(Value::as_str).unwrap_or_default();
        let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(100) as usize;
        let found = query_json(data, query).map_err(|e| ToolError::invalid_arguments(format!("/query: {e}")))?;
        let count = found.len();
        let matches: Vec<Value> = found.into_iter().take(limit).cloned().collect();
        Ok(ToolOutput::json(json!({"matches": matches, "count": count})))
    }
}

/// Runs `query` over `data`; the error says where the query stops making sense.
///
/// ```
/// let data = serde_json::json!({"a": {"b": [10, 20, 30]}});
/// let hits = toolplane_registry::builtin::query_json(&data, "a.b[-1]").unwrap();
/// assert_eq!(hits, [&serde_json::json!(30)]);
/// assert_eq!(toolplane_registry::builtin::query_json(&data, "/a/b/0").unwrap(), [&serde_json::json!(10)]);
/// ```
pub fn query_json<'a>(data: &'a Value, query: &str) -> Result<Vec<&'a Value>, String> {
    if query.is_empty() || query.starts_with('/') {
        return Ok(data.pointer(query).into_iter().collect());
    }
    let steps = Parser::new(query).steps()?;
    let mut current = vec![data];
    for step in &steps {
        let mut next = Vec::new();
        for v in current {
            apply(step, v, &mut next);
        }
        current = next;
    }
    Ok(current)
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Wildcard,
    Descend(String),
    Filter(Vec<String>, Option<(Op, Value)>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

fn index(len: usize, i: i64) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if i < 0 { len + i } else { i };
    (0..len).contains(&i).then_some(i as usize)
}

fn apply<'a>(step: &Step, v: &'a Value, out: &mut Vec<&'a Value>) {
    match step {
        Step::Key(k) => out.extend(v.get(k.as_str())),
        Step::Index(i) => {
            if let Some(a) = v.as_array() {
                out.extend(index(a.len(), *i).map(|i| &a[i]));
            }
        }
        Step::Slice(from, to) => {
            if let Some(a) = v.as_array() {
                let len = a.len() as i64;
                let clamp = |x: i64| (if x < 0 { len + x } else { x }).clamp(0, len) as usize;
                let (f, t) = (clamp(from.unwrap_or(0)), clamp(to.unwrap_or(len)));
                if f < t {
                    out.extend(&a[f..t]);
                }
            }
        }
        Step::Wildcard => match v {
            Value::Array(a) => out.extend(a),
            Value::Object(o) => out.extend(o.values()),
            _ => {}
        },
        Step::Descend(k) => descend(v, k, out),
        Step::Filter(path, cmp) => {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                Value::Object(o) => o.values().collect(),
                _ => Vec::new(),
            };
            for item in items {
                let field = path.iter().try_fold(item, |cur, k| cur.get(k.as_str()));
                let keep = match (field, cmp) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(f), Some((op, lit))) => compare(f, *op, lit),
                };
                if keep {
                    out.push(item);
                }
            }
        }
    }
}

fn descend<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(o) => {
            if let Some(hit) = o.get(key) {
                out.push(hit);
            }
            o.values().for_each(|c| descend(c, key, out));
        }
        Value::Array(a) => a.iter().for_each(|c| descend(c, key, out)),
        _ => {}
    }
}

fn compare(a: &Value, op: Op, b: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().zip(y.as_f64()).and_then(|(x, y)| x.partial_cmp(&y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ if a == b => Some(Ordering::Equal),
        _ => None,
    };
    match op {
        Op::Eq => ord == Some(Ordering::Equal),
        Op::Ne => ord != Some(Ordering::Equal),
        Op::Lt => ord == Some(Ordering::Less),
        Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => ord == Some(Ordering::Greater),
        Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
    }
}

struct Parser<'q> {
    src: &'q str,
    pos: usize,
}

impl<'q> Parser<'q> {
    fn new(src: &'q str) -> Self {
        Self { src, pos: 0 }
    }

    fn rest(&self) -> &'q str {
        &self.src[self.pos..]
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn fail<T>(&self, what: &str) -> Result<T, String> {
        let at: String = self.rest().chars().take(12).collect();
        Err(format!(
            "{what} at character {} (`{at}`)",
            self.src[..self.pos].chars().count()
        ))
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }

    fn ident(&mut self) -> String {
        let end = self
            .rest()
            .find(['.', '[', ']', ' ', '=', '!', '<', '>', ')'])
            .unwrap_or(self.rest().len());
        let s = self.rest()[..end].to_string();
        self.pos += end;
        s
    }

    fn steps(mut self) -> Result<Vec<Step>, String> {
        let mut steps = Vec::new();
        self.eat("$");
        if !self.rest().is_empty() && !self.rest().starts_with(['.', '[']) {
            steps.push(Step::Key(self.ident()));
        }
        while !self.rest().is_empty() {
            if self.eat("..") {
                let k = if self.rest().starts_with('[') {
                    self.quoted_in_brackets()?
                } else {
                    self.ident()
                };
                if k.is_empty() {
                    return self.fail("expected a member name after `..`");
                }
                steps.push(Step::Descend(k));
            } else if self.eat(".") {
                if self.eat("*") {
                    steps.push(Step::Wildcard);
                } else {
                    let k = self.ident();
                    if k.is_empty() {
                        return self.fail("expected a member name after `.`");
                    }
                    steps.push(Step::Key(k));
                }
            } else if self.rest().starts_with('[') {
                steps.push(self.bracket()?);
            } else {
                return self.fail("expected `.`, `..` or `[`");
            }
        }
        Ok(steps)
    }

    fn quoted_in_brackets(&mut self) -> Result<String, String> {
        match self.bracket()? {
            Step::Key(k) => Ok(k),
            _ => self.fail("expected a quoted member name"),
        }
    }

    fn bracket(&mut self) -> Result<Step, String> {
        self.eat("[");
        self.skip_ws();
        let step = if self.eat("*") {
            Step::Wildcard
        } else if self.rest().starts_with(['\'', '"']) {
            Step::Key(self.string()?)
        } else if self.eat("?") {
            self.filter()?
        } else {
            let end = self.rest().find(']').unwrap_or(self.rest().len());
            let inner = self.rest()[..end].trim();
            let num = |s: &str| -> Result<Option<i64>, String> {
                let s = s.trim();
                if s.is_empty() {
                    Ok(None)
                } else {
                    s.parse().map(Some).map_err(|_| format!("`{s}` is not an integer"))
                }
            };
            let step = match inner.split_once(':') {
                Some((a, b)) => Step::Slice(num(a)?, num(b)?),
                None => match num(inner)? {
                    Some(i) => Step::Index(i),
                    None => return self.fail("empty brackets"),
                },
            };
            self.pos += end;
            step
        };
        self.skip_ws();
        if !self.eat("]") {
            return self.fail("expected `]`");
        }
        Ok(step)
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = if self.eat("'") {
            '\''
        } else if self.eat("\"") {
            '"'
        } else {
            return self.fail("expected a quote");
        };
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, e)) => out.push(e),
                    None => break,
                },
                c if c == quote => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                c => out.push(c),
            }
        }
        self.fail("unterminated string")
    }

    fn filter(&mut self) -> Result<Step, String> {
        let paren = self.eat("(");
        self.skip_ws();
        if !self.eat("@") {
            return self.fail("a filter starts with `@`");
        }
        let mut path = Vec::new();
        while self.eat(".") {
            let k = if self.rest().starts_with(['\'', '"']) {
                self.string()?
            } else {
                self.ident()
            };
            if k.is_empty() {
                return self.fail("expected a field name");
            }
            path.push(k);
        }
        self.skip_ws();
        let ops = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        let mut cmp = None;
        if let Some(&(text, op)) = ops.iter().find(|(s, _)| self.rest().starts_with(s)) {
            self.pos += text.len();
            self.skip_ws();
            let lit = if self.rest().starts_with('\'') {
                Value::String(self.string()?)
            } else {
                let end = self.rest().find([')', ']']).unwrap_or(self.rest().len());
                let text = self.rest()[..end].trim();
                let v: Value = serde_json::from_str(text).map_err(|_| format!("`{text}` is not a JSON literal"))?;
                self.pos += end;
                v
            };
            cmp = Some((op, lit));
        }
        self.skip_ws();
        if paren && !self.eat(")") {
            return self.fail("expected `)`");
        }
        Ok(Step::Filter(path, cmp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(data: &Value, query: &str) -> Vec<Value> {
        query_json(data, query).unwrap().into_iter().cloned().collect()
    }

    #[test]
    fn paths_select_what_they_say() {
        let d = json!({"store": {"books": [
            {"title": "A", "price": 8, "tags": ["x"]},
            {"title": "B", "price": 12},
            {"title": "C d", "price": 20, "tags": []}
        ], "name": "s"}, "a b": 1});
        assert_eq!(q(&d, "$.store.books[*].title"), [json!("A"), json!("B"), json!("C d")]);
        assert_eq!(q(&d, "store.books[-1].price"), [json!(20)]);
        assert_eq!(q(&d, "store.books[0:2].price"), [json!(8), json!(12)]);
        assert_eq!(q(&d, "store.books[-2:].title"), [json!("B"), json!("C d")]);
        assert_eq!(q(&d, "$['a b']"), [json!(1)]);
        assert_eq!(q(&d, "..price"), [json!(8), json!(12), json!(20)]);
        assert_eq!(q(&d, "store.books[?(@.price > 10)].title"), [json!("B"), json!("C d")]);
        assert_eq!(q(&d, "store.books[?(@.title == 'A')].price"), [json!(8)]);
        assert_eq!(q(&d, "store.books[?@.tags].title"), [json!("A"), json!("C d")]);
        assert_eq!(q(&d, "/store/books/1/title"), [json!("B")]);
        assert!(q(&d, "/nope").is_empty());
        assert!(q(&d, "store.books[9]").is_empty());
        assert_eq!(q(&d, "$").len(), 1);
    }

    #[test]
    fn bad_queries_say_where() {
        let d = json!({});
        assert!(query_json(&d, "a[").unwrap_err().contains("character"));
        assert!(query_json(&d, "a[x]").unwrap_err().contains("not an integer"));
        assert!(
            query_json(&d, "a[?(@.b == nope)]")
                .unwrap_err()
                .contains("JSON literal")
        );
        assert!(query_json(&d, "a.").unwrap_err().contains("after `.`"));
        assert!(query_json(&d, "a['x").unwrap_err().contains("unterminated"));
    }
}
