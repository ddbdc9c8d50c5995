//! The Salesforce client against the simulator over HTTP, without Redis: one login shared
//! by several client instances, renewal after expiry, and the class of every failure the
//! simulator can inject. (The workers test the same sharing through their Redis stores.)

use std::{sync::Arc, time::Duration};

use salesforce_client::{
    CallGate, ClientCredentials, CompositeRequest, Coordination, FailureClass, Grant, Interrupted,
    SalesforceClient, SalesforceError, SalesforceSettings, StoreFuture, Subrequest,
};
use serde_json::{json, Map, Value};
use sfsim::{RunningSimulator, SimAdmin, SimConfig, Simulator};

/// A running simulator and its admin API.
struct Sim {
    sim: RunningSimulator,
    admin: SimAdmin,
}

impl Sim {
    async fn start() -> Self {
        Self::start_with(SimConfig::on_free_port()).await
    }

    async fn start_with(config: SimConfig) -> Self {
        let sim = Simulator::start(config).await.expect("sfsim starts");
        let admin = sim.admin();
        Self { sim, admin }
    }

    async fn tokens_issued(&self) -> u64 {
        self.admin.tokens_issued().await.expect("sfsim answers")
    }

    async fn set_faults(&self, faults: Value) {
        self.admin
            .set_faults(faults)
            .await
            .expect("faults accepted");
    }
}

fn settings(sim: &Sim, secret: &str) -> SalesforceSettings {
    SalesforceSettings {
        credentials: ClientCredentials {
            login_url: sim.sim.base_url().to_owned(),
            client_id: sim.sim.client_id().to_owned(),
            grant: Grant::ClientSecret(secret.to_owned()),
        },
        api_version: "v62.0".into(),
        request_timeout: Duration::from_secs(10),
        token_lifetime: Duration::from_secs(3600),
    }
}

fn client(sim: &Sim, shared: &Coordination) -> SalesforceClient {
    SalesforceClient::new(settings(sim, sim.sim.client_secret()), shared.clone()).expect("client")
}

fn customer(id: &str) -> Map<String, Value> {
    json!({ "Stripe_Customer_ID__c": id, "Customer_Name__c": "Jenny Rosén" })
        .as_object()
        .cloned()
        .expect("object")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_clients_share_one_login_and_renew_it_once_after_expiry() {
    let sim = Sim::start().await;
    let shared = Coordination::in_process();
    let clients: Vec<SalesforceClient> = (0..5).map(|_| client(&sim, &shared)).collect();
    let mut calls = tokio::task::JoinSet::new();
    for (i, client) in clients.iter().cloned().enumerate() {
        calls.spawn(async move {
            client
                .upsert(
                    "Stripe_Customer__c",
                    "Stripe_Customer_ID__c",
                    &format!("cus_{i}"),
                    &customer(&format!("cus_{i}")),
                )
                .await
        });
    }
    while let Some(result) = calls.join_next().await {
        assert!(result.unwrap().unwrap().is_success());
    }
    assert_eq!(sim.tokens_issued().await, 1, "five clients, one login");

    sim.admin.expire_sessions().await.unwrap();
    let mut calls = tokio::task::JoinSet::new();
    for client in clients.clone() {
        calls.spawn(async move { client.query("SELECT Id FROM Stripe_Customer__c").await });
    }
    while let Some(result) = calls.join_next().await {
        assert_eq!(result.unwrap().unwrap().len(), 5);
    }
    assert_eq!(sim.tokens_issued().await, 2, "one renewal for all of them");
    let usage = clients[0]
        .latest_usage()
        .await
        .expect("Sforce-Limit-Info recorded");
    assert!(usage.used >= 5 && usage.max > usage.used, "{usage:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_injected_failure_gets_its_class() {
    let sim = Sim::start().await;
    let client = client(&sim, &Coordination::in_process());
    let records = vec![customer("cus_a")];
    let collection =
        || client.upsert_collection("Stripe_Customer__c", "Stripe_Customer_ID__c", &records);

    for (status, class) in [
        (503, FailureClass::Retryable),
        (500, FailureClass::Retryable),
        (502, FailureClass::Retryable),
        (403, FailureClass::Retryable),
    ] {
        sim.set_faults(json!({ "error_rates": [{ "endpoint": "collections.upsert", "rate": 1.0, "status": status }] })).await;
        let error = collection().await.expect_err("injected failure");
        assert_eq!(error.class(), class, "status {status}: {error:?}");
    }
    sim.set_faults(
        json!({ "outages": [{ "start_after_ms": 0, "duration_ms": 60000, "html": true }] }),
    )
    .await;
    let error = collection().await.expect_err("outage");
    assert_eq!(
        (error.class(), error.code()),
        (FailureClass::Retryable, Some("HTML")),
        "{error:?}"
    );

    sim.set_faults(json!({ "lock_row_rate": 1.0 })).await;
    let outcomes = collection()
        .await
        .expect("the call succeeds, the record fails");
    assert_eq!(outcomes[0].failure_class(), Some(FailureClass::Retryable));
    assert_eq!(outcomes[0].errors[0].code, "UNABLE_TO_LOCK_ROW");
    sim.set_faults(json!({})).await;

    let mut bad = customer("cus_b");
    bad.insert("Customer_Email__c".into(), json!("not an e-mail"));
    let outcomes = client
        .upsert_collection(
            "Stripe_Customer__c",
            "Stripe_Customer_ID__c",
            &[bad, customer("cus_c")],
        )
        .await
        .unwrap();
    assert_eq!(outcomes[0].failure_class(), Some(FailureClass::Permanent));
    assert_eq!(outcomes[0].errors[0].code, "INVALID_EMAIL_ADDRESS");
    assert!(outcomes[1].is_success(), "its batch-mate is written");

    // A field the org does not have fails the whole request (a mapping mistake).
    let mut unknown = customer("cus_d");
    unknown.insert("No_Such_Field__c".into(), json!("x"));
    let error = client
        .upsert_collection("Stripe_Customer__c", "Stripe_Customer_ID__c", &[unknown])
        .await
        .expect_err("unknown field");
    assert_eq!(
        (error.class(), error.code()),
        (FailureClass::Permanent, Some("INVALID_FIELD"))
    );

    sim.admin.set_daily_usage(1000, 1000).await.unwrap();
    let error = collection().await.expect_err("allocation spent");
    assert_eq!(
        (error.class(), error.code()),
        (FailureClass::RateLimited, Some("REQUEST_LIMIT_EXCEEDED")),
        "{error:?}"
    );

    let wrong = SalesforceClient::new(settings(&sim, "not-the-secret"), Coordination::in_process())
        .unwrap();
    let error = wrong
        .query("SELECT Id FROM Stripe_Customer__c")
        .await
        .expect_err("bad credentials");
    assert!(matches!(error, SalesforceError::Login { .. }), "{error:?}");
    assert_eq!(error.class(), FailureClass::Auth);
    assert!(
        !format!("{error:?}{error}").contains("not-the-secret"),
        "the secret leaked into the error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwt_bearer_flow_logs_in_with_a_signed_assertion() {
    use salesforce_client::jwt::AssertionSigner;
    use sfsim::test_keys;

    let mut config = SimConfig::on_free_port();
    config.jwt_public_key_pem = Some(test_keys::PUBLIC_KEY_PEM.to_owned());
    let username = config.users[0].username.clone();
    let sim = Sim::start_with(config).await;
    let jwt = |audience: &str| SalesforceSettings {
        credentials: ClientCredentials {
            login_url: sim.sim.base_url().to_owned(),
            client_id: sim.sim.client_id().to_owned(),
            grant: Grant::JwtBearer {
                username: username.clone(),
                audience: audience.to_owned(),
                signer: Arc::new(AssertionSigner::from_pem(test_keys::PRIVATE_KEY_PEM).unwrap()),
            },
        },
        ..settings(&sim, "unused")
    };
    let client = SalesforceClient::new(
        jwt("https://login.salesforce.com"),
        Coordination::in_process(),
    )
    .unwrap();
    assert!(client
        .query("SELECT Id FROM Stripe_Customer__c")
        .await
        .unwrap()
        .is_empty());
    let tokens = sim.tokens_issued().await;
    assert_eq!(tokens, 1);

    let wrong_audience =
        SalesforceClient::new(jwt("https://evil.example.com"), Coordination::in_process()).unwrap();
    let error = wrong_audience
        .query("SELECT Id FROM Stripe_Customer__c")
        .await
        .expect_err("refused");
    assert_eq!(error.class(), FailureClass::Auth, "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_update_by_id_and_delete_one_call_each() {
    let sim = Sim::start().await;
    let client = client(&sim, &Coordination::in_process());
    let records: Vec<Map<String, Value>> = ["cus_u1", "cus_u2"].map(customer).to_vec();
    let upserted = client
        .upsert_collection("Stripe_Customer__c", "Stripe_Customer_ID__c", &records)
        .await
        .unwrap();
    let ids: Vec<String> = upserted.iter().filter_map(|o| o.id.clone()).collect();
    assert_eq!(ids.len(), 2);

    let renamed = json!({ "Customer_Name__c": "Renamed" })
        .as_object()
        .cloned()
        .unwrap();
    let updates: Vec<(String, Map<String, Value>)> =
        ids.iter().map(|id| (id.clone(), renamed.clone())).collect();
    let outcomes = client
        .update_collection("Stripe_Customer__c", &updates)
        .await
        .unwrap();
    assert!(outcomes.iter().all(|o| o.is_success()), "{outcomes:?}");
    let names = client
        .query("SELECT Customer_Name__c FROM Stripe_Customer__c")
        .await
        .unwrap();
    assert!(names.iter().all(|r| r["Customer_Name__c"] == "Renamed"));

    let deleted = client.delete_collection(&ids[..1]).await.unwrap();
    assert!(deleted[0].is_success(), "{deleted:?}");
    let again = client.delete_collection(&ids[..1]).await.unwrap();
    assert_eq!(again[0].errors[0].code, "ENTITY_IS_DELETED");
    assert!(client.delete_collection(&[]).await.unwrap().is_empty());
    let calls = sim.admin.calls().await.unwrap();
    assert_eq!(calls["by_endpoint"]["collections.update"], 1, "{calls}");
    assert_eq!(calls["by_endpoint"]["collections.delete"], 2, "{calls}");
    assert_eq!(
        client
            .query("SELECT Id FROM Stripe_Customer__c")
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Counts the calls the client's gate admits.
#[derive(Default)]
struct CountingGate(std::sync::atomic::AtomicU64);

impl CallGate for CountingGate {
    fn admit(&self) -> StoreFuture<'_, Result<(), Interrupted>> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_composite_request_writes_parents_then_children_in_one_call() {
    let sim = Sim::start().await;
    let gate = Arc::new(CountingGate::default());
    let coordination = Coordination {
        gate: gate.clone(),
        ..Coordination::in_process()
    };
    let client = client(&sim, &coordination);
    let children: Vec<Map<String, Value>> = [("sub_c1", "cus_c1"), ("sub_c2", "cus_missing")]
        .map(|(sub, customer)| {
            json!({ "Stripe_Subscription_ID__c": sub, "Status__c": "active",
                    "Stripe_Customer__r": { "Stripe_Customer_ID__c": customer } })
            .as_object()
            .cloned()
            .expect("object")
        })
        .to_vec();
    let mut request = CompositeRequest::in_order();
    request
        .push(Subrequest::upsert_collection(
            "parents",
            "Stripe_Customer__c",
            "Stripe_Customer_ID__c",
            &[customer("cus_c1")],
        ))
        .push(Subrequest::upsert_collection(
            "children",
            "Stripe_Subscription__c",
            "Stripe_Subscription_ID__c",
            &children,
        ))
        .push(Subrequest::query(
            "count",
            "SELECT Id FROM Stripe_Subscription__c",
        ));
    let responses = client
        .composite(&request)
        .await
        .expect("composite answered");
    assert_eq!(responses.len(), 3);
    let parents = responses[0].record_outcomes(1).unwrap();
    assert!(parents[0].is_success() && parents[0].created, "{parents:?}");
    let children = responses[1].record_outcomes(2).unwrap();
    assert!(children[0].is_success(), "{children:?}");
    assert!(children[1].errors[0]
        .message
        .contains("Foreign key external ID"));
    assert_eq!(responses[2].body["totalSize"], 1);
    assert_eq!(gate.0.load(std::sync::atomic::Ordering::Relaxed), 1);
    let calls = sim.admin.calls().await.unwrap();
    assert_eq!(calls["by_endpoint"]["composite"], 1, "{calls}");
    assert_eq!(client.latest_usage().await.map(|u| u.used), Some(1));

    let too_many = CompositeRequest {
        subrequests: (0..6)
            .map(|i| Subrequest::query(format!("q{i}"), "SELECT Id FROM Stripe_Customer__c"))
            .collect(),
        ..CompositeRequest::in_order()
    };
    let refused = client
        .composite(&too_many)
        .await
        .expect_err("over the limit");
    assert!(
        matches!(refused, SalesforceError::Unexpected(_)),
        "{refused:?}"
    );
    assert_eq!(
        gate.0.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "not sent"
    );
}
