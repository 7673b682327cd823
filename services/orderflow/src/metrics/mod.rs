//! Prometheus metrics of the services and the HTTP endpoint that exposes them.

mod processor;
mod server;

pub use processor::ProcessorMetrics;
pub use server::serve;
