//! "Did you mean …?": the candidate nearest to a misspelled name.

/// The candidate closest to `target` by edit distance (ignoring case), if it
/// is close enough to be a likely typo: at most one edit per three characters,
/// and at least one. Ties go to the first candidate in sorted order.
pub(crate) fn nearest<'a>(target: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let t: Vec<char> = target.chars().flat_map(char::to_lowercase).collect();
    let limit = (t.len() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    let mut row = Vec::new();
    for cand in candidates {
        let c: Vec<char> = cand.chars().flat_map(char::to_lowercase).collect();
        if c.len().abs_diff(t.len()) > limit {
            continue;
        }
        let d = levenshtein(&t, &c, &mut row);
        if d > limit {
            continue;
        }
        let better = match best {
            None => true,
            Some((bd, bn)) => d < bd || (d == bd && cand < bn),
        };
        if better {
            best = Some((d, cand));
        }
    }
    best.map(|(_, n)| n)
}

fn levenshtein(a: &[char], b: &[char], row: &mut Vec<usize>) -> usize {
    row.clear();
    row.extend(0..=b.len());
    for (i, ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == cb {
                diag
            } else {
                1 + diag.min(above).min(row[j])
            };
            diag = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_close_names_only() {
        let names = ["city", "country", "days"];
        assert_eq!(nearest("ciy", names), Some("city"));
        assert_eq!(nearest("CITY", names), Some("city"));
        assert_eq!(nearest("dayz", names), Some("days"));
        assert_eq!(nearest("zzzzzz", names), None);
        assert_eq!(nearest("", names), None);
    }

    #[test]
    fn distance_is_symmetric_edit_count() {
        let mut row = Vec::new();
        let k: Vec<char> = "kitten".chars().collect();
        let s: Vec<char> = "sitting".chars().collect();
        assert_eq!(levenshtein(&k, &s, &mut row), 3);
        assert_eq!(levenshtein(&s, &k, &mut row), 3);
    }
}
