//! `iamwatch org snapshot`: the organization's accounts with their names, OU paths and tags, as
//! the JSON `scan --org` reads. Credentials, region and endpoint come from the standard AWS
//! environment (profile, `AWS_ENDPOINT_URL`, ...).

use anyhow::Context;
use clap::Subcommand;
use std::io::Write;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Write the org snapshot (JSON) on stdout: `iamwatch org snapshot > org.json`.
    Snapshot,
}

pub fn run(cmd: OrgCommand) -> anyhow::Result<u8> {
    match cmd {
        OrgCommand::Snapshot => {
            let snapshot = iamwatch_aws::runtime::run(|| async {
                let sdk = iamwatch_aws::config::load_sdk_config().await;
                iamwatch_aws::org::snapshot(&sdk).await
            })
            .context("cannot start the async runtime")??;
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &snapshot)?;
            writeln!(out)?;
            eprintln!("{} accounts", snapshot.accounts.len());
            Ok(0)
        }
    }
}
