//! The Salesforce client's shared state on Redis (`workers::store::RedisTokenStore`,
//! `RedisUsageStore`): clients with their own Redis connections, as replicas have, log in
//! once, renew once after expiry, and see the usage any of them recorded.

mod support;

use std::{sync::Arc, time::Duration};

use salesforce_client::{
    ClientCredentials, Coordination, Grant, SalesforceClient, SalesforceSettings, Ungated,
};
use support::sim::Sim;
use testkit::harness::RedisServer;
use workers::store::{KeySpace, RedisTokenStore, RedisUsageStore};

/// A client as one replica builds it: its own connection, the fleet's keys.
fn replica(sim: &Sim, redis: &RedisServer) -> SalesforceClient {
    let conn = workers::store::connect(&redis.url()).expect("redis");
    let keys = KeySpace::new("fleet");
    let settings = SalesforceSettings {
        credentials: ClientCredentials {
            login_url: sim.sim.base_url().to_owned(),
            client_id: sim.sim.client_id().to_owned(),
            grant: Grant::ClientSecret(sim.sim.client_secret().to_owned()),
        },
        api_version: "v62.0".into(),
        request_timeout: Duration::from_secs(10),
        token_lifetime: Duration::from_secs(3600),
    };
    let coordination = Coordination {
        tokens: Arc::new(RedisTokenStore::new(conn.clone(), &keys)),
        usage: Arc::new(RedisUsageStore::new(conn, &keys)),
        gate: Arc::new(Ungated),
    };
    SalesforceClient::new(settings, coordination).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_one_login_through_redis_and_renew_it_once() {
    let redis = RedisServer::start().await.unwrap();
    let sim = Sim::start().await;
    let replicas: Vec<SalesforceClient> = (0..5).map(|_| replica(&sim, &redis)).collect();
    let mut calls = tokio::task::JoinSet::new();
    for client in replicas.clone() {
        calls.spawn(async move { client.query("SELECT Id FROM Stripe_Customer__c").await });
    }
    while let Some(result) = calls.join_next().await {
        assert!(result.unwrap().unwrap().is_empty());
    }
    assert_eq!(sim.tokens_issued().await, 1, "five replicas, one login");

    sim.expire_sessions().await;
    let mut calls = tokio::task::JoinSet::new();
    for client in replicas.clone() {
        calls.spawn(async move { client.query("SELECT Id FROM Stripe_Customer__c").await });
    }
    while let Some(result) = calls.join_next().await {
        assert!(result.unwrap().is_ok());
    }
    assert_eq!(sim.tokens_issued().await, 2, "one renewal for all of them");

    let fresh = replica(&sim, &redis);
    let usage = fresh
        .latest_usage()
        .await
        .expect("usage recorded by the others is visible to a new replica");
    // Replicas record concurrently, so the last value stored is some response of the second
    // round: after the five calls of the first.
    assert!(usage.used > 5 && usage.max > usage.used, "{usage:?}");
    assert!(fresh
        .query("SELECT Id FROM Stripe_Customer__c")
        .await
        .is_ok());
    assert_eq!(
        sim.tokens_issued().await,
        2,
        "a new replica reuses the shared token"
    );
}
