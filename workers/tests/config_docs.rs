//! The README's configuration table and `.env.example` say what the code reads. The code's
//! side comes from the binaries' clap commands (`ingress`, and `workers` with every
//! subcommand): each argument's `env` and default. The test fails when either document
//! lists a variable no command knows, misses one a command knows, states a different
//! default, or (README) names the wrong binary in "used by".
//!
//! Left out on purpose, by prefix:
//! - `AWS_*`: the AWS SDK reads its own variables (region, endpoint, credential chain); the
//!   README has one row pointing at them, and nothing of ours parses them.
//! - `SFSIM_*`: the simulator is a product of its own, with its flags and variables in
//!   docs/sfsim.md and `sfsim --help`; the fleet's documents only mention where it listens.

use std::collections::{BTreeMap, BTreeSet};

use clap::{Command, CommandFactory};

/// Variables that are not the fleet's own settings (see the module doc).
/// `SECRETS_*` are read by `common::secrets` before the clap configuration, so no binary
/// declares them; the README documents them by hand.
const NOT_OURS: &[&str] = &["AWS_", "SFSIM_", "STRIPESIM_", "SECRETS_"];

/// A default as the code or a document states it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Default {
    /// No default written as a value: required, unset, or computed at start (such as
    /// `WORKER_ID`'s host name and pid); documents describe these in words.
    Described,
    /// This exact value.
    Value(String),
}

/// What the code knows about one variable.
#[derive(Debug)]
struct Known {
    default: Default,
    binaries: BTreeSet<&'static str>,
    /// The flag that sets it, if not `--` + the variable in kebab case.
    odd_flag: Option<String>,
}

fn is_ours(name: &str) -> bool {
    !NOT_OURS.iter().any(|prefix| name.starts_with(prefix))
}

fn is_variable(text: &str) -> bool {
    text.len() > 2
        && text.starts_with(|c: char| c.is_ascii_uppercase())
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Every variable `command` and its subcommands read, with its default.
fn collect(binary: &'static str, command: &Command, known: &mut BTreeMap<String, Known>) {
    for arg in command.get_arguments() {
        let Some(name) = arg.get_env().and_then(|n| n.to_str()) else {
            continue;
        };
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let default = if defaults.is_empty() || arg.is_hide_default_value_set() {
            Default::Described
        } else {
            Default::Value(defaults.join(","))
        };
        let flag = name.to_lowercase().replace('_', "-");
        let entry = known.entry(name.to_owned()).or_insert_with(|| Known {
            default: default.clone(),
            binaries: BTreeSet::new(),
            odd_flag: None,
        });
        if arg.get_long() != Some(flag.as_str()) {
            entry.odd_flag = Some(format!("{binary}: {:?}", arg.get_long()));
        }
        assert_eq!(
            entry.default, default,
            "{name} has two different defaults in the code"
        );
        entry.binaries.insert(binary);
    }
    for subcommand in command.get_subcommands() {
        collect(binary, subcommand, known);
    }
}

fn known_variables() -> BTreeMap<String, Known> {
    let mut known = BTreeMap::new();
    collect(
        "ingress",
        &ingress::config::IngressConfig::command(),
        &mut known,
    );
    collect("workers", &workers::cli::Cli::command(), &mut known);
    known
}

fn read(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    std::fs::read_to_string(format!("{root}/{path}")).expect("the document exists")
}

/// A document's default cell: one value in backticks, or words.
fn stated_default(text: &str) -> Default {
    let text = text.trim();
    match text.strip_prefix('`').and_then(|t| t.strip_suffix('`')) {
        Some(value) if !value.contains('`') => Default::Value(value.to_owned()),
        _ => Default::Described,
    }
}

/// One README row: its variables, the binaries in "used by", each variable's default.
struct Row {
    line: usize,
    variables: Vec<(String, Default)>,
    binaries: BTreeSet<&'static str>,
}

/// The rows of the README's `## Configuration` table (`| variable | used by | default |
/// meaning |`). A row may name several variables (`A` / `B` or `A`, `B`), with as many
/// defaults separated the same way, or one default for all.
fn readme_rows(readme: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut in_section = false;
    for (index, line) in readme.lines().enumerate() {
        if line.starts_with("## ") {
            in_section = line.trim() == "## Configuration";
            continue;
        }
        if !in_section || !line.starts_with("| `") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        assert!(
            cells.len() >= 4,
            "README line {}: not a table row",
            index + 1
        );
        let names: Vec<String> = cells[0]
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|name| is_variable(name))
            .map(str::to_owned)
            .collect();
        let pieces = [" / ", ", "]
            .iter()
            .map(|separator| cells[2].split(separator).collect::<Vec<_>>())
            .find(|pieces| pieces.len() == names.len())
            .unwrap_or_else(|| vec![cells[2]; names.len()]);
        let mut binaries = BTreeSet::new();
        for user in cells[1].split(", ").map(str::trim) {
            match user {
                "ingress" => binaries.extend(["ingress"]),
                "bridge" | "realtime" | "bulk" | "outbound" | "workers" => {
                    binaries.extend(["workers"])
                }
                "all" => binaries.extend(["ingress", "workers"]),
                // The simulators' rows are left out by their prefix (see `NOT_OURS`); a
                // variable they share with the fleet is checked where the fleet reads it.
                "sfsim" | "stripesim" => {}
                other => panic!("README line {}: unknown user {other:?}", index + 1),
            }
        }
        if binaries.is_empty() {
            // A simulator's own row (`STRIPE_API_KEY` of stripesim is the key it accepts).
            continue;
        }
        rows.push(Row {
            line: index + 1,
            variables: names
                .into_iter()
                .zip(pieces.into_iter().map(stated_default))
                .collect(),
            binaries,
        });
    }
    assert!(!rows.is_empty(), "the README has a configuration table");
    rows
}

#[test]
fn each_flag_is_named_after_its_variable() {
    let odd: Vec<String> = known_variables()
        .into_iter()
        .filter_map(|(name, known)| known.odd_flag.map(|flag| format!("{name}: {flag}")))
        .collect();
    assert!(
        odd.is_empty(),
        "flags not named after their variable:\n{}",
        odd.join("\n")
    );
}

#[test]
fn the_readme_configuration_table_matches_the_code() {
    let known = known_variables();
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for row in readme_rows(&read("README.md")) {
        for (name, default) in &row.variables {
            if !is_ours(name) {
                continue;
            }
            if !listed.insert(name.clone()) {
                problems.push(format!("line {}: {name} is listed twice", row.line));
            }
            let Some(code) = known.get(name) else {
                problems.push(format!(
                    "line {}: {name} is not read by any binary",
                    row.line
                ));
                continue;
            };
            if *default != code.default {
                problems.push(format!(
                    "line {}: {name} default is {:?} in the README, {:?} in the code",
                    row.line, default, code.default
                ));
            }
            if row.binaries != code.binaries {
                problems.push(format!(
                    "line {}: {name} is used by {:?} per the README, {:?} per the code",
                    row.line, row.binaries, code.binaries
                ));
            }
        }
    }
    for name in known.keys().filter(|name| !listed.contains(*name)) {
        problems.push(format!("{name} is read by the code but not in the README"));
    }
    assert!(problems.is_empty(), "README.md:\n{}", problems.join("\n"));
}

#[test]
fn env_example_matches_the_code() {
    let known = known_variables();
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for (index, line) in read(".env.example").lines().enumerate() {
        let commented = line.starts_with('#');
        let body = line.trim_start_matches('#').trim();
        let Some((name, rest)) = body.split_once('=') else {
            continue;
        };
        if !is_variable(name) {
            continue;
        }
        let value = rest.split_whitespace().next().unwrap_or_default();
        let line = index + 1;
        if !is_ours(name) {
            continue;
        }
        if !listed.insert(name.to_owned()) {
            problems.push(format!("line {line}: {name} is listed twice"));
        }
        let Some(code) = known.get(name) else {
            problems.push(format!("line {line}: {name} is not read by any binary"));
            continue;
        };
        if let Default::Value(default) = &code.default {
            if commented || value != default {
                problems.push(format!(
                    "line {line}: {name} should be set to its default {default:?}, \
                     found {:?}{}",
                    value,
                    if commented { " (commented out)" } else { "" }
                ));
            }
        }
    }
    for name in known.keys().filter(|name| !listed.contains(*name)) {
        problems.push(format!(
            "{name} is read by the code but not in .env.example"
        ));
    }
    assert!(
        problems.is_empty(),
        ".env.example:\n{}",
        problems.join("\n")
    );
}

/// The ingress enqueues by default exactly the event types the built-in mapping handles: a
/// type the mapping knows but the ingress drops is lost without a trace (price and product
/// events were, until the Stripe simulator's loop test showed it).
#[test]
fn default_mapping_and_ingress_agree() {
    let mapping = workers::mapping::Mapping::builtin();
    let mapped: BTreeSet<&str> = mapping.event_types().collect();
    let enqueued: BTreeSet<&str> = ingress::config::DEFAULT_HANDLED_EVENT_TYPES
        .iter()
        .copied()
        .collect();
    assert_eq!(mapped, enqueued);
}
