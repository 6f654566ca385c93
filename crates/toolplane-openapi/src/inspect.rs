//! A summary of a description: operations, the tool names they get, warnings.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::binding::{ConversionWarning, HttpMethod};
use crate::convert::Converter;
use crate::paths::operations;
use crate::spec::OpenApiSpec;

/// One operation in an [`Inspection`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationSummary {
    /// The method.
    pub method: HttpMethod,
    /// The path template.
    pub path: String,
    /// The operationId, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// The tool name it gets (among the kept operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// False when the filters (or the deprecation rule) drop it.
    pub kept: bool,
    /// The operation's tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Conversion warnings (kept operations only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ConversionWarning>,
}

/// What `toolplane openapi inspect` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub api_version: String,
    /// The `openapi` field.
    pub openapi: String,
    /// Every operation, in path then method order.
    pub operations: Vec<OperationSummary>,
    /// Document-level warnings.
    pub warnings: Vec<ConversionWarning>,
}

impl Converter {
    /// Lists every operation with the tool name it gets and its warnings.
    ///
    /// ```
    /// use toolplane_openapi::{Converter, OpenApiSpec};
    /// let spec = OpenApiSpec::from_str(r#"{"openapi": "3.1.0", "info": {"title": "T", "version": "1"},
    ///   "paths": {"/a": {"get": {}, "post": {"operationId": "makeA"}}}}"#).unwrap();
    /// let i = Converter::default().inspect(&spec);
    /// assert_eq!(i.operations[0].tool_name.as_deref(), Some("get_a"));
    /// assert!(i.to_string().contains("POST /a -> makeA"));
    /// ```
    pub fn inspect(&self, spec: &OpenApiSpec) -> Inspection {
        let conversion = self.convert(spec);
        let (ops, _) = operations(spec);
        let kept: Vec<bool> = ops.iter().map(|o| self.keeps(o)).collect();
        let mut tools = conversion.tools.iter();
        let operations = ops
            .iter()
            .zip(kept)
            .map(|(o, kept)| {
                let tool = if kept { tools.next() } else { None };
                OperationSummary {
                    method: o.method,
                    path: o.path.clone(),
                    operation_id: o.operation_id.clone(),
                    tool_name: tool.map(|t| t.spec.name.clone()),
                    kept,
                    tags: o.tags.clone(),
                    warnings: tool.map(|t| t.warnings.clone()).unwrap_or_default(),
                }
            })
            .collect();
        Inspection {
            title: spec.title().to_string(),
            api_version: spec.api_version().to_string(),
            openapi: spec.openapi_version().to_string(),
            operations,
            warnings: conversion.warnings,
        }
    }
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = self.operations.iter().filter(|o| o.kept).count();
        writeln!(
            f,
            "{} {} (OpenAPI {}): {} operations, {} kept",
            self.title,
            self.api_version,
            self.openapi,
            self.operations.len(),
            kept
        )?;
        for o in &self.operations {
            match &o.tool_name {
                Some(name) => writeln!(f, "  {} {} -> {name}", o.method, o.path)?,
                None => writeln!(f, "  {} {} (filtered out)", o.method, o.path)?,
            }
            for w in &o.warnings {
                writeln!(f, "      warning: {w}")?;
            }
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}
