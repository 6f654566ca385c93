//! The registry's tools as one vendor receives them, through
//! [`toolplane_schema::export`] (the function the providers build their
//! requests with), so an export is exactly what the model receives.

use toolplane_schema::{Export, Profile, export};

use crate::registry::ToolRegistry;

/// Why a set of tools could not be exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A requested tool is not registered.
    #[error("cannot export `{name}`: no such tool{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownTool {
        /// The requested name.
        name: String,
        /// The nearest registered name.
        suggestion: Option<String>,
    },
}

impl ToolRegistry {
    /// Every registered tool for `profile`, sorted by name: the
    /// request's `tools` field is [`Export::tools_field`], and
    /// [`Export::tool_name`] maps a name the model used back (the executor
    /// also resolves the flat `ns__tool` form).
    ///
    /// ```
    /// use toolplane_core::ToolSpec;
    /// use toolplane_registry::{Profile, ToolRegistry};
    /// # use std::sync::Arc;
    /// # use toolplane_core::{EchoTool, Tool};
    /// let mut registry = ToolRegistry::new();
    /// registry.register(Arc::new(EchoTool::new(ToolSpec::new("github.issues_create", "Open an issue."))) as Arc<dyn Tool>)?;
    /// let exported = registry.export_all(Profile::Anthropic);
    /// assert_eq!(exported.tools_field()[0]["name"], "github__issues_create");
    /// assert_eq!(exported.tool_name("github__issues_create"), Some("github.issues_create"));
    /// # Ok::<(), toolplane_registry::RegistryError>(())
    /// ```
    pub fn export_all(&self, profile: Profile) -> Export {
        export(&self.specs(), profile)
    }

    /// The named tools (registered or flat names) for `profile`, in the order given.
    ///
    /// # Errors
    /// [`ExportError::UnknownTool`] with the nearest registered name.
    pub fn export(&self, profile: Profile, names: &[&str]) -> Result<Export, ExportError> {
        let specs = names
            .iter()
            .map(|n| {
                self.get(n)
                    .map(|t| t.spec().clone())
                    .ok_or_else(|| ExportError::UnknownTool {
                        name: (*n).to_string(),
                        suggestion: self.suggest(n).map(str::to_string),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(export(&specs, profile))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "builtin")]
    #[test]
    fn registry_export_resolves_names_and_suggests() {
        let mut reg = ToolRegistry::new();
        reg.register_all(crate::builtin::builtin_tools()).unwrap();
        let tools = reg
            .export(Profile::Anthropic, &["json_query"])
            .unwrap()
            .into_tools_field();
        assert_eq!(tools[0]["name"], "json_query");
        assert_eq!(tools.as_array().map(Vec::len), Some(1));
        let err = reg.export(Profile::Anthropic, &["json_qeury"]).unwrap_err();
        assert_eq!(
            err,
            ExportError::UnknownTool {
                name: "json_qeury".into(),
                suggestion: Some("json_query".into())
            }
        );
        assert!(err.to_string().contains("did you mean `json_query`?"));
        let all = reg.export_all(Profile::OpenAiStrict);
        assert_eq!(all.tools.len(), reg.specs().len());
        assert_eq!(all, export(&reg.specs(), Profile::OpenAiStrict));
    }
}
