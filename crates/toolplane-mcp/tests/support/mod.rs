//! Finds the MCP implementations installed by `scripts/ci/mcp.sh`.
#![allow(dead_code, clippy::panic, clippy::unwrap_used)]

use std::path::PathBuf;

/// `TOOLPLANE_MCP_CACHE`, else `<workspace>/.cache/mcp`.
pub(crate) fn cache_dir() -> PathBuf {
    std::env::var_os("TOOLPLANE_MCP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| toolplane_testkit::workspace_root().join(".cache/mcp"))
}

/// The entry point of `@modelcontextprotocol/server-everything`, and `node`.
pub(crate) fn everything() -> Option<(String, PathBuf)> {
    let js = cache_dir().join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    if !js.is_file() {
        return toolplane_testkit::missing(
            "@modelcontextprotocol/server-everything",
            &format!("no {}; run scripts/ci/mcp.sh", js.display()),
        );
    }
    let node = which("node")?;
    Some((node, js))
}

/// The Python interpreter of the venv holding the official `mcp` SDK.
pub(crate) fn python_mcp() -> Option<PathBuf> {
    let py = cache_dir().join("venv/bin/python");
    if py.is_file() {
        Some(py)
    } else {
        toolplane_testkit::missing(
            "the Python MCP SDK",
            &format!("no {}; run scripts/ci/mcp.sh", py.display()),
        )
    }
}

fn which(program: &str) -> Option<String> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => Some(p.display().to_string()),
        None => toolplane_testkit::missing(program, "not on PATH; run scripts/ci/mcp.sh"),
    }
}

/// A free TCP port on 127.0.0.1 (bound, then released).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
