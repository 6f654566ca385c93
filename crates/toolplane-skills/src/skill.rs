//! One skill: its `SKILL.md` front matter and body, and where its resources live.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use serde_yaml_ng::{Mapping, Value as YamlValue};

use crate::{SkillError, SkillErrorKind};

/// The longest name a skill may have, in bytes.
pub const MAX_NAME_LEN: usize = 64;
/// The longest description a skill may have, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 1024;

/// A loaded skill: what goes into the prompt before it is chosen (name and
/// description), what goes in once it is (the body), and what stays on disk
/// until asked for (the resources).
///
/// ```
/// use toolplane_skills::Skill;
/// let text = "---\nname: pdf-forms\ndescription: Fill in PDF forms.\nallowed-tools: [fs.read, pdf.*]\n---\n# Steps\n1. Read the form.\n";
/// let skill = Skill::parse("pdf-forms/SKILL.md", text, None).unwrap();
/// assert_eq!(skill.name(), "pdf-forms");
/// assert!(skill.allows_tool("pdf.fill"));
/// assert!(!skill.allows_tool("shell.run"));
/// assert!(skill.body().starts_with("# Steps"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Skill {
    name: String,
    description: String,
    allowed_tools: Option<Vec<String>>,
    license: Option<String>,
    metadata: Map<String, Value>,
    extra: Map<String, Value>,
    body: String,
    dir: Option<PathBuf>,
    resources: Vec<String>,
}

impl Skill {
    /// Parses a `SKILL.md` text. `path` names the file in errors; when
    /// `folder_name` is given the skill's name must equal it.
    ///
    /// # Errors
    /// A [`SkillError`] naming `path` and, where it can, the line: no front
    /// matter, YAML syntax, missing or invalid `name` / `description`, an
    /// `allowed-tools` or `metadata` of the wrong shape.
    pub fn parse(path: impl AsRef<Path>, text: &str, folder_name: Option<&str>) -> Result<Self, SkillError> {
        let path = path.as_ref();
        let (yaml, body) = split_front_matter(path, text)?;
        let mapping: Mapping = match serde_yaml_ng::from_str::<YamlValue>(yaml) {
            Ok(YamlValue::Mapping(m)) => m,
            Ok(YamlValue::Null) => Mapping::new(),
            Ok(_) => {
                return Err(SkillError::new(
                    SkillErrorKind::InvalidFrontMatter,
                    path,
                    "the front matter must be a YAML mapping of `key: value` lines",
                )
                .at_line(2));
            }
            Err(e) => {
                // The YAML starts on line 2 of the file, after the opening `---`.
                // The parser counts lines from the front matter; the error names the file's line instead.
                let text = e.to_string();
                let text = text.find(" at line ").map_or(text.as_str(), |i| &text[..i]);
                let mut err = SkillError::new(
                    SkillErrorKind::InvalidFrontMatter,
                    path,
                    format!("invalid YAML in the front matter: {text}"),
                );
                if let Some(loc) = e.location() {
                    err = err.at_line(loc.line() + 1).at_column(loc.column());
                } else {
                    err = err.at_line(2);
                }
                return Err(err.with_source(e));
            }
        };
        let field_err = |kind, key: &str, message: String| {
            SkillError::new(kind, path, message).at_line(key_line(yaml, key).unwrap_or(1))
        };

        let mut name = None;
        let mut description = None;
        let mut allowed_tools = None;
        let mut license = None;
        let mut metadata = Map::new();
        let mut extra = Map::new();
        for (key, value) in &mapping {
            let Some(key) = key.as_str() else {
                return Err(SkillError::new(
                    SkillErrorKind::InvalidFrontMatter,
                    path,
                    format!("front matter keys must be strings, found {}", yaml_kind(key)),
                )
                .at_line(2));
            };
            match key {
                "name" => name = Some(string_field(value).ok_or_else(|| {
                    field_err(SkillErrorKind::InvalidField, key, format!("`name` must be a string, found {}", yaml_kind(value)))
                })?),
                "description" => description = Some(string_field(value).ok_or_else(|| {
                    field_err(
                        SkillErrorKind::InvalidField,
                        key,
                        format!("`description` must be a string, found {}", yaml_kind(value)),
                    )
                })?),
                "allowed-tools" | "allowed_tools" => {
                    allowed_tools = Some(tool_list(value).ok_or_else(|| {
                        field_err(
                            SkillErrorKind::InvalidField,
                            key,
                            format!(
                                "`{key}` must be a list of tool names or one string of names separated by spaces or commas, found {}",
                                yaml_kind(value)
                            ),
                        )
                    })?)
                }
                "license" => license = string_field(value),
                "metadata" => {
                    let json = match value {
                        YamlValue::Mapping(_) => serde_json::to_value(value).ok(),
                        YamlValue::Null => Some(Value::Object(Map::new())),
                        _ => None,
                    };
                    match json {
                        Some(Value::Object(m)) => metadata = m,
                        _ => {
                            return Err(field_err(
                                SkillErrorKind::InvalidField,
                                key,
                                format!("`metadata` must be a mapping with string keys, found {}", yaml_kind(value)),
                            ));
                        }
                    }
                }
                other if other.contains("allow") || other.contains("tool") => {
                    // A misspelt allowed-tools would silently widen the tool set: refuse it.
                    return Err(field_err(
                        SkillErrorKind::InvalidField,
                        key,
                        format!("unknown key `{other}`; did you mean `allowed-tools`?"),
                    ));
                }
                other => {
                    if let Ok(v) = serde_json::to_value(value) {
                        extra.insert(other.to_string(), v);
                    }
                }
            }
        }

        let name = name.filter(|n| !n.trim().is_empty()).ok_or_else(|| {
            SkillError::new(
                SkillErrorKind::MissingField,
                path,
                "`name` is required in the front matter",
            )
            .at_line(1)
        })?;
        validate_name(&name).map_err(|m| field_err(SkillErrorKind::InvalidField, "name", m))?;
        if let Some(folder) = folder_name {
            if folder != name {
                return Err(field_err(
                    SkillErrorKind::InvalidField,
                    "name",
                    format!("`name` is `{name}` but the skill's folder is `{folder}`; they must be equal"),
                ));
            }
        }
        let description = description
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .ok_or_else(|| {
                SkillError::new(
                    SkillErrorKind::MissingField,
                    path,
                    "`description` is required in the front matter",
                )
                .at_line(1)
            })?;
        if description.len() > MAX_DESCRIPTION_LEN {
            return Err(field_err(
                SkillErrorKind::InvalidField,
                "description",
                format!(
                    "`description` is {} bytes; the limit is {MAX_DESCRIPTION_LEN}",
                    description.len()
                ),
            ));
        }
        Ok(Self {
            name,
            description,
            allowed_tools,
            license,
            metadata,
            extra,
            body: body.trim().to_string(),
            dir: None,
            resources: Vec::new(),
        })
    }

    pub(crate) fn with_dir(mut self, dir: PathBuf, resources: Vec<String>) -> Self {
        self.dir = Some(dir);
        self.resources = resources;
        self
    }

    /// The skill's name (lowercase letters, digits and hyphens).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the skill does and when to use it, written for a model.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The tool name patterns the skill allows while active; `None` means the
    /// skill does not narrow the tool set.
    pub fn allowed_tools(&self) -> Option<&[String]> {
        self.allowed_tools.as_deref()
    }

    /// True when the skill leaves `tool` available: it has no `allowed-tools`,
    /// or one of its patterns matches (`*` matches any run of characters; a
    /// `Name(...)` argument qualifier is ignored).
    pub fn allows_tool(&self, tool: &str) -> bool {
        match &self.allowed_tools {
            None => true,
            Some(patterns) => patterns.iter().any(|p| tool_pattern_matches(p, tool)),
        }
    }

    /// The license, when declared.
    pub fn license(&self) -> Option<&str> {
        self.license.as_deref()
    }

    /// The `metadata` mapping as JSON.
    pub fn metadata(&self) -> &Map<String, Value> {
        &self.metadata
    }

    /// Front matter keys this library does not interpret, as JSON.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// The markdown instructions after the front matter.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The skill's folder, when it was loaded from disk.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Resource files beside `SKILL.md`, relative to the folder, `/`-separated, sorted.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }
}

/// True when a tool name pattern matches a tool name. `*` matches any run of
/// characters; a trailing `(...)` qualifier (`Bash(git:*)`) is ignored, as
/// this library does not constrain arguments.
///
/// ```
/// use toolplane_skills::tool_pattern_matches;
/// assert!(tool_pattern_matches("github.*", "github.issues_create"));
/// assert!(tool_pattern_matches("*_create", "github.issues_create"));
/// assert!(!tool_pattern_matches("github.issues_get", "github.issues_create"));
/// ```
pub fn tool_pattern_matches(pattern: &str, name: &str) -> bool {
    let pattern = match pattern.find('(') {
        Some(i) if pattern.ends_with(')') => &pattern[..i],
        _ => pattern,
    };
    wildcard_match(pattern.as_bytes(), name.as_bytes())
}

fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative glob with one backtrack point: linear in practice, no recursion.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

fn split_front_matter<'a>(path: &Path, text: &'a str) -> Result<(&'a str, &'a str), SkillError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(SkillError::new(
            SkillErrorKind::MissingFrontMatter,
            path,
            "SKILL.md must start with a `---` line opening the YAML front matter",
        )
        .at_line(1));
    }
    let start = first.len();
    let mut offset = start;
    for line in lines {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return Ok((&text[start..offset], &text[offset + line.len()..]));
        }
        offset += line.len();
    }
    Err(SkillError::new(
        SkillErrorKind::MissingFrontMatter,
        path,
        "the front matter opened on line 1 is never closed by a `---` line",
    )
    .at_line(1))
}

/// The file line (1-based) of a top-level `key:` in the front matter text.
fn key_line(yaml: &str, key: &str) -> Option<usize> {
    yaml.lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 2)
}

fn string_field(value: &YamlValue) -> Option<String> {
    match value {
        YamlValue::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn tool_list(value: &YamlValue) -> Option<Vec<String>> {
    match value {
        YamlValue::String(s) => Some(
            s.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        YamlValue::Sequence(items) => items.iter().map(|i| i.as_str().map(|s| s.trim().to_string())).collect(),
        YamlValue::Null => Some(Vec::new()),
        _ => None,
    }
}

fn yaml_kind(value: &YamlValue) -> &'static str {
    match value {
        YamlValue::Null => "nothing",
        YamlValue::Bool(_) => "a boolean",
        YamlValue::Number(_) => "a number",
        YamlValue::String(_) => "a string",
        YamlValue::Sequence(_) => "a list",
        YamlValue::Mapping(_) => "a mapping",
        YamlValue::Tagged(_) => "a tagged value",
    }
}

fn validate_name(name: &str) -> Result<(), String> {
    if name.len() > MAX_NAME_LEN {
        return Err(format!("`name` is {} bytes; the limit is {MAX_NAME_LEN}", name.len()));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "`name` `{name}` contains `{bad}`; use lowercase letters, digits and hyphens only"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Err(format!(
            "`name` `{name}` must not start or end with a hyphen or contain `--`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_error_points_at_the_file_line() {
        let text = "---\nname: a\ndescription: [unclosed\n---\nbody";
        let e = Skill::parse("a/SKILL.md", text, None).unwrap_err();
        assert_eq!(e.kind(), SkillErrorKind::InvalidFrontMatter);
        assert!(e.line().unwrap() >= 3, "{e}");
        assert!(e.to_string().starts_with("a/SKILL.md:"), "{e}");
        assert!(!e.message().contains("at line"), "one location, the file's: {e}");
    }

    #[test]
    fn wrong_name_points_at_its_line() {
        let text = "---\ndescription: d\nname: Bad_Name\n---\n";
        let e = Skill::parse("x/SKILL.md", text, None).unwrap_err();
        assert_eq!(e.kind(), SkillErrorKind::InvalidField);
        assert_eq!(e.line(), Some(3));
        assert!(e.message().contains('B'), "{e}");
    }

    #[test]
    fn folder_name_must_match() {
        let text = "---\nname: alpha\ndescription: d\n---\n";
        let e = Skill::parse("beta/SKILL.md", text, Some("beta")).unwrap_err();
        assert!(e.message().contains("folder"), "{e}");
    }

    #[test]
    fn allowed_tools_accepts_a_string_and_rejects_a_typo() {
        let s = Skill::parse(
            "a/SKILL.md",
            "---\nname: a\ndescription: d\nallowed-tools: Read, Grep github.*\n---\n",
            None,
        )
        .unwrap();
        assert_eq!(s.allowed_tools().unwrap(), ["Read", "Grep", "github.*"]);
        let e = Skill::parse(
            "a/SKILL.md",
            "---\nname: a\ndescription: d\nallowed-tool: Read\n---\n",
            None,
        )
        .unwrap_err();
        assert_eq!(e.line(), Some(4));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match(b"*", b""));
        assert!(wildcard_match(b"a*b*c", b"aXXbYYc"));
        assert!(!wildcard_match(b"a*b", b"ac"));
        assert!(tool_pattern_matches("Bash(git:*)", "Bash"));
    }

    #[test]
    fn no_front_matter_is_reported() {
        let e = Skill::parse("a/SKILL.md", "# just markdown", None).unwrap_err();
        assert_eq!(e.kind(), SkillErrorKind::MissingFrontMatter);
        let e = Skill::parse("a/SKILL.md", "---\nname: a\n", None).unwrap_err();
        assert!(e.message().contains("never closed"));
    }
}
