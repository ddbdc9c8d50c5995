//! The metric names a PromQL expression reads, and those a Prometheus exposition offers.
//!
//! Not a PromQL parser: enough of its lexical structure for the expressions in
//! `deploy/` (strings, label matchers, range selectors, grouping clauses, functions),
//! checked by the unit tests below on the shapes those files use.

use std::collections::BTreeSet;

/// Words that are PromQL syntax, not metric names, when not followed by `(`: operators,
/// and the aggregations, which may have their grouping clause before the parenthesis
/// (`sum by (le) (...)`).
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
];
/// Clauses followed by a parenthesised label list.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The metric names `expr` selects.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => i = skip_past(&chars, i + 1, c),
            '{' => i = skip_past(&chars, i + 1, '}'),
            '[' => i = skip_past(&chars, i + 1, ']'),
            '$' => {
                // A dashboard variable such as $__rate_interval.
                i += 1;
                while i < chars.len() && is_word(chars[i]) {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len() && (is_word(chars[i]) || chars[i] == '.') {
                    i += 1;
                }
            }
            c if is_word_start(c) => {
                let start = i;
                while i < chars.len() && is_word(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut next = i;
                while next < chars.len() && chars[next].is_whitespace() {
                    next += 1;
                }
                let called = chars.get(next) == Some(&'(');
                if LABEL_LISTS.contains(&word.as_str()) {
                    if called {
                        i = skip_past(&chars, next + 1, ')');
                    }
                } else if !called && !KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) {
                    names.insert(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

/// The metric names in a Prometheus text exposition (`# HELP` and `# TYPE` lines skipped).
pub fn exposed_names(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

fn skip_past(chars: &[char], mut i: usize, end: char) -> usize {
    while i < chars.len() && chars[i] != end {
        i += 1;
    }
    i + 1
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

#[test]
fn names_are_found_past_functions_matchers_ranges_and_grouping() {
    let expr = r#"histogram_quantile(0.95, sum by (le, stream) (rate(sync_lag_seconds_bucket{stream=~"high|low"}[$__rate_interval]))) > 300"#;
    assert_eq!(
        metric_names(expr),
        BTreeSet::from(["sync_lag_seconds_bucket".to_owned()])
    );
    let ratio = "sum(rate(worker_events_total{outcome=~\"retrying|dead\"}[5m]))\n  / sum(rate(worker_events_total[5m])) > 0.05";
    assert_eq!(
        metric_names(ratio),
        BTreeSet::from(["worker_events_total".to_owned()])
    );
    let two =
        "max(salesforce_api_usage_used) / max(salesforce_api_usage_max) > 0.8 and on() vector(1)";
    assert_eq!(
        metric_names(two),
        BTreeSet::from([
            "salesforce_api_usage_max".to_owned(),
            "salesforce_api_usage_used".to_owned()
        ])
    );
    assert_eq!(
        metric_names("absent(sqs_messages_visible) or max(breaker_open) == 1e3"),
        BTreeSet::from(["breaker_open".to_owned(), "sqs_messages_visible".to_owned()])
    );
}

#[test]
fn exposition_names_are_the_series_names() {
    let text = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\nb_bucket{le=\"+Inf\"} 1\nc 0\n";
    assert_eq!(
        exposed_names(text),
        BTreeSet::from(["a_total".to_owned(), "b_bucket".to_owned(), "c".to_owned()])
    );
}
