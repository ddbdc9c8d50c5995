//! Running many script invocations in one round trip.
//!
//! A batch claims and settles every event with its own script call; sent one by one that is
//! two round trips per event (a 10,000-event bulk batch made ~20,000 sequential calls).
//! Here they go as one pipeline of `EVALSHA`s. Redis loses its script cache when it
//! restarts (and a new server has none); the calls it answers `NOSCRIPT` run again after
//! the scripts are loaded. Only the calls that were refused are repeated, so a script that
//! did run is never run twice.
//!
//! On a Redis Cluster a pipeline must stay within one slot, and one batch spans partitions.
//! There every invocation is sent on its own but all at once: the cluster connection writes
//! them back to back on each node's connection, in order, so it costs about what one
//! pipeline per node would.

use redis::{ErrorKind, FromRedisValue, RedisResult, Script, ScriptInvocation, ServerErrorKind};

use super::RedisConnection;

/// Runs `invocations` (of some of `scripts`) in one pipeline and returns their answers in
/// order. When Redis answers `NOSCRIPT` (its script cache is empty after a restart), the
/// scripts are loaded and only the invocations that were refused run again, in one more
/// pipeline. A transport error fails the whole call; a script's own error is returned
/// after every other script ran.
pub async fn invoke_all<T: FromRedisValue>(
    conn: &RedisConnection,
    scripts: &[&Script],
    invocations: &[ScriptInvocation<'_>],
) -> RedisResult<Vec<T>> {
    if invocations.is_empty() {
        return Ok(Vec::new());
    }
    if conn.is_cluster() {
        return all_at_once(invocations.iter().map(|invocation| {
            let mut conn = conn.clone();
            async move { invocation.invoke_async::<T>(&mut conn).await }
        }))
        .await;
    }
    let mut conn = conn.clone();
    let mut results: Vec<RedisResult<T>> = run(&mut conn, invocations.iter()).await?;
    let refused: Vec<usize> = (0..results.len())
        .filter(|&i| matches!(&results[i], Err(e) if is_noscript(e)))
        .collect();
    if !refused.is_empty() {
        let mut load = redis::pipe();
        for script in scripts {
            load.load_script(script);
        }
        load.query_async::<()>(&mut conn).await?;
        let retried: Vec<RedisResult<T>> =
            run(&mut conn, refused.iter().map(|&i| &invocations[i])).await?;
        for (index, result) in refused.into_iter().zip(retried) {
            results[index] = result;
        }
    }
    results.into_iter().collect()
}

/// One pipeline of `EVALSHA`s, each answer on its own.
async fn run<'a, T: FromRedisValue>(
    conn: &mut RedisConnection,
    invocations: impl Iterator<Item = &'a ScriptInvocation<'a>>,
) -> RedisResult<Vec<RedisResult<T>>> {
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    for invocation in invocations {
        pipe.invoke_script(invocation);
    }
    pipe.query_async(conn).await
}

fn is_noscript(error: &redis::RedisError) -> bool {
    error.kind() == ErrorKind::Server(ServerErrorKind::NoScript)
}

/// Runs plain commands in one round trip and returns their answers in order: one pipeline
/// on a single node; on a cluster, where a pipeline must stay within one slot, every
/// command on its own but all at once.
pub async fn query_all<T: FromRedisValue>(
    conn: &RedisConnection,
    commands: &[redis::Cmd],
) -> RedisResult<Vec<T>> {
    if commands.is_empty() {
        return Ok(Vec::new());
    }
    if conn.is_cluster() {
        return all_at_once(commands.iter().map(|command| {
            let mut conn = conn.clone();
            async move { command.query_async::<T>(&mut conn).await }
        }))
        .await;
    }
    let mut pipe = redis::pipe();
    for command in commands {
        pipe.add_command(command.clone());
    }
    pipe.query_async(&mut conn.clone()).await
}

/// Runs `calls` concurrently and returns their answers in order, or the first error: how a
/// cluster connection sends what one pipeline would carry on a single node.
pub async fn all_at_once<T>(
    calls: impl IntoIterator<Item = impl std::future::Future<Output = RedisResult<T>>>,
) -> RedisResult<Vec<T>> {
    futures_util::future::join_all(calls)
        .await
        .into_iter()
        .collect()
}
