//! Why a skill could not be loaded or a resource not read.

use std::fmt;
use std::path::PathBuf;

/// What kind of problem a [`SkillError`] reports. Callers match on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkillErrorKind {
    /// The file or folder could not be read (permissions, I/O). A retry may help.
    Io,
    /// `SKILL.md` is not valid UTF-8 text. Not retryable: the file must be re-encoded.
    InvalidEncoding,
    /// `SKILL.md` has no front matter block between `---` lines.
    MissingFrontMatter,
    /// The front matter is not valid YAML, or a field has the wrong type.
    InvalidFrontMatter,
    /// A required field (`name`, `description`) is missing or empty.
    MissingField,
    /// A field's value breaks a rule (name syntax, length, folder name).
    InvalidField,
    /// Two skills share a name.
    DuplicateName,
    /// No skill of that name is loaded.
    UnknownSkill,
    /// A resource path is absolute, climbs out of the skill folder, or does not exist.
    InvalidResourcePath,
    /// A resource is larger than the read limit.
    ResourceTooLarge,
}

impl SkillErrorKind {
    /// Whether the same operation may succeed if tried again unchanged.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Io)
    }
}

/// A skill problem, naming the file (and line, where known) and what is wrong.
///
/// ```
/// use toolplane_skills::{SkillError, SkillErrorKind};
/// let e = SkillError::new(SkillErrorKind::MissingField, "skills/x/SKILL.md", "`description` is required")
///     .at_line(3);
/// assert_eq!(e.to_string(), "skills/x/SKILL.md:3: `description` is required");
/// ```
#[derive(Debug, thiserror::Error)]
pub struct SkillError {
    kind: SkillErrorKind,
    path: PathBuf,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SkillError {
    /// An error of a kind about a file.
    pub fn new(kind: SkillErrorKind, path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            kind,
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
            source: None,
        }
    }

    /// Sets the 1-based line in the file.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// Sets the 1-based column in the file.
    pub fn at_column(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }

    pub(crate) fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind.
    pub fn kind(&self) -> SkillErrorKind {
        self.kind
    }

    /// The file (or folder) concerned; empty when the error concerns no file
    /// (an unknown skill name).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The 1-based line, where known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column, where known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether a retry can help.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

impl fmt::Display for SkillError {
    /// `path[:line[:column]]: message`, or the message alone when the error
    /// concerns no file (an unknown skill name).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.as_os_str().is_empty() {
            return f.write_str(&self.message);
        }
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}
