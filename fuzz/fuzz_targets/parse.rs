//! `metrics::parse` on arbitrary bytes: it never panics, what it returns is well-formed, and
//! every series it read writes back to a line that reads as the same series.

#![no_main]

use fleetctl::metrics::parse::{Points, UNREADABLE_EXAMPLES, parse, parse_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = parse_bytes(data);
    let lines = data.split(|&b| b == b'\n').count();
    assert!(s.unreadable_lines <= lines);
    assert!(s.unreadable.len() <= s.unreadable_lines.min(UNREADABLE_EXAMPLES));
    assert_eq!(s.bytes, data.len());

    for f in &s.families {
        assert!(
            f.series_labels().next().is_some(),
            "family {} is empty",
            f.name
        );
        for labels in f.series_labels() {
            let pairs: Vec<(&str, &str)> = labels.iter().collect();
            // Sorted, unique, no empty value.
            assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0), "{pairs:?}");
            assert!(pairs.iter().all(|(_, v)| !v.is_empty()), "{pairs:?}");
        }
        if let Points::Histogram(hs) = &f.points {
            for h in hs {
                assert!(h.buckets.windows(2).all(|w| w[0].le < w[1].le));
                assert!(h.buckets.iter().all(|b| !b.le.is_nan()));
            }
        }
        // Each series, written as one line, reads back as itself.
        for sample in f.samples().iter().take(64) {
            let line = format!("{}{} 1\n", f.name, sample.labels);
            let back = parse(&line);
            assert_eq!(back.unreadable_lines, 0, "{line:?}");
            assert_eq!(
                back.families[0].samples()[0].labels,
                sample.labels,
                "{line:?}"
            );
        }
    }
    // The whole scrape writes out and reads again without panicking.
    let _ = parse(&s.to_text());
});
