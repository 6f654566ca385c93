//! [`ToolRegistry`]: the tools a host knows, by name, tag and keyword.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use toolplane_core::{Tool, ToolSpec};

use crate::names::{NamePolicy, flatten, skeleton};
use crate::nearest::nearest;
use crate::search::SearchIndex;
use crate::validation::compile_schema;

/// Why a tool could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The name breaks the [`NamePolicy`].
    #[error("invalid tool name: {0}")]
    InvalidName(String),
    /// A tool of that exact name (or flat name) is registered.
    #[error("tool `{0}` is already registered")]
    Duplicate(String),
    /// The name differs from a registered one only by case, separators or
    /// look-alike characters.
    #[error(
        "tool `{name}` looks too much like the registered `{existing}` (case, separators or look-alike characters)"
    )]
    LookAlike {
        /// The rejected name.
        name: String,
        /// The registered name it resembles.
        existing: String,
    },
    /// The input schema does not compile.
    #[error("tool `{tool}`: invalid input schema: {message}")]
    InvalidSchema {
        /// The tool.
        tool: String,
        /// What is wrong, with the place in the schema.
        message: String,
    },
}

pub(crate) struct Entry {
    pub(crate) tool: Arc<dyn Tool>,
    pub(crate) flat: String,
    pub(crate) skeleton: String,
    pub(crate) validator: Arc<jsonschema::Validator>,
}

/// Which tools to list: every field that is set must match.
///
/// ```
/// use toolplane_registry::ToolFilter;
/// let f = ToolFilter::default().namespace("github").tag("issues").read_only(true);
/// assert_eq!(f.namespace.as_deref(), Some("github"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolFilter {
    /// Names under this namespace (`github` matches `github.issues_create` and `github.x.y`).
    pub namespace: Option<String>,
    /// Tags the tool must all carry.
    pub tags: Vec<String>,
    /// Declared read-only (`true`) or not (`false`).
    pub read_only: Option<bool>,
    /// Destructive (`true`) or not (`false`), as [`toolplane_core::ToolAnnotations::is_destructive`] says.
    pub destructive: Option<bool>,
    /// Declared idempotent (`true`) or not (`false`).
    pub idempotent: Option<bool>,
    /// Declared open-world (`true`) or not (`false`).
    pub open_world: Option<bool>,
}

impl ToolFilter {
    /// Sets the namespace.
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = Some(ns.into());
        self
    }
    /// Adds a required tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }
    /// Filters on the read-only hint.
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = Some(yes);
        self
    }
    /// Filters on destructiveness.
    pub fn destructive(mut self, yes: bool) -> Self {
        self.destructive = Some(yes);
        self
    }
    /// Filters on the idempotent hint.
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = Some(yes);
        self
    }
    /// Filters on the open-world hint.
    pub fn open_world(mut self, yes: bool) -> Self {
        self.open_world = Some(yes);
        self
    }

    /// True when `spec` passes the filter.
    pub fn matches(&self, spec: &ToolSpec) -> bool {
        let a = &spec.annotations;
        if let Some(ns) = &self.namespace {
            let under = spec.name.len() > ns.len()
                && spec.name.starts_with(ns.as_str())
                && spec.name.as_bytes()[ns.len()] == b'.';
            if !under {
                return false;
            }
        }
        self.tags.iter().all(|t| a.tags.iter().any(|x| x == t))
            && self.read_only.is_none_or(|v| a.is_read_only() == v)
            && self.destructive.is_none_or(|v| a.is_destructive() == v)
            && self.idempotent.is_none_or(|v| (a.idempotent == Some(true)) == v)
            && self.open_world.is_none_or(|v| (a.open_world == Some(true)) == v)
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The tool's name.
    pub name: String,
    /// Its BM25 score (higher is better; only comparable within one query).
    pub score: f32,
}

/// The tools a host knows: register, look up (by name or flat name), filter,
/// search and export.
///
/// Each tool's input schema is compiled once, at registration (JSON Schema
/// 2020-12, `pattern` on the linear-time `regex` engine), so a bad schema is
/// refused up front and the executor never compiles on the hot path.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_registry::{ToolRegistry, ToolFilter, RegistryError, builtin};
/// let mut reg = ToolRegistry::new();
/// for tool in builtin::builtin_tools() {
///     reg.register(tool)?;
/// }
/// assert!(reg.get("current_time").is_some());
/// assert_eq!(reg.search("time zone clock", 1)[0].name, "current_time");
/// # Ok::<(), RegistryError>(())
/// ```
pub struct ToolRegistry {
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    by_name: HashMap<String, usize>,
    by_flat: HashMap<String, usize>,
    by_skeleton: HashMap<String, usize>,
    index: SearchIndex,
    policy: NamePolicy,
}

impl fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolRegistry")
            .field("tools", &self.by_name.len())
            .field("policy", &self.policy)
            .finish()
    }
}

impl Default for ToolRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl ToolRegistry {
    /// An empty registry with the default [`NamePolicy`].
    pub fn new() -> Self {
        Self::with_policy(NamePolicy::default())
    }

    /// An empty registry with a custom name policy.
    pub fn with_policy(policy: NamePolicy) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            by_name: HashMap::new(),
            by_flat: HashMap::new(),
            by_skeleton: HashMap::new(),
            index: SearchIndex::default(),
            policy,
        }
    }

    /// A registry with the default [`NamePolicy`] holding `tools`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toolplane_core::{EchoTool, ToolSpec};
    /// use toolplane_registry::ToolRegistry;
    /// let reg = ToolRegistry::from_tools([Arc::new(EchoTool::new(ToolSpec::new("echo", "Echoes."))) as _])?;
    /// assert_eq!(reg.names(), ["echo"]);
    /// # Ok::<(), toolplane_registry::RegistryError>(())
    /// ```
    ///
    /// # Errors
    /// As [`ToolRegistry::register`], for the first tool that fails.
    pub fn from_tools(tools: impl IntoIterator<Item = Arc<dyn Tool>>) -> Result<Self, RegistryError> {
        let mut reg = Self::new();
        reg.register_all(tools)?;
        Ok(reg)
    }

    /// Adds a tool.
    ///
    /// # Errors
    /// [`RegistryError::InvalidName`], [`RegistryError::Duplicate`],
    /// [`RegistryError::LookAlike`], [`RegistryError::InvalidSchema`].
    pub fn register(&mut self, tool: Arc<dyn Tool>) -> Result<(), RegistryError> {
        let spec = tool.spec();
        let name = spec.name.clone();
        self.policy.check(&name).map_err(RegistryError::InvalidName)?;
        let flat = flatten(&name);
        if self.by_name.contains_key(&name) || self.by_flat.contains_key(&flat) {
            return Err(RegistryError::Duplicate(name));
        }
        let skel = skeleton(&name);
        if let Some(&slot) = self.by_skeleton.get(&skel) {
            let existing = self.slot_name(slot).to_string();
            return Err(RegistryError::LookAlike { name, existing });
        }
        let validator = compile_schema(&spec.input_schema).map_err(|message| RegistryError::InvalidSchema {
            tool: name.clone(),
            message,
        })?;
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.index.insert(slot, &name, &spec.description);
        self.by_name.insert(name, slot);
        self.by_flat.insert(flat.clone(), slot);
        self.by_skeleton.insert(skel.clone(), slot);
        self.slots[slot] = Some(Entry {
            tool,
            flat,
            skeleton: skel,
            validator: Arc::new(validator),
        });
        Ok(())
    }

    /// Adds several tools, stopping at the first error (earlier ones stay).
    ///
    /// # Errors
    /// As [`ToolRegistry::register`].
    pub fn register_all(&mut self, tools: impl IntoIterator<Item = Arc<dyn Tool>>) -> Result<(), RegistryError> {
        tools.into_iter().try_for_each(|t| self.register(t))
    }

    /// Removes a tool by name or flat name and returns it.
    pub fn unregister(&mut self, name: &str) -> Option<Arc<dyn Tool>> {
        let slot = self.slot_of(name)?;
        let entry = self.slots.get_mut(slot)?.take()?;
        self.by_name.remove(&entry.tool.spec().name);
        self.by_flat.remove(&entry.flat);
        self.by_skeleton.remove(&entry.skeleton);
        self.index.remove(slot);
        self.free.push(slot);
        Some(entry.tool)
    }

    fn slot_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).or_else(|| self.by_flat.get(name)).copied()
    }

    fn slot_name(&self, slot: usize) -> &str {
        self.slots
            .get(slot)
            .and_then(Option::as_ref)
            .map_or("", |e| e.tool.spec().name.as_str())
    }

    pub(crate) fn entry(&self, name: &str) -> Option<&Entry> {
        self.slots.get(self.slot_of(name)?)?.as_ref()
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().flatten()
    }

    /// The tool called `name` (its registered name or its flat form).
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.entry(name).map(|e| &e.tool)
    }

    /// The registered name for `name` given in either form
    /// (`github__issues_create` → `github.issues_create`).
    pub fn resolve(&self, name: &str) -> Option<&str> {
        self.entry(name).map(|e| e.tool.spec().name.as_str())
    }

    /// The provider-safe form of a registered name.
    pub fn flat_name(&self, name: &str) -> Option<&str> {
        self.entry(name).map(|e| e.flat.as_str())
    }

    /// The registered name closest to `name` (edit distance, ignoring case),
    /// when one is close enough to be a likely typo.
    pub fn suggest(&self, name: &str) -> Option<&str> {
        let skel = skeleton(name);
        if let Some(&slot) = self.by_skeleton.get(&skel) {
            return Some(self.slot_name(slot));
        }
        nearest(name, self.by_name.keys().map(String::as_str))
    }

    /// Number of tools.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True when no tool is registered.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Registered names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Every tool's definition, sorted by name.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.list(&ToolFilter::default())
    }

    /// The definitions that pass `filter`, sorted by name.
    pub fn list(&self, filter: &ToolFilter) -> Vec<ToolSpec> {
        let mut out: Vec<ToolSpec> = self
            .entries()
            .map(|e| e.tool.spec())
            .filter(|s| filter.matches(s))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The `k` tools whose name and description best match `query` (BM25).
    pub fn search(&self, query: &str, k: usize) -> Vec<SearchHit> {
        self.search_filtered(query, k, &ToolFilter::default())
    }

    /// Like [`ToolRegistry::search`], among the tools that pass `filter`.
    pub fn search_filtered(&self, query: &str, k: usize, filter: &ToolFilter) -> Vec<SearchHit> {
        let everything = *filter == ToolFilter::default();
        let accept = |slot: usize| {
            everything
                || self
                    .slots
                    .get(slot)
                    .and_then(Option::as_ref)
                    .is_some_and(|e| filter.matches(e.tool.spec()))
        };
        self.index
            .search(query, k, accept)
            .into_iter()
            .map(|(slot, score)| SearchHit {
                name: self.slot_name(slot).to_string(),
                score,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_tools::NoOp;

    fn tool(name: &str) -> Arc<dyn Tool> {
        Arc::new(NoOp::new(ToolSpec::new(name, format!("The {name} tool."))))
    }

    #[test]
    fn duplicates_and_look_alikes_are_refused() {
        let mut reg = ToolRegistry::new();
        reg.register(tool("github.issues_create")).unwrap();
        assert_eq!(
            reg.register(tool("github.issues_create")),
            Err(RegistryError::Duplicate("github.issues_create".into()))
        );
        assert!(matches!(
            reg.register(tool("github__issues_create")),
            Err(RegistryError::Duplicate(_))
        ));
        for look_alike in ["GitHub.issues_create", "github.issues-create", "github.lssues_create"] {
            match reg.register(tool(look_alike)) {
                Err(RegistryError::LookAlike { existing, .. }) => assert_eq!(existing, "github.issues_create"),
                other => panic!("{look_alike}: {other:?}"),
            }
        }
        let cyr = reg.register(tool("github.іssues_create")).unwrap_err();
        assert!(cyr.to_string().contains("not ASCII"), "{cyr}");
        let mut unicode = ToolRegistry::with_policy(NamePolicy {
            ascii_only: false,
            ..NamePolicy::default()
        });
        unicode.register(tool("github.issues_create")).unwrap();
        assert!(matches!(
            unicode.register(tool("github.іssues_create")),
            Err(RegistryError::LookAlike { .. })
        ));
    }

    #[test]
    fn flat_names_resolve_and_unregister_frees_the_name() {
        let mut reg = ToolRegistry::new();
        reg.register(tool("github.issues_create")).unwrap();
        assert_eq!(reg.resolve("github__issues_create"), Some("github.issues_create"));
        assert_eq!(reg.flat_name("github.issues_create"), Some("github__issues_create"));
        assert!(reg.unregister("github__issues_create").is_some());
        assert!(reg.is_empty());
        assert!(reg.search("issues", 5).is_empty());
        reg.register(tool("GitHub.issues_create")).unwrap();
        assert_eq!(reg.names(), ["GitHub.issues_create"]);
    }

    #[test]
    fn invalid_schema_is_refused_with_the_tool_name() {
        let mut reg = ToolRegistry::new();
        let bad =
            ToolSpec::new("bad", "").with_input_schema(serde_json::json!({"type": "object", "minProperties": -1}));
        let err = reg.register(Arc::new(NoOp::new(bad))).unwrap_err();
        assert!(
            matches!(err, RegistryError::InvalidSchema { ref tool, .. } if tool == "bad"),
            "{err}"
        );
    }

    #[test]
    fn suggest_finds_typos() {
        let mut reg = ToolRegistry::new();
        reg.register(tool("github.issues_create")).unwrap();
        reg.register(tool("weather.now")).unwrap();
        assert_eq!(reg.suggest("github.isues_create"), Some("github.issues_create"));
        assert_eq!(reg.suggest("Weather.Now"), Some("weather.now"));
        assert_eq!(reg.suggest("completely_else"), None);
    }
}
