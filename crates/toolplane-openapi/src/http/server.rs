//! Server URLs: `{variables}` filled from configuration, else the default,
//! checked against the variable's `enum`.

use std::collections::BTreeMap;

/// One server variable as the description declares it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerVariableSpec {
    /// The value used when configuration gives none.
    pub default: String,
    /// The allowed values; empty means any.
    pub allowed: Vec<String>,
}

/// A server URL that cannot be filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerUrlError {
    /// The template uses a variable that is neither declared nor configured.
    #[error("server URL `{template}`: variable `{name}` is not declared and has no configured value")]
    Undeclared {
        /// The URL template.
        template: String,
        /// The variable.
        name: String,
    },
    /// A configured value is not among the variable's `enum`.
    #[error("server URL `{template}`: variable `{name}` must be one of {allowed:?}, configuration gave `{value}`")]
    NotAllowed {
        /// The URL template.
        template: String,
        /// The variable.
        name: String,
        /// The configured value.
        value: String,
        /// The allowed values.
        allowed: Vec<String>,
    },
    /// A `{` without its `}`.
    #[error("server URL `{template}`: unclosed `{{`")]
    Unclosed {
        /// The URL template.
        template: String,
    },
}

/// Fills `{name}` placeholders in a server URL template.
///
/// A configured value wins over the default; when the variable declares an
/// `enum`, the value must be one of it.
///
/// ```
/// use std::collections::BTreeMap;
/// use toolplane_openapi::http::server::{fill_server_url, ServerVariableSpec};
/// let mut vars = BTreeMap::new();
/// vars.insert("region".to_string(), ServerVariableSpec { default: "eu".into(), allowed: vec!["eu".into(), "us".into()] });
/// let conf = BTreeMap::from([("region".to_string(), "us".to_string())]);
/// assert_eq!(fill_server_url("https://{region}.example.com/v1", &vars, &conf).unwrap(), "https://us.example.com/v1");
/// ```
pub fn fill_server_url(
    template: &str,
    variables: &BTreeMap<String, ServerVariableSpec>,
    configured: &BTreeMap<String, String>,
) -> Result<String, ServerUrlError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(ServerUrlError::Unclosed {
                template: template.to_owned(),
            });
        };
        let name = &after[..close];
        let spec = variables.get(name);
        let value = match (configured.get(name), spec) {
            (Some(v), Some(s)) if !s.allowed.is_empty() && !s.allowed.contains(v) => {
                return Err(ServerUrlError::NotAllowed {
                    template: template.to_owned(),
                    name: name.to_owned(),
                    value: v.clone(),
                    allowed: s.allowed.clone(),
                });
            }
            (Some(v), _) => v.clone(),
            (None, Some(s)) => s.default.clone(),
            (None, None) => {
                return Err(ServerUrlError::Undeclared {
                    template: template.to_owned(),
                    name: name.to_owned(),
                });
            }
        };
        out.push_str(&value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, ServerVariableSpec> {
        BTreeMap::from([
            (
                "port".to_owned(),
                ServerVariableSpec {
                    default: "8443".into(),
                    allowed: vec!["8443".into(), "443".into()],
                },
            ),
            (
                "basePath".to_owned(),
                ServerVariableSpec {
                    default: "v2".into(),
                    allowed: vec![],
                },
            ),
        ])
    }

    #[test]
    fn defaults_and_configuration() {
        let t = "https://api.example.com:{port}/{basePath}";
        assert_eq!(
            fill_server_url(t, &vars(), &BTreeMap::new()).unwrap(),
            "https://api.example.com:8443/v2"
        );
        let conf = BTreeMap::from([("port".into(), "443".into()), ("basePath".into(), "v3".into())]);
        assert_eq!(
            fill_server_url(t, &vars(), &conf).unwrap(),
            "https://api.example.com:443/v3"
        );
    }

    #[test]
    fn enum_and_undeclared_are_refused() {
        let conf = BTreeMap::from([("port".into(), "80".into())]);
        let e = fill_server_url("https://h:{port}", &vars(), &conf).unwrap_err();
        assert!(e.to_string().contains("must be one of"));
        let e = fill_server_url("https://{tenant}.h", &vars(), &BTreeMap::new()).unwrap_err();
        assert!(e.to_string().contains("`tenant`"));
        assert!(fill_server_url("https://{oops", &vars(), &BTreeMap::new()).is_err());
    }
}
