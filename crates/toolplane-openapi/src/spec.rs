//! Loading a description: JSON or YAML, OpenAPI 3.0.x or 3.1.x, with its external documents.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::error::LoadError;
use crate::local_file::{BoundedReadError, canonical_root, read_bounded, read_confined};
use crate::nesting::{MAX_NESTING, TooDeep, check_json, check_yaml};

/// Fetches a remote document (an `http(s)://` reference) and returns its text.
pub type RemoteFetcher = Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

/// How to load a description.
///
/// External file references are confined: by default they resolve only to
/// regular files inside the folder of the root description (after symlinks
/// are resolved, so `../` and symlinks cannot lead out), of at most
/// [`LoadOptions::max_file_bytes`] each. [`LoadOptions::file_root`] widens
/// the folder; nothing turns the file-type and size checks off.
#[derive(Clone)]
pub struct LoadOptions {
    /// Fetcher for remote references. `None` (the default): a remote
    /// reference is an error and nothing is fetched.
    pub remote: Option<RemoteFetcher>,
    /// At most this many documents (the root plus external ones).
    pub max_documents: usize,
    /// The folder external file references may resolve into. `None` (the
    /// default): the root description's own folder tree. Descriptions parsed
    /// from text without a folder ([`OpenApiSpec::from_str`]) may reference
    /// no file unless this is set.
    pub file_root: Option<PathBuf>,
    /// The largest file read, in bytes, the root description included
    /// (default 64 MiB; GitHub's full description is about 12 MB).
    pub max_file_bytes: u64,
}

/// The default for [`LoadOptions::max_file_bytes`]: 64 MiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            remote: None,
            max_documents: 256,
            file_root: None,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("remote", &self.remote.as_ref().map(|_| "<fetcher>"))
            .field("max_documents", &self.max_documents)
            .field("file_root", &self.file_root)
            .field("max_file_bytes", &self.max_file_bytes)
            .finish()
    }
}

/// The OpenAPI major.minor line of a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpecVersion {
    /// 3.0.x: schemas are an extended subset of JSON Schema draft 4 (`nullable`, boolean `exclusiveMinimum`).
    V3_0,
    /// 3.1.x: schemas are JSON Schema 2020-12.
    V3_1,
}

#[derive(Debug, Clone)]
enum Base {
    Dir(PathBuf),
    Url(String),
    None,
}

#[derive(Debug, Clone)]
struct Document {
    name: String,
    base: Base,
    value: Value,
}

/// A loaded OpenAPI 3.0/3.1 description with the external documents it references.
///
/// ```
/// use toolplane_openapi::OpenApiSpec;
/// let spec = OpenApiSpec::from_str(r#"
/// openapi: 3.1.0
/// info: {title: Pets, version: "1"}
/// paths: {}
/// "#).unwrap();
/// assert_eq!(spec.title(), "Pets");
/// assert!(OpenApiSpec::from_str(r#"{"swagger": "2.0"}"#).unwrap_err().to_string().contains("Swagger 2.0"));
/// ```
#[derive(Debug, Clone)]
pub struct OpenApiSpec {
    docs: Vec<Document>,
    /// The canonical folder external files must be in (`None`: no file may be read).
    file_root: Option<PathBuf>,
    index: BTreeMap<String, usize>,
    version: SpecVersion,
    version_string: String,
}

/// Parses JSON or YAML text into a JSON value (YAML keys that are numbers or
/// booleans, like response codes, become strings).
///
/// Text whose first non-blank character is `{` or `[` is read as JSON (a
/// YAML flow document such as `{type: string}` is accepted too, and a syntax
/// error is reported as JSON's); other text is YAML. Either way, nesting
/// deeper than 128 levels is refused with [`LoadError::TooDeep`] after one
/// linear scan, before any parser runs, so hostile nesting fails in
/// milliseconds instead of costing the YAML parser quadratic time.
///
/// ```
/// use toolplane_openapi::parse_text;
/// let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
/// assert_eq!(parse_text(&deep, "deep.json").unwrap_err().kind(), "too_deep");
/// assert_eq!(parse_text("a: {b: [1]}", "x.yaml").unwrap()["a"]["b"][0], 1);
/// ```
pub fn parse_text(text: &str, place: &str) -> Result<Value, LoadError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let lines_before = text[..text.len() - trimmed.len()].matches('\n').count();
    let too_deep = |d: TooDeep| LoadError::TooDeep {
        place: place.to_string(),
        line: d.line + lines_before,
        column: d.column,
        limit: MAX_NESTING,
    };
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // The bound comes first, so nothing deep ever reaches either parser.
        check_json(trimmed, MAX_NESTING).map_err(too_deep)?;
        let json_error = match serde_json::from_str::<Value>(trimmed) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        // A YAML flow document (`{type: string}`) also starts with a bracket. YAML
        // quotes differently from JSON, so its nesting is checked again, YAML's way.
        check_yaml(trimmed, MAX_NESTING).map_err(too_deep)?;
        return match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(trimmed) {
            Ok(y) => Ok(yaml_to_json(y)),
            Err(_) => Err(LoadError::Parse {
                place: place.to_string(),
                message: format!("not valid JSON: {json_error}"),
            }),
        };
    }
    check_yaml(trimmed, MAX_NESTING).map_err(too_deep)?;
    let y: serde_yaml_ng::Value = serde_yaml_ng::from_str(trimmed).map_err(|e| LoadError::Parse {
        place: place.to_string(),
        message: format!("not valid YAML: {e}"),
    })?;
    Ok(yaml_to_json(y))
}

fn yaml_to_json(y: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match y {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match yaml_to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

/// Escapes one JSON pointer segment.
pub(crate) fn escape(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

impl OpenApiSpec {
    /// Loads a file (JSON or YAML); external references resolve relative to its folder.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        Self::from_path_with(path, &LoadOptions::default())
    }

    /// [`OpenApiSpec::from_path`] with options.
    pub fn from_path_with(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Self, LoadError> {
        let path = path.as_ref();
        let io = |source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        };
        // The root is the file the caller named (it may be a pipe such as
        // `/dev/stdin`), but it is still read through a bounded reader.
        let file = std::fs::File::open(path).map_err(io)?;
        let text = read_bounded(file, options.max_file_bytes).map_err(|e| match e {
            BoundedReadError::TooLarge => LoadError::TooLarge {
                place: path.display().to_string(),
                limit: options.max_file_bytes,
            },
            BoundedReadError::Io(source) => io(source),
        })?;
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let abs = normalize(&abs);
        let value = parse_text(&text, &path.display().to_string())?;
        let base = abs.parent().map_or(Base::None, |p| Base::Dir(p.to_path_buf()));
        let root = match (&options.file_root, abs.parent()) {
            (Some(dir), _) => Some(dir.clone()),
            (None, Some(dir)) => Some(dir.to_path_buf()),
            (None, None) => None,
        };
        Self::build(value, abs.display().to_string(), base, root.as_deref(), options)
    }

    /// Parses text (JSON or YAML). External file references are refused (there
    /// is no folder to resolve them against); see [`OpenApiSpec::from_str_in`].
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Self, LoadError> {
        let value = parse_text(text, "<input>")?;
        Self::build(value, "<input>".into(), Base::None, None, &LoadOptions::default())
    }

    /// Parses text whose external file references resolve relative to
    /// `base_dir` and stay inside it (or inside [`LoadOptions::file_root`] when set).
    pub fn from_str_in(text: &str, base_dir: &Path, options: &LoadOptions) -> Result<Self, LoadError> {
        let value = parse_text(text, "<input>")?;
        let root = options.file_root.as_deref().unwrap_or(base_dir);
        Self::build(
            value,
            "<input>".into(),
            Base::Dir(base_dir.to_path_buf()),
            Some(root),
            options,
        )
    }

    /// Uses an already parsed value (external file references are refused).
    pub fn from_value(value: Value) -> Result<Self, LoadError> {
        Self::build(value, "<input>".into(), Base::None, None, &LoadOptions::default())
    }

    fn build(
        value: Value,
        name: String,
        base: Base,
        file_root: Option<&Path>,
        options: &LoadOptions,
    ) -> Result<Self, LoadError> {
        let Value::Object(root) = &value else {
            return Err(LoadError::Invalid {
                place: name,
                message: "the description is not an object".into(),
            });
        };
        if let Some(v) = root.get("swagger") {
            return Err(LoadError::Swagger2 {
                place: name,
                version: v.as_str().map_or_else(|| v.to_string(), str::to_string),
            });
        }
        let version_string = match root.get("openapi") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::from("(missing)"),
        };
        let version = if version_string.starts_with("3.0") {
            SpecVersion::V3_0
        } else if version_string.starts_with("3.1") || version_string.starts_with("3.2") {
            SpecVersion::V3_1
        } else {
            return Err(LoadError::UnsupportedVersion {
                place: format!("{name}#/openapi"),
                version: version_string,
            });
        };
        let file_root = match file_root {
            Some(dir) => Some(canonical_root(dir).map_err(|message| LoadError::Invalid {
                place: name.clone(),
                message: format!("the folder for external references: {message}"),
            })?),
            None => None,
        };
        let mut spec = OpenApiSpec {
            file_root,
            docs: vec![Document {
                name: name.clone(),
                base,
                value,
            }],
            index: BTreeMap::new(),
            version,
            version_string,
        };
        spec.index.insert(name, 0);
        spec.load_externals(options)?;
        Ok(spec)
    }

    fn load_externals(&mut self, options: &LoadOptions) -> Result<(), LoadError> {
        let mut next = 0;
        while next < self.docs.len() {
            let mut refs = Vec::new();
            collect_external_refs(&self.docs[next].value, &mut Vec::new(), &mut refs);
            for (pointer, reference) in refs {
                let place = format!("{}#{pointer}", self.docs[next].name);
                let file = reference.split('#').next().unwrap_or_default();
                let key = self.doc_key(next, file).map_err(|message| LoadError::Reference {
                    place: place.clone(),
                    reference: reference.clone(),
                    message,
                })?;
                if self.index.contains_key(&key) {
                    continue;
                }
                if self.docs.len() >= options.max_documents {
                    return Err(LoadError::Reference {
                        place,
                        reference,
                        message: format!("more than {} documents", options.max_documents),
                    });
                }
                let (text, base) = if is_remote(&key) {
                    let Some(fetch) = &options.remote else {
                        return Err(LoadError::RemoteRefused { place, reference });
                    };
                    let text = fetch(&key).map_err(|message| LoadError::Reference {
                        place: place.clone(),
                        reference: reference.clone(),
                        message,
                    })?;
                    let base = key.rfind('/').map_or(Base::None, |i| Base::Url(key[..=i].to_string()));
                    (text, base)
                } else {
                    let refused = |message: String| LoadError::FileRefused {
                        place: place.clone(),
                        reference: reference.clone(),
                        message,
                    };
                    if matches!(self.docs[next].base, Base::Url(_)) {
                        return Err(refused(format!(
                            "a remote document ({}) may not reference a local file",
                            self.docs[next].name
                        )));
                    }
                    let Some(root) = &self.file_root else {
                        return Err(refused(
                            "no folder is allowed for file references (load the description from a file, \
                             or set LoadOptions::file_root)"
                                .into(),
                        ));
                    };
                    let path = PathBuf::from(&key);
                    let text = read_confined(&path, root, options.max_file_bytes).map_err(refused)?;
                    let base = path.parent().map_or(Base::None, |p| Base::Dir(p.to_path_buf()));
                    (text, base)
                };
                let value = parse_text(&text, &key)?;
                self.index.insert(key.clone(), self.docs.len());
                self.docs.push(Document { name: key, base, value });
            }
            next += 1;
        }
        Ok(())
    }

    /// The key (absolute path or URL) of the document `file` names, seen from document `from`.
    fn doc_key(&self, from: usize, file: &str) -> Result<String, String> {
        if file.is_empty() {
            return Ok(self.docs[from].name.clone());
        }
        if is_remote(file) {
            return Ok(file.to_string());
        }
        if let Some(rest) = file.strip_prefix("file://") {
            if !rest.starts_with('/') {
                return Err(format!(
                    "`{file}`: only `file:///absolute/path` URLs are understood (no host)"
                ));
            }
            return Ok(normalize(Path::new(rest)).display().to_string());
        }
        match &self.docs[from].base {
            Base::Dir(d) => Ok(normalize(&d.join(file)).display().to_string()),
            Base::Url(u) => Ok(format!("{u}{file}")),
            Base::None => {
                Err("a relative file reference needs a base folder (load the description from a file)".into())
            }
        }
    }

    /// The OpenAPI line (3.0 or 3.1).
    pub fn version(&self) -> SpecVersion {
        self.version
    }

    /// The `openapi` field as written (`3.1.0`).
    pub fn openapi_version(&self) -> &str {
        &self.version_string
    }

    /// The root document.
    pub fn document(&self) -> &Value {
        &self.docs[0].value
    }

    /// `info.title` (empty when absent).
    pub fn title(&self) -> &str {
        self.document()
            .pointer("/info/title")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `info.version` (empty when absent).
    pub fn api_version(&self) -> &str {
        self.document()
            .pointer("/info/version")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// How many documents were loaded (the root plus external ones).
    pub fn document_count(&self) -> usize {
        self.docs.len()
    }

    /// The display name of document `doc` (a path, a URL or `<input>`).
    pub(crate) fn doc_name(&self, doc: usize) -> &str {
        self.docs.get(doc).map_or("", |d| d.name.as_str())
    }

    /// Resolves `reference` as seen from document `doc`: the target's document,
    /// its JSON pointer and its value.
    pub(crate) fn resolve(&self, doc: usize, reference: &str) -> Result<(usize, String, &Value), String> {
        let (file, fragment) = match reference.split_once('#') {
            Some((f, frag)) => (f, frag),
            None => (reference, ""),
        };
        let target = if file.is_empty() {
            doc
        } else {
            let key = self.doc_key(doc, file)?;
            *self
                .index
                .get(&key)
                .ok_or_else(|| format!("document {key} was not loaded"))?
        };
        let root = &self.docs[target].value;
        let found = toolplane_schema::inline::resolve_local(root, &format!("#{fragment}")).ok_or_else(|| {
            format!(
                "`{reference}` does not resolve (no `{fragment}` in {})",
                self.docs[target].name
            )
        })?;
        Ok((target, fragment.to_string(), found))
    }

    /// Follows `$ref` chains (at most 32 hops) from `value` in document `doc`.
    pub(crate) fn deref<'a>(&'a self, doc: usize, value: &'a Value) -> Result<(usize, &'a Value), String> {
        let mut cur = (doc, value);
        for _ in 0..32 {
            match cur.1.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let (d, _, v) = self.resolve(cur.0, r)?;
                    cur = (d, v);
                }
                None => return Ok(cur),
            }
        }
        Err("a `$ref` chain longer than 32 hops (or a cycle)".into())
    }
}

fn is_remote(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Lexically normalizes a path (`a/./b/../c` → `a/c`) without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// One step of a JSON pointer, borrowed while walking.
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn collect_external_refs<'a>(v: &'a Value, path: &mut Vec<Seg<'a>>, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                if !r.starts_with('#') {
                    let pointer: String = path
                        .iter()
                        .map(|s| match s {
                            Seg::Key(k) => format!("/{}", escape(k)),
                            Seg::Index(i) => format!("/{i}"),
                        })
                        .collect();
                    out.push((format!("{pointer}/$ref"), r.clone()));
                }
            }
            for (k, child) in m {
                if matches!(child, Value::Object(_) | Value::Array(_)) {
                    path.push(Seg::Key(k));
                    collect_external_refs(child, path, out);
                    path.pop();
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                if matches!(child, Value::Object(_) | Value::Array(_)) {
                    path.push(Seg::Index(i));
                    collect_external_refs(child, path, out);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}
