//! `workers status`, `workers pending` and the HTTP status route.

use std::time::Duration;

use serde_json::Value;
use testkit::harness;
use tokio_util::sync::CancellationToken;
use workers::{keys::Priority, ops::status_api::StatusApi};

use crate::fleet::*;

/// Writes a lifecycle record as the scripts would.
async fn write_lifecycle(fleet: &Fleet, event_id: &str, fields: &[(&str, &str)]) {
    let mut command = redis::cmd("HSET");
    command.arg(fleet.keys.lifecycle(event_id));
    for (field, value) in fields {
        command.arg(*field).arg(*value);
    }
    let _: i64 = command
        .query_async(&mut fleet.conn.clone())
        .await
        .expect("HSET");
}

#[tokio::test]
async fn status_shows_the_lifecycle_or_says_the_event_is_unknown() {
    let fleet = Fleet::start().await;
    write_lifecycle(
        &fleet,
        "evt_applied",
        &[
            ("state", "applied"),
            ("stream", "high"),
            ("entry_id", "1786000000000-0"),
            ("enqueued_at", "1786000000000"),
            ("processing_at", "1786000000500"),
            ("finished_at", "1786000001000"),
            ("salesforce_id", "a01000000000001AAA"),
            ("attempts", "1"),
        ],
    )
    .await;
    write_lifecycle(
        &fleet,
        "evt_retrying",
        &[
            ("state", "retrying"),
            ("stream", "low"),
            ("attempts", "2"),
            ("next_attempt_at", "1786000004000"),
            (
                "last_error",
                "UNABLE_TO_LOCK_ROW: unable to obtain exclusive access",
            ),
            ("failure_class", "retryable"),
        ],
    )
    .await;

    let applied = fleet.json(&["status", "evt_applied"]);
    assert_eq!(applied["state"], "applied");
    assert_eq!(applied["salesforce_id"], "a01000000000001AAA");
    assert_eq!(applied["finished_at"], "2026-08-06T07:06:41.000Z");
    let human = fleet.human(&["status", "evt_applied"]);
    assert!(human.contains("state:"), "{human}");
    assert!(human.contains(" ago)"), "{human}");
    assert!(human.contains("2026-08-06T07:06:40.000Z ("), "{human}");

    let retrying = fleet.json(&["status", "evt_retrying"]);
    assert_eq!(retrying["attempts"], 2);
    assert_eq!(retrying["failure_class"], "retryable");
    assert_eq!(retrying["next_attempt_at"], "2026-08-06T07:06:44.000Z");
    assert!(retrying["last_error"]
        .as_str()
        .expect("text")
        .starts_with("UNABLE_TO_LOCK_ROW"));

    let unknown = fleet.failure(&["status", "evt_nope"]);
    assert!(unknown.contains("evt_nope is unknown"), "{unknown}");
    assert!(unknown.contains("kept for 7d"), "{unknown}");
}

#[tokio::test]
async fn pending_shows_consumers_holding_unacknowledged_entries() {
    let fleet = Fleet::start().await;
    for _ in 0..3 {
        fleet
            .enqueue(Priority::High, &fleet.event("customer.created"))
            .await;
    }
    assert_eq!(fleet.read_as(Priority::High, "worker-a", 2).await.len(), 2);
    fleet
        .kill(Priority::Low, &fleet.event("customer.updated"))
        .await;

    let report = fleet.json(&["pending"]);
    let high = &report["streams"][0];
    assert_eq!(high["stream"], "high");
    assert_eq!(high["length"], 3);
    assert_eq!(high["group"]["name"], "realtime");
    assert_eq!(high["group"]["pending"], 2);
    assert_eq!(high["group"]["lag"], 1);
    assert_eq!(high["group"]["oldest_pending"]["consumer"], "worker-a");
    assert_eq!(high["group"]["consumers"][0]["name"], "worker-a");
    assert_eq!(high["group"]["consumers"][0]["pending"], 2);
    let low = &report["streams"][1];
    assert_eq!(low["length"], 0);
    assert_eq!(low["group"]["pending"], 0);
    assert_eq!(report["dead_letters"], 1);
    assert_eq!(report["retry_scheduled"], 0);

    let human = fleet.human(&["pending"]);
    assert!(human.contains("worker-a"), "{human}");
    assert!(human.contains("dead letters:   1"), "{human}");
}

#[tokio::test]
async fn http_status_needs_the_bearer_token_and_hides_error_text() {
    let fleet = Fleet::start().await;
    write_lifecycle(
        &fleet,
        "evt_dead",
        &[
            ("state", "dead"),
            ("attempts", "5"),
            (
                "last_error",
                "INVALID_FIELD: Email: jane@example is invalid",
            ),
            ("failure_class", "permanent"),
        ],
    )
    .await;
    let token = "test-token-0123456789";
    let with_api = serve(Some(StatusApi::new(
        fleet.conn.clone(),
        fleet.keys.clone(),
        token.to_owned(),
    )))
    .await;
    let without_api = serve(None).await;
    let client = harness::http_client();
    let get = |base: &str, id: &str, bearer: Option<&str>| {
        let mut request = client.get(format!("{base}/v1/events/{id}"));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        async move { request.send().await.expect("the server answers") }
    };

    assert_eq!(get(&with_api.0, "evt_dead", None).await.status(), 401);
    assert_eq!(
        get(&with_api.0, "evt_dead", Some("wrong")).await.status(),
        401
    );
    assert_eq!(
        get(&with_api.0, "evt_nope", Some(token)).await.status(),
        404
    );
    let found = get(&with_api.0, "evt_dead", Some(token)).await;
    assert_eq!(found.status(), 200);
    let body: Value = found.json().await.expect("JSON");
    assert_eq!(body["state"], "dead");
    assert_eq!(body["attempts"], 5);
    assert_eq!(
        body["last_error"], "INVALID_FIELD",
        "no message text over HTTP"
    );
    assert_eq!(
        get(&without_api.0, "evt_dead", Some(token)).await.status(),
        404
    );

    with_api.1.cancel();
    without_api.1.cancel();
}

/// Starts the workers' metrics server in this process; returns its base URL and the
/// token that stops it.
async fn serve(status: Option<StatusApi>) -> (String, CancellationToken) {
    let port = harness::free_port();
    let shutdown = CancellationToken::new();
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .build_recorder()
        .handle();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    tokio::spawn(workers::telemetry::serve(
        addr,
        metrics,
        status,
        shutdown.clone(),
    ));
    let base = format!("http://127.0.0.1:{port}");
    harness::wait_for_http(&format!("{base}/health"), Duration::from_secs(10))
        .await
        .expect("the server listens");
    (base, shutdown)
}
