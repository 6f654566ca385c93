//! The web console in a real headless browser: starts `toolplane serve`
//! (the offline default, whose printed key the tests sign in with, a server
//! whose OpenAPI description holds markup, and one with GitHub's REST API as
//! tools, and one using two MCP servers: the reference server over stdio and
//! a program that does not exist), then runs
//! `node --test` over `crates/toolplane-server/console/tests/*.test.mjs`,
//! which drive Debian's chromium through playwright-core and run axe-core.
//!
//! `scripts/ci/console.sh` installs chromium and the pinned npm packages;
//! outside CI a missing one is a printed skip, under `CI=true` a failure.
//! Screenshots go to `target/console-screenshots/`.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

mod support;
use support::{ServeProcess, cache_dir, start_serve};

const HOSTILE_KEY: &str = "tp-console-hostile-key";
const GITHUB_KEY: &str = "tp-console-github-key";
const MCP_KEY: &str = "tp-console-mcp-key";

/// Starts `toolplane serve ARGS --bind 127.0.0.1:0`; reads the URL and the printed key.
fn serve(args: &[&str]) -> ServeProcess {
    start_serve(args, &[])
}

fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../toolplane-server/console/tests")
}

/// `target/` (the binary is `target/<profile>/toolplane`).
fn target_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_toolplane"));
    exe.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap()
}

/// A configuration in `dir` with one key for `principal`, a scripted expert and `tools` (TOML).
fn config(dir: &Path, name: &str, key: &str, tools: &str) -> PathBuf {
    let hash = std::process::Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(["serve", "--hash-key", key])
        .output()
        .unwrap();
    let hash = String::from_utf8(hash.stdout).unwrap().trim().to_owned();
    let text = format!(
        r#"[server]
bind = "127.0.0.1:0"

[[server.keys]]
sha256 = "{hash}"
principal = "{name}-reader"
roles = ["member"]

[[experts]]
id = "fast"
provider = "scripted"
model = "scripted-fast"

{tools}
"#
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Markup in an OpenAPI description's summaries, descriptions and enum values.
fn hostile_config(dir: &Path) -> PathBuf {
    let spec = tests_dir().join("hostile-api.yaml");
    config(
        dir,
        "hostile",
        HOSTILE_KEY,
        &format!("[[tools.openapi]]\nspec = {:?}\n", spec.display().to_string()),
    )
}

/// GitHub's REST API description (1,223 operations) as tools, never called (the base URL is a closed port).
fn github_config(dir: &Path, corpus: &Path) -> PathBuf {
    let spec = corpus.join("generated/api.github.com.json");
    config(
        dir,
        "github",
        GITHUB_KEY,
        &format!(
            "[[tools.openapi]]\nspec = {:?}\nbase_url = \"http://127.0.0.1:9\"\n",
            spec.display().to_string()
        ),
    )
}

/// `@modelcontextprotocol/server-everything` as scripts/ci/mcp.sh installs it
/// (`TOOLPLANE_MCP_CACHE`, else `<workspace>/.cache/mcp`), and `node`.
fn server_everything() -> Option<(PathBuf, PathBuf)> {
    let cache = std::env::var_os("TOOLPLANE_MCP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| toolplane_testkit::workspace_root().join(".cache/mcp"));
    let js = cache.join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let node = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("node"))
            .find(|p| p.is_file())
    });
    match (js.is_file(), node) {
        (true, Some(node)) => Some((node, js)),
        _ => toolplane_testkit::missing(
            "@modelcontextprotocol/server-everything and node",
            "run scripts/ci/mcp.sh",
        ),
    }
}

/// Two MCP servers: server-everything over stdio, and a program that does
/// not exist; the key is an admin's (the page's reconnect button).
fn mcp_config(dir: &Path, node: &Path, js: &Path) -> PathBuf {
    let path = config(
        dir,
        "mcp",
        MCP_KEY,
        &format!(
            "[[tools.mcp]]\nname = \"everything\"\ncommand = {:?}\nargs = [{:?}, \"stdio\"]\ntrust_annotations = true\n\n\
             [[tools.mcp]]\nname = \"ghost\"\ncommand = \"/nonexistent/toolplane-no-such-mcp-server\"\n",
            node.display().to_string(),
            js.display().to_string()
        ),
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("roles = [\"member\"]", "roles = [\"member\", \"admin\"]");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_in_a_real_browser() {
    let modules = cache_dir().join("console-node/node_modules");
    let chromium = std::env::var_os("TOOLPLANE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let ready = modules.join("playwright-core/package.json").exists() && modules.join("axe-core/axe.min.js").exists();
    if !ready {
        let _: Option<()> = toolplane_testkit::missing("playwright-core and axe-core", "run scripts/ci/console.sh");
        return;
    }
    if !chromium.exists() {
        let _: Option<()> = toolplane_testkit::missing("chromium", "run scripts/ci/console.sh");
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().join("default");
    let offline = serve(&["--state-dir", state_dir.to_str().unwrap()]);
    let hostile = serve(&["--config", hostile_config(state.path()).to_str().unwrap()]);
    // The search timing runs over GitHub's description (fetched by scripts/fetch-corpora.sh).
    let github = toolplane_testkit::corpus_dir("octokit-openapi-23.0.2")
        .map(|corpus| serve(&["--config", github_config(state.path(), &corpus).to_str().unwrap()]));
    // The MCP servers' page (mcp.test.mjs) needs the reference server.
    let mcp = server_everything()
        .map(|(node, js)| serve(&["--config", mcp_config(state.path(), &node, &js).to_str().unwrap()]));
    let key = offline.key.clone().expect("the offline default prints its key");
    assert!(hostile.key.is_none());

    let mut files: Vec<PathBuf> = std::fs::read_dir(tests_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    if let Ok(only) = std::env::var("TOOLPLANE_CONSOLE_TESTS") {
        files.retain(|f| only.split(',').any(|o| f.to_string_lossy().contains(o.trim())));
    }
    let shots = target_dir().join("console-screenshots");
    let mut node = Command::new("node");
    if let Some(g) = &github {
        node.env("TOOLPLANE_GITHUB_URL", &g.url)
            .env("TOOLPLANE_GITHUB_KEY", GITHUB_KEY);
    }
    if let Some(m) = &mcp {
        node.env("TOOLPLANE_MCP_URL", &m.url).env("TOOLPLANE_MCP_KEY", MCP_KEY);
    }
    let out = tokio::time::timeout(
        Duration::from_secs(600),
        node.args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
            .args(&files)
            .current_dir(tests_dir())
            .env("TOOLPLANE_URL", &offline.url)
            .env("TOOLPLANE_KEY", &key)
            .env("TOOLPLANE_HOSTILE_URL", &hostile.url)
            .env("TOOLPLANE_HOSTILE_KEY", HOSTILE_KEY)
            .env("TOOLPLANE_CONSOLE_NODE_MODULES", &modules)
            .env("TOOLPLANE_CHROMIUM", &chromium)
            .env("TOOLPLANE_SCREENSHOTS", &shots)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the browser tests finish within 10 minutes")
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}\n{stderr}");
    assert!(out.status.success(), "the browser tests failed (see above)");
    eprintln!("screenshots: {}", shots.display());
}
