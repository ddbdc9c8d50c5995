//! Webhook secrets from AWS Secrets Manager (moto in server mode), through the real binary:
//! the ingress starts with only the secret id, takes a rotation without a restart, and
//! refuses to start on a missing or malformed secret with a message naming the problem.

mod support;

use std::time::Duration;

use support::Stack;
use testkit::harness::{self, MotoServer, ServiceProcess, SqsEmulator};
use testkit::stripe::{unix_now, EventFactory};

const SECRET_ID: &str = "sfsync/ingress";

/// The ingress environment for `moto`, without STRIPE_WEBHOOK_SECRETS (set to "" so that
/// the stack's default is not used).
fn moto_env(moto: &MotoServer) -> Vec<(&'static str, String)> {
    let mut env = moto.env();
    env.push(("SECRETS_MANAGER_SECRET_ID", SECRET_ID.to_owned()));
    env.push(("SECRETS_REFRESH_SECS", "1".to_owned()));
    env
}

/// POSTs a fresh event signed with `secret`; returns the status.
async fn post_signed_with(stack: &Stack, secret: &str) -> u16 {
    let factory = EventFactory::new();
    let event = factory.event(
        "customer.created",
        factory.customer(unix_now()),
        None,
        unix_now(),
    );
    stack.post_signed_with(&event, secret).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_secrets_come_from_secrets_manager_and_rotate_without_a_restart() {
    let moto = MotoServer::start().await.expect("moto starts");
    moto.put_secret(SECRET_ID, r#"{"STRIPE_WEBHOOK_SECRETS": "whsec_first"}"#)
        .await
        .expect("secret created");
    let env = moto_env(&moto);
    let mut extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Whatever the environment says, the secret wins.
    extra.push(("STRIPE_WEBHOOK_SECRETS", "whsec_from_the_environment"));
    let stack = Stack::start(false, &extra).await;
    assert_eq!(post_signed_with(&stack, "whsec_first").await, 200);
    assert_eq!(
        post_signed_with(&stack, "whsec_from_the_environment").await,
        400
    );

    // Stripe's roll: both secrets during the switch, then only the new one.
    moto.put_secret(
        SECRET_ID,
        r#"{"STRIPE_WEBHOOK_SECRETS": "whsec_second,whsec_first"}"#,
    )
    .await
    .expect("rotated");
    harness::wait_for(
        "the rotated secret in force",
        Duration::from_secs(20),
        || async { (post_signed_with(&stack, "whsec_second").await == 200).then_some(()) },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}; log: {}", stack.ingress.log_contents()));
    assert_eq!(post_signed_with(&stack, "whsec_first").await, 200);
    moto.put_secret(SECRET_ID, r#"{"STRIPE_WEBHOOK_SECRETS": "whsec_second"}"#)
        .await
        .expect("rotated again");
    harness::wait_for(
        "the old secret retired",
        Duration::from_secs(20),
        || async { (post_signed_with(&stack, "whsec_first").await == 400).then_some(()) },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}; log: {}", stack.ingress.log_contents()));
    let log = stack.ingress.log_contents();
    for secret in ["whsec_first", "whsec_second"] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}

/// Runs the ingress with `secret` stored (or none) and returns its exit status and output.
async fn start_failing(secret: Option<&str>) -> (Option<i32>, String) {
    let moto = MotoServer::start().await.expect("moto starts");
    if let Some(text) = secret {
        moto.put_secret(SECRET_ID, text)
            .await
            .expect("secret created");
    }
    let sqs = SqsEmulator::start().await.expect("SQS emulator starts");
    let queue = sqs.create_queue("events").await.expect("queue");
    let mut env: Vec<(&str, String)> = moto_env(&moto);
    env.extend(sqs.env());
    env.push(("SQS_QUEUE_URL", queue));
    env.push(("LISTEN_ADDR", format!("127.0.0.1:{}", harness::free_port())));
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut ingress = ServiceProcess::spawn("ingress", env!("CARGO_BIN_EXE_ingress"), &[], &refs)
        .expect("ingress spawns");
    let status = harness::wait_for("the ingress to exit", Duration::from_secs(30), || {
        let exited = !ingress.is_running();
        async move { exited.then_some(()) }
    })
    .await;
    assert!(
        status.is_ok(),
        "the ingress kept running: {}",
        ingress.log_contents()
    );
    let code = ingress
        .terminate(Duration::from_secs(1))
        .and_then(|s| s.code());
    (code, ingress.log_contents())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_malformed_secret_stops_the_start_with_what_is_wrong() {
    let (code, log) = start_failing(None).await;
    assert_ne!(code, Some(0), "{log}");
    assert!(
        log.contains("cannot read secret \"sfsync/ingress\""),
        "{log}"
    );

    let (code, log) = start_failing(Some(r#"{"STRIPE_WEBHOOK_SECRET": "whsec_x"}"#)).await;
    assert_ne!(code, Some(0), "{log}");
    assert!(
        log.contains("unknown key \"STRIPE_WEBHOOK_SECRET\""),
        "{log}"
    );
    assert!(!log.contains("whsec_x"), "the value is never shown: {log}");

    let (code, log) = start_failing(Some("whsec_plain_text")).await;
    assert_ne!(code, Some(0), "{log}");
    assert!(
        log.contains("not valid JSON") && !log.contains("whsec_plain_text"),
        "{log}"
    );
}
