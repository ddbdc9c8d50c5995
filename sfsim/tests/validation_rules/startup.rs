//! A project whose validation rule the simulator cannot run does not start: the error names
//! the rule and its file, from `Schema::from_sfdx` and from the `sfsim` binary alike.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sfsim::schema::Schema;

const RULE: &str = "objects/Invoice__c/validationRules/Amount_Range.validationRule-meta.xml";

/// A copy of the fixture project in a temporary directory, with the `Amount_Range` rule's
/// formula replaced by `formula`.
fn project_with(formula: &str, tag: &str) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules-org");
    let target = std::env::temp_dir().join(format!("sfsim-rules-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&target);
    copy(&source, &target).expect("copying the fixture project");
    let file = target.join("force-app/main/default").join(RULE);
    let text = std::fs::read_to_string(&file).expect("the rule file");
    let start =
        text.find("<errorConditionFormula>").expect("a formula") + "<errorConditionFormula>".len();
    let end = text.find("</errorConditionFormula>").expect("its end");
    let replaced = format!(
        "{}{}{}",
        &text[..start],
        formula.replace('&', "&amp;").replace('<', "&lt;"),
        &text[end..]
    );
    std::fs::write(&file, replaced).expect("writing the rule");
    target
}

fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            copy(&entry.path(), &to.join(entry.file_name()))?;
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

fn schema_error(formula: &str, tag: &str) -> String {
    let dir = project_with(formula, tag);
    let error = Schema::from_sfdx(&dir)
        .expect_err("the project is refused")
        .to_string();
    std::fs::remove_dir_all(&dir).ok();
    error
}

#[test]
fn the_fixture_loads_with_its_inactive_rule_left_out() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules-org");
    let metadata = salesforce_metadata::Metadata::from_dir(&dir).unwrap();
    let rules = &metadata.object("Invoice__c").unwrap().validation_rules;
    assert_eq!(rules.len(), 8);
    assert_eq!(rules.iter().filter(|rule| !rule.active).count(), 1);
    let schema = Schema::from_metadata(&metadata).unwrap();
    assert_eq!(
        schema.object("Invoice__c").unwrap().validation_rules.len(),
        7
    );
}

#[test]
fn an_unsupported_function_names_the_rule_and_its_file() {
    let error = schema_error("Case__c = 'compare' && Due__c < TODAY()", "function");
    assert!(error.contains(RULE), "{error}");
    assert!(error.contains("validation rule Amount_Range"), "{error}");
    assert!(error.contains("<errorConditionFormula>"), "{error}");
    assert!(error.contains("function TODAY is not supported"), "{error}");
}

#[test]
fn arithmetic_is_refused_too() {
    let error = schema_error("Amount__c * 2 > 10", "arithmetic");
    assert!(
        error.contains("Amount_Range") && error.contains("operator * is not supported"),
        "{error}"
    );
}

#[test]
fn an_unknown_field_names_the_rule_and_the_field() {
    let error = schema_error("Amount__c > Amout__c", "field");
    assert!(
        error.contains(RULE) && error.contains("Amount_Range"),
        "{error}"
    );
    assert!(error.contains("unknown field Amout__c"), "{error}");
}

#[test]
fn the_binary_refuses_to_start() {
    let dir = project_with("ISPICKVAL(Code__c, 'x')", "binary");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfsim"))
        .args(["--listen-addr", "127.0.0.1:0", "--schema-dir"])
        .arg(&dir)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sfsim runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for sfsim") {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("sfsim started with a rule it cannot run");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("its output");
    std::fs::remove_dir_all(&dir).ok();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success());
    assert!(
        stderr.contains("Amount_Range") && stderr.contains(RULE),
        "{stderr}"
    );
    assert!(
        stderr.contains("ISPICKVAL() takes a picklist field"),
        "{stderr}"
    );
}
