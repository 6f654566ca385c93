//! Task classification for requests that do not name their task type.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};
use toolplane_core::{ChatRequest, ContentPart, Role, ToolChoice};

use crate::keywords::{CHAT, CODE, KEYWORDS, MATH, SUMM};

/// The task types the built-in classifier knows.
pub mod tasks {
    /// Writing, fixing or explaining code.
    pub const CODE: &str = "code";
    /// Arithmetic, maths and multi-step reasoning.
    pub const MATH: &str = "math";
    /// Shortening a text.
    pub const SUMMARIZATION: &str = "summarization";
    /// Pulling fields, entities or structure out of a text.
    pub const EXTRACTION: &str = "extraction";
    /// Conversation, advice, open questions, writing.
    pub const CHAT: &str = "chat";
    /// Acting in the world through tools (search, calendar, email, APIs).
    pub const TOOL_USE: &str = "tool_use";
    /// All of them, in the classifier's order.
    pub const ALL: [&str; 6] = [CODE, MATH, SUMMARIZATION, EXTRACTION, CHAT, TOOL_USE];
}

/// Where the task type came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskSource {
    /// The request's `metadata.task_type`.
    Metadata,
    /// The call context's `task_type`.
    Context,
    /// The classifier.
    Classifier,
    /// Given by the caller of [`Router::explain_for`](crate::Router::explain_for).
    Given,
}

/// Decides a request's task type when the caller did not say.
///
/// Called on the hot path: keep it fast and allocation-light.
pub trait TaskClassifier: Send + Sync + fmt::Debug {
    /// The task type of `request`.
    fn classify<'a>(&'a self, request: &ChatRequest) -> &'a str;

    /// Every task type this classifier may answer, so the router can keep
    /// state for each (read once, when the router is built).
    fn labels(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A fast keyword and feature classifier for [`tasks::ALL`].
///
/// It reads the last user message (its first 2,000 bytes), looks words and
/// two-word phrases up in one hash map, and adds features: code fences and
/// code punctuation point to `code`, digits with operators to `math`, a long
/// text to `summarization`. A request with tools (and a tool choice other
/// than `none`) is `tool_use`. No strong signal means `chat`.
///
/// Measured accuracy on the crate's labelled set: see `docs/router.md`.
///
/// ```
/// use toolplane_core::{ChatRequest, Message};
/// use toolplane_router::{KeywordClassifier, TaskClassifier};
/// let c = KeywordClassifier::default();
/// let ask = |s: &str| ChatRequest::new("", vec![Message::user(s)]);
/// assert_eq!(c.classify(&ask("Why does this Rust function not compile?")), "code");
/// assert_eq!(c.classify(&ask("Summarize this article in three bullet points: ...")), "summarization");
/// assert_eq!(c.classify(&ask("hey, how are you today?")), "chat");
/// ```
#[derive(Debug, Clone)]
pub struct KeywordClassifier {
    table: HashMap<&'static str, Vec<(usize, f32)>, BuildHasherDefault<FxHasher>>,
    max_bytes: usize,
}

/// The Fx hash (rustc's): a few cycles a word; keys here are fixed and trusted.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for KeywordClassifier {
    fn default() -> Self {
        let mut table: HashMap<&'static str, Vec<(usize, f32)>, BuildHasherDefault<FxHasher>> = HashMap::default();
        for &(k, c, w) in KEYWORDS {
            table.entry(k).or_default().push((c, w));
        }
        Self { table, max_bytes: 2000 }
    }
}

impl KeywordClassifier {
    /// Scores per class (code, math, summarization, extraction, chat, tool use) for a text.
    pub fn scores(&self, text: &str) -> [f32; 6] {
        let mut s = [0f32; 6];
        let mut end = text.len().min(self.max_bytes);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = &text[..end];
        let lower = text.to_lowercase();
        if lower.contains("```") {
            s[CODE] += 4.0;
        }
        let (mut code_punct, mut math_ops, mut digits) = (0u32, 0u32, 0u32);
        let bytes = lower.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'{' | b'}' | b';' | b'_' => code_punct += 1,
                b'(' if bytes.get(i + 1) == Some(&b')') => code_punct += 2,
                b'0'..=b'9' => digits += 1,
                b'+' | b'*' | b'/' | b'^' | b'=' | b'%' => math_ops += 1,
                _ => {}
            }
        }
        s[CODE] += 0.6 * code_punct.min(10) as f32;
        if digits > 0 {
            s[MATH] += 0.8 * math_ops.min(6) as f32 + 0.15 * digits.min(12) as f32;
        }
        if text.len() > 1200 {
            s[SUMM] += 1.5;
        }
        let mut numbers = 0u32;
        let mut prev: &str = "";
        let mut pair = String::with_capacity(32);
        for word in lower.split(|c: char| !(c.is_alphanumeric() || matches!(c, '+' | ';' | '-'))) {
            let word = word.trim_matches('-');
            if word.is_empty() {
                continue;
            }
            if word.bytes().all(|b| b.is_ascii_digit()) {
                numbers += 1;
            }
            if let Some(hits) = self.table.get(word) {
                for &(c, w) in hits {
                    s[c] += w;
                }
            }
            if !prev.is_empty() {
                pair.clear();
                pair.push_str(prev);
                pair.push(' ');
                pair.push_str(word);
                if let Some(hits) = self.table.get(pair.as_str()) {
                    for &(c, w) in hits {
                        s[c] += w;
                    }
                }
            }
            prev = word;
        }
        s[MATH] += 0.5 * numbers.min(4) as f32;
        s
    }

    /// The class for a text alone (no request features).
    pub fn classify_text(&self, text: &str) -> &'static str {
        let s = self.scores(text);
        let mut best = CHAT;
        let mut best_score = 1.0f32;
        for (c, &v) in s.iter().enumerate() {
            if v > best_score {
                best = c;
                best_score = v;
            }
        }
        tasks::ALL[best]
    }
}

impl TaskClassifier for KeywordClassifier {
    fn classify<'a>(&'a self, request: &ChatRequest) -> &'a str {
        if !request.tools.is_empty() && request.tool_choice != Some(ToolChoice::None) {
            return tasks::TOOL_USE;
        }
        let last_user = request.messages.iter().rev().find(|m| m.role == Role::User);
        let Some(m) = last_user else { return tasks::CHAT };
        let text = m.content.iter().find_map(|p| match p {
            ContentPart::Text { text } => Some(text.as_str()),
            _ => None,
        });
        text.map_or(tasks::CHAT, |t| self.classify_text(t))
    }

    fn labels(&self) -> Vec<String> {
        tasks::ALL.iter().map(|s| (*s).to_owned()).collect()
    }
}
