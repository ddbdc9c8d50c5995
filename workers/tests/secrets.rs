//! The workers' secrets from AWS Secrets Manager (moto in server mode): a worker started with
//! a wrong Salesforce client secret in the secret cannot log in; once the secret is rotated
//! to the right one, the next login uses it and the waiting event is applied, no restart.

mod support;

use std::time::Duration;

use support::{sim::Sim, BridgeStack};
use testkit::harness::MotoServer;
use testkit::stripe::{unix_now, EventFactory};
use workers::store::Priority;

const SECRET_ID: &str = "sfsync/workers";
const WAIT: Duration = Duration::from_secs(60);

fn secret_json(client_secret: &str) -> String {
    serde_json::json!({ "SALESFORCE_CLIENT_SECRET": client_secret }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_salesforce_client_secret_is_used_at_the_next_login() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let moto = MotoServer::start().await.expect("moto starts");
    moto.put_secret(SECRET_ID, &secret_json("not-the-secret"))
        .await
        .expect("secret created");
    let mut env: Vec<(&str, String)> = moto.env();
    env.push(("SECRETS_MANAGER_SECRET_ID", SECRET_ID.to_owned()));
    env.push(("SECRETS_REFRESH_SECS", "1".to_owned()));
    env.push((
        "RETRY_DELAYS_SECS",
        "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1".to_owned(),
    ));
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The environment holds the right secret (sim.env()); the secret's wrong one wins.
    let worker = stack.start_consumer("realtime", &sim, &refs).await;

    let factory = EventFactory::new();
    let event = factory.event(
        "customer.created",
        factory.customer(unix_now()),
        None,
        unix_now(),
    );
    stack
        .enqueue(Priority::High, std::slice::from_ref(&event))
        .await;
    stack
        .wait_for_states(std::slice::from_ref(&event), &["retrying"], WAIT)
        .await;
    assert_eq!(
        sim.tokens_issued().await,
        0,
        "no login with the wrong secret"
    );

    moto.put_secret(SECRET_ID, &secret_json(sim.sim.client_secret()))
        .await
        .expect("rotated");
    stack
        .wait_for_states(std::slice::from_ref(&event), &["applied"], WAIT)
        .await;
    assert!(sim.tokens_issued().await >= 1);
    let log = worker.log_contents();
    assert!(log.contains("Salesforce client secret rotated"), "{log}");
    assert!(
        !log.contains("not-the-secret") && !log.contains(sim.sim.client_secret()),
        "a secret reached the log"
    );
}
