#![allow(clippy::unwrap_used, clippy::panic)]
//! `equals` compares JSON numbers by value, whatever their representation.

use serde_json::json;
use toolplane_pipeline::{Condition, PipelineDef};

#[test]
fn equals_compares_numbers_numerically() {
    let data = json!({"steps": {"count": 3, "ratio": 0.5, "big": u64::MAX, "neg": -2, "nested": {"n": [1, 2.0]}}});
    let eq = |path: &str, value: serde_json::Value| {
        Condition::Equals {
            path: path.into(),
            value,
        }
        .holds(&data)
    };
    assert!(eq("steps.count", json!(3.0)), "3 == 3.0");
    assert!(eq("steps.count", json!(3)));
    assert!(eq("steps.ratio", json!(0.5)));
    assert!(eq("steps.neg", json!(-2.0)));
    assert!(eq("steps.big", json!(u64::MAX)), "large integers compare exactly");
    assert!(!eq("steps.big", json!(u64::MAX - 1)), "no rounding through f64");
    assert!(
        eq("steps.nested", json!({"n": [1.0, 2]})),
        "inside lists and objects too"
    );
    assert!(!eq("steps.count", json!(3.5)));
    assert!(!eq("steps.count", json!("3")), "a string is not a number");

    // The same from YAML, where `3.0` and `3` are written by people.
    let def = PipelineDef::from_yaml_str(
        "name: p\nsteps:\n  - name: s\n    when: {equals: {path: input.n, value: 3.0}}\n    transform: {input: x}\n",
    )
    .unwrap();
    let cond = def.steps[0].options.when.as_ref().unwrap();
    assert!(cond.holds(&json!({"input": {"n": 3}})));
}
