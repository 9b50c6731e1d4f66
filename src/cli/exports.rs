//! `posture exports status`: the deliveries of exports and triggers still in the spool.

use super::output::{self, Format};
use super::{CliResult, Env};
use clap::{Args, Subcommand};

/// `posture exports`
#[derive(Debug, Subcommand)]
pub enum ExportsCmd {
    /// Deliveries not made yet (pending: retried at the next run) or given up on (failed).
    Status(StatusArgs),
}

/// `posture exports status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Run it.
pub fn run(env: &Env, cmd: ExportsCmd) -> CliResult {
    let ExportsCmd::Status(a) = cmd;
    let store = env.store()?;
    let rows = store.spool(false)?;
    match a.format {
        Format::Json => output::json(&rows),
        Format::Table => {
            if rows.is_empty() {
                println!("Nothing pending: every export and trigger was delivered.");
                return Ok(());
            }
            output::table(
                &["ID", "STATE", "DESTINATION", "RUN", "EVENTS", "ATTEMPTS", "SINCE", "LAST ERROR"],
                rows.iter()
                    .map(|r| {
                        let ids = match r.event_ids.len() {
                            0 => "summary only".to_string(),
                            n => format!(
                                "{n}: {}",
                                r.event_ids.iter().map(|i| &i[..i.len().min(12)]).collect::<Vec<_>>().join(" ")
                            ),
                        };
                        vec![
                            r.id.to_string(),
                            format!("{:?}", r.state).to_lowercase(),
                            r.destination.clone(),
                            r.run_id.to_string(),
                            ids,
                            r.attempts.to_string(),
                            r.created_at.get(..16).unwrap_or(&r.created_at).replace('T', " "),
                            r.last_error.clone(),
                        ]
                    })
                    .collect(),
            );
        }
    }
    Ok(())
}
