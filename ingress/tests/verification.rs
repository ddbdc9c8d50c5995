//! Every verification outcome and every bad input, through HTTP against the real binary:
//! each gets its status and error code, and nothing reaches the queue.

mod support;

use support::{Stack, SECRET};
use testkit::stripe::{sign, sign_with_secrets, unix_now, EventFactory};

#[tokio::test]
async fn each_refusal_has_its_code_and_enqueues_nothing() {
    let stack = Stack::start(false, &[("MAX_BODY_BYTES", "4096")]).await;
    let factory = EventFactory::new();
    let event = factory.event(
        "customer.created",
        factory.customer(unix_now()),
        None,
        unix_now(),
    );
    let body = event.body();
    let now = unix_now();

    let cases: Vec<(&str, String, Option<String>, u16, &str)> = vec![
        ("no header", body.clone(), None, 400, "missing_header"),
        ("garbage header", body.clone(), Some("bad_header".into()), 400, "malformed_header"),
        ("t not a number", body.clone(), Some("t=abc,v1=00".into()), 400, "malformed_header"),
        (
            "only v0",
            body.clone(),
            Some(format!("t={now},v0={}", &sign(SECRET, now, &body)[14..])),
            400,
            "no_v1_signature",
        ),
        ("other secret", body.clone(), Some(sign("whsec_someone_else", now, &body)), 400, "signature_mismatch"),
        (
            "body changed after signing",
            body.replace("customer.created", "customer.updated"),
            Some(sign(SECRET, now, &body)),
            400,
            "signature_mismatch",
        ),
        ("stale timestamp", body.clone(), Some(sign(SECRET, now - 301, &body)), 400, "timestamp_outside_tolerance"),
        ("not JSON", "not json".into(), Some(sign(SECRET, now, "not json")), 400, "invalid_json"),
        (
            "missing created",
            r#"{"id":"evt_1","type":"customer.created","data":{"object":{"id":"cus_1"}}}"#.into(),
            Some(sign(SECRET, now, r#"{"id":"evt_1","type":"customer.created","data":{"object":{"id":"cus_1"}}}"#)),
            400,
            "invalid_envelope",
        ),
        (
            "thin event",
            r#"{"id":"evt_2","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered","created":"2022-02-15T00:27:45.330Z"}"#.into(),
            Some(sign(SECRET, now, r#"{"id":"evt_2","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered","created":"2022-02-15T00:27:45.330Z"}"#)),
            400,
            "thin_event_payload",
        ),
    ];
    for (name, body, header, status, code) in cases {
        let answer = stack.post(body, header.as_deref()).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.json);
        assert_eq!(answer.json["error"], code, "{name}: {}", answer.json);
        assert!(
            answer.json["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}"
        );
    }

    let large = format!(r#"{{"padding":"{}"}}"#, "x".repeat(5000));
    let answer = stack
        .post(large.clone(), Some(&sign(SECRET, now, &large)))
        .await;
    assert_eq!(answer.status, 413, "{}", answer.json);
    assert_eq!(answer.json["error"], "body_too_large");

    assert!(
        stack.drain().await.is_empty(),
        "a refused request reached the queue"
    );

    // The same event, correctly signed, still goes through: the refusals changed nothing.
    let answer = stack.post_signed(&event).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(
        answer.json,
        serde_json::json!({ "received": true, "id": event.id })
    );
    assert_eq!(stack.drain().await.len(), 1);
}

#[tokio::test]
async fn future_timestamps_and_extra_schemes_are_accepted() {
    let stack = Stack::start(false, &[]).await;
    let factory = EventFactory::new();
    let event = factory.event(
        "customer.created",
        factory.customer(unix_now()),
        None,
        unix_now(),
    );
    let body = event.body();
    let header = format!(
        "{},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39",
        sign(SECRET, unix_now() + 120, &body)
    );
    let answer = stack.post(body, Some(&header)).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
}

#[tokio::test]
async fn rolled_secrets_are_both_accepted() {
    let stack = Stack::start(
        false,
        &[("STRIPE_WEBHOOK_SECRETS", "whsec_old_one,whsec_new_one")],
    )
    .await;
    let factory = EventFactory::new();
    let mut accepted = Vec::new();
    for secrets in [
        vec!["whsec_old_one"],
        vec!["whsec_new_one"],
        vec!["whsec_old_one", "whsec_new_one"],
    ] {
        let event = factory.event(
            "customer.created",
            factory.customer(unix_now()),
            None,
            unix_now(),
        );
        let body = event.body();
        let answer = stack
            .post(
                body.clone(),
                Some(&sign_with_secrets(&secrets, unix_now(), &body)),
            )
            .await;
        assert_eq!(
            answer.status, 200,
            "signed with {secrets:?}: {}",
            answer.json
        );
        accepted.push(event.id);
    }
    let event = factory.event(
        "customer.created",
        factory.customer(unix_now()),
        None,
        unix_now(),
    );
    let body = event.body();
    let answer = stack
        .post(
            body.clone(),
            Some(&sign("whsec_retired", unix_now(), &body)),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json["error"], "signature_mismatch");

    let mut queued: Vec<String> = stack
        .drain()
        .await
        .into_iter()
        .map(|m| m.attributes["event_id"].clone())
        .collect();
    queued.sort();
    accepted.sort();
    assert_eq!(queued, accepted);
}
