//! The Lua scripts of the workers, each against a real Redis: the sliding-window limiter,
//! the retry schedule and dead letters, and the breaker. The ledger's claims and outcomes per
//! record are in `ledger_records.rs`.

use std::time::Duration;

use testkit::harness::RedisServer;
use workers::{
    guard::{BreakerState, CallRate, CircuitBreaker, DailyBudget, SlidingWindowLimiter},
    store::{self, Deferral, EventLedger, Failure, HeldEntry, KeySpace, Priority, StreamEntry},
};

fn entry(event_id: &str, object_id: &str, created: i64) -> StreamEntry {
    StreamEntry {
        event_id: event_id.to_owned(),
        event_type: "customer.subscription.updated".to_owned(),
        object_id: object_id.to_owned(),
        created,
        attempts: 0,
        received_at: 0,
        payload: "{}".to_owned(),
    }
}

fn ledger(redis: &RedisServer, consumer: &str) -> EventLedger {
    EventLedger::new(
        store::connect(&redis.url()).expect("connect"),
        KeySpace::new("t"),
        Priority::High,
        consumer.to_owned(),
        Duration::from_secs(30),
        Duration::from_secs(600),
        Duration::from_secs(600),
    )
}

#[tokio::test]
async fn the_limiter_grants_the_limit_per_window_and_says_how_long_to_wait() {
    let redis = RedisServer::start().await.unwrap();
    let conn = store::connect(&redis.url()).unwrap();
    let budget = DailyBudget {
        low_reserve: 0.8,
        high_reserve: 0.95,
    };
    let a = SlidingWindowLimiter::new(
        conn.clone(),
        KeySpace::new("t"),
        CallRate {
            calls: 3,
            window: Duration::from_millis(500),
        },
        Priority::High,
        budget,
        "a",
        tokio_util::sync::CancellationToken::new(),
    );
    let b = SlidingWindowLimiter::new(
        conn,
        KeySpace::new("t"),
        CallRate {
            calls: 3,
            window: Duration::from_millis(500),
        },
        Priority::High,
        budget,
        "b",
        tokio_util::sync::CancellationToken::new(),
    );
    // Two replicas share one window: three grants in all, then a wait.
    assert_eq!(a.try_acquire().await.unwrap(), None);
    assert_eq!(b.try_acquire().await.unwrap(), None);
    assert_eq!(a.try_acquire().await.unwrap(), None);
    let wait = b
        .try_acquire()
        .await
        .unwrap()
        .expect("the fourth call must wait");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_millis(600),
        "{wait:?}"
    );
    // Once the window has slid past the first grants, calls are granted again.
    tokio::time::sleep(wait + Duration::from_millis(20)).await;
    assert_eq!(b.try_acquire().await.unwrap(), None);
}

#[tokio::test]
async fn low_priority_waits_when_the_daily_allowance_is_nearly_spent() {
    let redis = RedisServer::start().await.unwrap();
    let conn = store::connect(&redis.url()).unwrap();
    store::RedisUsageStore::new(conn.clone(), &KeySpace::new("t"))
        .store(
            salesforce_client::ApiUsage {
                used: 850,
                max: 1000,
            },
            0,
        )
        .await
        .unwrap();
    let budget = DailyBudget {
        low_reserve: 0.8,
        high_reserve: 0.95,
    };
    let low = SlidingWindowLimiter::new(
        conn.clone(),
        KeySpace::new("t"),
        CallRate {
            calls: 10,
            window: Duration::from_secs(1),
        },
        Priority::Low,
        budget,
        "low",
        tokio_util::sync::CancellationToken::new(),
    );
    let high = SlidingWindowLimiter::new(
        conn,
        KeySpace::new("t"),
        CallRate {
            calls: 10,
            window: Duration::from_secs(1),
        },
        Priority::High,
        budget,
        "high",
        tokio_util::sync::CancellationToken::new(),
    );
    assert!(
        low.try_acquire().await.unwrap().is_some(),
        "bulk slows first"
    );
    assert_eq!(
        high.try_acquire().await.unwrap(),
        None,
        "realtime keeps its budget"
    );
}

#[tokio::test]
async fn failures_go_to_the_retry_schedule_and_back_or_to_the_dead_letters() {
    let redis = RedisServer::start().await.unwrap();
    let ledger = ledger(&redis, "a");
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let failure = Failure {
        class: salesforce_client::FailureClass::Retryable,
        code: "UNABLE_TO_LOCK_ROW".into(),
        message: "locked".into(),
        detail: None,
    };
    let mut retry = entry("evt_r", "cus_r", 1);
    retry.attempts = 1;
    let held = HeldEntry {
        partition: 0,
        entry_id: String::new(),
        entry: retry,
    };
    assert_eq!(
        ledger
            .defer(&held, &Deferral::RetryAt(0), &failure)
            .await
            .unwrap(),
        "scheduled"
    );
    assert_eq!(ledger.release_due_retries(10).await.unwrap(), 1);
    let back: Vec<redis::Value> = redis::cmd("XRANGE")
        .arg("{t}:high")
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(back.len(), 1, "the retry is back on its stream");
    let scheduled: i64 = redis::cmd("ZCARD")
        .arg("{t}:retry")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(scheduled, 0);

    let dead = HeldEntry {
        partition: 0,
        entry_id: String::new(),
        entry: entry("evt_d", "cus_d", 1),
    };
    let permanent = Failure {
        class: salesforce_client::FailureClass::Permanent,
        code: "STRING_TOO_LONG".into(),
        message: "too long".into(),
        detail: None,
    };
    ledger
        .defer(&dead, &Deferral::Dead, &permanent)
        .await
        .unwrap();
    let state: String = redis::cmd("HGET")
        .arg("{t}:event:evt_d")
        .arg("state")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(state, "dead");
    let letters: i64 = redis::cmd("XLEN")
        .arg("{t}:dead")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(letters, 1);
}

#[tokio::test]
async fn the_breaker_opens_after_consecutive_failures_and_lets_one_probe_through() {
    let redis = RedisServer::start().await.unwrap();
    let conn = store::connect(&redis.url()).unwrap();
    let a = CircuitBreaker::new(
        conn.clone(),
        KeySpace::new("t"),
        3,
        Duration::from_millis(300),
        "a",
    );
    let b = CircuitBreaker::new(conn, KeySpace::new("t"), 3, Duration::from_millis(300), "b");
    a.record_failure().await;
    b.record_failure().await;
    a.record_success().await;
    assert_eq!(
        a.state().await.unwrap(),
        BreakerState::Closed,
        "a success resets the count"
    );
    for _ in 0..3 {
        b.record_failure().await;
    }
    assert!(
        matches!(a.state().await.unwrap(), BreakerState::Open(_)),
        "shared by every replica"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(a.state().await.unwrap(), BreakerState::Probe);
    assert!(
        matches!(b.state().await.unwrap(), BreakerState::Open(_)),
        "only one probe"
    );
    a.record_success().await;
    assert_eq!(b.state().await.unwrap(), BreakerState::Closed);
}

#[tokio::test]
async fn a_limiter_waiting_out_a_redis_outage_gives_up_on_shutdown() {
    use salesforce_client::{CallGate, Interrupted};

    let mut redis = RedisServer::start().await.unwrap();
    let conn = store::connect(&redis.url()).unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let limiter = SlidingWindowLimiter::new(
        conn,
        KeySpace::new("t"),
        CallRate {
            calls: 3,
            window: Duration::from_millis(500),
        },
        Priority::High,
        DailyBudget {
            low_reserve: 0.8,
            high_reserve: 0.95,
        },
        "a",
        shutdown.clone(),
    );
    assert_eq!(limiter.admit().await, Ok(()), "granted while Redis is up");
    redis.kill();
    let waiting = tokio::spawn({
        let limiter = limiter.clone();
        async move { limiter.admit().await }
    });
    // Fail closed: without Redis the call is not admitted, however long it waits.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!waiting.is_finished(), "admitted without Redis");
    shutdown.cancel();
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the wait ends on shutdown")
        .unwrap();
    assert_eq!(answer, Err(Interrupted));
}
