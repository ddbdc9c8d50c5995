//! `workers`: the fleet's worker processes and operator commands. The subcommands arrive
//! with their issues (bridge, realtime, bulk, pending, dlq, status); see the README.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("no worker subcommand is implemented yet; see the README's status")
}
