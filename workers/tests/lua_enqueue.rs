//! `lua/enqueue_event.lua` against a real Redis: atomic dedupe + XADD + lifecycle record,
//! the dedupe window as a TTL, and transparent reload after the script cache is flushed.

use std::time::Duration;

use testkit::harness::RedisServer;
use workers::store::{self, EnqueueOutcome, EventStore, KeySpace, Priority, StreamEntry};

fn entry(event_id: &str) -> StreamEntry {
    StreamEntry {
        event_id: event_id.to_owned(),
        event_type: "customer.created".to_owned(),
        object_id: "cus_1".to_owned(),
        created: 1_786_000_000,
        attempts: 0,
        received_at: 1_786_000_000_123,
        payload: r#"{"id":"evt_1"}"#.to_owned(),
    }
}

async fn store(redis: &RedisServer) -> (EventStore, workers::store::RedisConnection) {
    let conn = store::connect(&redis.url()).expect("connect");
    let store = EventStore::new(
        conn.clone(),
        KeySpace::new("t"),
        Duration::from_secs(600),
        Duration::from_secs(60),
    );
    store.load_scripts().await.expect("SCRIPT LOAD");
    (store, conn)
}

#[tokio::test]
async fn first_enqueue_adds_and_later_ones_report_where_it_went() {
    let redis = RedisServer::start().await.unwrap();
    let (store, mut conn) = store(&redis).await;
    let first = store.enqueue(Priority::Low, &entry("evt_1")).await.unwrap();
    let EnqueueOutcome::Added(entry_id) = first else {
        panic!("{first:?}")
    };
    // Even routed elsewhere the second time, the event is not added again.
    let second = store
        .enqueue(Priority::High, &entry("evt_1"))
        .await
        .unwrap();
    assert_eq!(second, EnqueueOutcome::Duplicate(format!("low|{entry_id}")));

    let low: i64 = redis::cmd("XLEN")
        .arg("{t}:low")
        .query_async(&mut conn)
        .await
        .unwrap();
    let high: i64 = redis::cmd("XLEN")
        .arg("{t}:high")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!((low, high), (1, 0));
    let ttl: i64 = redis::cmd("TTL")
        .arg("{t}:seen:evt_1")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        (590..=600).contains(&ttl),
        "dedupe window is the key's TTL: {ttl}"
    );
    let state: String = redis::cmd("HGET")
        .arg("{t}:event:evt_1")
        .arg("state")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(state, "enqueued");
    let lifecycle_ttl: i64 = redis::cmd("TTL")
        .arg("{t}:event:evt_1")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((50..=60).contains(&lifecycle_ttl), "{lifecycle_ttl}");
}

#[tokio::test]
async fn flushed_script_cache_is_reloaded_transparently() {
    let redis = RedisServer::start().await.unwrap();
    let (store, mut conn) = store(&redis).await;
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut conn)
        .await
        .unwrap();
    let outcome = store
        .enqueue(Priority::High, &entry("evt_2"))
        .await
        .unwrap();
    assert!(matches!(outcome, EnqueueOutcome::Added(_)), "{outcome:?}");
}

#[tokio::test]
async fn concurrent_enqueues_of_one_event_add_it_once() {
    let redis = RedisServer::start().await.unwrap();
    let (store, mut conn) = store(&redis).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .enqueue(Priority::High, &entry("evt_3"))
                .await
                .unwrap()
        });
    }
    let mut added = 0;
    while let Some(outcome) = tasks.join_next().await {
        if matches!(outcome.unwrap(), EnqueueOutcome::Added(_)) {
            added += 1;
        }
    }
    assert_eq!(added, 1);
    let length: i64 = redis::cmd("XLEN")
        .arg("{t}:high")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(length, 1);
}
