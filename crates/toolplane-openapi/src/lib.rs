//! OpenAPI 3.0 and 3.1 descriptions to LLM tools.
//!
//! Load a description ([`OpenApiSpec`]: JSON or YAML, 3.0.x or 3.1.x, local and
//! external-file `$ref`s confined to the description's folder (regular files
//! under a size limit, see [`LoadOptions`]); remote ones only with a fetcher
//! you pass; nesting bounded before parsing), convert
//! it ([`Converter`]: one tool per operation, filters, unique names, one flat
//! arguments object, schemas in JSON Schema 2020-12), then export the tools
//! for a provider ([`Conversion::export`], through `toolplane_schema::export`,
//! the function the providers build their requests with) and run them with the [`binding`] each carries (feature `http`).
//!
//! Depend on it to expose an HTTP API to a model; the CLI's `toolplane openapi`
//! commands and the GitHub wrapper use it.
//!
//! ```
//! use toolplane_openapi::{ConvertOptions, Converter, Filters, OpenApiSpec};
//! use toolplane_schema::Profile;
//!
//! let spec = OpenApiSpec::from_str(r#"
//! openapi: 3.0.3
//! info: {title: Pets, version: "1"}
//! paths:
//!   /pets:
//!     get:
//!       operationId: listPets
//!       tags: [pets]
//!       parameters:
//!         - {name: limit, in: query, schema: {type: integer, minimum: 1}}
//!     post:
//!       operationId: createPet
//!       tags: [pets]
//!       requestBody:
//!         required: true
//!         content:
//!           application/json:
//!             schema:
//!               type: object
//!               required: [name]
//!               properties:
//!                 id: {type: integer, readOnly: true}
//!                 name: {type: string}
//!                 tag: {type: string, nullable: true}
//! "#).unwrap();
//! let options = ConvertOptions {
//!     filters: Filters { include_tags: vec!["pets".into()], ..Default::default() },
//!     ..Default::default()
//! };
//! let conversion = Converter::new(options).convert(&spec);
//! let create = conversion.get("createPet").unwrap();
//! let schema = &create.spec.input_schema;
//! assert_eq!(schema["required"], serde_json::json!(["name"]));
//! assert!(schema["properties"].get("id").is_none()); // readOnly dropped
//! assert_eq!(schema["properties"]["tag"]["type"], serde_json::json!(["string", "null"]));
//! let tools = conversion.export(Profile::Anthropic).tools_field();
//! assert_eq!(tools[1]["name"], "createPet");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod binding;
mod convert;
mod error;
mod filter;
mod inspect;
mod local_file;
mod nesting;
mod operation;
mod paths;
mod schema;
mod spec;

#[cfg(feature = "http")]
pub mod http;

pub use binding::{ConversionWarning, ConvertedTool, HttpBinding, HttpMethod};
pub use convert::{Conversion, ConvertOptions, Converter, OperationRef};
pub use error::LoadError;
pub use filter::{Filters, glob_match};
pub use inspect::{Inspection, OperationSummary};
pub use spec::{DEFAULT_MAX_FILE_BYTES, LoadOptions, OpenApiSpec, RemoteFetcher, SpecVersion, parse_text};
pub use toolplane_schema::Profile;
