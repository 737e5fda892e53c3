//! `ml-connector projections`: list the read models with their checkpoint
//! and lag, or drop and rebuild them from the events.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::ProjectionsCommand;
use crate::settings::Settings;

pub async fn run(settings: &Settings, command: &ProjectionsCommand) -> anyhow::Result<()> {
    let store = settings.open_store().await?;
    match command {
        ProjectionsCommand::List => {
            println!("{:<12} {:>12} {:>10}", "NAME", "CHECKPOINT", "LAG");
            for status in mlc_projections::statuses(&store).await? {
                println!(
                    "{:<12} {:>12} {:>10}",
                    status.name,
                    status.checkpoint.to_string(),
                    status.lag
                );
            }
            Ok(())
        }
        ProjectionsCommand::Rebuild { name } => {
            let specs = match name {
                Some(name) => vec![mlc_projections::find(&store, name)?],
                None => mlc_projections::all(&store),
            };
            let bar = if std::io::stdout().is_terminal() {
                ProgressBar::new(0)
            } else {
                ProgressBar::hidden()
            };
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:40}] {pos}/{len} events ({per_sec}, {eta} left)",
                )?
                .progress_chars("=> "),
            );
            bar.set_prefix(specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", "));
            // One pass over the events feeds every projection rebuilt.
            let reports = mlc_projections::rebuild_together(&specs, |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await?;
            bar.finish_and_clear();
            for report in reports {
                println!(
                    "rebuilt {}: {} events in {:.1}s ({:.0} events/s)",
                    report.name,
                    report.events,
                    report.elapsed.as_secs_f64(),
                    report.events_per_sec
                );
            }
            Ok(())
        }
    }
}
