//! order-processor: applies OrderPlaced events from Kafka to PostgreSQL, once per event id.

use clap::Parser;
use orderflow::settings::ProcessorSettings;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let settings = ProcessorSettings::parse();
    orderflow::telemetry::init(settings.telemetry.log_format, orderflow::telemetry::SERVICE_FILTER);

    match orderflow::consumer::run(settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "order processor failed");
            std::process::ExitCode::FAILURE
        }
    }
}
