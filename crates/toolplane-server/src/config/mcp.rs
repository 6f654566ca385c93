//! `[[tools.mcp]]`: MCP servers whose tools the gateway offers, reached over
//! stdio (a child process) or Streamable HTTP. Secrets never sit in the file:
//! a stdio server gets named environment variables passed through
//! (`env_from`), an HTTP server's token is read from `bearer_env`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use toolplane_mcp::client::{HttpServer, ServerConfig as McpServerConfig, StdioServer};

use super::{ConfigError, ServerConfig};

/// `[[tools.mcp]]`: one MCP server.
///
/// ```toml
/// [[tools.mcp]]
/// name = "everything"              # namespace: its tools are `everything.<tool>`
/// command = "npx"                  # stdio: the program, its arguments, environment, folder
/// args = ["-y", "@modelcontextprotocol/server-everything"]
/// env = { LOG_LEVEL = "info" }     # literal values (no secrets)
/// env_from = ["SOME_API_KEY"]      # passed through from the gateway's environment
///
/// [[tools.mcp]]
/// name = "remote"
/// url = "https://mcp.example.com/mcp"   # Streamable HTTP
/// bearer_env = "REMOTE_MCP_TOKEN"       # the variable holding the token
/// headers = { "x-team" = "tools" }
/// call_timeout_secs = 30
/// trust_annotations = false             # default: hints are untrusted
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpEntry {
    /// The server's name: the namespace of its tools (`name.tool`). ASCII
    /// letters, digits, `_` and `-`, at most 48.
    pub name: String,
    /// stdio: the program to start.
    #[serde(default)]
    pub command: Option<String>,
    /// stdio: its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// stdio: environment variables with literal values.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// stdio: names of the gateway's environment variables passed to the child
    /// (besides `PATH`, `HOME`, `LANG` and `TMPDIR`; nothing else is).
    #[serde(default)]
    pub env_from: Vec<String>,
    /// stdio: the working folder, relative to the configuration file.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Streamable HTTP: the endpoint.
    #[serde(default)]
    pub url: Option<String>,
    /// Streamable HTTP: the environment variable holding the bearer token.
    #[serde(default)]
    pub bearer_env: Option<String>,
    /// Streamable HTTP: extra headers on every request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Longest a call may go without an answer or progress, in seconds (default 60).
    #[serde(default)]
    pub call_timeout_secs: Option<u64>,
    /// Let the server's annotations (read-only, destructive) count in the
    /// permission policy (default `false`: its tools are `untrusted_annotations`).
    #[serde(default)]
    pub trust_annotations: bool,
}

impl McpEntry {
    /// `stdio` or `http`.
    pub fn transport(&self) -> &'static str {
        if self.url.is_some() { "http" } else { "stdio" }
    }

    /// What the integrations page shows of the transport: the program's name
    /// (no arguments: they may hold paths or tokens), or the URL without
    /// credentials, query or fragment.
    pub fn target(&self) -> String {
        match (&self.url, &self.command) {
            (Some(url), _) => public_url(url),
            (None, Some(cmd)) => std::path::Path::new(cmd)
                .file_name()
                .map_or_else(|| cmd.clone(), |n| n.to_string_lossy().into_owned()),
            (None, None) => String::new(),
        }
    }
}

/// `url` without user, password, query and fragment.
fn public_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return String::new();
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if path.is_empty() {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}/{path}")
    }
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks every `[[tools.mcp]]` entry without connecting.
pub(super) fn validate(cfg: &ServerConfig, text: &str) -> Result<(), ConfigError> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, m) in cfg.tools.mcp.iter().enumerate() {
        let at = |f: &str| format!("tools.mcp[{i}].{f}");
        let name_ok = !m.name.is_empty()
            && m.name.len() <= 48
            && m.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !name_ok {
            return Err(cfg.error(
                text,
                &at("name"),
                format!(
                    "`{}` must be 1 to 48 ASCII letters, digits, `_` or `-` (it becomes the tools' namespace, `{}.tool`)",
                    m.name, m.name
                ),
            ));
        }
        if let Err(msg) = toolplane_registry::NamePolicy::default().check(&format!("{}.x", m.name)) {
            return Err(cfg.error(text, &at("name"), msg));
        }
        if let Some(first) = seen.insert(m.name.as_str(), i) {
            return Err(cfg.error(
                text,
                &at("name"),
                format!("`{}` is already the name of tools.mcp[{first}]", m.name),
            ));
        }
        match (&m.command, &m.url) {
            (Some(_), Some(_)) => {
                return Err(cfg.error(
                    text,
                    &at("url"),
                    "give `command` (stdio) or `url` (Streamable HTTP), not both",
                ));
            }
            (None, None) => {
                return Err(cfg.error(
                    text,
                    &at("name"),
                    "give `command` (a stdio server) or `url` (a Streamable HTTP server)",
                ));
            }
            (Some(cmd), None) => {
                if cmd.trim().is_empty() {
                    return Err(cfg.error(text, &at("command"), "must not be empty"));
                }
                for (field, used) in [
                    ("bearer_env", m.bearer_env.is_some()),
                    ("headers", !m.headers.is_empty()),
                ] {
                    if used {
                        return Err(cfg.error(text, &at(field), "only a Streamable HTTP server (`url`) takes this"));
                    }
                }
                for key in m.env.keys() {
                    if !is_env_name(key) {
                        return Err(cfg.error(
                            text,
                            &at(&format!("env.{key}")),
                            format!("`{key}` is not an environment variable name"),
                        ));
                    }
                }
                for (j, var) in m.env_from.iter().enumerate() {
                    if !is_env_name(var) {
                        return Err(cfg.error(
                            text,
                            &format!("tools.mcp[{i}].env_from[{j}]"),
                            format!("`{var}` is not an environment variable name (give the name, never the value)"),
                        ));
                    }
                }
            }
            (None, Some(url)) => {
                let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
                let authority = url
                    .split_once("://")
                    .map_or("", |(_, r)| r.split(['/', '?', '#']).next().unwrap_or(""));
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                if !scheme_ok || host.is_empty() || host.contains(char::is_whitespace) {
                    return Err(cfg.error(text, &at("url"), format!("`{url}` is not an http(s) URL")));
                }
                if authority.contains('@') {
                    return Err(cfg.error(
                        text,
                        &at("url"),
                        "must not hold credentials; put the token's variable in `bearer_env`",
                    ));
                }
                for (field, used) in [
                    ("args", !m.args.is_empty()),
                    ("env", !m.env.is_empty()),
                    ("env_from", !m.env_from.is_empty()),
                    ("cwd", m.cwd.is_some()),
                ] {
                    if used {
                        return Err(cfg.error(text, &at(field), "only a stdio server (`command`) takes this"));
                    }
                }
                if let Some(var) = &m.bearer_env {
                    if !is_env_name(var) {
                        return Err(cfg.error(
                            text,
                            &at("bearer_env"),
                            "must be the name of an environment variable, not a token",
                        ));
                    }
                }
                for (k, v) in &m.headers {
                    if !is_header_name(k) || v.chars().any(|c| c.is_control()) {
                        return Err(cfg.error(
                            text,
                            &at("headers"),
                            format!("`{k}` is not a valid header (name or value)"),
                        ));
                    }
                    if k.eq_ignore_ascii_case("authorization") {
                        return Err(cfg.error(
                            text,
                            &at("headers"),
                            "no `authorization` header in the file: name the token's variable in `bearer_env`",
                        ));
                    }
                }
            }
        }
        if let Some(secs) = m.call_timeout_secs {
            if !(1..=3600).contains(&secs) {
                return Err(cfg.error(text, &at("call_timeout_secs"), "must be between 1 and 3600"));
            }
        }
    }
    Ok(())
}

impl ServerConfig {
    /// The MCP client configuration of `tools.mcp[i]`, with the variables it
    /// names read now.
    ///
    /// # Errors
    /// A variable named by `env_from` or `bearer_env` is not set (file, field
    /// and the variable named; never a value).
    pub fn mcp_server(&self, i: usize) -> Result<McpServerConfig, ConfigError> {
        let err = |field: String, message: String| ConfigError {
            file: self.origin.file.clone(),
            line: None,
            field: Some(field),
            message,
        };
        let Some(m) = self.tools.mcp.get(i) else {
            return Err(err(format!("tools.mcp[{i}]"), "no such entry".into()));
        };
        let config = if let Some(url) = &m.url {
            let mut server = HttpServer::new(url.clone());
            if let Some(var) = &m.bearer_env {
                let token = std::env::var(var)
                    .ok()
                    .filter(|t| !t.trim().is_empty())
                    .ok_or_else(|| {
                        err(
                            format!("tools.mcp[{i}].bearer_env"),
                            format!("the environment variable `{var}` is not set"),
                        )
                    })?;
                server = server.bearer(token);
            }
            for (k, v) in &m.headers {
                server = server.header(k.clone(), v.clone());
            }
            McpServerConfig::http(m.name.clone(), server)
        } else {
            let mut server = StdioServer::new(m.command.clone().unwrap_or_default()).args(m.args.iter().cloned());
            for (k, v) in &m.env {
                server = server.env(k.clone(), v.clone());
            }
            for (j, var) in m.env_from.iter().enumerate() {
                let value = std::env::var(var).map_err(|_| {
                    err(
                        format!("tools.mcp[{i}].env_from[{j}]"),
                        format!("the environment variable `{var}` is not set"),
                    )
                })?;
                server = server.env(var.clone(), value);
            }
            if let Some(dir) = &m.cwd {
                server = server.cwd(self.resolve(dir));
            }
            McpServerConfig::stdio(m.name.clone(), server)
        };
        Ok(match m.call_timeout_secs {
            Some(secs) => config.with_call_timeout(Duration::from_secs(secs)),
            None => config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_lose_credentials_query_and_fragment() {
        assert_eq!(
            public_url("https://u:p@h.example:8443/mcp?k=1#x"),
            "https://h.example:8443/mcp"
        );
        assert_eq!(public_url("http://127.0.0.1:9"), "http://127.0.0.1:9");
        assert_eq!(public_url("nonsense"), "");
    }
}
