#![allow(clippy::unwrap_used, clippy::panic)]
//! The SKILL.md parser and the tool pattern matcher never panic, whatever the input.

use proptest::prelude::*;
use toolplane_skills::{Skill, tool_pattern_matches};

proptest! {
    #[test]
    fn parse_never_panics(text in "\\PC{0,400}") {
        let _ = Skill::parse("x/SKILL.md", &text, Some("x"));
    }

    #[test]
    fn front_matter_like_input_never_panics(yaml in "[a-z:\\-\\[\\]{}\"' \\n,#|>*&!]{0,200}", body in "\\PC{0,50}") {
        let text = format!("---\n{yaml}\n---\n{body}");
        if let Err(e) = Skill::parse("x/SKILL.md", &text, None) {
            // Every error names the file and, for front matter problems, a line inside the file.
            prop_assert!(e.to_string().starts_with("x/SKILL.md"));
            if let Some(line) = e.line() {
                prop_assert!(line >= 1 && line <= text.lines().count() + 1, "line {} of {}", line, text.lines().count());
            }
        }
    }

    #[test]
    fn a_name_matches_itself_and_star_matches_all(name in "[a-z._]{0,30}") {
        prop_assert!(tool_pattern_matches(&name, &name));
        prop_assert!(tool_pattern_matches("*", &name));
        let prefix: String = name.chars().take(3).collect();
        let pattern = format!("{prefix}*");
        prop_assert!(tool_pattern_matches(&pattern, &name));
    }

    #[test]
    fn patterns_never_panic(pattern in "[a-z*()]{0,20}", name in "[a-z]{0,20}") {
        let _ = tool_pattern_matches(&pattern, &name);
    }
}
