//! A compiled policy and its evaluation.

use std::cell::RefCell;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde_json::Value;
use toolplane_core::{Principal, ToolSpec};

use super::constraint::HostCache;
use super::load::{LayerRules, PolicyError, parse_layer};
use super::{Effect, Explanation, Layer, PermissionDecision, Rule, RuleRef};

/// An immutable, compiled set of rules from up to three layers.
///
/// ```
/// use serde_json::json;
/// use toolplane_core::{Principal, ToolSpec};
/// use toolplane_security::policy::{Effect, Layer, Policy};
/// let policy = Policy::from_layers(&[(Layer::Project, "p.toml", r#"
///     [[rule]]
///     id = "weather"
///     effect = "allow"
///     tools = ["weather.*"]
/// "#)]).unwrap();
/// let who = Principal::new("alice");
/// let d = policy.evaluate(Some(&who), &ToolSpec::new("weather.now", ""), &json!({}));
/// assert_eq!(d.effect, Effect::Allow);
/// let d = policy.evaluate(Some(&who), &ToolSpec::new("shell.exec", ""), &json!({}));
/// assert_eq!(d.to_string(), "deny: no rule matched: default deny");
/// ```
#[derive(Debug, Clone)]
pub struct Policy {
    rules: Vec<Rule>,
    tools: GlobSet,
    glob_rule: Vec<usize>,
    untrusted: GlobSet,
}

thread_local! {
    static SCRATCH: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

impl Policy {
    /// A policy with no rules: everything is denied.
    pub fn deny_all() -> Self {
        Self {
            rules: Vec::new(),
            tools: GlobSet::empty(),
            glob_rule: Vec::new(),
            untrusted: GlobSet::empty(),
        }
    }

    /// Compiles layers given as `(layer, origin, toml text)`.
    pub fn from_layers(layers: &[(Layer, &str, &str)]) -> Result<Self, PolicyError> {
        let mut parsed = Vec::new();
        for (layer, origin, text) in layers {
            parsed.push(parse_layer(text, origin, *layer)?);
        }
        Self::compile(parsed)
    }

    pub(crate) fn compile(layers: Vec<LayerRules>) -> Result<Self, PolicyError> {
        let mut rules = Vec::new();
        let mut untrusted = Vec::new();
        for l in layers {
            rules.extend(l.rules);
            untrusted.extend(l.untrusted);
        }
        let mut b = GlobSetBuilder::new();
        let mut glob_rule = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            for t in &r.tools {
                let g = GlobBuilder::new(t)
                    .literal_separator(false)
                    .build()
                    .map_err(|e| rule_err(r, format!("bad tool glob `{t}`: {e}")))?;
                b.add(g);
                glob_rule.push(i);
            }
        }
        let tools = b.build().map_err(|e| PolicyError::Syntax {
            origin: "policy".into(),
            line: 1,
            column: 1,
            message: e.to_string(),
        })?;
        let mut ub = GlobSetBuilder::new();
        for g in &untrusted {
            if let Ok(g) = GlobBuilder::new(g).literal_separator(false).build() {
                ub.add(g);
            }
        }
        let untrusted = ub.build().unwrap_or_else(|_| GlobSet::empty());
        Ok(Self {
            rules,
            tools,
            glob_rule,
            untrusted,
        })
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True without rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Decides on one call. Deny beats ask beats allow; nothing matching is a
    /// deny. A destructive tool (by its annotations, or any tool whose
    /// annotations come from an untrusted source) is raised from allow to ask
    /// unless every allowing rule says `allow_destructive`.
    pub fn evaluate(&self, principal: Option<&Principal>, spec: &ToolSpec, args: &Value) -> PermissionDecision {
        let mut matched: Vec<&Rule> = Vec::new();
        let mut arguments = Vec::new();
        let mut cache = HostCache::default();
        SCRATCH.with(|s| {
            let mut cand = s.borrow_mut();
            cand.clear();
            self.tools.matches_into(spec.name.as_str(), &mut cand);
            for gi in cand.iter_mut() {
                *gi = self.glob_rule[*gi];
            }
            cand.sort_unstable();
            cand.dedup();
            for &ri in cand.iter() {
                let r = &self.rules[ri];
                if !principal_matches(r, principal) {
                    continue;
                }
                let all = r.effect == Effect::Allow;
                let mut ok = true;
                for c in &r.constraints {
                    let out = c.eval(args, all, &mut cache);
                    ok &= out.passed;
                    arguments.push((r.id.clone(), out));
                    if !ok {
                        break;
                    }
                }
                if ok {
                    matched.push(r);
                }
            }
        });
        let effect = matched.iter().map(|r| r.effect).max();
        let mut explanation = Explanation {
            default_deny: effect.is_none(),
            ..Explanation::default()
        };
        matched.sort_by(|a, b| b.effect.cmp(&a.effect).then(a.layer.cmp(&b.layer)));
        explanation.matched = matched
            .iter()
            .map(|r| RuleRef {
                id: r.id.clone(),
                layer: r.layer,
                effect: r.effect,
                line: r.line,
            })
            .collect();
        explanation.arguments = arguments;
        let mut effect = effect.unwrap_or(Effect::Deny);
        if effect == Effect::Allow {
            let untrusted = self.untrusted.is_match(spec.name.as_str());
            let destructive = untrusted || spec.annotations.is_destructive();
            let waived = matched.iter().all(|r| r.allow_destructive);
            if destructive && !waived {
                effect = Effect::Ask;
                explanation.tightened = Some(if untrusted {
                    "annotations of this tool are untrusted, so it is treated as destructive: ask".into()
                } else {
                    "the tool is annotated destructive: ask".into()
                });
            }
        }
        PermissionDecision { effect, explanation }
    }
}

fn principal_matches(r: &Rule, p: Option<&Principal>) -> bool {
    if r.principals.is_empty() && r.roles.is_empty() {
        return true;
    }
    let Some(p) = p else { return false };
    r.principals.contains(&p.id) || r.roles.iter().any(|x| p.has_role(x))
}

fn rule_err(r: &Rule, message: String) -> PolicyError {
    PolicyError::Rule {
        origin: r.layer.to_string(),
        line: r.line,
        column: 1,
        rule: r.id.clone(),
        message,
    }
}
