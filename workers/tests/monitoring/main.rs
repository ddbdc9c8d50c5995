//! The shipped monitoring (`deploy/`) against the code: the alert rules pass promtool and
//! their unit tests, each links to its runbook entry, and every metric a rule or a
//! dashboard panel names is exported by a running fleet.

#[path = "../support/mod.rs"]
mod support;

mod deploy;
mod fleet;
mod promql;
mod rules;
