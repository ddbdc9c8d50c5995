//! What `deploy/` asks of the fleet: the alert rules (deploy/prometheus/alerts.yml), their
//! unit tests and the Grafana dashboard's queries.

use std::path::PathBuf;

use yaml_rust2::{Yaml, YamlLoader};

/// One alerting rule.
pub struct AlertRule {
    pub name: String,
    pub expr: String,
    pub summary: Option<String>,
    pub runbook_url: Option<String>,
}

/// The repository's `deploy/` directory.
pub fn deploy_dir() -> PathBuf {
    testkit::harness::repo_root().join("deploy")
}

fn read(relative: &str) -> String {
    let path = deploy_dir().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(relative: &str) -> Yaml {
    YamlLoader::load_from_str(&read(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{relative} is empty"))
}

fn text(node: &Yaml) -> Option<String> {
    node.as_str().map(str::to_owned)
}

/// Every alerting rule of `deploy/prometheus/alerts.yml`.
pub fn alert_rules() -> Vec<AlertRule> {
    let doc = yaml("prometheus/alerts.yml");
    let mut rules = Vec::new();
    for group in doc["groups"].as_vec().expect("groups") {
        for rule in group["rules"].as_vec().expect("rules") {
            let Some(name) = text(&rule["alert"]) else {
                continue; // a recording rule
            };
            rules.push(AlertRule {
                expr: text(&rule["expr"]).unwrap_or_else(|| panic!("{name} has no expr")),
                summary: text(&rule["annotations"]["summary"]),
                runbook_url: text(&rule["annotations"]["runbook_url"]),
                name,
            });
        }
    }
    rules
}

/// For each alert name in `alerts_test.yml`: whether some case expects it to fire and
/// whether some case expects it quiet.
pub fn tested_alerts() -> Vec<(String, bool, bool)> {
    let doc = yaml("prometheus/alerts_test.yml");
    let mut seen: Vec<(String, bool, bool)> = Vec::new();
    for test in doc["tests"].as_vec().expect("tests") {
        for case in test["alert_rule_test"].as_vec().into_iter().flatten() {
            let name = text(&case["alertname"]).expect("alertname");
            let fires = case["exp_alerts"].as_vec().is_some_and(|a| !a.is_empty());
            match seen.iter_mut().find(|(n, _, _)| *n == name) {
                Some(entry) => {
                    entry.1 |= fires;
                    entry.2 |= !fires;
                }
                None => seen.push((name, fires, !fires)),
            }
        }
    }
    seen
}

/// Every query of the Grafana dashboard(s) in `deploy/grafana/dashboards/`, with its
/// panel's title.
pub fn dashboard_queries() -> Vec<(String, String)> {
    let dir = deploy_dir().join("grafana/dashboards");
    let mut queries = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("dashboards directory") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let dashboard: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("readable"))
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            collect_queries(&dashboard["panels"], &mut queries);
        }
    }
    assert!(
        !queries.is_empty(),
        "no dashboard query in {}",
        dir.display()
    );
    queries
}

fn collect_queries(panels: &serde_json::Value, queries: &mut Vec<(String, String)>) {
    for panel in panels.as_array().into_iter().flatten() {
        let title = panel["title"].as_str().unwrap_or_default();
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                queries.push((title.to_owned(), expr.to_owned()));
            }
        }
        collect_queries(&panel["panels"], queries);
    }
}
