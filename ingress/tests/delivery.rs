//! What reaches SQS: the raw body, readable attributes, FIFO ids, one message per 200 under
//! concurrency, and nothing for event types the fleet does not handle.

mod support;

use std::collections::HashMap;

use support::Stack;
use testkit::stripe::{unix_now, EventFactory, StripeEvent, CURRENCIES};

fn assert_message_matches(event: &StripeEvent, message: &testkit::harness::ReceivedMessage) {
    assert_eq!(
        message.body,
        event.body(),
        "the body must be the exact signed bytes"
    );
    assert_eq!(message.attributes["event_id"], event.id);
    assert_eq!(message.attributes["event_type"], event.event_type);
    assert_eq!(message.attributes["object_id"], event.object_id);
    assert_eq!(message.attributes["created"], event.created.to_string());
    let received_at: i64 = message.attributes["received_at"]
        .parse()
        .expect("received_at is a number");
    assert!(
        (received_at / 1000 - unix_now()).abs() < 120,
        "received_at is Unix milliseconds"
    );
}

#[tokio::test]
async fn every_handled_type_is_enqueued_with_its_attributes() {
    let stack = Stack::start(false, &[]).await;
    let factory = EventFactory::new();
    let events: Vec<StripeEvent> = CURRENCIES
        .iter()
        .take(3)
        .flat_map(|c| factory.lifecycle(c, unix_now()))
        .collect();
    for event in &events {
        let answer = stack.post_signed(event).await;
        assert_eq!(answer.status, 200, "{}: {}", event.event_type, answer.json);
        assert_eq!(answer.json["id"], event.id);
    }
    let messages = stack.drain().await;
    assert_eq!(messages.len(), events.len());
    let by_id: HashMap<&str, &StripeEvent> = events.iter().map(|e| (e.id.as_str(), e)).collect();
    for message in &messages {
        assert_message_matches(by_id[message.attributes["event_id"].as_str()], message);
    }
}

#[tokio::test]
async fn fifo_queues_get_group_and_deduplication_ids() {
    let stack = Stack::start(true, &[]).await;
    let factory = EventFactory::new();
    let events = factory.lifecycle("jpy", unix_now());
    for event in &events {
        assert_eq!(stack.post_signed(event).await.status, 200);
    }
    let messages = stack.drain().await;
    assert_eq!(messages.len(), events.len());
    for message in &messages {
        let event = events
            .iter()
            .find(|e| e.id == message.attributes["event_id"])
            .expect("a sent event");
        assert_eq!(message.group_id.as_deref(), Some(event.object_id.as_str()));
        assert_eq!(message.deduplication_id.as_deref(), Some(event.id.as_str()));
        assert_message_matches(event, message);
    }
}

#[tokio::test]
async fn parallel_requests_each_get_their_own_message() {
    let stack = Stack::start(false, &[]).await;
    let factory = EventFactory::new();
    let events: Vec<StripeEvent> = (0..300)
        .map(|i| {
            let currency = CURRENCIES[i % CURRENCIES.len()];
            let customer = factory.customer(unix_now());
            let customer_id = customer["id"].as_str().unwrap_or_default().to_owned();
            let amount = testkit::stripe::sample_amount(currency, 1 + i as i64);
            factory.event(
                "payment_intent.succeeded",
                factory.payment_intent(&customer_id, amount, currency, unix_now(), None),
                None,
                unix_now(),
            )
        })
        .collect();
    let answers = futures_join_all(&stack, &events).await;
    for (event, status) in events.iter().zip(&answers) {
        assert_eq!(*status, 200, "{}", event.id);
    }
    let messages = stack.drain().await;
    assert_eq!(
        messages.len(),
        events.len(),
        "every 200 is matched by exactly one message"
    );
    let by_id: HashMap<&str, &StripeEvent> = events.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut seen = std::collections::HashSet::new();
    for message in &messages {
        let id = message.attributes["event_id"].as_str();
        assert!(seen.insert(id.to_owned()), "{id} enqueued twice");
        assert_message_matches(by_id[id], message);
    }
    let (_, metrics) = stack.get("/metrics").await;
    assert!(metrics.contains("ingress_sqs_batch_size"), "{metrics}");
}

async fn futures_join_all(stack: &Stack, events: &[StripeEvent]) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for (index, event) in events.iter().cloned().enumerate() {
        let http = stack.http.clone();
        let base = stack.base.clone();
        tasks.spawn(async move {
            let body = event.body();
            let header = testkit::stripe::sign(support::SECRET, unix_now(), &body);
            let response = http
                .post(format!("{base}/webhook/stripe"))
                .header("stripe-signature", header)
                .body(body)
                .send()
                .await
                .expect("the ingress answers");
            (index, response.status().as_u16())
        });
    }
    let mut statuses = vec![0; events.len()];
    while let Some(result) = tasks.join_next().await {
        let (index, status) = result.expect("task completes");
        statuses[index] = status;
    }
    statuses
}

#[tokio::test]
async fn unhandled_types_are_acknowledged_but_not_enqueued() {
    let stack = Stack::start(false, &[]).await;
    let factory = EventFactory::new();
    let event = factory.event(
        "charge.refunded",
        serde_json::json!({ "id": "ch_1", "object": "charge" }),
        None,
        unix_now(),
    );
    let answer = stack.post_signed(&event).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["id"], event.id);
    assert!(stack.drain().await.is_empty());
    let (_, metrics) = stack.get("/metrics").await;
    assert!(
        metrics.lines().any(|l| l.starts_with("ingress_ignored_events_total") && l.contains("charge.refunded")),
        "{metrics}"
    );
}

#[tokio::test]
async fn every_type_is_enqueued_when_configured() {
    let stack = Stack::start(false, &[("HANDLED_EVENT_TYPES", "*")]).await;
    let factory = EventFactory::new();
    let event = factory.event(
        "charge.refunded",
        serde_json::json!({ "id": "ch_1", "object": "charge" }),
        None,
        unix_now(),
    );
    assert_eq!(stack.post_signed(&event).await.status, 200);
    let messages = stack.drain().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].attributes["event_type"], "charge.refunded");
}
