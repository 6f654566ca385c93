//! BM25 relevance over skill names and descriptions.

use std::collections::HashMap;

const K1: f64 = 1.2;
const B: f64 = 0.75;

const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "i", "in", "into", "is", "it", "me", "my",
    "of", "on", "or", "our", "please", "that", "the", "this", "to", "use", "used", "using", "we", "what", "when",
    "with", "you", "your",
];

/// An inverted index over short documents (one per skill).
#[derive(Debug, Clone, Default)]
pub(crate) struct Bm25Index {
    docs: Vec<(String, usize)>,
    postings: HashMap<String, Vec<(usize, u32)>>,
    total_len: usize,
}

impl Bm25Index {
    pub(crate) fn add(&mut self, key: &str, text: &str) {
        let id = self.docs.len();
        let terms = terms(text);
        let mut tf: HashMap<String, u32> = HashMap::new();
        for t in &terms {
            *tf.entry(t.clone()).or_default() += 1;
        }
        for (term, n) in tf {
            self.postings.entry(term).or_default().push((id, n));
        }
        self.total_len += terms.len();
        self.docs.push((key.to_string(), terms.len()));
    }

    /// The best `k` keys for `query` with their scores, best first; ties by key.
    pub(crate) fn search(&self, query: &str, k: usize) -> Vec<(&str, f64)> {
        if self.docs.is_empty() || k == 0 {
            return Vec::new();
        }
        let n = self.docs.len() as f64;
        let avg = (self.total_len as f64 / n).max(1.0);
        let mut scores = vec![0.0f64; self.docs.len()];
        let mut query_terms = terms(query);
        query_terms.sort();
        query_terms.dedup();
        for term in &query_terms {
            let Some(postings) = self.postings.get(term) else {
                continue;
            };
            let df = postings.len() as f64;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(doc, tf) in postings {
                let len = self.docs[doc].1 as f64;
                let tf = f64::from(tf);
                scores[doc] += idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg));
            }
        }
        let mut ranked: Vec<(&str, f64)> = scores
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .map(|(i, s)| (self.docs[i].0.as_str(), s))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        ranked.truncate(k);
        ranked
    }
}

/// Lowercased words without stopwords, lightly stemmed so that "issues",
/// "issue" and "creating", "create" meet.
pub(crate) fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
        .collect()
}

fn stem(word: &str) -> String {
    for suffix in ["ing", "ies", "es", "ed", "s", "e"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            if stem.chars().count() >= 3 {
                return if suffix == "ies" {
                    format!("{stem}y")
                } else {
                    stem.to_string()
                };
            }
        }
    }
    word.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_meet() {
        assert_eq!(stem("issues"), stem("issue"));
        assert_eq!(stem("creating"), stem("create"));
        assert_eq!(stem("queries"), "query");
    }

    #[test]
    fn ranks_the_matching_document_first() {
        let mut idx = Bm25Index::default();
        idx.add("pdf", "Fill in PDF forms and extract text from PDF files");
        idx.add("sql", "Write SQL queries against a warehouse");
        idx.add("git", "Create commits and pull requests");
        let r = idx.search("extract the text of a pdf", 2);
        assert_eq!(r[0].0, "pdf");
        assert_eq!(r.len(), 1, "unrelated documents score zero and are left out");
        assert!(idx.search("nothing in common", 3).is_empty());
    }
}
