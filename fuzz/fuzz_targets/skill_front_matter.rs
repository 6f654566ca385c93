//! SKILL.md files (YAML front matter and markdown) on arbitrary text: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolplane_skills::Skill;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Skill::parse("fuzz/SKILL.md", text, Some("fuzz"));
});
