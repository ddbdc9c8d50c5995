//! `workers check-mapping` and the same check at the start of the roles that map: the
//! built-in mapping fits the project in `salesforce/`, the other org's mapping fits its own
//! project (`tests/fixtures/other-org`) and not ours, and a misspelled field or a value of
//! the wrong type is reported with the rule, the field and the metadata file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use workers::mapping::DEFAULT_MAPPING_TOML;

fn other_org() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/other-org")
}

/// Runs `workers check-mapping ARGS` with no environment at all.
fn check_mapping(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_workers"))
        .arg("check-mapping")
        .args(args)
        .env_clear()
        .output()
        .expect("the workers binary runs");
    (output.status.success(), text(&output))
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The built-in mapping with `from` replaced by `to`, in a temporary file.
fn edited_mapping(from: &str, to: &str, tag: &str) -> PathBuf {
    assert!(DEFAULT_MAPPING_TOML.contains(from), "{from}");
    let path =
        std::env::temp_dir().join(format!("check-mapping-{}-{tag}.toml", std::process::id()));
    std::fs::write(&path, DEFAULT_MAPPING_TOML.replacen(from, to, 1)).expect("writing the mapping");
    path
}

#[test]
fn the_builtin_mapping_fits_the_project() {
    let (ok, output) = check_mapping(&[]);
    assert!(ok, "{output}");
    assert!(
        output.contains("OK: the built-in mapping fits salesforce/force-app/main/default"),
        "{output}"
    );
    assert!(!output.contains("error:"), "{output}");
}

#[test]
fn the_other_orgs_mapping_fits_its_own_project_only() {
    let mapping = other_org().join("mapping.toml");
    let mapping = mapping.to_str().expect("a UTF-8 path");
    let metadata = other_org();
    let (ok, output) = check_mapping(&[
        "--mapping",
        mapping,
        "--metadata",
        metadata.to_str().expect("UTF-8"),
    ]);
    assert!(ok, "{output}");
    assert!(
        !output.contains("warning:"),
        "Gross__c has three decimals: {output}"
    );
    let (ok, output) = check_mapping(&["--mapping-file", mapping]);
    assert!(!ok, "{output}");
    assert!(
        output.contains(
            "rule for payment_intent.succeeded, write 1 (Payer__c): the org has no object Payer__c"
        ),
        "{output}"
    );
}

#[test]
fn a_misspelled_field_names_the_rule_the_field_and_the_file() {
    let path = edited_mapping(
        "  Customer_Email__c = {",
        "  Customer_Emial__c = {",
        "misspelled",
    );
    let (ok, output) = check_mapping(&["--mapping-file", path.to_str().expect("UTF-8")]);
    std::fs::remove_file(&path).ok();
    assert!(!ok, "{output}");
    assert!(
        output.contains(
            "error: rule for customer.created, customer.updated, write 1 (Stripe_Customer__c), \
             field Customer_Emial__c: Stripe_Customer__c has no field Customer_Emial__c \
             (salesforce/force-app/main/default/objects/Stripe_Customer__c/Stripe_Customer__c.object-meta.xml)"
        ),
        "{output}"
    );
    assert!(output.contains("FAIL: "), "{output}");
}

#[test]
fn a_value_of_the_wrong_type_is_refused() {
    let from = "Transaction_Date__c = { path = \"data.object.created\", transform = \"datetime\" }";
    let path = edited_mapping(from, &from.replace("\"datetime\"", "\"date\""), "type");
    let (ok, output) = check_mapping(&["--mapping-file", path.to_str().expect("UTF-8")]);
    std::fs::remove_file(&path).ok();
    assert!(!ok, "{output}");
    assert!(
        output.contains(
            "rule for payment_intent.succeeded, payment_intent.payment_failed, write 2 \
             (Payment_Transaction__c), field Transaction_Date__c: Transaction_Date__c is a \
             DateTime field: transform \"date\" needs a Date field"
        ),
        "{output}"
    );
    assert!(
        output.contains("Payment_Transaction__c/fields/Transaction_Date__c.field-meta.xml"),
        "{output}"
    );
}

#[test]
fn a_constant_outside_a_restricted_picklist_is_refused() {
    let path = edited_mapping(
        "Subscription_Status__c = { constant = \"Canceled\" }",
        "Subscription_Status__c = { constant = \"Cancelled\" }",
        "picklist",
    );
    let (ok, output) = check_mapping(&["--mapping-file", path.to_str().expect("UTF-8")]);
    std::fs::remove_file(&path).ok();
    assert!(!ok, "{output}");
    assert!(
        output.contains(
            "\"Cancelled\" is not a value of the restricted picklist Subscription_Status__c"
        ),
        "{output}"
    );
}

#[test]
fn a_worker_refuses_to_start_with_a_mapping_that_does_not_fit() {
    let path = edited_mapping(
        "  Customer_Email__c = {",
        "  Customer_Emial__c = {",
        "worker",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_workers"))
        .arg("realtime")
        .env_clear()
        .env("MAPPING_FILE", &path)
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("SALESFORCE_LOGIN_URL", "http://127.0.0.1:1")
        .env("SALESFORCE_CLIENT_ID", "id")
        .env("SALESFORCE_CLIENT_SECRET", "secret")
        .env("LOG_FORMAT", "pretty")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the workers binary runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the worker") {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("the worker started with a mapping that does not fit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("its output");
    std::fs::remove_file(&path).ok();
    let output = text(&output);
    assert!(!status.success(), "{output}");
    assert!(
        output.contains("the mapping does not fit the metadata"),
        "{output}"
    );
    assert!(
        output.contains("Stripe_Customer__c has no field Customer_Emial__c"),
        "{output}"
    );
}
