//! The alert rules: valid for Prometheus, unit-tested both ways, each linked to its
//! runbook entry in docs/operations.md.

use std::process::Command;

use super::deploy::{alert_rules, deploy_dir, tested_alerts};

/// Runs `promtool ARGS` in deploy/prometheus and fails with its output if it fails.
fn promtool(args: &[&str]) {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(deploy_dir().join("prometheus"))
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run promtool ({e}): scripts/setup-test-deps.sh installs it (Debian package prometheus)")
        });
    assert!(
        output.status.success(),
        "promtool {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_rules_and_the_scrape_configuration_pass_promtool() {
    promtool(&["check", "rules", "alerts.yml"]);
    promtool(&["check", "config", "prometheus.yml"]);
    promtool(&["test", "rules", "alerts_test.yml"]);
}

#[test]
fn every_alert_is_tested_firing_and_quiet() {
    let tested = tested_alerts();
    for rule in alert_rules() {
        let case = tested.iter().find(|(name, _, _)| *name == rule.name);
        assert!(
            matches!(case, Some((_, true, true))),
            "{}: alerts_test.yml needs a case where it fires and one where it stays quiet",
            rule.name
        );
    }
}

#[test]
fn every_alert_has_a_summary_and_a_runbook_entry() {
    let operations =
        std::fs::read_to_string(testkit::harness::repo_root().join("docs/operations.md"))
            .expect("docs/operations.md");
    let rules = alert_rules();
    assert!(rules.len() >= 10, "expected the seed's alerts and more");
    for rule in rules {
        assert!(
            rule.summary.is_some_and(|s| !s.is_empty()),
            "{} has no summary",
            rule.name
        );
        let anchor = rule.name.to_ascii_lowercase();
        assert_eq!(
            rule.runbook_url.as_deref(),
            Some(format!("docs/operations.md#{anchor}").as_str()),
            "{}: runbook_url",
            rule.name
        );
        // GitHub's anchor of a heading "### Name" is the lower-cased name.
        assert!(
            operations
                .lines()
                .any(|line| line.trim() == format!("### {}", rule.name)),
            "docs/operations.md has no entry \"### {}\"",
            rule.name
        );
    }
}
