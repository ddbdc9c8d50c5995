//! The operator commands against a private Redis: the real `workers` binary for `pending`,
//! `dlq` and `status` (parsing its `--json` output), and the HTTP status route served
//! in-process by `workers::telemetry::serve`. Dead letters are written the way the fleet
//! writes them: `EventLedger::defer` for events, `EventStore::dead_letter` for the bridge.

mod dead_letters;
mod fleet;
mod status;
