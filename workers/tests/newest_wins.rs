//! Newest wins per Salesforce record, end to end with `workers realtime`, Redis and sfsim:
//! two Stripe objects writing one record (the ledger and coalescing decide), and writes that
//! land late (the fence in Salesforce decides): a request Salesforce executes after the
//! client timed out, and a replica frozen with SIGSTOP past its claim.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{sim::Sim, BridgeStack};
use testkit::harness::wait_for;
use testkit::stripe::{unix_now, EventFactory, StripeEvent};
use workers::store::Priority;

const WAIT: Duration = Duration::from_secs(60);
const DONE: &[&str] = &["applied", "superseded", "stale"];

/// Stripe's sequence for a subscription whose renewal fails and which is then canceled:
/// `invoice.payment_failed` (created earlier) and `customer.subscription.deleted`.
struct RenewalThenCancel {
    subscription_id: String,
    failed: StripeEvent,
    deleted: StripeEvent,
}

fn renewal_then_cancel(factory: &EventFactory, customer: &str, base: i64) -> RenewalThenCancel {
    let subscription = factory.subscription(customer, "past_due", 1000, "usd", base);
    let subscription_id = subscription["id"].as_str().unwrap_or_default().to_owned();
    let invoice = factory.invoice(customer, &subscription_id, 1000, "usd", base + 10, false);
    let failed = factory.event("invoice.payment_failed", invoice, None, base + 10);
    let mut canceled = subscription;
    canceled["status"] = json!("canceled");
    let deleted = factory.event("customer.subscription.deleted", canceled, None, base + 20);
    RenewalThenCancel {
        subscription_id,
        failed,
        deleted,
    }
}

/// A subscription update to `status` at `created`.
fn status_update(
    factory: &EventFactory,
    subscription: &Value,
    status: &str,
    created: i64,
) -> StripeEvent {
    let mut object = subscription.clone();
    object["status"] = json!(status);
    factory.event(
        "customer.subscription.updated",
        object,
        Some(json!({"status": "x"})),
        created,
    )
}

async fn subscription(sim: &Sim, id: &str) -> Value {
    sim.record_by("Stripe_Subscription__c", "Stripe_Subscription_ID__c", id)
        .await
        .unwrap_or_else(|| panic!("no subscription {id}"))
}

/// Has the consumer log in and learn that `customer` exists (another subscription of it), so
/// that the next event's first call is its subscription write.
async fn warm_up(stack: &BridgeStack, factory: &EventFactory, customer: &str) {
    let other = factory.subscription(customer, "active", 1000, "usd", unix_now() - 2000);
    let created = factory.event(
        "customer.subscription.created",
        other,
        None,
        unix_now() - 2000,
    );
    stack
        .enqueue(Priority::High, std::slice::from_ref(&created))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&created), &["applied"], WAIT)
        .await;
}

/// Waits until no request is executing in the simulator: a late write has landed.
async fn settled(sim: &Sim) {
    let idle = wait_for("sfsim idle", WAIT, || async {
        (sim.calls().await["in_flight"] == 0).then_some(())
    })
    .await;
    assert!(idle.is_ok(), "{idle:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_invoice_failure_does_not_undo_a_cancellation() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let base = unix_now() - 1000;
    let apart = renewal_then_cancel(&factory, "cus_apart", base);
    let together = renewal_then_cancel(&factory, "cus_together", base);

    // Together: both in the stream before the worker starts, so one batch decides.
    stack
        .enqueue(
            Priority::High,
            &[together.deleted.clone(), together.failed.clone()],
        )
        .await;
    let _worker = stack.start_consumer("realtime", &sim, &[]).await;
    // Apart: the cancellation is applied first; the invoice event comes later.
    stack
        .enqueue(Priority::High, std::slice::from_ref(&apart.deleted))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&apart.deleted), &["applied"], WAIT)
        .await;
    stack
        .enqueue(Priority::High, std::slice::from_ref(&apart.failed))
        .await;
    let all = [
        apart.deleted.clone(),
        apart.failed.clone(),
        together.deleted.clone(),
        together.failed.clone(),
    ];
    stack.wait_for_states(&all, DONE, WAIT).await;

    for case in [&apart, &together] {
        let record = subscription(&sim, &case.subscription_id).await;
        assert_eq!(record["Status__c"], "canceled", "{record}");
        assert_eq!(record["Last_Stripe_Event_ID__c"], case.deleted.id.as_str());
        // The invoice event's other write still happened: its payment transaction.
        let transaction = sim
            .record_by(
                "Payment_Transaction__c",
                "Stripe_Payment_Intent_ID__c",
                &case.failed.object_id,
            )
            .await
            .expect("the invoice's transaction");
        assert_eq!(transaction["Status__c"], "requires_payment_method");
        assert_eq!(transaction["Stripe_Subscription__c"], record["Id"]);
        // The invoice event only makes sure the subscription exists (a stub): the status is
        // the subscription events' to write, so nothing of it had to be superseded.
        let lifecycle = stack.lifecycle(&case.failed.id).await;
        assert_eq!(lifecycle["state"], "applied", "{lifecycle:?}");
        assert!(
            lifecycle
                .get("superseded_writes")
                .is_none_or(|records| !records.contains("stripe_subscription__c")),
            "{lifecycle:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_landing_after_its_successor_does_not_regress_the_record() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let _worker = stack
        .start_consumer(
            "realtime",
            &sim,
            &[
                ("SALESFORCE_TIMEOUT_MS", "300"),
                ("RETRY_DELAYS_SECS", "1,1,1,1,1"),
            ],
        )
        .await;
    let factory = EventFactory::new();
    warm_up(&stack, &factory, "cus_late").await;
    let base = unix_now() - 1000;
    let object = factory.subscription("cus_late", "incomplete", 1000, "usd", base);
    let id = object["id"].as_str().unwrap().to_owned();
    let older = status_update(&factory, &object, "incomplete", base + 1);
    let newer = status_update(&factory, &object, "active", base + 2);

    // Salesforce is slower than the client's timeout: the older event's write times out in
    // the worker, but the simulator keeps executing it.
    sim.set_faults(json!({"latency_ms": 3000})).await;
    stack
        .enqueue(Priority::High, std::slice::from_ref(&older))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&older), &["retrying"], WAIT)
        .await;
    // Salesforce is fast again: the newer event is written while the old request sleeps.
    sim.set_faults(json!({})).await;
    stack
        .enqueue(Priority::High, std::slice::from_ref(&newer))
        .await;
    stack
        .wait_for_states(&[older.clone(), newer.clone()], DONE, WAIT)
        .await;
    settled(&sim).await;

    let record = subscription(&sim, &id).await;
    assert_eq!(record["Status__c"], "active", "{record}");
    assert_eq!(record["Last_Stripe_Event_ID__c"], newer.id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_frozen_past_its_claim_does_not_regress_the_record() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let env = [
        ("CLAIM_TTL_MS", "1000"),
        ("RECLAIM_IDLE_MS", "2000"),
        ("SALESFORCE_TIMEOUT_MS", "20000"),
    ];
    let frozen = stack.start_consumer("realtime", &sim, &env).await;
    let factory = EventFactory::new();
    warm_up(&stack, &factory, "cus_frozen").await;
    let base = unix_now() - 1000;
    let object = factory.subscription("cus_frozen", "incomplete", 1000, "usd", base);
    let id = object["id"].as_str().unwrap().to_owned();
    let older = status_update(&factory, &object, "incomplete", base + 1);
    let newer = status_update(&factory, &object, "active", base + 2);

    // The first replica claims the older event and sends its write; then it freezes.
    sim.set_faults(json!({"latency_ms": 8000})).await;
    stack
        .enqueue(Priority::High, std::slice::from_ref(&older))
        .await;
    let in_flight = wait_for("the older write in flight", WAIT, || async {
        (sim.calls().await["in_flight"] == 1).then_some(())
    })
    .await;
    assert!(in_flight.is_ok(), "{in_flight:?}");
    frozen.pause().expect("SIGSTOP");

    // Its claim expires; a second replica writes the newer event meanwhile.
    sim.set_faults(json!({})).await;
    let _second = stack.start_consumer("realtime", &sim, &env).await;
    stack
        .enqueue(Priority::High, std::slice::from_ref(&newer))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&newer), &["applied"], WAIT)
        .await;
    // The frozen replica's write lands after the newer one, and the replica wakes up.
    settled(&sim).await;
    frozen.resume().expect("SIGCONT");
    stack
        .wait_for_states(&[older.clone(), newer.clone()], DONE, WAIT)
        .await;

    let record = subscription(&sim, &id).await;
    assert_eq!(record["Status__c"], "active", "{record}");
    assert_eq!(record["Last_Stripe_Event_ID__c"], newer.id.as_str());
    let dead = stack.entries("dead").await;
    assert!(
        dead.is_empty(),
        "a superseded write is not a failure: {dead:?}"
    );
}

/// Another writer that sets the event time too (a second fleet, a backfill, a person with
/// the Data Loader): upserts `customers` with a newer event time than the fleet's events.
async fn written_by_another_writer(sim: &Sim, customers: &[String], at: &str) {
    let http = testkit::harness::http_client();
    let token = sim.access_token().await;
    let records: Vec<Value> = customers
        .iter()
        .map(|id| {
            json!({
                "attributes": {"type": "Stripe_Customer__c"},
                "Stripe_Customer_ID__c": id,
                "Customer_Name__c": "Newer Writer",
                "Last_Stripe_Event_At__c": at,
                "Last_Stripe_Event_ID__c": "evt_elsewhere",
            })
        })
        .collect();
    let reply: Value = http
        .patch(format!(
            "{}/services/data/v62.0/composite/sobjects/Stripe_Customer__c/Stripe_Customer_ID__c",
            sim.sim.base_url()
        ))
        .bearer_auth(&token)
        .json(&json!({"allOrNone": true, "records": records}))
        .send()
        .await
        .expect("Collections answers")
        .json()
        .await
        .expect("a JSON answer");
    assert!(
        reply
            .as_array()
            .is_some_and(|results| results.iter().all(|r| r["success"] == true)),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_rows_of_a_bulk_job_are_superseded_not_failed() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let factory = EventFactory::new();
    let created = unix_now() - 1000;
    let events: Vec<StripeEvent> = (0..20)
        .map(|_| {
            let customer = factory.customer(created);
            factory.event("customer.updated", customer, None, created)
        })
        .collect();
    let (newer_elsewhere, fresh) = events.split_at(10);
    let ids: Vec<String> = newer_elsewhere
        .iter()
        .map(|e| e.object_id.clone())
        .collect();
    written_by_another_writer(&sim, &ids, "2099-01-01T00:00:00.000Z").await;

    stack.enqueue(Priority::Low, &events).await;
    let _worker = stack
        .start_consumer(
            "bulk",
            &sim,
            &[
                ("BULK_COLLECTIONS_THRESHOLD", "0"),
                ("BULK_BATCH_AGE_MS", "300"),
            ],
        )
        .await;
    stack
        .wait_for_states(&events, &["applied", "superseded"], WAIT)
        .await;

    assert!(
        sim.calls().await["by_endpoint"]["bulk.create_job"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "the rows went through a Bulk job"
    );
    for event in newer_elsewhere {
        let record = sim
            .record_by(
                "Stripe_Customer__c",
                "Stripe_Customer_ID__c",
                &event.object_id,
            )
            .await
            .expect("the customer");
        assert_eq!(record["Customer_Name__c"], "Newer Writer", "{record}");
        assert_eq!(stack.lifecycle(&event.id).await["state"], "superseded");
    }
    for event in fresh {
        let record = sim
            .record_by(
                "Stripe_Customer__c",
                "Stripe_Customer_ID__c",
                &event.object_id,
            )
            .await
            .expect("the customer");
        assert_eq!(record["Last_Stripe_Event_ID__c"], event.id.as_str());
        assert_eq!(stack.lifecycle(&event.id).await["state"], "applied");
    }
    assert!(stack.entries("dead").await.is_empty());
}
