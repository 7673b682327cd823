//! Prometheus metrics of the services and the HTTP endpoint that exposes them.

mod consumer;
mod health;
mod processor;
mod server;
mod service;

pub use consumer::ConsumerMetrics;
pub use health::{ping_database, Health};
pub use processor::ProcessorMetrics;
pub use server::serve;
pub use service::{register_pool_metrics, register_service_metrics};
