//! The bridge against a real Redis and the SQS emulator: routing, readable entries,
//! dedupe of Stripe and SQS redeliveries (also across a crash between XADD and delete),
//! Redis outages, backpressure, malformed messages and concurrent bridges.

mod support;

use std::{collections::HashSet, time::Duration};

use serde_json::json;
use support::{event_ids, BridgeStack};
use testkit::stripe::{unix_now, EventFactory, StripeEvent};

const WAIT: Duration = Duration::from_secs(30);

fn expected_stream(event: &StripeEvent) -> &'static str {
    match event.event_type.as_str() {
        "customer.created" | "customer.updated" | "customer.deleted" => "low",
        "customer.subscription.updated" => {
            let changed = event.json["data"]["previous_attributes"].as_object();
            if changed.is_some_and(|c| c.contains_key("status")) {
                "high"
            } else {
                "low"
            }
        }
        _ => "high",
    }
}

#[tokio::test]
async fn every_type_lands_in_its_stream_with_readable_fields() {
    let stack = BridgeStack::start(false).await;
    let _bridge = stack.start_bridge(&[]).await;
    let factory = EventFactory::new();
    let mut events = factory.lifecycle("jpy", unix_now());
    let subscription = factory.subscription("cus_x", "active", 4900, "jpy", unix_now());
    events.push(factory.event(
        "customer.subscription.updated",
        subscription,
        Some(json!({ "metadata": {} })),
        unix_now(),
    ));
    events.push(factory.event(
        "charge.refunded",
        json!({ "id": "ch_1", "object": "charge" }),
        None,
        unix_now(),
    ));
    stack.send_events(&events).await;

    let (high, low) = stack.wait_for_entries(events.len(), WAIT).await;
    assert_eq!(high.len() + low.len(), events.len());
    for event in &events {
        let stream = if high.iter().any(|e| e["event_id"] == event.id) {
            "high"
        } else {
            "low"
        };
        let want = if event.event_type == "charge.refunded" {
            "low"
        } else {
            expected_stream(event)
        };
        assert_eq!(stream, want, "{}", event.event_type);
        let entry = high
            .iter()
            .chain(&low)
            .find(|e| e["event_id"] == event.id)
            .unwrap();
        assert_eq!(entry["type"], event.event_type);
        assert_eq!(entry["object_id"], event.object_id);
        assert_eq!(entry["created"], event.created.to_string());
        assert_eq!(entry["attempts"], "0");
        assert_eq!(entry["received_at"], "1786000000000");
        assert_eq!(entry["payload"], event.body());
    }
    stack.wait_for_empty_queue(WAIT).await;

    let mut conn = stack.redis().await;
    let lifecycle = stack.lifecycle(&events[0].id).await;
    assert_eq!(lifecycle["state"], "enqueued");
    assert_eq!(lifecycle["stream"], "low");
    let groups: Vec<redis::Value> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg("{fleet:0}:high")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        groups.len(),
        1,
        "the realtime group exists on the high stream"
    );
}

#[tokio::test]
async fn stripe_redeliveries_add_nothing() {
    let stack = BridgeStack::start(false).await;
    let _bridge = stack.start_bridge(&[]).await;
    let factory = EventFactory::new();
    let events = factory.lifecycle("usd", unix_now());
    stack.send_events(&events).await;
    stack.send_events(&events).await;
    stack.send_events(&events[..3]).await;
    stack.wait_for_empty_queue(WAIT).await;
    let (high, low) = stack.wait_for_entries(events.len(), WAIT).await;
    let all: Vec<_> = high.into_iter().chain(low).collect();
    let mut sent: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    sent.sort();
    assert_eq!(event_ids(&all), sent, "each event exactly once");
}

#[tokio::test]
async fn a_crash_between_enqueue_and_delete_is_harmless() {
    let stack = BridgeStack::start(false).await;
    let factory = EventFactory::new();
    let events = factory.lifecycle("eur", unix_now());
    stack.send_events(&events[..1]).await;
    let mut crashing = stack
        .start_bridge(&[
            // The binary tests run is built with the `failpoints` feature.
            ("FAILPOINTS", "bridge-after-enqueue=return"),
            ("SQS_VISIBILITY_TIMEOUT_SECS", "1"),
            ("BRIDGE_CONCURRENCY", "1"),
        ])
        .await;
    testkit::harness::wait_for("the crash", WAIT, || {
        let running = crashing.is_running();
        async move { (!running).then_some(()) }
    })
    .await
    .unwrap();
    assert!(crashing
        .log_contents()
        .contains("aborting before the SQS delete"));
    assert_eq!(
        stack.entries("low").await.len(),
        1,
        "the event was enqueued before the crash"
    );
    // Not deleted. (The emulator may briefly count a message whose visibility just
    // expired both as visible and as in flight, hence `>=`.)
    assert!(
        stack.messages_in_queue().await >= 1,
        "the message is still in SQS"
    );

    let _bridge = stack
        .start_bridge(&[("SQS_VISIBILITY_TIMEOUT_SECS", "1")])
        .await;
    stack.wait_for_empty_queue(WAIT).await;
    let low = stack.entries("low").await;
    assert_eq!(
        event_ids(&low),
        vec![events[0].id.clone()],
        "redelivery added nothing"
    );
}

#[tokio::test]
async fn redis_killed_and_restarted_loses_and_duplicates_nothing() {
    let mut stack = BridgeStack::start(true).await;
    let bridge = stack
        .start_bridge(&[("SQS_VISIBILITY_TIMEOUT_SECS", "2")])
        .await;
    let factory = EventFactory::new();
    let events: Vec<StripeEvent> = (0..12)
        .flat_map(|_| factory.lifecycle("gbp", unix_now()))
        .collect();
    let (first, rest) = events.split_at(40);
    stack.send_events(first).await;
    stack.wait_for_entries(1, WAIT).await;
    stack.redis.kill();
    stack.send_events(rest).await;
    // Restart only once the bridge has hit the outage with events in hand.
    testkit::harness::wait_for("a failed Redis write", WAIT, || {
        let failed = bridge.log_contents().contains("Redis write failed");
        async move { failed.then_some(()) }
    })
    .await
    .unwrap();
    stack.redis.restart().await.unwrap();
    stack.wait_for_empty_queue(Duration::from_secs(60)).await;
    let (high, low) = stack.wait_for_entries(events.len(), WAIT).await;
    let all: Vec<_> = high.into_iter().chain(low).collect();
    let mut sent: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    sent.sort();
    assert_eq!(
        event_ids(&all),
        sent,
        "every event exactly once after the outage"
    );
}

#[tokio::test]
async fn backpressure_leaves_events_in_sqs_until_the_backlog_drains() {
    let stack = BridgeStack::start(false).await;
    let _bridge = stack
        .start_bridge(&[
            ("BACKLOG_HIGH_WATER", "5"),
            ("BACKLOG_LOW_WATER", "2"),
            ("BRIDGE_CONCURRENCY", "1"),
        ])
        .await;
    let factory = EventFactory::new();
    let events: Vec<StripeEvent> = (0..40)
        .map(|_| {
            let intent = factory.payment_intent("cus_1", 1000, "usd", unix_now(), None);
            factory.event("payment_intent.succeeded", intent, None, unix_now())
        })
        .collect();
    stack.send_events(&events).await;
    stack.wait_for_entries(5, WAIT).await;
    // Paused: the stream stops growing well below 40 and the rest stays in SQS.
    let metrics_paused = testkit::harness::wait_for("the bridge to pause", WAIT, || async {
        let high = stack.entries("high").await.len();
        let queued = stack.messages_in_queue().await;
        (high >= 5 && queued > 0 && high < 40).then_some((high, queued))
    })
    .await
    .unwrap();
    assert!(
        metrics_paused.0 <= 5 + 10,
        "at most one batch beyond the mark: {metrics_paused:?}"
    );

    // Workers consume (here: trim the stream): the bridge resumes and everything arrives.
    let mut conn = stack.redis().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        for tag in support::tags() {
            let _: i64 = redis::cmd("XTRIM")
                .arg(format!("{{{tag}}}:high"))
                .arg("MAXLEN")
                .arg(0)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
        let enqueued: Vec<String> = redis::cmd("KEYS")
            .arg("{fleet*:seen:*")
            .query_async(&mut conn)
            .await
            .unwrap();
        if enqueued.len() == 40 && stack.messages_in_queue().await == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of 40 events came through",
            enqueued.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn messages_that_are_not_stripe_events_are_dead_lettered_with_the_reason() {
    let stack = BridgeStack::start(false).await;
    let _bridge = stack.start_bridge(&[]).await;
    stack
        .send_raw(&["not json at all", r#"{"id":"evt_no_type","created":1}"#])
        .await;
    stack.wait_for_empty_queue(WAIT).await;
    let dead = testkit::harness::wait_for("two dead letters", WAIT, || async {
        let dead = stack.entries("dead").await;
        (dead.len() == 2).then_some(dead)
    })
    .await
    .unwrap();
    let payloads: HashSet<&str> = dead.iter().map(|d| d["payload"].as_str()).collect();
    assert!(payloads.contains("not json at all"));
    for letter in &dead {
        assert_eq!(letter["reason"], "not_a_stripe_event");
        assert_eq!(letter["source"], "bridge");
        assert!(!letter["error"].is_empty());
        assert!(!letter["sqs_message_id"].is_empty());
    }
    assert!(dead.iter().any(|d| d["error"].contains("type")), "{dead:?}");
    assert!(stack.entries("high").await.is_empty() && stack.entries("low").await.is_empty());
}

#[tokio::test]
async fn two_bridges_never_duplicate() {
    let stack = BridgeStack::start(false).await;
    let _a = stack.start_bridge(&[("BRIDGE_CONCURRENCY", "4")]).await;
    let _b = stack.start_bridge(&[("BRIDGE_CONCURRENCY", "4")]).await;
    let factory = EventFactory::new();
    let events: Vec<StripeEvent> = (0..20)
        .flat_map(|_| factory.lifecycle("kwd", unix_now()))
        .collect();
    let (a, b) = tokio::join!(stack.send_events(&events), stack.send_events(&events));
    let ((), ()) = (a, b);
    stack.wait_for_empty_queue(Duration::from_secs(60)).await;
    let (high, low) = stack.wait_for_entries(events.len(), WAIT).await;
    let all: Vec<_> = high.into_iter().chain(low).collect();
    let mut sent: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    sent.sort();
    assert_eq!(event_ids(&all), sent);
}
