//! The model read from the embedded project, from files in memory, and from a project
//! directory, and the errors that name the file at fault.

use super::*;

fn source(files: &[(&str, &str)]) -> Source {
    Source {
        root: "org".to_owned(),
        files: files
            .iter()
            .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
            .collect(),
    }
}

const OBJECT: &str = "<CustomObject><label>Invoice</label><pluralLabel>Invoices</pluralLabel>\
    <nameField><label>Number</label><type>AutoNumber</type><displayFormat>IN-{0000}</displayFormat>\
    </nameField><sharingModel>ReadWrite</sharingModel></CustomObject>";
const PAID_AT: &str = "<CustomField><fullName>Paid_At__c</fullName><label>Paid At</label>\
    <type>DateTime</type></CustomField>";
const STATE: &str = "<CustomField><fullName>State__c</fullName><label>State</label><type>Picklist</type>\
    <valueSet><restricted>true</restricted><valueSetDefinition><value><fullName>Open</fullName></value>\
    <value><fullName>Paid</fullName></value></valueSetDefinition></valueSet></CustomField>";

fn rule(name: &str, formula: &str, display: &str) -> String {
    format!(
        "<ValidationRule><fullName>{name}</fullName><active>true</active>\
         <errorConditionFormula>{formula}</errorConditionFormula>{display}\
         <errorMessage>No going back.</errorMessage></ValidationRule>"
    )
}

fn invoice(rule_file: &str, rule_text: &str) -> Result<Metadata, MetadataError> {
    Metadata::from_source(&source(&[
        ("objects/Invoice__c/Invoice__c.object-meta.xml", OBJECT),
        (
            "objects/Invoice__c/fields/Paid_At__c.field-meta.xml",
            PAID_AT,
        ),
        ("objects/Invoice__c/fields/State__c.field-meta.xml", STATE),
        (rule_file, rule_text),
    ]))
}

const FENCE_FILE: &str = "objects/Invoice__c/validationRules/Fence.validationRule-meta.xml";

#[test]
fn the_embedded_project_reads() {
    let metadata = Metadata::embedded().unwrap();
    assert_eq!(metadata.root(), EMBEDDED_ROOT);
    assert_eq!(metadata.objects().len(), 6);
    let customer = metadata.object("stripe_customer__c").unwrap();
    assert_eq!(
        customer.name_field.kind,
        NameFieldKind::AutoNumber {
            display_format: "SC-{000000}".into()
        }
    );
    let key = customer.field("Stripe_Customer_ID__C").unwrap();
    assert!(key.external_id && key.unique && key.is_writable());
    assert_eq!(
        key.file,
        "salesforce/force-app/main/default/objects/Stripe_Customer__c/fields/Stripe_Customer_ID__c.field-meta.xml"
    );
    let status = customer.field("Subscription_Status__c").unwrap();
    assert_eq!(
        status.picklist.as_ref().unwrap().values,
        ["None", "Active", "Past Due", "Canceled"]
    );
    let plan = metadata.object("Pricing_Plan__c").unwrap();
    let recurrency = plan
        .field("Recurrency_Type__c")
        .unwrap()
        .picklist
        .clone()
        .unwrap();
    assert_eq!(
        recurrency.global_value_set.as_deref(),
        Some("Recurrency_Type")
    );
    assert_eq!(
        recurrency.values,
        ["Daily", "Weekly", "Monthly", "Yearly", "One-time"]
    );
    let master = metadata
        .object("Pricing_Tier__c")
        .unwrap()
        .field("Pricing_Plan__c")
        .unwrap();
    assert!(master.is_required() && master.kind == FieldType::MasterDetail);
    assert_eq!(
        master.relationship_name().as_deref(),
        Some("Pricing_Plan__r")
    );
    assert_eq!(
        master.child_relationship_name.as_deref(),
        Some("Pricing_Tiers")
    );
}

#[test]
fn a_standard_object_gets_its_standard_fields() {
    let metadata = Metadata::embedded().unwrap();
    let contact = metadata.object("Contact").unwrap();
    assert!(contact.standard);
    assert_eq!(contact.name_field.kind, NameFieldKind::FullName);
    let names: Vec<&str> = contact.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "FirstName",
            "LastName",
            "Email",
            "Phone",
            "Stripe_Customer_ID__c"
        ]
    );
    assert!(contact.field("Email").unwrap().id_lookup);
    assert!(contact.field("LastName").unwrap().is_required());
    assert_eq!(
        contact.file,
        "salesforce/force-app/main/default/objects/Contact"
    );
}

#[test]
fn validation_rules_are_read_and_checked() {
    let text = rule(
        "Fence",
        "paid_at__c &lt; PRIORVALUE(Paid_At__c)",
        "<errorDisplayField>paid_at__c</errorDisplayField>",
    );
    let metadata = invoice(FENCE_FILE, &text).unwrap();
    let object = metadata.object("Invoice__c").unwrap();
    let rule = &object.validation_rules[0];
    assert_eq!(rule.name, "Fence");
    assert!(rule.active);
    assert_eq!(rule.error_message, "No going back.");
    assert_eq!(rule.error_display_field.as_deref(), Some("Paid_At__c"));
    assert_eq!(
        rule.error_condition_formula,
        "paid_at__c < PRIORVALUE(Paid_At__c)"
    );
    assert_eq!(rule.formula.fields(), ["Paid_At__c"]);
    assert_eq!(rule.file, format!("org/{FENCE_FILE}"));
}

#[test]
fn an_unsupported_formula_names_the_rule_and_its_file() {
    let error = invoice(FENCE_FILE, &rule("Fence", "Paid_At__c &lt; NOW()", ""))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "org/{FENCE_FILE}: <errorConditionFormula>: validation rule Fence: "
        )),
        "{error}"
    );
    assert!(error.contains("function NOW is not supported"), "{error}");
}

#[test]
fn a_formula_on_an_unknown_field_is_refused() {
    let error = invoice(FENCE_FILE, &rule("Fence", "ISCHANGED(Paid__c)", ""))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("validation rule Fence") && error.contains("unknown field Paid__c"),
        "{error}"
    );
}

#[test]
fn rule_display_field_and_name_are_checked() {
    let display = rule(
        "Fence",
        "ISNEW()",
        "<errorDisplayField>Nope__c</errorDisplayField>",
    );
    let error = invoice(FENCE_FILE, &display).unwrap_err().to_string();
    assert!(
        error.contains("<errorDisplayField>") && error.contains("Nope__c"),
        "{error}"
    );
    let error = invoice(FENCE_FILE, &rule("Other", "ISNEW()", ""))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("<fullName>") && error.contains("Other"),
        "{error}"
    );
    let picklist = rule("Fence", "State__c = 'Paid'", "");
    let error = invoice(FENCE_FILE, &picklist).unwrap_err().to_string();
    assert!(error.contains("picklist field"), "{error}");
}

#[test]
fn an_unknown_standard_object_is_refused() {
    let error = Metadata::from_source(&source(&[(
        "objects/Account/fields/Stripe_Id__c.field-meta.xml",
        "<CustomField><fullName>Stripe_Id__c</fullName><label>S</label><type>Text</type></CustomField>",
    )]))
    .unwrap_err();
    assert_eq!(error.file, "org/objects/Account");
    assert!(error.message.contains("not a standard object"), "{error}");
}

#[test]
fn a_field_type_the_model_does_not_know_is_kept_as_written() {
    let metadata = Metadata::from_source(&source(&[
        ("objects/Invoice__c/Invoice__c.object-meta.xml", OBJECT),
        (
            "objects/Invoice__c/fields/Total__c.field-meta.xml",
            "<CustomField><fullName>Total__c</fullName><label>Total</label><type>Summary</type></CustomField>",
        ),
    ]))
    .unwrap();
    let total = metadata
        .object("Invoice__c")
        .unwrap()
        .field("Total__c")
        .unwrap()
        .clone();
    assert_eq!(total.kind, FieldType::Other("Summary".into()));
    assert!(!total.is_writable());
}

#[test]
fn a_project_root_is_read_through_its_default_package_directory() {
    let root = std::env::temp_dir().join(format!("salesforce-metadata-{}", std::process::id()));
    let objects = root.join("src/main/default/objects/Invoice__c");
    std::fs::create_dir_all(objects.join("validationRules")).unwrap();
    std::fs::create_dir_all(objects.join("fields")).unwrap();
    std::fs::write(
        root.join("sfdx-project.json"),
        r#"{"packageDirectories":[{"path":"other"},{"path":"src","default":true}]}"#,
    )
    .unwrap();
    std::fs::write(objects.join("Invoice__c.object-meta.xml"), OBJECT).unwrap();
    std::fs::write(objects.join("fields/Paid_At__c.field-meta.xml"), PAID_AT).unwrap();
    std::fs::write(
        objects.join("validationRules/Fence.validationRule-meta.xml"),
        rule("Fence", "ISNEW()", ""),
    )
    .unwrap();
    let metadata = Metadata::from_dir(&root);
    let main_default = Metadata::from_dir(&root.join("src/main/default"));
    std::fs::remove_dir_all(&root).unwrap();
    let metadata = metadata.unwrap();
    assert_eq!(metadata, main_default.unwrap());
    assert!(
        metadata.root().ends_with("src/main/default"),
        "{}",
        metadata.root()
    );
    let object = metadata.object("Invoice__c").unwrap();
    assert_eq!(object.validation_rules.len(), 1);
    assert!(object.validation_rules[0]
        .file
        .ends_with("validationRules/Fence.validationRule-meta.xml"));
}
