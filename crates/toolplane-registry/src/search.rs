//! BM25 keyword search over tool names and descriptions.
//!
//! Name words count twice (a query word in the name says more than one in the
//! description). Words are split at non-alphanumerics and camelCase humps,
//! lowercased, and lightly stemmed (`issues` → `issue`, `queries` → `query`).

use std::collections::HashMap;

const K1: f32 = 1.2;
const B: f32 = 0.75;
const NAME_WEIGHT: f32 = 2.0;
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on", "or", "the", "this",
    "to", "with",
];

/// An inverted index over documents identified by a slot number.
#[derive(Debug, Default, Clone)]
pub(crate) struct SearchIndex {
    postings: HashMap<String, Vec<(u32, f32)>>,
    doc_len: Vec<f32>,
    doc_terms: Vec<Vec<String>>,
    total_len: f64,
    live: usize,
}

impl SearchIndex {
    /// Indexes a document at `slot` (replacing what was there).
    pub(crate) fn insert(&mut self, slot: usize, name: &str, description: &str) {
        self.remove(slot);
        let mut tf: HashMap<String, f32> = HashMap::new();
        for t in tokenize(name) {
            *tf.entry(t).or_default() += NAME_WEIGHT;
        }
        for t in tokenize(description) {
            *tf.entry(t).or_default() += 1.0;
        }
        let len: f32 = tf.values().sum();
        if self.doc_len.len() <= slot {
            self.doc_len.resize(slot + 1, 0.0);
            self.doc_terms.resize(slot + 1, Vec::new());
        }
        let id = u32::try_from(slot).unwrap_or(u32::MAX);
        let mut terms = Vec::with_capacity(tf.len());
        for (term, weight) in tf {
            self.postings.entry(term.clone()).or_default().push((id, weight));
            terms.push(term);
        }
        self.doc_len[slot] = len.max(1.0);
        self.doc_terms[slot] = terms;
        self.total_len += f64::from(len.max(1.0));
        self.live += 1;
    }

    /// Removes the document at `slot`, if any.
    pub(crate) fn remove(&mut self, slot: usize) {
        let Some(terms) = self.doc_terms.get_mut(slot) else {
            return;
        };
        if terms.is_empty() && self.doc_len[slot] == 0.0 {
            return;
        }
        let id = u32::try_from(slot).unwrap_or(u32::MAX);
        for term in std::mem::take(terms) {
            if let Some(list) = self.postings.get_mut(&term) {
                list.retain(|(d, _)| *d != id);
                if list.is_empty() {
                    self.postings.remove(&term);
                }
            }
        }
        self.total_len -= f64::from(self.doc_len[slot]);
        self.doc_len[slot] = 0.0;
        self.live = self.live.saturating_sub(1);
    }

    /// The best `k` slots for `query` (score descending, then slot ascending),
    /// keeping only slots for which `accept` holds.
    pub(crate) fn search(&self, query: &str, k: usize, accept: impl Fn(usize) -> bool) -> Vec<(usize, f32)> {
        if k == 0 || self.live == 0 {
            return Vec::new();
        }
        let mut terms = tokenize(query);
        terms.sort_unstable();
        terms.dedup();
        let n = self.live as f32;
        let avg = (self.total_len / self.live as f64) as f32;
        let mut scores = vec![0.0f32; self.doc_len.len()];
        let mut touched: Vec<u32> = Vec::new();
        for term in &terms {
            let Some(list) = self.postings.get(term) else {
                continue;
            };
            let df = list.len() as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for &(doc, tf) in list {
                let d = doc as usize;
                let norm = K1 * (1.0 - B + B * self.doc_len[d] / avg);
                if scores[d] == 0.0 {
                    touched.push(doc);
                }
                scores[d] += idf * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        let mut hits: Vec<(usize, f32)> = touched
            .into_iter()
            .map(|d| (d as usize, scores[d as usize]))
            .filter(|&(d, s)| s > 0.0 && accept(d))
            .collect();
        let by_score = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if hits.len() > k {
            hits.select_nth_unstable_by(k - 1, by_score);
            hits.truncate(k);
        }
        hits.sort_unstable_by(by_score);
        hits
    }
}

/// Splits text into lowercase, lightly stemmed words.
pub(crate) fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            if ch.is_uppercase() && prev_lower {
                push_word(&mut out, &mut word);
            }
            prev_lower = ch.is_lowercase() || ch.is_numeric();
            word.extend(ch.to_lowercase());
        } else {
            prev_lower = false;
            push_word(&mut out, &mut word);
        }
    }
    push_word(&mut out, &mut word);
    out
}

fn push_word(out: &mut Vec<String>, word: &mut String) {
    if word.is_empty() {
        return;
    }
    let w = std::mem::take(word);
    if STOP_WORDS.contains(&w.as_str()) {
        return;
    }
    out.push(stem(w));
}

fn stem(w: String) -> String {
    if w.len() > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        return w[..w.len() - 1].to_string();
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_splits_and_stems() {
        assert_eq!(tokenize("github.issuesCreate"), ["github", "issue", "create"]);
        assert_eq!(tokenize("List the queries of a user"), ["list", "query", "user"]);
        assert_eq!(tokenize("status"), ["status"]);
    }

    #[test]
    fn name_matches_rank_first_and_removal_forgets() {
        let mut idx = SearchIndex::default();
        idx.insert(0, "github.issues_create", "Opens a new issue in a repository.");
        idx.insert(1, "github.pulls_list", "Lists pull requests; each may close an issue.");
        idx.insert(2, "weather.now", "Current weather for a city.");
        let hits = idx.search("create issue", 10, |_| true);
        assert_eq!(hits[0].0, 0);
        assert_eq!(hits.len(), 2);
        idx.remove(0);
        let hits = idx.search("create issue", 10, |_| true);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [1]);
        assert!(idx.search("", 10, |_| true).is_empty());
        assert!(idx.search("weather", 10, |d| d != 2).is_empty());
    }
}
