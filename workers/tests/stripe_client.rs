//! The fleet's side of the Stripe client: the request budget every replica shares (on a
//! real Redis), and `workers check-stripe` against stripesim.

use std::{process::Command, time::Duration};

use testkit::harness::RedisServer;
use tokio_util::sync::CancellationToken;
use workers::{
    guard::{CallRate, DailyBudget, SlidingWindowLimiter, StripeBudget},
    store::{self, KeySpace, Priority},
};

#[tokio::test]
async fn replicas_share_one_stripe_budget_apart_from_salesforces() {
    let redis = RedisServer::start().await.unwrap();
    let conn = store::connect(&redis.url()).unwrap();
    let keys = KeySpace::new("t");
    let a = StripeBudget::new(conn.clone(), &keys, 3, "a", CancellationToken::new());
    let b = StripeBudget::new(conn.clone(), &keys, 3, "b", CancellationToken::new());
    assert_eq!(a.try_acquire().await.unwrap(), None);
    assert_eq!(b.try_acquire().await.unwrap(), None);
    assert_eq!(a.try_acquire().await.unwrap(), None);
    let wait = b
        .try_acquire()
        .await
        .unwrap()
        .expect("the fourth request in a second waits");
    assert!(wait <= Duration::from_millis(1200), "{wait:?}");

    let salesforce = SlidingWindowLimiter::new(
        conn,
        keys,
        CallRate {
            calls: 1,
            window: Duration::from_secs(1),
        },
        Priority::High,
        DailyBudget {
            low_reserve: 0.8,
            high_reserve: 0.95,
        },
        "a",
        CancellationToken::new(),
    );
    assert_eq!(
        salesforce.try_acquire().await.unwrap(),
        None,
        "Stripe's requests do not spend Salesforce's budget"
    );
}

/// Runs `workers check-stripe` with only the given environment.
fn check_stripe(redis: &RedisServer, base: &str, key: &str) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_workers"))
        .arg("check-stripe")
        .env_clear()
        .env("REDIS_URL", redis.url())
        .env("STRIPE_API_BASE", base)
        .env("STRIPE_API_KEY", key)
        .env("STRIPE_MAX_RETRIES", "0")
        .output()
        .expect("workers runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

// Multi-threaded: the simulator must keep answering while the test waits for the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_stripe_says_what_it_found_and_names_a_wrong_key_without_showing_it() {
    let redis = RedisServer::start().await.unwrap();
    let mut config = stripesim::SimConfig::on_free_port();
    config.api_key = Some("sk_test_the_right_key_1234".into());
    let sim = stripesim::Simulator::start(config).await.unwrap();

    let (ok, stdout, stderr) = check_stripe(&redis, sim.base_url(), "sk_test_the_right_key_1234");
    assert!(ok, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.starts_with("OK: "), "{stdout}");
    assert!(stdout.contains("sk_test_****1234 (test mode)"), "{stdout}");
    assert!(stdout.contains("budget 20 requests/s"), "{stdout}");
    assert!(!stdout.contains("the_right_key"), "{stdout}");

    let (ok, stdout, stderr) = check_stripe(&redis, sim.base_url(), "sk_test_a_wrong_key_9999");
    assert!(!ok, "stdout: {stdout}");
    assert!(
        stderr.contains("401") && stderr.contains("check STRIPE_API_KEY"),
        "{stderr}"
    );
    assert!(!stderr.contains("a_wrong_key"), "{stderr}");

    let (ok, _, stderr) = check_stripe(&redis, sim.base_url(), "pk_test_publishable");
    assert!(!ok);
    assert!(stderr.contains("STRIPE_API_KEY"), "{stderr}");
    assert!(!stderr.contains("publishable"), "{stderr}");
    sim.shutdown().await;
}
