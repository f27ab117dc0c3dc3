//! Completion-index interval strings (`"1,3-5,7"`), as `status.completedIndexes` and
//! `status.failedIndexes` write them.

use super::*;

// ---------------------------------------------------------------------------------------------
// Interval strings ("1,3-5,7")

/// Parses `status.completedIndexes` / `failedIndexes`; malformed parts are skipped.
pub fn parse_indexes(s: Option<&str>) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    for part in s.unwrap_or_default().split(',').map(str::trim) {
        if part.is_empty() {
            continue;
        }
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
                    out.extend(a..=b);
                }
            }
            None => {
                if let Ok(i) = part.parse() {
                    out.insert(i);
                }
            }
        }
    }
    out
}

/// Formats a set of indexes as the API writes it (`orderedIntervals.String()`): ascending, a run
/// of three or more as `a-b`, a run of two as `a,b` (`"0-9"`, `"1,3-5,7"`).
pub fn format_indexes(set: &BTreeSet<i32>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = set.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else if end == start + 1 {
            format!("{start},{end}")
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(",")
}
