//! How a converted tool's arguments reach the wire: the HTTP binding of one operation.
//!
//! Conversion produces a [`ConvertedTool`] per operation: the [`ToolSpec`] a model
//! sees, and the [`HttpBinding`] an executor needs to turn validated arguments
//! back into an HTTP request. Every type here is plain data (serde), so a
//! binding can be saved next to a tool definition and loaded again without the
//! OpenAPI description.
//!
//! Arguments are one flat JSON object. Each [`ParamBinding`] says which argument
//! (`arg`) feeds which wire parameter (`name`, `location`), and the
//! [`BodyBinding`] says which argument(s) form the request body.
//!
//! ```
//! use toolplane_openapi::binding::{HttpBinding, HttpMethod, ParamBinding, ParamLocation, ParamStyle};
//! let b = HttpBinding {
//!     method: HttpMethod::Get,
//!     path_template: "/repos/{owner}/{repo}".into(),
//!     servers: vec![],
//!     parameters: vec![ParamBinding::new("owner", ParamLocation::Path)],
//!     body: None,
//!     security: vec![],
//! };
//! assert_eq!(b.parameters[0].style, ParamStyle::Simple);
//! assert_eq!(b.method.as_str(), "GET");
//! let json = serde_json::to_value(&b).unwrap();
//! assert_eq!(json["parameters"][0]["location"], "path");
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use toolplane_core::ToolSpec;

/// An HTTP method of an OpenAPI operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpMethod {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// HEAD
    Head,
    /// PATCH
    Patch,
    /// TRACE
    Trace,
}

impl HttpMethod {
    /// All methods, in the order OpenAPI lists them in a path item.
    pub const ALL: [HttpMethod; 8] = [
        HttpMethod::Get,
        HttpMethod::Put,
        HttpMethod::Post,
        HttpMethod::Delete,
        HttpMethod::Options,
        HttpMethod::Head,
        HttpMethod::Patch,
        HttpMethod::Trace,
    ];

    /// The upper-case wire form (`"GET"`).
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Put => "PUT",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Head => "HEAD",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Trace => "TRACE",
        }
    }

    /// The lower-case key used in an OpenAPI path item (`"get"`).
    pub fn key(self) -> &'static str {
        match self {
            HttpMethod::Get => "get",
            HttpMethod::Put => "put",
            HttpMethod::Post => "post",
            HttpMethod::Delete => "delete",
            HttpMethod::Options => "options",
            HttpMethod::Head => "head",
            HttpMethod::Patch => "patch",
            HttpMethod::Trace => "trace",
        }
    }

    /// Parses a method name in any case.
    pub fn parse(s: &str) -> Option<HttpMethod> {
        HttpMethod::ALL.into_iter().find(|m| m.key().eq_ignore_ascii_case(s))
    }

    /// True for methods that, by HTTP semantics, do not change state (GET, HEAD, OPTIONS, TRACE).
    pub fn is_safe(self) -> bool {
        matches!(
            self,
            HttpMethod::Get | HttpMethod::Head | HttpMethod::Options | HttpMethod::Trace
        )
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything needed to build the HTTP request of one operation from its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpBinding {
    /// The operation's method.
    pub method: HttpMethod,
    /// The path as written in the description, with `{name}` placeholders
    /// (`/repos/{owner}/{repo}`); placeholders use the *wire* names.
    pub path_template: String,
    /// Candidate servers, most specific first (operation, then path item, then
    /// document level). Empty when the description declares none (OpenAPI
    /// then means `/`, relative to where the description was served).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<ServerBinding>,
    /// Path, query, header and cookie parameters, path-level ones merged with
    /// the operation's own (the operation wins on the same name and location).
    #[serde(default)]
    pub parameters: Vec<ParamBinding>,
    /// The request body, when the operation takes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyBinding>,
    /// Security alternatives: satisfy any one [`SecurityRequirement`] (OR);
    /// within one, every scheme applies (AND). Empty: no authentication. A
    /// requirement with no schemes means anonymous access is allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<SecurityRequirement>,
}

impl HttpBinding {
    /// The parameter fed by a tool argument, if any.
    pub fn param_for_arg(&self, arg: &str) -> Option<&ParamBinding> {
        self.parameters.iter().find(|p| p.arg == arg)
    }
}

/// One server URL, possibly templated (`https://{region}.example.com/v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerBinding {
    /// The URL with `{variable}` placeholders, as written (may be relative).
    pub url: String,
    /// The server's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The variables used in `url`, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, ServerVariable>,
}

/// A server URL variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerVariable {
    /// The value used when configuration gives none (required by OpenAPI).
    pub default: String,
    /// The allowed values, when restricted.
    #[serde(rename = "enum", default, skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
    /// The variable's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

impl ParamLocation {
    /// The OpenAPI `in` value (`"path"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
            ParamLocation::Cookie => "cookie",
        }
    }

    /// Parses an OpenAPI `in` value.
    pub fn parse(s: &str) -> Option<ParamLocation> {
        match s {
            "path" => Some(ParamLocation::Path),
            "query" => Some(ParamLocation::Query),
            "header" => Some(ParamLocation::Header),
            "cookie" => Some(ParamLocation::Cookie),
            _ => None,
        }
    }

    /// OpenAPI's default style for this location (`simple` for path and
    /// header, `form` for query and cookie).
    pub fn default_style(self) -> ParamStyle {
        match self {
            ParamLocation::Path | ParamLocation::Header => ParamStyle::Simple,
            ParamLocation::Query | ParamLocation::Cookie => ParamStyle::Form,
        }
    }
}

/// OpenAPI serialization style of a parameter (or of a form body property).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ParamStyle {
    /// `form` (query, cookie; `a=1&a=2` or `a=1,2`).
    Form,
    /// `simple` (path, header; `1,2`).
    Simple,
    /// `label` (path; `.1.2`).
    Label,
    /// `matrix` (path; `;a=1;a=2`).
    Matrix,
    /// `deepObject` (query; `a[k]=v`).
    DeepObject,
    /// `spaceDelimited` (query arrays; `1%202`).
    SpaceDelimited,
    /// `pipeDelimited` (query arrays; `1|2`).
    PipeDelimited,
}

impl ParamStyle {
    /// Parses an OpenAPI `style` value.
    pub fn parse(s: &str) -> Option<ParamStyle> {
        match s {
            "form" => Some(ParamStyle::Form),
            "simple" => Some(ParamStyle::Simple),
            "label" => Some(ParamStyle::Label),
            "matrix" => Some(ParamStyle::Matrix),
            "deepObject" => Some(ParamStyle::DeepObject),
            "spaceDelimited" => Some(ParamStyle::SpaceDelimited),
            "pipeDelimited" => Some(ParamStyle::PipeDelimited),
            _ => None,
        }
    }

    /// OpenAPI's default `explode` for this style (true only for `form`).
    pub fn default_explode(self) -> bool {
        matches!(self, ParamStyle::Form)
    }
}

/// One wire parameter and the tool argument that feeds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamBinding {
    /// The name on the wire (path placeholder, query key, header or cookie name).
    pub name: String,
    /// The tool argument holding the value. Usually equal to `name`; differs
    /// when the name was not a safe argument name or when two locations share
    /// a name (then e.g. `id` and `header_id`, see the crate docs).
    pub arg: String,
    /// Where it goes.
    pub location: ParamLocation,
    /// Serialization style (OpenAPI default for the location when unspecified).
    pub style: ParamStyle,
    /// Whether arrays and objects explode (OpenAPI default for the style when unspecified).
    pub explode: bool,
    /// Required by the description (always true for path parameters).
    pub required: bool,
    /// Query only: reserved characters (`:/?#[]@!$&'()*+,;=`) are sent unencoded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_reserved: bool,
    /// When the parameter is declared with `content` instead of `schema`: the
    /// media type its value is serialized as (usually `application/json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The parameter's schema in the tool's internal JSON Schema form (the
    /// same as the argument's schema in `input_schema`, `$ref`s pointing into
    /// that schema's `$defs`).
    #[serde(default)]
    pub schema: Value,
}

impl ParamBinding {
    /// A parameter with OpenAPI defaults: `arg` = `name`, default style and
    /// explode for the location, required only in the path, any schema.
    pub fn new(name: impl Into<String>, location: ParamLocation) -> Self {
        let name = name.into();
        let style = location.default_style();
        ParamBinding {
            arg: name.clone(),
            name,
            location,
            style,
            explode: style.default_explode(),
            required: location == ParamLocation::Path,
            allow_reserved: false,
            content_type: None,
            schema: Value::Object(Default::default()),
        }
    }
}

/// The request body of an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodyBinding {
    /// The media type sent in `Content-Type` (`application/json`,
    /// `application/x-www-form-urlencoded`, `multipart/form-data`,
    /// `text/plain`, `application/octet-stream`, ...). When the description
    /// offers several, JSON is preferred, then form, multipart, text, others.
    pub media_type: String,
    /// Other media types the operation also accepts (for information).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
    /// The body is required by the description.
    pub required: bool,
    /// Which arguments form the body.
    pub args: BodyArgs,
    /// Per-property encoding for form and multipart bodies, by *wire* property name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub encoding: BTreeMap<String, PropertyEncoding>,
}

/// How tool arguments map onto the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BodyArgs {
    /// The whole body is the value of one argument (non-object bodies, unions,
    /// free-form objects, text and binary payloads). The argument is `body`
    /// unless that name was taken by a parameter.
    Whole {
        /// The argument name.
        arg: String,
    },
    /// The body is a JSON object (or form) built from several top-level arguments.
    Properties {
        /// One entry per body property, in schema order.
        properties: Vec<BodyProperty>,
    },
}

/// One body property fed by one argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyProperty {
    /// The property name in the body.
    pub name: String,
    /// The tool argument holding its value (differs from `name` after collision renaming).
    pub arg: String,
    /// Listed in the body schema's `required`.
    pub required: bool,
}

/// OpenAPI `encoding` entry of a form or multipart body property.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PropertyEncoding {
    /// Content type of this part (multipart) or value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Style for `application/x-www-form-urlencoded` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<ParamStyle>,
    /// Explode for `application/x-www-form-urlencoded` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<bool>,
    /// Reserved characters are sent unencoded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_reserved: bool,
}

/// One way to satisfy the operation's security: every scheme listed applies.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SecurityRequirement {
    /// The schemes, all required together. Empty: anonymous access allowed.
    pub schemes: Vec<SchemeUse>,
}

/// A security scheme as used by one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemeUse {
    /// The scheme's key under `components.securitySchemes` (how configuration names it).
    pub name: String,
    /// The scheme.
    pub scheme: SecurityScheme,
    /// OAuth2 / OpenID scopes the operation needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// Where an API key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyLocation {
    /// A request header.
    Header,
    /// The query string.
    Query,
    /// A cookie.
    Cookie,
}

/// A security scheme from `components.securitySchemes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SecurityScheme {
    /// `apiKey`: a key in a header, query parameter or cookie.
    ApiKey {
        /// Where the key goes.
        #[serde(rename = "in")]
        location: ApiKeyLocation,
        /// The header, query parameter or cookie name.
        name: String,
    },
    /// `http` with `bearer`: `Authorization: Bearer <token>`.
    HttpBearer {
        /// `bearerFormat` hint (`JWT`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bearer_format: Option<String>,
    },
    /// `http` with `basic`: `Authorization: Basic base64(user:password)`.
    HttpBasic,
    /// `oauth2` with a `clientCredentials` flow: fetch a token at `token_url`,
    /// send it as a bearer token.
    Oauth2ClientCredentials {
        /// The token endpoint (may be relative to the server URL).
        token_url: String,
        /// Available scopes and their descriptions.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        scopes: BTreeMap<String, String>,
    },
    /// Any other scheme (other `http` schemes, OAuth2 flows needing a user,
    /// OpenID Connect, mutualTLS): only a pre-obtained bearer token from
    /// configuration can satisfy it.
    Other {
        /// What the description declared (`http:digest`, `oauth2:authorizationCode`, `openIdConnect`, ...).
        declared: String,
    },
}

/// A non-fatal problem found while converting one operation (or the document).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConversionWarning {
    /// JSON pointer into the description where the problem is (`/paths/~1pets/get/parameters/0`).
    pub pointer: String,
    /// What was done about it, in a sentence.
    pub message: String,
}

impl fmt::Display for ConversionWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pointer, self.message)
    }
}

/// One operation converted into a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvertedTool {
    /// The tool definition (internal JSON Schema 2020-12 form; the executor
    /// validates against `spec.input_schema`).
    pub spec: ToolSpec,
    /// How its arguments become an HTTP request.
    pub binding: HttpBinding,
    /// The operation's `operationId`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// JSON pointer to the operation in the description (`/paths/~1pets/get`).
    pub pointer: String,
    /// Problems met converting this operation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ConversionWarning>,
}

impl ConvertedTool {
    /// The tool name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }
}
