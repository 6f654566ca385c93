#![allow(clippy::unwrap_used, clippy::panic)]
//! Error texts: an unknown skill names itself, not an empty path; a SKILL.md
//! that is not UTF-8 is a parse error naming the file, not a retryable I/O error.

use std::sync::Arc;

use toolplane_skills::{SkillErrorKind, SkillSession, SkillSet};

fn one_skill() -> SkillSet {
    let dir = tempfile::tempdir().unwrap();
    let skill = dir.path().join("notes");
    std::fs::create_dir_all(&skill).unwrap();
    std::fs::write(
        skill.join("SKILL.md"),
        "---\nname: notes\ndescription: Takes notes.\n---\nbody",
    )
    .unwrap();
    SkillSet::load_dir(dir.path()).unwrap().skills
}

#[test]
fn an_unknown_skill_error_reads_as_a_sentence() {
    let session = SkillSession::new(Arc::new(one_skill()));
    for err in [
        session.activate("nope").unwrap_err(),
        session.read_resource("nope", "a.md").unwrap_err(),
    ] {
        assert_eq!(err.kind(), SkillErrorKind::UnknownSkill);
        let text = err.to_string();
        assert!(!text.starts_with(':'), "{text:?}");
        assert!(text.starts_with("no skill is named `nope`"), "{text:?}");
        assert!(text.contains("notes"), "the known skills are listed: {text:?}");
    }
}

#[test]
fn a_skill_md_that_is_not_utf8_is_a_parse_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    std::fs::create_dir_all(&good).unwrap();
    std::fs::write(good.join("SKILL.md"), "---\nname: good\ndescription: Fine.\n---\n").unwrap();
    let bad = dir.path().join("latin1");
    std::fs::create_dir_all(&bad).unwrap();
    // "café" in Latin-1 on line 3: 0xE9 is not valid UTF-8.
    std::fs::write(
        bad.join("SKILL.md"),
        b"---\nname: latin1\ndescription: Caf\xe9 menus.\n---\n",
    )
    .unwrap();

    let report = SkillSet::load_dir(dir.path()).unwrap();
    assert_eq!(report.skills.len(), 1, "the good skill still loads");
    assert_eq!(report.errors.len(), 1);
    let err = &report.errors[0];
    assert_eq!(err.kind(), SkillErrorKind::InvalidEncoding);
    assert!(!err.is_retryable());
    assert!(err.path().ends_with("latin1/SKILL.md"));
    assert_eq!(err.line(), Some(3));
    let text = err.to_string();
    assert!(text.contains("latin1/SKILL.md:3"), "{text}");
    assert!(text.contains("not valid UTF-8"), "{text}");
}
