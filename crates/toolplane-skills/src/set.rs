//! A set of skills: loading a directory, looking skills up, and the catalog
//! that goes into the prompt before any skill is chosen.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::select::Bm25Index;
use crate::{Skill, SkillError, SkillErrorKind};

/// The most resource files listed per skill; more are ignored, not an error.
const MAX_RESOURCES: usize = 1_000;
/// How deep resource folders are walked.
const MAX_RESOURCE_DEPTH: usize = 8;

/// What loading a directory produced: the skills that loaded and an error
/// for each one that did not. A bad skill never stops the good ones.
#[derive(Debug)]
pub struct LoadReport {
    /// The skills that loaded.
    pub skills: SkillSet,
    /// One error per skill folder (or file) that failed, in folder order.
    pub errors: Vec<SkillError>,
}

/// Skills by name, with a relevance index over their names and descriptions.
///
/// ```no_run
/// use toolplane_skills::SkillSet;
/// let report = SkillSet::load_dir("skills")?;
/// for e in &report.errors {
///     eprintln!("skipped: {e}");
/// }
/// let top = report.skills.select("fill in a PDF form", 2);
/// # Ok::<(), toolplane_skills::SkillError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SkillSet {
    skills: BTreeMap<String, Skill>,
    index: Bm25Index,
}

impl SkillSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set of skills built in code.
    ///
    /// # Errors
    /// [`SkillErrorKind::DuplicateName`] when two skills share a name.
    pub fn from_skills(skills: impl IntoIterator<Item = Skill>) -> Result<Self, SkillError> {
        let mut set = Self::new();
        for s in skills {
            set.insert(s)?;
        }
        Ok(set)
    }

    /// Adds a skill.
    ///
    /// # Errors
    /// [`SkillErrorKind::DuplicateName`] when a skill of that name is already in the set.
    pub fn insert(&mut self, skill: Skill) -> Result<(), SkillError> {
        if let Some(existing) = self.skills.get(skill.name()) {
            let here = skill.dir().map(|d| d.join("SKILL.md")).unwrap_or_default();
            let there = existing.dir().map(|d| d.join("SKILL.md")).unwrap_or_default();
            return Err(SkillError::new(
                SkillErrorKind::DuplicateName,
                here,
                format!(
                    "a skill named `{}` is already loaded from {}",
                    skill.name(),
                    there.display()
                ),
            ));
        }
        self.index.add(
            skill.name(),
            &format!("{} {}", skill.name().replace('-', " "), skill.description()),
        );
        self.skills.insert(skill.name().to_string(), skill);
        Ok(())
    }

    /// Loads every immediate subfolder of `dir` that holds a `SKILL.md`.
    /// Folders without one are skipped silently; hidden folders are skipped.
    ///
    /// # Errors
    /// Only when `dir` itself cannot be read; problems with single skills go
    /// into [`LoadReport::errors`].
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<LoadReport, SkillError> {
        let dir = dir.as_ref();
        let entries = fs::read_dir(dir).map_err(|e| {
            SkillError::new(SkillErrorKind::Io, dir, format!("cannot read the skills folder: {e}")).with_source(e)
        })?;
        let mut folders: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        folders.sort();
        let mut skills = SkillSet::new();
        let mut errors = Vec::new();
        for folder in folders {
            let file = folder.join("SKILL.md");
            if !file.is_file() {
                continue;
            }
            match load_one(&folder, &file).and_then(|s| skills.insert(s)) {
                Ok(()) => {}
                Err(e) => errors.push(e),
            }
        }
        Ok(LoadReport { skills, errors })
    }

    /// The skill of that name.
    pub fn get(&self, name: &str) -> Option<&Skill> {
        self.skills.get(name)
    }

    /// All skills, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Skill> {
        self.skills.values()
    }

    /// Number of skills.
    pub fn len(&self) -> usize {
        self.skills.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.skills.is_empty()
    }

    /// The skills that best fit `request`, best first, at most `k`, by BM25
    /// over names and descriptions. Skills sharing no term with the request
    /// are left out, so the result may be shorter than `k` or empty.
    pub fn select(&self, request: &str, k: usize) -> Vec<SkillMatch<'_>> {
        self.index
            .search(request, k)
            .into_iter()
            .filter_map(|(name, score)| self.skills.get(name).map(|skill| SkillMatch { skill, score }))
            .collect()
    }

    /// The catalog for the prompt: one line per skill with its name and
    /// description, and nothing else (progressive disclosure).
    pub fn catalog<'a>(&'a self, skills: impl IntoIterator<Item = &'a Skill>) -> String {
        let mut out = String::from(
            "Skills available (call `skills.activate` with a name to load its instructions before using it):\n",
        );
        for s in skills {
            out.push_str("- ");
            out.push_str(s.name());
            out.push_str(": ");
            out.push_str(&s.description().replace('\n', " "));
            out.push('\n');
        }
        out
    }
}

/// A skill chosen for a request, with its relevance score (higher is better).
#[derive(Debug, Clone, Copy)]
pub struct SkillMatch<'a> {
    /// The skill.
    pub skill: &'a Skill,
    /// The BM25 score.
    pub score: f64,
}

fn load_one(folder: &Path, file: &Path) -> Result<Skill, SkillError> {
    let bytes = fs::read(file)
        .map_err(|e| SkillError::new(SkillErrorKind::Io, file, format!("cannot read SKILL.md: {e}")).with_source(e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        SkillError::new(
            SkillErrorKind::InvalidEncoding,
            file,
            format!(
                "SKILL.md is not valid UTF-8 (the first bad byte is at offset {}); save the file as UTF-8",
                valid.len()
            ),
        )
        .at_line(line)
        .at_column(column)
        .with_source(e.utf8_error())
    })?;
    let folder_name = folder.file_name().map(|n| n.to_string_lossy().into_owned());
    let skill = Skill::parse(file, &text, folder_name.as_deref())?;
    let mut resources = Vec::new();
    list_resources(folder, folder, 0, &mut resources);
    resources.sort();
    Ok(skill.with_dir(folder.to_path_buf(), resources))
}

fn list_resources(root: &Path, dir: &Path, depth: usize, out: &mut Vec<String>) {
    if depth > MAX_RESOURCE_DEPTH {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        if out.len() >= MAX_RESOURCES {
            return;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // symlink_metadata: links are not followed, so a resource never points outside the folder.
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if meta.is_dir() {
            list_resources(root, &entry.path(), depth + 1, out);
        } else if meta.is_file() {
            let Ok(rel) = entry.path().strip_prefix(root).map(Path::to_path_buf) else {
                continue;
            };
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let rel = rel.join("/");
            if rel != "SKILL.md" {
                out.push(rel);
            }
        }
    }
}
