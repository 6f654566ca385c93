//! "Did you mean …?": the candidate nearest to a misspelled name.

/// The candidate closest to `target` by edit distance (ignoring case; a swap
/// of neighbours counts one edit), if it
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
        let d = edit_distance(&t, &c, &mut row);
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

/// Optimal-string-alignment distance: insertions, deletions, substitutions
/// and swaps of two neighbours (the commonest typo, `titel`) each count one.
fn edit_distance(a: &[char], b: &[char], buf: &mut Vec<usize>) -> usize {
    let w = b.len() + 1;
    buf.clear();
    buf.resize((a.len() + 1) * w, 0);
    for (j, cell) in buf.iter_mut().take(w).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        buf[i * w] = i;
        for j in 1..w {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (buf[(i - 1) * w + j] + 1)
                .min(buf[i * w + j - 1] + 1)
                .min(buf[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(buf[(i - 2) * w + j - 2] + 1);
            }
            buf[i * w + j] = d;
        }
    }
    buf[a.len() * w + b.len()]
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
    fn distance_counts_edits_and_swaps() {
        let mut buf = Vec::new();
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(edit_distance(&chars("kitten"), &chars("sitting"), &mut buf), 3);
        assert_eq!(edit_distance(&chars("sitting"), &chars("kitten"), &mut buf), 3);
        assert_eq!(edit_distance(&chars("titel"), &chars("title"), &mut buf), 1);
        assert_eq!(edit_distance(&chars(""), &chars("abc"), &mut buf), 3);
        assert_eq!(nearest("titel", ["title", "labels"]), Some("title"));
    }
}
