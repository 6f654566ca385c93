//! Executing converted operations over HTTP (feature `http`).
//!
//! [`HttpTool`] implements [`toolplane_core::Tool`] for one
//! [`ConvertedTool`](crate::ConvertedTool): it turns the validated arguments
//! into a request (server URL variables, parameter styles, body media types,
//! credentials), sends it with one shared `reqwest::Client`, and answers
//! `{status, headers, body}` within a byte budget. [`http_tools`] does this for
//! a whole conversion.
//!
//! ```no_run
//! use toolplane_core::{CallContext, Tool};
//! use toolplane_openapi::http::{http_tools, HttpConfig, Secret};
//! use toolplane_openapi::{ConvertOptions, Converter, OpenApiSpec};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = OpenApiSpec::from_path("petstore.yaml")?;
//! let conversion = Converter::new(ConvertOptions::default()).convert(&spec);
//! let config = HttpConfig::new()
//!     .with_base_url("https://petstore.example.com/v1")
//!     .with_secret("api_key", Secret::from_env("PETSTORE_KEY")?);
//! let tools = http_tools(conversion.tools, config)?;
//! let out = tools[0].call(&serde_json::json!({"limit": 5}), &CallContext::new("req-1")).await?;
//! println!("{} {}", out.content["status"], out.content["body"]);
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//!
//! - Requests go only to the base URL's host: the built URL is checked, and a
//!   redirect to another host (or port, or scheme other than http/https, or
//!   from https down to http) is refused with
//!   [`ToolErrorKind::PermissionDenied`](toolplane_core::ToolErrorKind::PermissionDenied).
//! - Header values holding CR, LF or NUL are refused
//!   ([`ToolErrorKind::InvalidArguments`](toolplane_core::ToolErrorKind::InvalidArguments)).
//! - Credentials come from configuration ([`HttpConfig`]) or the environment,
//!   are held as [`Secret`]s, and appear in no schema, error, `Debug` output
//!   or result; error messages are built without URLs and scrubbed of every
//!   configured secret.
//! - A non-2xx answer is a result with `is_error` set that the model can read;
//!   transport failures are [`ToolError`](toolplane_core::ToolError)s of kind
//!   `timeout` or `upstream`.
//!
//! # Pieces usable on their own
//!
//! [`style`] (the OpenAPI style/explode table), [`body`] (request bodies),
//! [`server`] (server URL variables), [`auth`] (credentials and the OAuth2
//! client-credentials flow with a token cache).

pub mod auth;
pub mod body;
mod builder;
mod config;
mod request;
mod response;
mod secret;
pub mod server;
pub mod style;
mod tool;
mod trace;

pub use auth::{AuthError, ClientAuthMethod, ClientCredentials, Credential};
pub use builder::OperationBuilder;
pub use config::{DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_RESPONSE_HEADERS, HttpConfig, SchemeAuth};
pub use secret::{MissingSecret, Secret};
pub use tool::{HttpRuntime, HttpSetupError, HttpTool, http_tools};
