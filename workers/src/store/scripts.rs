//! Running many script invocations in one round trip.
//!
//! A batch claims and settles every event with its own script call; sent one by one that is
//! two round trips per event (a 10,000-event bulk batch made ~20,000 sequential calls).
//! Here they go as one pipeline of `EVALSHA`s. Redis loses its script cache when it
//! restarts; calls it answers `NOSCRIPT` are run again one by one with
//! `ScriptInvocation::invoke_async`, which loads the script first. Only the calls that
//! failed are repeated, so a script that did run is never run twice.

use redis::{
    aio::ConnectionManager, ErrorKind, FromRedisValue, RedisResult, ScriptInvocation,
    ServerErrorKind,
};

/// Runs `invocations` in one pipeline and returns their answers in order. A transport error
/// fails the whole call; a script's own error is returned after every other script ran.
pub async fn invoke_all<T: FromRedisValue>(
    conn: &ConnectionManager,
    invocations: &[ScriptInvocation<'_>],
) -> RedisResult<Vec<T>> {
    if invocations.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    for invocation in invocations {
        pipe.invoke_script(invocation);
    }
    let mut conn = conn.clone();
    let answers: Vec<RedisResult<T>> = pipe.query_async(&mut conn).await?;
    let mut results = Vec::with_capacity(answers.len());
    for (invocation, answer) in invocations.iter().zip(answers) {
        results.push(match answer {
            Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                invocation.invoke_async(&mut conn).await
            }
            other => other,
        });
    }
    results.into_iter().collect()
}
