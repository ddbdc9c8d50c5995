//! The realtime replicas' turns at reading a batch (`store::BatchPacer`,
//! `lua/hold_lease.lua`): the turn's rules against a real Redis, then two replicas
//! against the simulator, whose calls must come at most one per batch interval.

mod support;

use std::time::Duration;

use support::{
    sim::{new_customer_payments, Sim},
    BridgeStack,
};
use testkit::harness::RedisServer;
use workers::store::{self, BatchPacer, KeySpace, Priority, GROUP_REALTIME};

const INTERVAL: Duration = Duration::from_millis(400);
const HOLD: Duration = Duration::from_secs(3);

fn pacer(redis: &RedisServer, holder: &str) -> BatchPacer {
    BatchPacer::new(
        store::connect(&redis.url()).expect("connect"),
        KeySpace::new("t").batch_turn(GROUP_REALTIME),
        holder,
        INTERVAL,
        HOLD,
    )
}

#[tokio::test]
async fn one_replica_has_the_turn_and_renews_it_while_the_others_wait() {
    let redis = RedisServer::start().await.expect("redis");
    let (a, b) = (pacer(&redis, "a"), pacer(&redis, "b"));
    assert_eq!(
        a.try_take().await.expect("take"),
        None,
        "a free turn is taken"
    );
    let wait = b.try_take().await.expect("take").expect("b must wait");
    assert!(
        wait > INTERVAL && wait <= HOLD,
        "b waits out a's hold: {wait:?}"
    );
    assert_eq!(
        a.try_take().await.expect("renew"),
        None,
        "the holder renews"
    );
    b.release().await.expect("release");
    assert!(
        b.try_take().await.expect("take").is_some(),
        "a replica without the turn cannot give it up"
    );
    a.release().await.expect("release");
    assert_eq!(
        b.try_take().await.expect("take"),
        None,
        "a released turn is free"
    );
}

#[tokio::test]
async fn after_a_batch_nobody_reads_for_an_interval_unless_entries_were_left_behind() {
    let redis = RedisServer::start().await.expect("redis");
    let (a, b) = (pacer(&redis, "a"), pacer(&redis, "b"));
    assert_eq!(a.try_take().await.expect("take"), None);
    a.end_turn(false).await.expect("end");
    for replica in [&a, &b] {
        let wait = replica.try_take().await.expect("take").expect("paused");
        assert!(wait <= INTERVAL, "{wait:?}");
    }
    // `take_turn` waits out the pause, then has the turn.
    let started = std::time::Instant::now();
    b.take_turn().await.expect("turn");
    assert!(started.elapsed() >= INTERVAL / 2, "{:?}", started.elapsed());
    assert!(a.try_take().await.expect("take").is_some(), "b has it now");
    // A read that left entries behind ends the turn without a pause.
    b.end_turn(true).await.expect("end");
    assert_eq!(a.try_take().await.expect("take"), None, "at once");
}

#[tokio::test]
async fn a_turn_nobody_renews_passes_on_when_its_hold_expires() {
    let redis = RedisServer::start().await.expect("redis");
    let short = BatchPacer::new(
        store::connect(&redis.url()).expect("connect"),
        KeySpace::new("t").batch_turn(GROUP_REALTIME),
        "dead",
        INTERVAL,
        Duration::from_millis(150),
    );
    assert_eq!(short.try_take().await.expect("take"), None);
    let b = pacer(&redis, "b");
    testkit::harness::wait_for("the dead holder's turn to expire", HOLD, || async {
        (b.try_take().await.expect("take").is_none()).then_some(())
    })
    .await
    .expect("the turn passes on");
}

/// Two replicas, events arriving every 20 ms for about 3 s: with turns, the fleet's
/// Salesforce calls (one per batch) are an interval apart, where each replica reading on
/// its own would send one every few tens of milliseconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_together_send_at_most_one_batch_per_interval() {
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let paced = [("REALTIME_BATCH_INTERVAL_MS", "500")];
    let _a = stack.start_consumer("realtime", &sim, &paced).await;
    let _b = stack.start_consumer("realtime", &sim, &paced).await;
    let events = new_customer_payments("pace", 150, "usd");
    let since = common::time::unix_millis();
    for event in &events {
        stack
            .enqueue(Priority::High, std::slice::from_ref(event))
            .await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stack
        .wait_for_states(&events, &["applied"], Duration::from_secs(60))
        .await;
    // Calls start a batch's processing after a read; allow for 250 ms of jitter.
    let busiest = sim.max_calls_in_window_since(250, since).await;
    assert_eq!(busiest, 1, "two batches' calls within 250 ms");
    let calls = sim.calls().await["total"].as_u64().unwrap_or(0);
    assert!(calls > 0, "{calls}");
}
