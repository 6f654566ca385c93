//! Evidence for the permission policy: each case ends in a clear decision.

#![allow(clippy::unwrap_used, clippy::panic)]

use serde_json::{Value, json};
use toolplane_core::{Principal, ToolAnnotations, ToolSpec};
use toolplane_security::policy::{Effect, HostAllowlist, Layer, Policy, PolicyStore, confine_path};

fn policy(text: &str) -> Policy {
    Policy::from_layers(&[(Layer::Project, "test.toml", text)]).expect("policy loads")
}

fn eval(p: &Policy, tool: &str, args: Value) -> (Effect, String) {
    let who = Principal::new("alice").with_role("dev");
    let d = p.evaluate(Some(&who), &ToolSpec::new(tool, ""), &args);
    (d.effect, d.explanation.to_string())
}

const BASE: &str = r#"
[[rule]]
id = "github-read"
effect = "allow"
tools = ["github.issues_list", "github.repos_get"]

[[rule]]
id = "files"
effect = "allow"
tools = ["fs.read"]
[[rule.args]]
path = "/path"
path_under = "/srv/data"

[[rule]]
id = "fetch"
effect = "allow"
tools = ["http.get"]
[[rule.args]]
path = "/url"
url_hosts = ["api.github.com", "*.example.com"]
[[rule.args]]
path = "/headers"
optional = true
no_control = true
"#;

#[test]
fn unregistered_and_look_alike_tools_fall_to_default_deny() {
    let p = policy(BASE);
    for name in [
        "shell.exec",
        "github.issues_list2",
        "github.issues-list",
        "Github.issues_list",
        "github.issues_lіst", // Cyrillic і
        "github.issues_list ",
        "github.issues_list\u{200b}",
        "xgithub.issues_list",
    ] {
        let (effect, why) = eval(&p, name, json!({}));
        assert_eq!(effect, Effect::Deny, "{name:?}");
        assert_eq!(why, "no rule matched: default deny", "{name:?}");
    }
    assert_eq!(eval(&p, "github.issues_list", json!({})).0, Effect::Allow);
}

#[test]
fn deny_beats_ask_beats_allow_in_any_order_and_layer() {
    let allow = "[[rule]]\nid='a'\neffect='allow'\ntools=['db.*']\n";
    let ask = "[[rule]]\nid='q'\neffect='ask'\ntools=['db.write']\n";
    let deny = "[[rule]]\nid='d'\neffect='deny'\ntools=['db.drop']\n";
    for order in [[allow, ask, deny], [deny, ask, allow], [ask, deny, allow]] {
        let p = policy(&order.concat());
        assert_eq!(eval(&p, "db.read", json!({})).0, Effect::Allow);
        let (e, why) = eval(&p, "db.write", json!({}));
        assert_eq!(e, Effect::Ask);
        assert!(why.contains("rule `q` (project layer"), "{why}");
        let (e, why) = eval(&p, "db.drop", json!({}));
        assert_eq!(e, Effect::Deny);
        assert!(why.starts_with("rule `d` (project layer"), "{why}");
    }
    // A managed deny cannot be overridden by a user allow.
    let store = PolicyStore::new();
    store.load_str(Layer::Managed, "managed.toml", deny).unwrap();
    store
        .load_str(
            Layer::User,
            "user.toml",
            "[[rule]]\nid='mine'\neffect='allow'\ntools=['db.drop']\n",
        )
        .unwrap();
    let d = store.evaluate(None, &ToolSpec::new("db.drop", ""), &json!({}));
    assert_eq!(d.effect, Effect::Deny);
    assert_eq!(d.explanation.matched[0].layer, Layer::Managed);
    assert!(d.to_string().contains("managed layer"), "{d}");
}

#[test]
fn principals_and_roles_restrict_rules() {
    let p = policy("[[rule]]\nid='ops'\neffect='allow'\ntools=['deploy']\nroles=['ops']\n");
    let ops = Principal::new("bob").with_role("ops");
    let dev = Principal::new("carol").with_role("dev");
    let spec = ToolSpec::new("deploy", "");
    assert_eq!(p.evaluate(Some(&ops), &spec, &json!({})).effect, Effect::Allow);
    assert_eq!(p.evaluate(Some(&dev), &spec, &json!({})).effect, Effect::Deny);
    assert_eq!(p.evaluate(None, &spec, &json!({})).effect, Effect::Deny);
}

#[test]
fn path_traversal_is_refused() {
    let p = policy(BASE);
    assert_eq!(eval(&p, "fs.read", json!({"path": "reports/q1.csv"})).0, Effect::Allow);
    assert_eq!(
        eval(&p, "fs.read", json!({"path": "/srv/data/a/../b"})).0,
        Effect::Allow
    );
    for bad in [
        "../etc/passwd",
        "a/../../etc/passwd",
        "%2e%2e/etc/passwd",
        "%2E%2E%2Fetc%2Fpasswd",
        "%252e%252e/etc/passwd",
        "..\\..\\etc\\passwd",
        "a\\..\\..\\secret",
        "ok.txt\0.png",
        "/etc/passwd",
        "/srv/database/x",
        "/srv/data/../data2/x",
        "C:\\Windows\\system32",
        "~/.ssh/id_rsa",
    ] {
        let (e, why) = eval(&p, "fs.read", json!({ "path": bad }));
        assert_eq!(e, Effect::Deny, "{bad:?} was allowed");
        assert!(why.contains("/path failed path under /srv/data"), "{bad:?}: {why}");
    }
    assert!(confine_path("/srv/data", "x/%2e%2e/%2e%2e/y").is_err());
}

#[test]
fn url_host_tricks_are_canonicalized() {
    let p = policy(BASE);
    assert_eq!(
        eval(&p, "http.get", json!({"url": "https://api.github.com/repos"})).0,
        Effect::Allow
    );
    assert_eq!(
        eval(&p, "http.get", json!({"url": "https://API.GITHUB.COM./x"})).0,
        Effect::Allow
    );
    assert_eq!(
        eval(&p, "http.get", json!({"url": "https://a.b.example.com/"})).0,
        Effect::Allow
    );
    for bad in [
        "http://api.github.com@169.254.169.254/latest/meta-data",
        "http://api.github.com:x@127.0.0.1/",
        "http://169.254.169.254/",
        "http://169.254.169.254./",
        "http://2852039166/",
        "http://0xA9FEA9FE/",
        "http://0251.0376.0251.0376/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://127.0.0.1/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::1]/",
        "http://localhost/",
        "http://example.com/", // the suffix itself is not a subdomain
        "http://evilexample.com/",
        "http://api.github.com.evil.net/",
        "http://xn--gthub-n4a.com/", // punycode look-alike
        "http://gіthub.com/",        // Cyrillic і, becomes punycode
        "file:///etc/passwd",
        "gopher://api.github.com/",
        "http://api.github.com\r\nHost: evil/",
    ] {
        let (e, why) = eval(&p, "http.get", json!({ "url": bad }));
        assert_eq!(e, Effect::Deny, "{bad:?} was allowed");
        assert!(why.contains("/url failed URL host in"), "{bad:?}: {why}");
    }
    // A deny list catches every spelling of the metadata address.
    let deny = policy(
        "[[rule]]\nid='any'\neffect='allow'\ntools=['http.get']\n\
         [[rule]]\nid='no-metadata'\neffect='deny'\ntools=['*']\n[[rule.args]]\npath='/url'\nurl_hosts=['169.254.169.254','127.0.0.1']\n",
    );
    for spelling in [
        "http://2852039166/",
        "http://0xA9FEA9FE./",
        "http://u:p@[::ffff:7f00:1]/",
        "http://127.0.1/",
    ] {
        let (e, why) = eval(&deny, "http.get", json!({ "url": spelling }));
        assert_eq!(e, Effect::Deny, "{spelling}");
        assert!(why.contains("no-metadata"), "{why}");
    }
    assert_eq!(
        eval(&deny, "http.get", json!({"url": "https://api.github.com/"})).0,
        Effect::Allow
    );
}

#[test]
fn redirects_are_checked_hop_by_hop() {
    let list = HostAllowlist::new(["api.github.com"]).unwrap();
    let chain = [
        "https://api.github.com/a",
        "https://api.github.com/b",
        "http://169.254.169.254/latest",
    ];
    let first_bad = chain.iter().position(|u| list.allows_url(u).is_err());
    assert_eq!(first_bad, Some(2));
    assert_eq!(
        list.allows_url(chain[2]).unwrap_err(),
        "host 169.254.169.254 is not in the allowlist"
    );
}

#[test]
fn crlf_in_header_values_is_refused() {
    let p = policy(BASE);
    let ok = json!({"url": "https://api.github.com/", "headers": {"Accept": "application/json"}});
    assert_eq!(eval(&p, "http.get", ok).0, Effect::Allow);
    for bad in [
        json!({"url": "https://api.github.com/", "headers": {"X-Id": "1\r\nX-Admin: yes"}}),
        json!({"url": "https://api.github.com/", "headers": {"X-Id": "1\nSet-Cookie: a"}}),
        json!({"url": "https://api.github.com/", "headers": {"X-Id\r\nEvil": "1"}}),
        json!({"url": "https://api.github.com/", "headers": {"X-Id": "a\u{0}b"}}),
    ] {
        let (e, why) = eval(&p, "http.get", bad.clone());
        assert_eq!(e, Effect::Deny, "{bad}");
        assert!(why.contains("/headers failed no control characters"), "{why}");
    }
}

#[test]
fn argument_constraints_explain_pass_and_fail() {
    let p = policy(
        r#"
[[rule]]
id = "pay"
effect = "allow"
tools = ["pay"]
[[rule.args]]
path = "/currency"
one_of = ["EUR", "USD"]
[[rule.args]]
path = "/amount"
min = 0
max = 100
[[rule.args]]
path = "/memo"
regex = "^[a-z ]{0,20}$"
[[rule.args]]
path = "/account"
glob = "acct-*"
[[rule.args]]
path = "/mode"
equals = "test"
"#,
    );
    let good = json!({"currency": "EUR", "amount": 99.5, "memo": "lunch", "account": "acct-1", "mode": "test"});
    let (e, why) = eval(&p, "pay", good.clone());
    assert_eq!(e, Effect::Allow);
    assert!(why.contains("/amount passed (in range [0, 100])"), "{why}");
    for (field, value, expect) in [
        ("currency", json!("GBP"), "/currency failed one of"),
        ("amount", json!(100.01), "/amount failed in range"),
        ("amount", json!("5"), "is not a number"),
        ("memo", json!("DROP TABLE"), "/memo failed matches regex"),
        ("account", json!("other-1"), "/account failed matches glob"),
        ("mode", json!("live"), "/mode failed equals"),
    ] {
        let mut args = good.clone();
        args[field] = value;
        let (e, why) = eval(&p, "pay", args);
        assert_eq!(e, Effect::Deny);
        assert!(why.contains(expect), "{field}: {why}");
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("mode");
    assert!(eval(&p, "pay", missing).1.contains("argument is missing"));
}

#[test]
fn annotations_only_tighten_and_untrusted_hints_are_ignored() {
    let p = policy(
        "untrusted_annotations = ['mcp.*']\n\
         [[rule]]\nid='all'\neffect='allow'\ntools=['*']\n\
         [[rule]]\nid='rm'\neffect='allow'\ntools=['fs.rm_ok']\nallow_destructive=true\n",
    );
    let destructive = ToolAnnotations {
        destructive: Some(true),
        ..Default::default()
    };
    let read_only = ToolAnnotations {
        read_only: Some(true),
        destructive: Some(false),
        ..Default::default()
    };
    let spec = |n: &str, a: &ToolAnnotations| ToolSpec::new(n, "").with_annotations(a.clone());
    let d = p.evaluate(None, &spec("fs.rm", &destructive), &json!({}));
    assert_eq!(d.effect, Effect::Ask);
    assert!(d.to_string().contains("annotated destructive"), "{d}");
    // `fs.rm_ok` matches both rules; one lacks allow_destructive, so still ask.
    assert_eq!(
        p.evaluate(None, &spec("fs.rm_ok", &destructive), &json!({})).effect,
        Effect::Ask
    );
    let only = policy("[[rule]]\nid='rm'\neffect='allow'\ntools=['fs.rm_ok']\nallow_destructive=true\n");
    assert_eq!(
        only.evaluate(None, &spec("fs.rm_ok", &destructive), &json!({})).effect,
        Effect::Allow
    );
    // An untrusted tool claiming read-only is still treated as destructive.
    let d = p.evaluate(None, &spec("mcp.files_delete", &read_only), &json!({}));
    assert_eq!(d.effect, Effect::Ask);
    assert!(d.to_string().contains("untrusted"), "{d}");
    // Annotations never loosen: a read-only hint does not beat default deny.
    let none = policy("[[rule]]\nid='x'\neffect='allow'\ntools=['other']\n");
    assert_eq!(
        none.evaluate(None, &spec("fs.list", &read_only), &json!({})).effect,
        Effect::Deny
    );
}

#[test]
fn policy_syntax_errors_name_line_and_column_and_keep_the_old_policy() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, "[[rule]]\nid = 'ok'\neffect = 'allow'\ntools = ['a']\n").unwrap();
    let store = PolicyStore::new();
    store.load_file(Layer::Project, &file).unwrap();
    let spec = ToolSpec::new("a", "");
    assert_eq!(store.evaluate(None, &spec, &json!({})).effect, Effect::Allow);

    std::fs::write(&file, "[[rule]]\nid = 'ok'\neffect = 'allow'\ntools = ['a'\n").unwrap();
    let err = store.load_file(Layer::Project, &file).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:4:", file.display())), "{err}");
    assert_eq!(
        store.evaluate(None, &spec, &json!({})).effect,
        Effect::Allow,
        "previous policy kept"
    );

    let err = store
        .load_str(
            Layer::Project,
            "p.toml",
            "[[rule]]\nid='a'\neffect='maybe'\ntools=['a']\n",
        )
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("p.toml:3:8:") && err.contains("maybe"), "{err}");
    let err = store
        .load_str(
            Layer::Project,
            "p.toml",
            "\n\n[[rule]]\nid='r'\neffect='allow'\ntools=['a']\n[[rule.args]]\npath='/x'\nregex='('\n",
        )
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("p.toml:3:1: rule `r`: args /x: bad regex"), "{err}");
    let err = store
        .load_str(
            Layer::Project,
            "p.toml",
            "[[rule]]\nid='r'\neffect='allow'\ntools=['a']\ncolour='red'\n",
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("p.toml:5:1") && err.contains("colour"), "{err}");
    let err = store
        .load_str(Layer::Project, "p.toml", "\nuntrusted_annotations = ['ok', 'bad[']\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("p.toml:2:32: untrusted_annotations: bad glob `bad[`"),
        "{err}"
    );
    assert_eq!(store.evaluate(None, &spec, &json!({})).effect, Effect::Allow);
}
