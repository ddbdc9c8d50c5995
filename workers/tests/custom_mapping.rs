//! An org with other objects and field names: the simulator runs a different schema, the
//! realtime worker gets `MAPPING_FILE`, and the records land under the org's own names —
//! no rebuild.

mod support;

use std::time::Duration;

use sfsim::{Schema, SimConfig};
use support::{sim::Sim, BridgeStack};
use testkit::stripe::{unix_now, EventFactory};
use workers::store::Priority;

/// The other org: payers on `Payer__c`, payments on `Charge__c` with a lookup to the payer.
const SCHEMA: &str = r#"{ "objects": [
  { "name": "Payer__c", "label": "Payer", "key_prefix": "a10",
    "name_field": { "kind": "auto_number", "label": "Payer Number", "format": "PY-{000000}" },
    "fields": [
      { "name": "Stripe_Key__c", "label": "Stripe Key", "type": "text", "length": 64, "external_id": true, "unique": true }
    ] },
  { "name": "Charge__c", "label": "Charge", "key_prefix": "a11",
    "name_field": { "kind": "auto_number", "label": "Charge Number", "format": "CH-{000000}" },
    "fields": [
      { "name": "Intent__c", "label": "Intent", "type": "text", "length": 64, "external_id": true, "unique": true },
      { "name": "Payer__c", "label": "Payer", "type": "lookup", "reference_to": "Payer__c", "relationship_name": "Payer__r" },
      { "name": "Gross__c", "label": "Gross", "type": "currency", "precision": 18, "scale": 3 },
      { "name": "ISO_Currency__c", "label": "ISO Currency", "type": "text", "length": 3 },
      { "name": "Paid_At__c", "label": "Paid At", "type": "datetime" }
    ] }
] }"#;

const MAPPING: &str = r#"
version = 1

[[rule]]
events = ["payment_intent.succeeded"]

  [[rule.write]]
  sobject = "Payer__c"
  role = "parent_stub"
  target = { external_id = "Stripe_Key__c", path = "data.object.customer" }

  [[rule.write]]
  sobject = "Charge__c"
  target = { external_id = "Intent__c", path = "data.object.id" }

  [rule.write.fields]
  Payer__c = { path = "data.object.customer", lookup = { relationship = "Payer__r", external_id_field = "Stripe_Key__c" } }
  Gross__c = { path = "data.object.amount", transform = "money", currency_path = "data.object.currency" }
  ISO_Currency__c = { path = "data.object.currency", transform = "upper" }
  Paid_At__c = { path = "created", transform = "datetime" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_org_gets_its_own_objects_from_a_mapping_file() {
    let stack = BridgeStack::start(false).await;
    let mut config = SimConfig::on_free_port();
    config.schema = Schema::from_json(SCHEMA).expect("the other org's schema");
    let sim = Sim::start_with(config).await;
    let mapping = std::env::temp_dir().join(format!("fleet-mapping-{}.toml", std::process::id()));
    std::fs::write(&mapping, MAPPING).unwrap();
    let mapping_path = mapping.to_string_lossy().into_owned();
    let _worker = stack
        .start_consumer("realtime", &sim, &[("MAPPING_FILE", mapping_path.as_str())])
        .await;

    let factory = EventFactory::new();
    let events: Vec<_> = [("kwd", 12_340), ("jpy", 4_900)]
        .iter()
        .map(|(currency, amount)| {
            let intent =
                factory.payment_intent("cus_other_org", *amount, currency, unix_now(), None);
            factory.event("payment_intent.succeeded", intent, None, unix_now())
        })
        .collect();
    stack.enqueue(Priority::High, &events).await;
    stack
        .wait_for_states(&events, &["applied"], Duration::from_secs(60))
        .await;

    let kwd = sim
        .record_by("Charge__c", "Intent__c", &events[0].object_id)
        .await
        .expect("the KWD charge");
    assert_eq!(
        kwd["Gross__c"].as_f64(),
        Some(12.34),
        "KWD has three decimals: {kwd}"
    );
    assert_eq!(kwd["ISO_Currency__c"], "KWD");
    let jpy = sim
        .record_by("Charge__c", "Intent__c", &events[1].object_id)
        .await
        .expect("the JPY charge");
    assert_eq!(
        jpy["Gross__c"].as_f64(),
        Some(4900.0),
        "JPY has none: {jpy}"
    );
    let payers = sim.records("Payer__c").await;
    assert_eq!(payers.len(), 1);
    assert_eq!(kwd["Payer__c"], payers[0]["Id"]);
    std::fs::remove_file(&mapping).ok();
}
