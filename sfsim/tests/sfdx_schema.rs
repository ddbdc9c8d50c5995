//! The simulator's schema comes from the SFDX project in `salesforce/` (what users deploy):
//! the embedded copy is the whole project, a project root and its `main/default` read
//! alike, and broken source files are reported with the file and the element at fault.

use std::path::{Path, PathBuf};

use sfsim::schema::Schema;

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../salesforce")
}

/// One line per object and per field, with every property the simulator reads.
fn describe(schema: &Schema) -> Vec<String> {
    let mut lines = Vec::new();
    for object in schema.objects() {
        lines.push(format!(
            "{} label={:?} plural={:?} prefix={} name={:?}",
            object.name, object.label, object.label_plural, object.key_prefix, object.name_kind
        ));
        for field in &object.fields {
            lines.push(format!("{}.{field:?}", object.name));
        }
    }
    lines.sort();
    lines
}

#[test]
fn embedded_default_is_the_whole_project() {
    let embedded = Schema::embedded_project().unwrap();
    assert_eq!(
        describe(&embedded),
        describe(&Schema::from_sfdx(&project()).unwrap())
    );
    assert_eq!(embedded.objects().len(), 6);
}

#[test]
fn main_default_directory_is_accepted_too() {
    let schema = Schema::from_sfdx(&project().join("force-app/main/default")).unwrap();
    assert_eq!(schema.object("Contact").unwrap().key_prefix, "003");
}

/// A copy of the project's `main/default` in a temporary directory, with one file replaced.
fn broken_copy(relative: &str, contents: &str) -> PathBuf {
    let source = project().join("force-app/main/default");
    let target = std::env::temp_dir().join(format!(
        "sfsim-sfdx-{}-{}",
        std::process::id(),
        relative.replace('/', "_")
    ));
    let _ = std::fs::remove_dir_all(&target);
    copy(&source.join("objects"), &target.join("objects"))
        .and_then(|()| {
            copy(
                &source.join("globalValueSets"),
                &target.join("globalValueSets"),
            )
        })
        .and_then(|()| std::fs::write(target.join(relative), contents))
        .expect("copying the SFDX project");
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

#[test]
fn invalid_field_file_is_named_in_the_error() {
    let file = "objects/Stripe_Customer__c/fields/Customer_Name__c.field-meta.xml";
    let dir = broken_copy(
        file,
        r#"<CustomField><fullName>Customer_Name__c</fullName><label>Name</label>
           <type>Formula</type></CustomField>"#,
    );
    let error = Schema::from_sfdx(&dir).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(error.contains(file), "{error}");
    assert!(
        error.contains("<type>") && error.contains("Formula"),
        "{error}"
    );
}

#[test]
fn malformed_field_file_is_named_in_the_error() {
    let file = "objects/Pricing_Plan__c/fields/Currency__c.field-meta.xml";
    let dir = broken_copy(file, "<CustomField><label>Currency</label></CustomField>");
    let error = Schema::from_sfdx(&dir).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(error.contains(file), "{error}");
    assert!(error.contains("fullName"), "{error}");
}

#[test]
fn full_name_must_match_the_file_name() {
    let file = "objects/Pricing_Plan__c/fields/Currency__c.field-meta.xml";
    let dir = broken_copy(
        file,
        "<CustomField><fullName>Money__c</fullName><label>Money</label><type>Text</type>\
         <length>3</length></CustomField>",
    );
    let error = Schema::from_sfdx(&dir).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        error.contains(file) && error.contains("<fullName>"),
        "{error}"
    );
}

#[test]
fn missing_global_value_set_is_named_in_the_error() {
    let file = "globalValueSets/Recurrency_Type.globalValueSet-meta.xml";
    let dir = broken_copy(file, "<GlobalValueSet/>");
    std::fs::remove_file(dir.join(file)).unwrap();
    let error = Schema::from_sfdx(&dir).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        error.contains("Recurrency_Type__c.field-meta.xml"),
        "{error}"
    );
    assert!(error.contains("<valueSetName>"), "{error}");
}
