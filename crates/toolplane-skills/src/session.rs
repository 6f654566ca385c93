//! The skills of one conversation: which are active, what the prompt holds,
//! which tools remain, and reading resources on demand.

use std::fs;
use std::io::Read;
use std::path::{Component, Path};
use std::sync::{Arc, Mutex, MutexGuard};

use toolplane_core::{ToolInterceptor, ToolSpec};

use crate::tools::{ACTIVATE_TOOL, ActivateSkillTool, READ_RESOURCE_TOOL, ReadResourceTool, SkillToolGuard};
use crate::{Skill, SkillError, SkillErrorKind, SkillSet};

/// The default largest resource [`SkillSession::read_resource`] returns: 256 KiB.
pub const DEFAULT_MAX_RESOURCE_BYTES: u64 = 256 * 1024;

/// The skills of one conversation, shared by the prompt builder, the internal
/// tools and the tool guard.
///
/// Progressive disclosure in three stages:
/// 1. [`SkillSession::system_prompt`] lists only names and descriptions of
///    the offered skills;
/// 2. once a skill is activated (by the host, or by the model through the
///    `skills.activate` tool) its body joins the prompt;
/// 3. its resource files are read only when the model calls
///    `skills.read_resource`, confined to the skill's folder.
///
/// While skills that declare `allowed-tools` are active, the tool set is
/// narrowed to the union of their patterns (skills without the field do not
/// narrow); the two internal tools always stay.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_core::ToolSpec;
/// use toolplane_skills::{Skill, SkillSession, SkillSet};
/// let skill = Skill::parse("triage/SKILL.md",
///     "---\nname: triage\ndescription: Triage GitHub issues.\nallowed-tools: github.issues_*\n---\nLabel each issue.", None).unwrap();
/// let session = SkillSession::new(Arc::new(SkillSet::from_skills([skill]).unwrap()));
/// let tools = vec![ToolSpec::new("github.issues_update", ""), ToolSpec::new("shell.run", "")];
/// assert_eq!(session.narrow(&tools).len(), 2);
/// session.activate("triage").unwrap();
/// let names: Vec<_> = session.narrow(&tools).into_iter().map(|t| t.name).collect();
/// assert_eq!(names, ["github.issues_update"]);
/// assert!(session.system_prompt(None).contains("Label each issue."));
/// ```
#[derive(Debug)]
pub struct SkillSession {
    skills: Arc<SkillSet>,
    active: Mutex<Vec<String>>,
    max_resource_bytes: u64,
}

impl SkillSession {
    /// A session over a set of skills, none active.
    pub fn new(skills: Arc<SkillSet>) -> Arc<Self> {
        Arc::new(Self {
            skills,
            active: Mutex::new(Vec::new()),
            max_resource_bytes: DEFAULT_MAX_RESOURCE_BYTES,
        })
    }

    /// A session with a different resource size limit.
    pub fn with_max_resource_bytes(skills: Arc<SkillSet>, max: u64) -> Arc<Self> {
        Arc::new(Self {
            skills,
            active: Mutex::new(Vec::new()),
            max_resource_bytes: max,
        })
    }

    fn active_names(&self) -> MutexGuard<'_, Vec<String>> {
        // A poisoned lock only means another thread panicked mid-push; the list is still a list.
        self.active.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The skill set.
    pub fn skills(&self) -> &SkillSet {
        &self.skills
    }

    /// Activates a skill and returns its body (activating twice is harmless).
    ///
    /// # Errors
    /// [`SkillErrorKind::UnknownSkill`] when no skill has that name.
    pub fn activate(&self, name: &str) -> Result<String, SkillError> {
        let skill = self.skill(name)?;
        let mut active = self.active_names();
        if !active.iter().any(|n| n == name) {
            active.push(name.to_string());
        }
        Ok(skill.body().to_string())
    }

    /// Deactivates a skill; true when it was active.
    pub fn deactivate(&self, name: &str) -> bool {
        let mut active = self.active_names();
        let before = active.len();
        active.retain(|n| n != name);
        active.len() != before
    }

    /// The active skills' names, in activation order.
    pub fn active(&self) -> Vec<String> {
        self.active_names().clone()
    }

    fn skill(&self, name: &str) -> Result<&Skill, SkillError> {
        self.skills.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.skills.iter().map(Skill::name).collect();
            SkillError::new(
                SkillErrorKind::UnknownSkill,
                "",
                format!("no skill is named `{name}`; known skills: {}", known.join(", ")),
            )
        })
    }

    /// The prompt text: the catalog of offered skills (all when `offered` is
    /// `None`, else the named ones, e.g. from [`SkillSet::select`]) with
    /// names and descriptions only, then the full body of each active skill
    /// and the names of its resource files.
    pub fn system_prompt(&self, offered: Option<&[&str]>) -> String {
        let catalog: Vec<&Skill> = match offered {
            None => self.skills.iter().collect(),
            Some(names) => names.iter().filter_map(|n| self.skills.get(n)).collect(),
        };
        let mut out = self.skills.catalog(catalog);
        for name in self.active().iter() {
            let Some(skill) = self.skills.get(name) else { continue };
            out.push_str("\n## Active skill: ");
            out.push_str(skill.name());
            out.push_str("\n\n");
            out.push_str(skill.body());
            out.push('\n');
            if !skill.resources().is_empty() {
                out.push_str("\nResources (read with `skills.read_resource`): ");
                out.push_str(&skill.resources().join(", "));
                out.push('\n');
            }
        }
        out
    }

    /// The prompt for a request: the `k` best-fitting skills in the catalog,
    /// plus the active skills' bodies.
    pub fn prompt_for(&self, request: &str, k: usize) -> String {
        let names: Vec<&str> = self.skills.select(request, k).iter().map(|m| m.skill.name()).collect();
        self.system_prompt(Some(&names))
    }

    /// True when `tool` may be offered and called now.
    pub fn allows_tool(&self, tool: &str) -> bool {
        if tool == ACTIVATE_TOOL || tool == READ_RESOURCE_TOOL {
            return true;
        }
        let active = self.active_names();
        let mut narrowing = active
            .iter()
            .filter_map(|n| self.skills.get(n))
            .filter(|s| s.allowed_tools().is_some())
            .peekable();
        if narrowing.peek().is_none() {
            return true;
        }
        narrowing.any(|s| s.allows_tool(tool))
    }

    /// The tools of `tools` that remain while the active skills narrow the set.
    pub fn narrow(&self, tools: &[ToolSpec]) -> Vec<ToolSpec> {
        tools.iter().filter(|t| self.allows_tool(&t.name)).cloned().collect()
    }

    /// Reads a resource of an active skill. `path` is relative to the skill's
    /// folder; absolute paths, `..`, and links leading outside are refused.
    ///
    /// # Errors
    /// [`SkillErrorKind::UnknownSkill`] (no such skill, or not active, or not
    /// loaded from disk), [`SkillErrorKind::InvalidResourcePath`],
    /// [`SkillErrorKind::ResourceTooLarge`], [`SkillErrorKind::Io`].
    pub fn read_resource(&self, skill: &str, path: &str) -> Result<String, SkillError> {
        let s = self.skill(skill)?;
        if !self.active_names().iter().any(|n| n == skill) {
            return Err(SkillError::new(
                SkillErrorKind::UnknownSkill,
                path,
                format!("skill `{skill}` is not active; activate it before reading its resources"),
            ));
        }
        let Some(dir) = s.dir() else {
            return Err(SkillError::new(
                SkillErrorKind::UnknownSkill,
                path,
                format!("skill `{skill}` was built in code and has no resource folder"),
            ));
        };
        read_confined(dir, path, self.max_resource_bytes)
    }

    /// The internal tools: `skills.activate` and `skills.read_resource`.
    pub fn tools(self: &Arc<Self>) -> Vec<Arc<dyn toolplane_core::Tool>> {
        vec![
            Arc::new(ActivateSkillTool::new(Arc::clone(self))),
            Arc::new(ReadResourceTool::new(Arc::clone(self))),
        ]
    }

    /// A tool interceptor that refuses calls to tools the active skills do not
    /// allow, for models that call tools they were not offered.
    pub fn guard(self: &Arc<Self>) -> Arc<dyn ToolInterceptor> {
        Arc::new(SkillToolGuard::new(Arc::clone(self)))
    }
}

fn read_confined(dir: &Path, path: &str, max: u64) -> Result<String, SkillError> {
    let bad = |m: String| SkillError::new(SkillErrorKind::InvalidResourcePath, path, m);
    let rel = Path::new(path);
    if path.is_empty() || path.contains('\\') || path.contains('\0') {
        return Err(bad(
            "the path must be a non-empty relative path with `/` separators".into()
        ));
    }
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(bad(
            "the path must stay inside the skill folder: no absolute paths, no `..`".into(),
        ));
    }
    let root = dir
        .canonicalize()
        .map_err(|e| SkillError::new(SkillErrorKind::Io, dir, format!("cannot open the skill folder: {e}")))?;
    let full = root
        .join(rel)
        .canonicalize()
        .map_err(|_| bad(format!("no resource `{path}` in this skill")))?;
    if !full.starts_with(&root) {
        return Err(bad("the path leads outside the skill folder".into()));
    }
    let meta = fs::metadata(&full).map_err(|e| SkillError::new(SkillErrorKind::Io, &full, e.to_string()))?;
    if !meta.is_file() {
        return Err(bad(format!("`{path}` is not a file")));
    }
    if meta.len() > max {
        return Err(SkillError::new(
            SkillErrorKind::ResourceTooLarge,
            path,
            format!("the resource is {} bytes; the limit is {max}", meta.len()),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    fs::File::open(&full)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| SkillError::new(SkillErrorKind::Io, &full, e.to_string()).with_source(e))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
