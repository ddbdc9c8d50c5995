//! The Salesforce client (`common::salesforce`) against the simulator over HTTP: one login
//! shared by several client instances, renewal after expiry, and the class of every failure
//! the simulator can inject.

mod support;

use std::{sync::Arc, time::Duration};

use common::{
    keys::KeySpace,
    salesforce::{
        ClientCredentials, FailureClass, Grant, SalesforceClient, SalesforceError,
        SalesforceSettings, Ungated,
    },
};
use serde_json::{json, Map, Value};
use support::sim::Sim;
use testkit::harness::RedisServer;

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

fn client(sim: &Sim, redis: &RedisServer) -> SalesforceClient {
    let conn = workers::store::connect(&redis.url()).expect("redis");
    SalesforceClient::new(
        settings(sim, sim.sim.client_secret()),
        conn,
        &KeySpace::new("fleet"),
        Arc::new(Ungated),
    )
    .expect("client")
}

fn customer(id: &str) -> Map<String, Value> {
    json!({ "Stripe_Customer_ID__c": id, "Customer_Name__c": "Jenny Rosén" })
        .as_object()
        .cloned()
        .expect("object")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_clients_share_one_login_and_renew_it_once_after_expiry() {
    let redis = RedisServer::start().await.unwrap();
    let sim = Sim::start().await;
    let clients: Vec<SalesforceClient> = (0..5).map(|_| client(&sim, &redis)).collect();
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

    sim.expire_sessions().await;
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
    let redis = RedisServer::start().await.unwrap();
    let sim = Sim::start().await;
    let client = client(&sim, &redis);
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

    let response = sim
        .http
        .put(format!("{}/__sim/limits", sim.sim.base_url()))
        .json(&json!({ "daily_api_used": 1000, "daily_api_max": 1000 }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let error = collection().await.expect_err("allocation spent");
    assert_eq!(
        (error.class(), error.code()),
        (FailureClass::RateLimited, Some("REQUEST_LIMIT_EXCEEDED")),
        "{error:?}"
    );

    let wrong = SalesforceClient::new(
        settings(&sim, "not-the-secret"),
        workers::store::connect(&redis.url()).unwrap(),
        &KeySpace::new("other"),
        Arc::new(Ungated),
    )
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
    use common::salesforce::jwt::AssertionSigner;
    use sfsim::{test_keys, SimConfig};

    let redis = RedisServer::start().await.unwrap();
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
    let conn = workers::store::connect(&redis.url()).unwrap();
    let client = SalesforceClient::new(
        jwt("https://login.salesforce.com"),
        conn.clone(),
        &KeySpace::new("jwt"),
        Arc::new(Ungated),
    )
    .unwrap();
    assert!(client
        .query("SELECT Id FROM Stripe_Customer__c")
        .await
        .unwrap()
        .is_empty());
    let tokens = sim.tokens_issued().await;
    assert_eq!(tokens, 1);

    let wrong_audience = SalesforceClient::new(
        jwt("https://evil.example.com"),
        conn,
        &KeySpace::new("jwt2"),
        Arc::new(Ungated),
    )
    .unwrap();
    let error = wrong_audience
        .query("SELECT Id FROM Stripe_Customer__c")
        .await
        .expect_err("refused");
    assert_eq!(error.class(), FailureClass::Auth, "{error:?}");
}
