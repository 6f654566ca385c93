//! Permissions, approvals and the audit log: `cargo run -p toolplane --example permissions`.
//!
//! Shows `toolplane::security` without a model or a network:
//! 1. a layered policy (a managed layer an administrator sets, a project
//!    layer checked in with the code) with argument constraints: a URL host
//!    allowlist, a path confined under a root, a numeric range;
//! 2. a table of calls, tricky ones included (`../` traversal, percent-encoded
//!    `..`, the cloud metadata address `169.254.169.254` also in decimal,
//!    `userinfo@host`, a managed deny that a project allow cannot override, a
//!    destructive tool that defaults to ask), each printed with its decision
//!    and the explanation the policy gives;
//! 3. a policy edit with a syntax error: rejected with line:column, and the
//!    previous policy stays active;
//! 4. an approval token bound to the exact arguments: changed arguments need
//!    a new approval, and a token works once;
//! 5. audit records written with `FileSink` (fsync'd, hash-chained), verified
//!    with `verify_dir`, then a copy with one flipped byte that fails to verify.

use std::error::Error;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use toolplane::security::audit::{AuditRecord, FileSink, FileSinkOptions, read_dir, verify_dir};
use toolplane::security::policy::{Effect, Layer, PolicyStore};
use toolplane::security::redact::Redact;
use toolplane::security::{ApprovalError, ApprovalStore, binding_hash};
use toolplane::vocab::{Principal, ToolAnnotations, ToolSpec};

/// Set by an administrator: its denies win over every other layer.
const MANAGED: &str = r#"
# Never let a tool reach the cloud metadata service.
[[rule]]
id = "no-metadata"
effect = "deny"
tools = ["http.*"]
[[rule.args]]
path = "/url"
url_hosts = ["169.254.169.254", "metadata.google.internal"]

# No shell, whatever a project says.
[[rule]]
id = "no-shell"
effect = "deny"
tools = ["shell.*"]
"#;

/// Checked in with a project.
const PROJECT: &str = r#"
[[rule]]
id = "fetch"
effect = "allow"
tools = ["http.get"]
[[rule.args]]
path = "/url"
url_hosts = ["api.github.com", "*.example.com"]

[[rule]]
id = "files"
effect = "allow"
tools = ["fs.read", "fs.delete"]
[[rule.args]]
path = "/path"
path_under = "/srv/project"

[[rule]]
id = "resize"
effect = "allow"
tools = ["image.resize"]
[[rule.args]]
path = "/width"
min = 1
max = 4096

# Tries to allow the shell: the managed deny still wins.
[[rule]]
id = "shell-for-devs"
effect = "allow"
tools = ["shell.exec"]
roles = ["dev"]
"#;

/// The project layer after a careless edit: `[[rule]` is missing a bracket.
const PROJECT_BROKEN: &str = r#"
[[rule]]
id = "fetch"
effect = "allow"
tools = ["http.get", "http.post"]

[[rule]
id = "everything"
effect = "allow"
tools = ["*"]
"#;

fn main() -> Result<(), Box<dyn Error>> {
    let store = PolicyStore::new();
    store.load_str(Layer::Managed, "managed.toml", MANAGED)?;
    store.load_str(Layer::Project, "project.toml", PROJECT)?;
    println!(
        "Policy loaded: {} rules (managed + project layers)\n",
        store.current().len()
    );

    let ada = Principal::new("ada").with_role("dev");
    let calls = call_table();
    println!("1. Decisions for principal `ada` (role dev)\n");
    for (i, (label, spec, args)) in calls.iter().enumerate() {
        let decision = store.evaluate(Some(&ada), spec, args);
        println!("[{:>2}] {label}", i + 1);
        println!("     {} {}", spec.name, args);
        println!("     => {decision}\n");
    }

    println!("2. A project policy edit with a syntax error\n");
    let before = store.current().len();
    match store.load_str(Layer::Project, "project.toml", PROJECT_BROKEN) {
        Ok(()) => println!("   unexpectedly accepted"),
        Err(e) => println!("   rejected: {e}"),
    }
    let still = store.evaluate(Some(&ada), &ToolSpec::new("weather.now", "The weather."), &json!({}));
    println!(
        "   rules active: {} before, {} after; `weather.now` is still {} (the `*` rule never loaded)\n",
        before,
        store.current().len(),
        still.effect
    );

    approvals(&ada)?;
    audit(&store, &ada, &calls)?;
    Ok(())
}

/// The calls to decide on: (what it shows, tool, arguments).
fn call_table() -> Vec<(&'static str, ToolSpec, Value)> {
    let http_get = ToolSpec::new("http.get", "GET a URL.");
    let fs_read = ToolSpec::new("fs.read", "Read a file.").with_annotations(ToolAnnotations {
        read_only: Some(true),
        ..ToolAnnotations::default()
    });
    let fs_delete = ToolSpec::new("fs.delete", "Delete a file.").with_annotations(ToolAnnotations {
        destructive: Some(true),
        ..ToolAnnotations::default()
    });
    let resize = ToolSpec::new("image.resize", "Resize an image.");
    let shell = ToolSpec::new("shell.exec", "Run a command.");
    vec![
        (
            "allowed host",
            http_get.clone(),
            json!({"url": "https://api.github.com/repos/rust-lang/rust"}),
        ),
        (
            "host normalized (case, trailing dot) before the check",
            http_get.clone(),
            json!({"url": "https://API.GitHub.com./zen"}),
        ),
        (
            "cloud metadata address: managed deny",
            http_get.clone(),
            json!({"url": "http://169.254.169.254/latest/meta-data/"}),
        ),
        (
            "the same address written as one decimal number",
            http_get.clone(),
            json!({"url": "http://2852039166/latest/meta-data/"}),
        ),
        (
            "userinfo@host: the host is evil.example, not api.github.com",
            http_get.clone(),
            json!({"url": "https://api.github.com@evil.example/"}),
        ),
        ("file under the root", fs_read.clone(), json!({"path": "src/main.rs"})),
        (
            "../ traversal out of the root",
            fs_read.clone(),
            json!({"path": "src/../../../etc/passwd"}),
        ),
        (
            "percent-encoded ..",
            fs_read,
            json!({"path": "%2e%2e/%2e%2e/etc/shadow"}),
        ),
        ("width in range", resize.clone(), json!({"width": 800})),
        ("width out of range", resize, json!({"width": 100000})),
        (
            "project allows the shell, managed denies it: deny wins",
            shell,
            json!({"cmd": "ls"}),
        ),
        (
            "destructive tool, allowed by a rule: raised to ask",
            fs_delete,
            json!({"path": "build/cache.bin"}),
        ),
        (
            "no rule for this tool: default deny",
            ToolSpec::new("weather.now", "The weather."),
            json!({"city": "Paris"}),
        ),
    ]
}

/// An approval is bound to principal, tool definition and exact arguments.
fn approvals(ada: &Principal) -> Result<(), Box<dyn Error>> {
    println!("3. Approval bound to exact arguments\n");
    let approvals = ApprovalStore::new();
    let spec = ToolSpec::new("fs.delete", "Delete a file.").with_annotations(ToolAnnotations {
        destructive: Some(true),
        ..ToolAnnotations::default()
    });
    let asked = json!({"path": "build/cache.bin"});
    let request = approvals.request(Some(ada), &spec, &asked, "destructive tool");
    println!(
        "   request {} for {} by {} (binding {}...)",
        request.id,
        request.tool,
        request.principal,
        &request.binding[..16.min(request.binding.len())]
    );
    let token = approvals.approve(&request.id, Duration::from_secs(300))?;
    println!("   a human approved it: single-use token issued, valid 300 s");

    let changed = json!({"path": "src/main.rs"});
    let outcome = approvals.consume(&token, &binding_hash(Some(ada), &spec, &changed));
    println!("   same token, changed arguments {changed}: {}", show(&outcome));
    let outcome = approvals.consume(&token, &binding_hash(Some(ada), &spec, &asked));
    println!("   same token, the approved arguments {asked}: {}", show(&outcome));
    let outcome = approvals.consume(&token, &binding_hash(Some(ada), &spec, &asked));
    println!("   the token again (replay): {}\n", show(&outcome));
    Ok(())
}

fn show(outcome: &Result<(), ApprovalError>) -> String {
    match outcome {
        Ok(()) => "accepted, the call may run".to_owned(),
        Err(e) => format!("refused: {e}"),
    }
}

/// Writes one audit record per decision, verifies the log, then tampers with a copy.
fn audit(store: &PolicyStore, ada: &Principal, calls: &[(&str, ToolSpec, Value)]) -> Result<(), Box<dyn Error>> {
    println!("4. Audit log\n");
    let temp = tempfile::tempdir()?;
    let log = temp.path().join("audit");
    let sink = FileSink::open(&log, FileSinkOptions::default())?;
    for (i, (_, spec, args)) in calls.iter().take(5).enumerate() {
        let decision = store.evaluate(Some(ada), spec, args);
        let mut record = AuditRecord::event("tool_call", format!("req-{}", i + 1), ada.id.clone());
        record.tool = Some(spec.name.clone());
        record.arguments = args.clone();
        record.decision = Some(decision.effect.to_string());
        record.explanation = Some(decision.explanation.to_string());
        record.status = match decision.effect {
            Effect::Allow => "ok".into(),
            Effect::Ask => "approval_required".into(),
            Effect::Deny => "permission_denied".into(),
        };
        sink.append_blocking(record.redacted())?;
    }
    // A secret in the arguments never reaches the disk.
    let mut record = AuditRecord::event("tool_call", "req-6", ada.id.clone());
    record.tool = Some("http.get".into());
    record.arguments = json!({
        "url": "https://api.github.com/user",
        "headers": {"authorization": "Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789"}
    });
    record.decision = Some("allow".into());
    let seq = sink.append_blocking(record.redacted())?;
    sink.close();
    println!(
        "   wrote 6 records to {} (a temporary folder, removed at exit); last seq {seq}, each acknowledged after fsync",
        log.display()
    );

    let (records, report) = read_dir(&log)?;
    if let Some((seq, last)) = records.last() {
        println!("   record {seq} as stored: arguments {}", last.arguments);
    }
    println!("   verify_dir: {report}");

    let copy = temp.path().join("audit-tampered");
    copy_dir(&log, &copy)?;
    let flipped = flip_byte(&copy)?;
    println!("   copied the log and flipped one byte in {flipped}");
    let tampered = verify_dir(&copy)?;
    println!("   verify_dir on the copy: {tampered}");
    println!("   verify_dir on the original: {}", verify_dir(&log)?);
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// Flips one bit in the middle of the first segment; returns where.
fn flip_byte(dir: &Path) -> Result<String, Box<dyn Error>> {
    let mut segments: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tpa"))
        .collect();
    segments.sort();
    let segment = segments.first().ok_or("the audit log has no segment")?;
    let mut bytes = std::fs::read(segment)?;
    let at = bytes.len() / 2;
    let byte = bytes.get_mut(at).ok_or("the segment is empty")?;
    *byte ^= 0x01;
    std::fs::write(segment, &bytes)?;
    let name = segment
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(format!("{name} at byte {at}"))
}
