//! Salesforce → Stripe through the real binary: a person's changes in `sfsim` arrive as
//! Change Data Capture events over the Pub/Sub API (gRPC over TLS), `workers outbound`
//! journals them into Redis and turns them into Stripe calls against `stripesim`, and writes
//! the results back to Salesforce.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::outbound::{Org, KEY, SETTLE};
use testkit::harness;

#[tokio::test]
async fn a_contact_becomes_one_stripe_customer_and_its_id_comes_back() {
    let org = Org::start().await;
    let outbound = org.outbound(&[]).await;
    org.wait_subscribed(&outbound).await;

    let contact = org.insert_contact("ada@example.com", "Lovelace").await;
    let customer_id = org.customer_of(&contact, &[&outbound]).await;

    let customers = org.stripe_customers().await;
    assert_eq!(customers.len(), 1, "{customers:?}");
    let customer = &customers[0];
    assert_eq!(customer["id"], customer_id.as_str());
    assert_eq!(customer["email"], "ada@example.com");
    assert_eq!(customer["name"], "Ada Lovelace");
    assert_eq!(customer["phone"], "555-0100");
    assert_eq!(customer["metadata"]["salesforce_id"], contact.as_str());
    let link = harness::wait_for("the Stripe_Customer__c link", SETTLE, || async {
        org.salesforce
            .record_by("Stripe_Customer__c", "Stripe_Customer_ID__c", &customer_id)
            .await
    })
    .await
    .expect("linked");
    assert_eq!(link["Contact__c"], contact.as_str());

    // A person's edit reaches the customer; the write-back did not bounce (still one
    // customer, and its data is the Contact's newest).
    org.person_call(
        reqwest::Method::PATCH,
        &format!("/sobjects/Contact/{contact}"),
        json!({"Email": "ada.lovelace@example.com"}),
    )
    .await;
    harness::wait_for("the new e-mail in Stripe", SETTLE, || async {
        let customers = org.stripe_customers().await;
        (customers.len() == 1 && customers[0]["email"] == "ada.lovelace@example.com").then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log: {}", outbound.log_contents()));
    let log = outbound.log_contents();
    assert!(
        !log.contains("ada@example.com"),
        "personal data in the log: {log}"
    );
}

#[tokio::test]
async fn two_replicas_and_a_killed_subscriber_still_make_one_customer_per_contact() {
    let org = Org::start().await;
    let mut first = org.outbound(&[]).await;
    org.wait_subscribed(&first).await;
    let second = org.outbound(&[]).await;

    let mut contacts = Vec::new();
    for n in 0..15 {
        contacts.push(
            org.insert_contact(&format!("p{n}@example.com"), &format!("P{n}"))
                .await,
        );
    }
    // The subscriber (the first replica holds the lease) dies mid-stream; the standby takes
    // the channel over from the stored replay id.
    first.kill();
    for n in 15..30 {
        contacts.push(
            org.insert_contact(&format!("p{n}@example.com"), &format!("P{n}"))
                .await,
        );
    }
    let mut ids = std::collections::HashSet::new();
    for contact in &contacts {
        ids.insert(org.customer_of(contact, &[&second]).await);
    }
    assert_eq!(ids.len(), contacts.len(), "one customer per Contact");
    let customers = org.stripe_customers().await;
    assert_eq!(
        customers.len(),
        contacts.len(),
        "no second customer for any Contact"
    );
    let named: std::collections::HashSet<&str> = customers
        .iter()
        .filter_map(|c| c["metadata"]["salesforce_id"].as_str())
        .collect();
    assert_eq!(named.len(), contacts.len());
}

#[tokio::test]
async fn a_refused_replay_id_is_caught_up_by_soql() {
    let org = Org::start().await;
    // A position from long ago: Salesforce no longer knows the replay id.
    let client = redis::Client::open(org.redis.url()).expect("redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let contact = org.insert_contact("grace@example.com", "Hopper").await;
    let since = common::time::unix_millis() - 10_000;
    let _: () = redis::cmd("HSET")
        .arg("{fleet}:outbound:replay:/data/ContactChangeEvent")
        .arg("replay_id")
        .arg("00000000ffffffff")
        .arg("commit_timestamp")
        .arg(since)
        .query_async(&mut conn)
        .await
        .expect("position stored");

    let outbound = org.outbound(&[]).await;
    let customer = org.customer_of(&contact, &[&outbound]).await;
    assert!(customer.starts_with("cus_"));
    assert!(
        outbound.log_contents().contains("Caught up by SOQL"),
        "{}",
        outbound.log_contents()
    );
    assert_eq!(org.stripe_customers().await.len(), 1);
}

#[tokio::test]
async fn a_pending_subscription_gets_a_checkout_page() {
    let org = Org::start().await;
    let outbound = org.outbound(&[]).await;
    org.wait_subscribed(&outbound).await;
    let contact = org.insert_contact("lin@example.com", "Lin").await;
    let customer_id = org.customer_of(&contact, &[&outbound]).await;
    let product = org.stripe_form("/v1/products", &[("name", "Pro")]).await;
    let price = org
        .stripe_form(
            "/v1/prices",
            &[
                ("product", product["id"].as_str().expect("product id")),
                ("currency", "eur"),
                ("unit_amount", "3000"),
                ("recurring[interval]", "month"),
            ],
        )
        .await;
    let price_id = price["id"].as_str().expect("price id");
    let link = harness::wait_for("the customer record", SETTLE, || async {
        org.salesforce
            .record_by("Stripe_Customer__c", "Stripe_Customer_ID__c", &customer_id)
            .await
    })
    .await
    .expect("linked");
    let created = org
        .person_call(
            reqwest::Method::POST,
            "/sobjects/Stripe_Subscription__c",
            json!({
                "Sync_Status__c": "Pending",
                "Stripe_Price_ID__c": price_id,
                "Stripe_Customer__c": link["Id"],
            }),
        )
        .await;
    let record_id = created["id"].as_str().expect("id").to_owned();
    let record = harness::wait_for("the Checkout URL", SETTLE, || async {
        org.salesforce
            .record_by("Stripe_Subscription__c", "Id", &record_id)
            .await
            .filter(|r| r["Sync_Status__c"] == "Checkout Created")
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log: {}", outbound.log_contents()));
    assert!(record["Checkout_URL__c"]
        .as_str()
        .is_some_and(|u| u.starts_with("http")));
    let session_id = record["Stripe_Checkout_Session_ID__c"]
        .as_str()
        .expect("session");
    let session: Value = org
        .http
        .get(format!(
            "{}/v1/checkout/sessions/{session_id}",
            org.stripe.base_url()
        ))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("stripesim answers")
        .json()
        .await
        .expect("a session");
    assert_eq!(session["customer"], customer_id.as_str());
    assert_eq!(session["client_reference_id"], record_id.as_str());

    // No price on the record, but a plan record pointing at it has one.
    let planned = org
        .person_call(
            reqwest::Method::POST,
            "/sobjects/Stripe_Subscription__c",
            json!({"Stripe_Customer__c": link["Id"]}),
        )
        .await;
    let planned_id = planned["id"].as_str().expect("id").to_owned();
    org.person_call(
        reqwest::Method::POST,
        "/sobjects/Pricing_Plan__c",
        json!({"Name": "Pro monthly", "Stripe_Price_ID__c": price_id, "Stripe_Subscription__c": planned_id}),
    )
    .await;
    org.person_call(
        reqwest::Method::PATCH,
        &format!("/sobjects/Stripe_Subscription__c/{planned_id}"),
        json!({"Sync_Status__c": "Pending"}),
    )
    .await;
    harness::wait_for("the plan's Checkout URL", SETTLE, || async {
        org.salesforce
            .record_by("Stripe_Subscription__c", "Id", &planned_id)
            .await
            .filter(|r| r["Sync_Status__c"] == "Checkout Created")
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log: {}", outbound.log_contents()));

    // A price Stripe does not know: the record says Failed, with the reason.
    let refused = org
        .person_call(
            reqwest::Method::POST,
            "/sobjects/Stripe_Subscription__c",
            json!({
                "Sync_Status__c": "Pending",
                "Stripe_Price_ID__c": "price_unknown",
                "Stripe_Customer__c": link["Id"],
            }),
        )
        .await;
    let refused_id = refused["id"].as_str().expect("id").to_owned();
    let failed = harness::wait_for("the refusal in Salesforce", SETTLE, || async {
        org.salesforce
            .record_by("Stripe_Subscription__c", "Id", &refused_id)
            .await
            .filter(|r| r["Sync_Status__c"] == "Failed")
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log: {}", outbound.log_contents()));
    assert!(failed["Error_Message__c"]
        .as_str()
        .is_some_and(|m| m.contains("Stripe refused")));
}

#[tokio::test]
async fn a_crash_between_stripe_and_the_write_back_makes_no_second_customer() {
    let org = Org::start().await;
    let mut doomed = org
        .outbound(&[("FAILPOINTS", "outbound-before-write-back=return")])
        .await;
    org.wait_subscribed(&doomed).await;
    let contact = org.insert_contact("kat@example.com", "Johnson").await;
    // Stripe made the customer, then the process died before Salesforce heard of it.
    let deadline = std::time::Instant::now() + SETTLE;
    while doomed.is_running() {
        assert!(
            std::time::Instant::now() < deadline,
            "the failpoint did not abort: {}",
            doomed.log_contents()
        );
        tokio::time::sleep(Duration::from_millis(20)).await; // polling, with a deadline
    }
    assert_eq!(org.stripe_customers().await.len(), 1);
    assert!(org.contact(&contact).await.expect("contact")["Stripe_Customer_ID__c"].is_null());

    // A new replica takes the entry over (it was never acknowledged) and finds the customer.
    let healthy = org.outbound(&[]).await;
    let customer_id = org.customer_of(&contact, &[&healthy]).await;
    let customers = org.stripe_customers().await;
    assert_eq!(customers.len(), 1, "{customers:?}");
    assert_eq!(customers[0]["id"], customer_id.as_str());
}

#[tokio::test]
async fn changes_delivered_again_with_every_marker_gone_make_no_second_customer() {
    let org = Org::start().await;
    let mut first = org.outbound(&[]).await;
    org.wait_subscribed(&first).await;
    let mut contacts = Vec::new();
    for n in 0..5 {
        contacts.push(
            org.insert_contact(&format!("d{n}@example.com"), &format!("D{n}"))
                .await,
        );
    }
    let mut customers = Vec::new();
    for contact in &contacts {
        customers.push(org.customer_of(contact, &[&first]).await);
    }
    first.kill();
    // Every change again from the start of the retention, with the dedupe markers, the
    // applied markers and the stored position gone: only the recorded attempts remain.
    let client = redis::Client::open(org.redis.url()).expect("redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    for pattern in [
        "{fleet}:seen:*",
        "{fleet}:applied:*",
        "{fleet}:outbound:replay:*",
        "{fleet}:record:*",
    ] {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(pattern)
            .query_async(&mut conn)
            .await
            .expect("keys");
        for key in keys {
            let _: () = redis::cmd("DEL")
                .arg(key)
                .query_async(&mut conn)
                .await
                .expect("del");
        }
    }
    let again = org.outbound(&[("OUTBOUND_START", "earliest")]).await;
    // Journaling a change sets its dedupe marker: the first run's 5 creates and 5
    // write-back echoes are all journaled again.
    harness::wait_for("the changes journaled again", SETTLE, || async {
        let seen: Vec<String> = redis::cmd("KEYS")
            .arg("{fleet}:seen:*")
            .query_async(&mut conn.clone())
            .await
            .ok()?;
        (seen.len() >= 10).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log: {}", again.log_contents()));
    harness::wait_for("every redelivered change settled", SETTLE, || async {
        let pending: (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
            .arg("{fleet}:outbound")
            .arg("outbound")
            .query_async(&mut conn.clone())
            .await
            .ok()?;
        let length: u64 = redis::cmd("XLEN")
            .arg("{fleet}:outbound")
            .query_async(&mut conn.clone())
            .await
            .ok()?;
        (pending.0 == 0 && length == 0).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log: {}", again.log_contents()));
    let stripe = org.stripe_customers().await;
    assert_eq!(stripe.len(), contacts.len(), "no second customer");
    for (contact, customer) in contacts.iter().zip(&customers) {
        let now = org.contact(contact).await.expect("contact");
        assert_eq!(now["Stripe_Customer_ID__c"], customer.as_str());
    }
}

#[tokio::test]
async fn a_gap_event_is_read_back_from_salesforce() {
    let org = Org::start().await;
    // Created while nobody listened (and no position is stored): missed.
    let missed = org.insert_contact("gap@example.com", "Gap").await;
    let outbound = org.outbound(&[]).await;
    org.wait_subscribed(&outbound).await;
    // Salesforce reports that it could not send the change's data.
    let reply = org
        .http
        .post(format!("{}/__sim/pubsub/gap", org.salesforce.sim.base_url()))
        .json(&json!({"channel": "/data/ContactChangeEvent", "changeType": "GAP_UPDATE", "recordIds": [missed]}))
        .send()
        .await
        .expect("sfsim answers");
    assert!(reply.status().is_success(), "{}", reply.status());
    let customer = org.customer_of(&missed, &[&outbound]).await;
    assert!(customer.starts_with("cus_"));
}

#[tokio::test]
async fn a_stripe_outage_is_retried_then_dead_lettered_and_replayable() {
    let org = Org::start().await;
    let outbound = org.outbound(&[]).await;
    org.wait_subscribed(&outbound).await;
    let faults = |body: Value| {
        let http = org.http.clone();
        let url = format!("{}/__sim/faults", org.stripe.base_url());
        async move {
            let reply = http
                .put(url)
                .json(&body)
                .send()
                .await
                .expect("stripesim answers");
            assert!(reply.status().is_success());
        }
    };
    faults(json!({"outage": {"status": 503}})).await;
    let contact = org.insert_contact("out@example.com", "Age").await;
    let client = redis::Client::open(org.redis.url()).expect("redis URL");
    let conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    // RETRY_DELAYS_SECS=1,1: two retries, then the dead letters.
    harness::wait_for("the change in the dead letters", SETTLE, || async {
        let dead: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg("{fleet}:dead")
            .arg("-")
            .arg("+")
            .query_async(&mut conn.clone())
            .await
            .ok()?;
        dead.iter()
            .any(|(_, fields)| {
                fields.iter().any(|(k, v)| k == "source" && v == "outbound")
                    && fields
                        .iter()
                        .any(|(k, v)| k == "object_id" && v == &contact)
            })
            .then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; log: {}", outbound.log_contents()));
    assert!(org.stripe_customers_unfaulted().await.is_empty());

    // Stripe is back; the operator replays the dead letters.
    faults(json!({})).await;
    let replay = std::process::Command::new(env!("CARGO_BIN_EXE_workers"))
        .args(["dlq", "replay", "--all"])
        .env("REDIS_URL", org.redis.url())
        .output()
        .expect("workers dlq replay runs");
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let customer = org.customer_of(&contact, &[&outbound]).await;
    assert!(customer.starts_with("cus_"));
    assert_eq!(org.stripe_customers().await.len(), 1);
}

/// The sum of a metric's series on `/metrics` at `port` whose labels contain `labels`.
async fn metric(http: &reqwest::Client, port: u16, name: &str, labels: &str) -> f64 {
    let text = http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|line| line.starts_with(name) && line.contains(labels))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_directions_complete_a_subscription_and_nothing_bounces() {
    let org = Org::start().await;
    let inbound = org.start_inbound().await;
    let (outbound, port) = org.outbound_with_port(&[]).await;
    org.wait_subscribed(&outbound).await;
    let logs = || {
        format!(
            "{}\n--- outbound:\n{}",
            inbound.logs(),
            outbound.log_contents()
        )
    };

    // Salesforce → Stripe: the Contact's customer; Stripe → Salesforce: its customer.created
    // fills the linked Stripe_Customer__c.
    let contact = org.insert_contact("both@example.com", "Ways").await;
    let customer_id = org.customer_of(&contact, &[&outbound]).await;
    let customer = org
        .record_where(
            "Stripe_Customer__c",
            "Stripe_Customer_ID__c",
            &customer_id,
            |r| r["Customer_Email__c"] == "both@example.com" && r["Contact__c"] == contact.as_str(),
            logs,
        )
        .await;

    // A person asks for a subscription; the fleet opens its Checkout page.
    let product = org.stripe_form("/v1/products", &[("name", "Team")]).await;
    let price = org
        .stripe_form(
            "/v1/prices",
            &[
                ("product", product["id"].as_str().expect("product id")),
                ("currency", "usd"),
                ("unit_amount", "4900"),
                ("recurring[interval]", "month"),
            ],
        )
        .await;
    let price_id = price["id"].as_str().expect("price id");
    let created = org
        .person_call(
            reqwest::Method::POST,
            "/sobjects/Stripe_Subscription__c",
            json!({"Sync_Status__c": "Pending", "Stripe_Price_ID__c": price_id, "Stripe_Customer__c": customer["Id"]}),
        )
        .await;
    let record_id = created["id"].as_str().expect("id").to_owned();
    let opened = org
        .record_where(
            "Stripe_Subscription__c",
            "Id",
            &record_id,
            |r| r["Sync_Status__c"] == "Checkout Created",
            logs,
        )
        .await;
    let session = opened["Stripe_Checkout_Session_ID__c"]
        .as_str()
        .expect("session id");

    // The customer pays; checkout.session.completed comes back and completes the record.
    let reply = org
        .http
        .post(format!(
            "{}/__sim/checkout/sessions/{session}/complete",
            org.stripe.base_url()
        ))
        .send()
        .await
        .expect("stripesim answers");
    assert!(reply.status().is_success(), "{}", reply.status());
    let completed = org
        .record_where(
            "Stripe_Subscription__c",
            "Id",
            &record_id,
            |r| {
                r["Sync_Status__c"] == "Completed"
                    && r["Stripe_Subscription_ID__c"]
                        .as_str()
                        .is_some_and(|id| id.starts_with("sub_"))
            },
            logs,
        )
        .await;
    assert_eq!(completed["Amount__c"].as_f64(), Some(49.0));
    let payments = harness::wait_for("the first payment's transactions", SETTLE, || async {
        let all = org.salesforce.records("Payment_Transaction__c").await;
        (all.len() >= 2).then_some(all)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; {}", logs()));
    assert!(
        payments.iter().all(|p| p["Status__c"] == "succeeded"),
        "{payments:?}"
    );

    // Nothing bounced: the inbound writes to both records came back as changes and were
    // echoes or irrelevant; the outbound replica made exactly its two Stripe requests.
    harness::wait_for("the outbound stream drained", SETTLE, || async {
        let client = redis::Client::open(org.redis.url()).ok()?;
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        let length: u64 = redis::cmd("XLEN")
            .arg("{fleet}:outbound")
            .query_async(&mut conn)
            .await
            .ok()?;
        (length == 0).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}; {}", logs()));
    let requests = metric(&org.http, port, "stripe_requests_total", "outcome=\"ok\"").await;
    assert_eq!(requests, 2.0, "a customer and a session, nothing more");
    let echoes = metric(&org.http, port, "worker_events_total", "outcome=\"echo\"").await;
    assert!(echoes >= 1.0, "the write-backs came back as echoes");
    assert_eq!(org.stripe_customers().await.len(), 1);
}
