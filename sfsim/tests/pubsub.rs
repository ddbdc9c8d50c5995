//! Change Data Capture over the Pub/Sub API: a tonic client generated from the vendored
//! `.proto` talks gRPC over TLS to the simulator and decodes the Avro events
//! (docs/sfsim.md, "Change Data Capture: the Pub/Sub API").

#[path = "support/mod.rs"]
mod support;

#[path = "support/cdc.rs"]
mod cdc;

use std::time::Duration;

use cdc::{authed, connect, fetch};
use reqwest::Method;
use serde_json::{json, Value};
use sfsim::pubsub::proto::{ReplayPreset, TopicRequest};
use support::{close, create_job, upload, wait_for_state, Org};
use tonic::Code;

const CONTACTS: &str = "/data/ContactChangeEvent";
const ALL: &str = "/data/ChangeEvents";

/// Test configuration: fast keep-alives so idle streams answer quickly.
fn config() -> sfsim::SimConfig {
    let mut config = support::test_config();
    config.pubsub.keepalive = Duration::from_millis(150);
    config
}

async fn insert_contact(org: &Org, fields: Value) -> String {
    let reply = org.post("/sobjects/Contact", &fields).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body["id"].as_str().expect("id").to_string()
}

fn error_code(status: &tonic::Status) -> &str {
    status
        .metadata()
        .get("error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn rest_create_update_delete_arrive_as_decoded_avro_events() {
    let org = Org::start_with(config()).await;
    let mut cdc = connect(&org).await;
    let mut sub = cdc
        .live(fetch(CONTACTS, ReplayPreset::Latest, Vec::new(), 10))
        .await;

    let id = insert_contact(
        &org,
        json!({"FirstName": "Jenny", "LastName": "Rosen", "Email": "jenny@example.com", "Phone": "555"}),
    )
    .await;
    let created = cdc.decode(&sub.events(1).await[0]).await;
    let header = &created["ChangeEventHeader"];
    assert_eq!(header["entityName"], "Contact");
    assert_eq!(header["changeType"], "CREATE");
    assert_eq!(header["recordIds"], json!([id]));
    assert_eq!(header["sequenceNumber"], 1);
    assert!(header["commitUser"].as_str().unwrap().starts_with("005"));
    assert!(header["commitTimestamp"].as_i64().unwrap() > 1_700_000_000_000);
    assert_eq!(created["Email"], "jenny@example.com");
    assert_eq!(created["Phone"], "555");
    assert_eq!(created["Name"]["FirstName"], "Jenny");
    assert_eq!(created["Name"]["LastName"], "Rosen");

    let reply = org
        .patch(
            &format!("/sobjects/Contact/{id}"),
            &json!({"Email": "j.rosen@example.com", "FirstName": "Jen", "Phone": null}),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let updated = cdc.decode(&sub.events(1).await[0]).await;
    let header = &updated["ChangeEventHeader"];
    assert_eq!(header["changeType"], "UPDATE");
    assert!(header["changedFields"][0]
        .as_str()
        .unwrap()
        .starts_with("0x"));
    let mut changed: Vec<String> =
        serde_json::from_value(header["changedFieldsNames"].clone()).unwrap();
    changed.sort();
    assert_eq!(
        changed,
        [
            "Email",
            "LastModifiedDate",
            "Name.FirstName",
            "Phone",
            "SystemModstamp"
        ]
    );
    assert_eq!(header["nulledFieldsNames"], json!(["Phone"]));
    assert_eq!(updated["Email"], "j.rosen@example.com");
    assert_eq!(updated["Name"]["FirstName"], "Jen");
    assert_eq!(
        updated["Name"]["LastName"],
        Value::Null,
        "unchanged fields are null"
    );
    assert_eq!(updated["Phone"], Value::Null);

    let reply = org.delete(&format!("/sobjects/Contact/{id}")).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let deleted = cdc.decode(&sub.events(1).await[0]).await;
    assert_eq!(deleted["ChangeEventHeader"]["changeType"], "DELETE");
    assert_eq!(deleted["ChangeEventHeader"]["recordIds"], json!([id]));
    assert_eq!(deleted["Email"], Value::Null);
}

#[tokio::test]
async fn collections_and_bulk_writes_arrive_in_commit_order_and_rollbacks_never() {
    let org = Org::start_with(config()).await;
    let mut cdc = connect(&org).await;
    let mut sub = cdc
        .live(fetch(ALL, ReplayPreset::Latest, Vec::new(), 100))
        .await;

    let contact = |name: &str| json!({"attributes": {"type": "Contact"}, "LastName": name});
    let batch = json!({"allOrNone": false, "records": [
        contact("A"), {"attributes": {"type": "Stripe_Subscription__c"}, "Stripe_Price_ID__c": "price_1"}, contact("B"),
    ]});
    let reply = org.post("/composite/sobjects", &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let rolled_back =
        json!({"allOrNone": true, "records": [contact("X"), {"attributes": {"type": "Contact"}}]});
    let reply = org.post("/composite/sobjects", &rolled_back).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let job = create_job(&org, json!({"object": "Contact", "operation": "insert"})).await;
    upload(&org, &job, "LastName\nC\nD\n").await;
    close(&org, &job).await;
    wait_for_state(&org, &job, &["JobComplete"]).await;

    let events = sub.events(5).await;
    let mut seen = Vec::new();
    let mut keys = Vec::new();
    for event in &events {
        let decoded = cdc.decode(event).await;
        let header = &decoded["ChangeEventHeader"];
        let label = decoded["Name"]["LastName"].as_str().map_or_else(
            || header["entityName"].as_str().unwrap().to_string(),
            String::from,
        );
        seen.push((label, header["sequenceNumber"].as_i64().unwrap()));
        keys.push(header["transactionKey"].as_str().unwrap().to_string());
    }
    let expected = [
        ("A", 1),
        ("Stripe_Subscription__c", 2),
        ("B", 3),
        ("C", 1),
        ("D", 2),
    ];
    let expected: Vec<(String, i64)> = expected.iter().map(|(l, n)| (l.to_string(), *n)).collect();
    assert_eq!(seen, expected);
    assert!(keys[0] == keys[1] && keys[1] == keys[2] && keys[2] != keys[3]);
    let replay: Vec<&Vec<u8>> = events.iter().map(|e| &e.replay_id).collect();
    assert!(replay.windows(2).all(|w| w[0] < w[1]), "replay ids grow");

    // The custom object's own channel carries only its events.
    let mut custom = cdc
        .open(fetch(
            "/data/Stripe_Subscription__ChangeEvent",
            ReplayPreset::Earliest,
            Vec::new(),
            10,
        ))
        .await
        .expect("subscribe");
    let only = custom.events(1).await;
    assert_eq!(only[0].replay_id, events[1].replay_id);
}

#[tokio::test]
async fn flow_control_sends_no_more_than_requested() {
    let org = Org::start_with(config()).await;
    let mut cdc = connect(&org).await;
    let mut sub = cdc
        .live(fetch(CONTACTS, ReplayPreset::Latest, Vec::new(), 1))
        .await;
    let records: Vec<Value> = ["A", "B", "C"]
        .iter()
        .map(|n| json!({"attributes": {"type": "Contact"}, "LastName": n}))
        .collect();
    let reply = org
        .post(
            "/composite/sobjects",
            &json!({"allOrNone": true, "records": records}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(sub.events(1).await.len(), 1);
    // Two keep-alives in a row with nothing pending: the other events are held back.
    for _ in 0..2 {
        let idle = sub.next().await.expect("keep-alive");
        assert!(idle.events.is_empty(), "sent more than requested");
        assert_eq!(idle.pending_num_requested, 0);
    }
    sub.request(5).await;
    assert_eq!(sub.events(2).await.len(), 2);
}

#[tokio::test]
async fn custom_replay_resumes_after_the_id_and_keepalives_carry_the_latest() {
    let org = Org::start_with(config()).await;
    for name in ["A", "B", "C"] {
        insert_contact(&org, json!({"LastName": name})).await;
    }
    let mut cdc = connect(&org).await;
    let mut all = cdc
        .open(fetch(CONTACTS, ReplayPreset::Earliest, Vec::new(), 10))
        .await
        .unwrap();
    let events = all.events(3).await;
    let idle = all.next().await.expect("keep-alive");
    assert!(idle.events.is_empty());
    assert_eq!(idle.latest_replay_id, events[2].replay_id);

    let first = events[0].replay_id.clone();
    let mut resumed = cdc
        .open(fetch(CONTACTS, ReplayPreset::Custom, first, 10))
        .await
        .unwrap();
    let again = resumed.events(2).await;
    assert_eq!(again[0].replay_id, events[1].replay_id);
    assert_eq!(again[1].replay_id, events[2].replay_id);
    let decoded = cdc.decode(&again[0]).await;
    assert_eq!(decoded["Name"]["LastName"], "B");
}

#[tokio::test]
async fn unknown_and_expired_replay_ids_are_refused_with_salesforce_error_code() {
    let mut config = config();
    config.pubsub.retention = Duration::from_millis(300);
    let org = Org::start_with(config).await;
    let mut cdc = connect(&org).await;
    let mut unknown = cdc
        .open(fetch(CONTACTS, ReplayPreset::Custom, vec![0xff; 8], 1))
        .await
        .expect("call accepted");
    let status = unknown.next().await.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        error_code(&status),
        "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
    );

    insert_contact(&org, json!({"LastName": "Old"})).await;
    let mut sub = cdc
        .open(fetch(CONTACTS, ReplayPreset::Earliest, Vec::new(), 1))
        .await
        .unwrap();
    let replay_id = sub.events(1).await[0].replay_id.clone();
    // Poll (each probe waits for a keep-alive or the refusal) until retention passes.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        let mut probe = cdc
            .open(fetch(CONTACTS, ReplayPreset::Custom, replay_id.clone(), 1))
            .await
            .expect("call accepted");
        if let Err(status) = probe.next().await {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "never refused");
    };
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        error_code(&status),
        "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
    );
}

#[tokio::test]
async fn bad_token_or_tenant_is_unauthenticated_with_salesforce_error_code() {
    let org = Org::start_with(config()).await;
    let userinfo = org.url("/services/oauth2/userinfo");
    let reply = org.send(Method::GET, &userinfo, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["organization_id"].as_str().unwrap().len(), 18);
    assert!(reply.body["organization_id"]
        .as_str()
        .unwrap()
        .starts_with(org.sim.org_id()));
    assert!(reply.body["user_id"].as_str().unwrap().starts_with("005"));
    assert_eq!(
        reply.body["preferred_username"],
        "integration@sfsim.example.com"
    );
    let bogus = org
        .client
        .get(&userinfo)
        .bearer_auth("00Dxx!bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(bogus.status(), 403);

    let mut cdc = connect(&org).await;
    let good = cdc.auth.clone();
    for auth in [
        cdc::Auth {
            token: "00Dxx!bogus".into(),
            ..good.clone()
        },
        cdc::Auth {
            tenant_id: "00D000000000001AAA".into(),
            ..good.clone()
        },
    ] {
        let request = TopicRequest {
            topic_name: CONTACTS.into(),
        };
        let status = cdc
            .client
            .get_topic(authed(&auth, request))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(
            error_code(&status),
            "sfdc.platform.eventbus.grpc.service.auth.error"
        );
        cdc.auth = auth;
        let status = match cdc
            .open(fetch(CONTACTS, ReplayPreset::Latest, Vec::new(), 1))
            .await
        {
            Err(status) => status,
            Ok(mut sub) => sub.next().await.expect_err("refused"),
        };
        assert_eq!(status.code(), Code::Unauthenticated);
        cdc.auth = good.clone();
    }
}

#[tokio::test]
async fn topics_have_stable_schemas_and_gap_events_can_be_emitted() {
    let org = Org::start_with(config()).await;
    let mut cdc = connect(&org).await;
    let topic = |name: &str| TopicRequest {
        topic_name: name.into(),
    };
    let first = cdc
        .client
        .get_topic(authed(&cdc.auth, topic(CONTACTS)))
        .await
        .unwrap()
        .into_inner();
    let again = cdc
        .client
        .get_topic(authed(&cdc.auth, topic(CONTACTS)))
        .await
        .unwrap()
        .into_inner();
    assert!(first.can_subscribe && !first.schema_id.is_empty());
    assert_eq!(first.schema_id, again.schema_id);
    let (_, schema) = cdc.schema(&first.schema_id).await;
    assert_eq!(schema["fields"][0]["name"], "ChangeEventHeader");
    let missing = cdc
        .client
        .get_topic(authed(&cdc.auth, topic("/data/AccountChangeEvent")))
        .await;
    assert_eq!(missing.expect_err("not selected").code(), Code::NotFound);

    let mut sub = cdc
        .live(fetch(CONTACTS, ReplayPreset::Latest, Vec::new(), 10))
        .await;
    for (change_type, ids) in [
        ("GAP_UPDATE", json!(["003000000000001AAA"])),
        ("GAP_OVERFLOW", json!([])),
    ] {
        let body = json!({"channel": CONTACTS, "changeType": change_type, "recordIds": ids});
        let reply = org
            .admin(Method::POST, "/__sim/pubsub/gap", Some(&body))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let event = cdc.decode(&sub.events(1).await[0]).await;
        assert_eq!(event["ChangeEventHeader"]["changeType"], change_type);
        assert_eq!(event["ChangeEventHeader"]["recordIds"], ids);
    }
    let bad = json!({"channel": CONTACTS, "changeType": "UPDATE"});
    let reply = org
        .admin(Method::POST, "/__sim/pubsub/gap", Some(&bad))
        .await;
    assert_eq!(reply.status, 400);
}
