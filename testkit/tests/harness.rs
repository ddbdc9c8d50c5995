//! The harness itself: a private Redis can be killed and restarted (keeping its data when
//! persistent), and the SQS emulator creates standard and FIFO queues over the real protocol.

use std::time::Duration;

use testkit::harness::{RedisServer, SqsEmulator};

#[tokio::test]
async fn redis_can_be_killed_and_restarted_with_its_data() {
    let mut redis = RedisServer::start_persistent().await.unwrap();
    assert_eq!(redis.command("SET fleet:test kept").await.unwrap(), "+OK");
    redis.kill();
    assert!(
        redis.command("PING").await.is_err(),
        "killed server still answers"
    );
    redis.restart().await.unwrap();
    assert_eq!(redis.command("GET fleet:test").await.unwrap(), "kept");
}

#[tokio::test]
async fn memory_only_redis_starts_empty_after_restart() {
    let mut redis = RedisServer::start().await.unwrap();
    assert_eq!(redis.command("SET fleet:test gone").await.unwrap(), "+OK");
    redis.kill();
    redis.restart().await.unwrap();
    assert_eq!(redis.command("GET fleet:test").await.unwrap(), "$-1");
}

#[tokio::test]
async fn emulator_creates_standard_and_fifo_queues() {
    let sqs = SqsEmulator::start().await.unwrap();
    let standard = sqs.create_queue("plain").await.unwrap();
    let fifo = sqs.create_fifo_queue("ordered.fifo").await.unwrap();
    assert!(!common::sqs::is_fifo_queue(&standard));
    assert!(common::sqs::is_fifo_queue(&fifo));
    sqs.client()
        .send_message()
        .queue_url(&fifo)
        .message_body("{}")
        .message_group_id("g1")
        .message_deduplication_id("d1")
        .send()
        .await
        .unwrap();
    // The emulator updates its counters asynchronously; poll as a consumer would.
    testkit::harness::wait_for("one visible message", Duration::from_secs(5), || async {
        (sqs.visible_messages(&fifo).await.ok() == Some(1)).then_some(())
    })
    .await
    .unwrap();
    let messages = sqs.drain(&fifo, Duration::from_secs(1)).await.unwrap();
    assert_eq!(messages[0].group_id.as_deref(), Some("g1"));
    assert_eq!(sqs.visible_messages(&fifo).await.unwrap(), 0);
}
