//! Arbitrary input never panics: policy arguments, URLs, paths, redaction,
//! policy text and damaged audit segments.

#![allow(clippy::unwrap_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::json;
use toolplane_core::{Principal, ToolSpec};
use toolplane_security::audit::{FileSink, FileSinkOptions, verify_dir};
use toolplane_security::policy::{Layer, Policy, PolicyStore, canonical_url_host, confine_path};
use toolplane_security::redact::{redact_text, redact_value};

const POLICY: &str = r#"
[[rule]]
id = "all"
effect = "allow"
tools = ["*"]
[[rule.args]]
path = "/a/*"
url_hosts = ["api.github.com"]
[[rule.args]]
path = "/p"
path_under = "/srv"
optional = true
[[rule.args]]
path = "/n"
min = 0
max = 10
optional = true
"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn strings_never_panic(s in "\\PC{0,64}", raw in proptest::collection::vec(any::<u8>(), 0..64)) {
        let lossy = String::from_utf8_lossy(&raw).into_owned();
        for t in [&s, &lossy] {
            let _ = canonical_url_host(t);
            let _ = confine_path("/srv/data", t);
            let r = redact_text(t);
            prop_assert!(r.len() <= t.len() + 64 * 12);
            let _ = redact_value(&json!({ t.as_str(): t, "token": t }));
        }
    }

    #[test]
    fn policy_evaluation_never_panics(s in "\\PC{0,32}", n in any::<f64>(), name in "[a-z.*]{0,12}") {
        let p = Policy::from_layers(&[(Layer::User, "p.toml", POLICY)]).unwrap();
        let args = json!({"a": [s.clone(), {"x": s.clone()}], "p": s.clone(), "n": n});
        let d = p.evaluate(Some(&Principal::new(s.clone())), &ToolSpec::new(name, ""), &args);
        prop_assert!(!d.to_string().is_empty());
    }

    #[test]
    fn policy_text_never_panics(text in "\\PC{0,200}") {
        let store = PolicyStore::new();
        let _ = store.load_str(Layer::Project, "x.toml", &text);
        let _ = store.load_str(Layer::Project, "x.toml", &format!("[[rule]]\nid='a'\neffect='allow'\ntools=['{text}']\n"));
    }

    #[test]
    fn damaged_segments_never_panic_the_verifier(bytes in proptest::collection::vec(any::<u8>(), 0..512), cut in 0usize..512) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("seg-00000000.tpa"), &bytes).unwrap();
        let _ = verify_dir(dir.path());
        let mut framed = (bytes.len() as u32).to_le_bytes().to_vec();
        framed.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
        framed.extend_from_slice(&bytes);
        framed.truncate(cut.max(1));
        std::fs::write(dir.path().join("seg-00000001.tpa"), &framed).unwrap();
        let _ = verify_dir(dir.path());
        // Opening recovers or refuses with an error, never panics.
        if let Ok(sink) = FileSink::open(dir.path(), FileSinkOptions::default()) {
            sink.close();
        }
    }
}
