//! notifier: sends one notification per OrderConfirmed event and per dead letter.

mod metrics;
mod notification;
mod notifier;
mod settings;
mod sink;
mod store;

use std::process::ExitCode;

use clap::Parser;

use settings::NotifierSettings;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = NotifierSettings::parse();
    orderflow::telemetry::init(settings.telemetry.log_format, orderflow::telemetry::SERVICE_FILTER);

    match notifier::run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "notifier failed");
            ExitCode::FAILURE
        }
    }
}
