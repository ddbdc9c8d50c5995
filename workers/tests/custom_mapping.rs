//! An org with other objects and field names: the simulator runs that org's SFDX project,
//! the realtime worker gets `MAPPING_FILE` and `SALESFORCE_METADATA_DIR`, and the records
//! land under the org's own names — no rebuild.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sfsim::{Schema, SimConfig};
use support::{sim::Sim, BridgeStack};
use testkit::stripe::{unix_now, EventFactory};
use workers::store::Priority;

/// The other org: payers on `Payer__c`, payments on `Charge__c` with a lookup to the payer.
/// Its SFDX project and mapping file are under `tests/fixtures/other-org/`.
fn other_org() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/other-org")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_org_gets_its_own_objects_from_a_mapping_file() {
    let stack = BridgeStack::start(false).await;
    let mut config = SimConfig::on_free_port();
    config.schema = Schema::from_sfdx(&other_org()).expect("the other org's schema");
    let sim = Sim::start_with(config).await;
    let mapping_path = other_org()
        .join("mapping.toml")
        .to_string_lossy()
        .into_owned();
    // The worker checks the mapping against this org's project, not ours, at start.
    let metadata_dir = other_org().to_string_lossy().into_owned();
    let _worker = stack
        .start_consumer(
            "realtime",
            &sim,
            &[
                ("MAPPING_FILE", mapping_path.as_str()),
                ("SALESFORCE_METADATA_DIR", metadata_dir.as_str()),
            ],
        )
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
}
