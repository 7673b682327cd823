//! order-api: accepts orders over HTTP with an Idempotency-Key and publishes them to Kafka.
//!
//! Layout: `settings` (flags), `startup` (router and server), `middleware` (timeout,
//! authentication, rate limiting), `routes` (one module per URL tree), `idempotency` (key,
//! fingerprint, persistence), `problem` (RFC 9457 errors), `metrics`, `state`.

mod idempotency;
mod metrics;
mod middleware;
mod problem;
mod routes;
mod settings;
mod startup;
mod state;

use std::process::ExitCode;

use clap::Parser;

use settings::ApiSettings;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = ApiSettings::parse();
    if settings.print_openapi {
        println!("{}", routes::openapi::document());
        return ExitCode::SUCCESS;
    }
    orderflow::telemetry::init(settings.telemetry.log_format, orderflow::telemetry::SERVICE_FILTER);

    match startup::run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "order API failed");
            ExitCode::FAILURE
        }
    }
}
