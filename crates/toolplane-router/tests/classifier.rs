//! The built-in classifier on a labelled set of 216 prompts written for this
//! test (tests/data/prompts.tsv, 36 per task type).

use toolplane_core::{ChatRequest, Message, ToolChoice, ToolSpec};
use toolplane_router::{KeywordClassifier, TaskClassifier, tasks};

fn labelled(name: &str) -> Vec<(String, String)> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("labelled prompts");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (label, prompt) = l.split_once('\t').expect("label<TAB>prompt");
            (label.to_owned(), prompt.replace("\\n", "\n"))
        })
        .collect()
}

/// Accuracy, confusion matrix and misclassified prompts, printed.
fn measure(set: &[(String, String)], name: &str) -> f64 {
    let c = KeywordClassifier::default();
    let mut confusion = [[0u32; 6]; 6];
    let idx = |s: &str| tasks::ALL.iter().position(|t| *t == s).expect("known label");
    let mut wrong = Vec::new();
    for (label, prompt) in set {
        let req = ChatRequest::new("", vec![Message::user(prompt.as_str())]);
        let got = c.classify(&req);
        confusion[idx(label)][idx(got)] += 1;
        if got != label {
            wrong.push(format!("  {label} -> {got}: {prompt}"));
        }
    }
    let right: u32 = (0..6).map(|i| confusion[i][i]).sum();
    let accuracy = f64::from(right) / set.len() as f64;
    println!(
        "classifier accuracy on {name}: {right}/{} = {:.1}%",
        set.len(),
        accuracy * 100.0
    );
    println!("confusion (rows: label, columns: predicted; order {:?}):", tasks::ALL);
    for (i, row) in confusion.iter().enumerate() {
        println!("  {:<14} {:?}", tasks::ALL[i], row);
    }
    println!("misclassified:\n{}", wrong.join("\n"));
    accuracy
}

#[test]
fn accuracy_on_the_labelled_set() {
    let set = labelled("prompts.tsv");
    assert!(set.len() >= 200, "at least 200 prompts, got {}", set.len());
    let accuracy = measure(&set, "prompts.tsv");
    // Measured 96.8% (209/216, see docs/router.md). The keyword table was
    // tuned on this set, so this is training accuracy; the held-out test
    // below is the honest figure. The floor sits well under it.
    assert!(accuracy >= 0.85, "accuracy fell to {accuracy:.3}");
}

#[test]
fn accuracy_on_the_held_out_set() {
    // Written before the keyword table was tuned on prompts.tsv, never tuned on.
    let set = labelled("heldout.tsv");
    assert_eq!(set.len(), 60);
    let accuracy = measure(&set, "heldout.tsv");
    // Measured 93.3% (56/60); the floor sits well under it.
    assert!(accuracy >= 0.75, "held-out accuracy fell to {accuracy:.3}");
}

#[test]
fn tools_in_the_request_mean_tool_use_unless_forbidden() {
    let c = KeywordClassifier::default();
    let req = ChatRequest::new("", vec![Message::user("Summarize this article")])
        .with_tools(vec![ToolSpec::new("search", "Search the web.")]);
    assert_eq!(c.classify(&req), tasks::TOOL_USE);
    let req = req.with_tool_choice(ToolChoice::None);
    assert_eq!(c.classify(&req), tasks::SUMMARIZATION);
    let empty = ChatRequest::new("", vec![]);
    assert_eq!(c.classify(&empty), tasks::CHAT);
}

#[test]
fn never_panics_on_odd_text() {
    let c = KeywordClassifier::default();
    let long = "é".repeat(5000);
    for s in [
        "",
        "```",
        "{{{{;;;;",
        "1+1=",
        long.as_str(),
        "\u{0}\u{ffff}",
        "-- -- --",
    ] {
        let label = c.classify_text(s);
        assert!(tasks::ALL.contains(&label));
    }
}
