//! The state that every handler shares.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use prometheus::Registry;
use orderflow::kafka::QuietContext;
use rdkafka::producer::FutureProducer;

use crate::metrics::ApiMetrics;
use crate::settings::{ApiSettings, CrashPoint};

pub type ClientLimiter = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub producer: FutureProducer<QuietContext>,
    pub topic: String,
    pub metrics: ApiMetrics,
    pub registry: Registry,
    pub limiter: Arc<ClientLimiter>,
    pub idempotency_ttl: Duration,
    /// How long a request owns its key before a retry may take it over: twice the request
    /// timeout, so a live request is never overtaken.
    pub idempotency_lease: Duration,
    pub request_timeout: Duration,
    pub crash_at: Option<CrashPoint>,
}

impl AppState {
    pub fn new(settings: &ApiSettings, pool: Pool, producer: FutureProducer<QuietContext>, metrics: ApiMetrics, registry: Registry) -> Self {
        let per_second = NonZeroU32::new(settings.rate_limit_per_second).expect("validated as at least 1");
        let burst = NonZeroU32::new(settings.rate_limit_burst).expect("validated as at least 1");
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            pool,
            producer,
            topic: settings.topic.clone(),
            metrics,
            registry,
            limiter: Arc::new(RateLimiter::keyed(quota)),
            idempotency_ttl: settings.idempotency_ttl(),
            idempotency_lease: settings.request_timeout() * 2,
            request_timeout: settings.request_timeout(),
            crash_at: settings.crash_at,
        }
    }

    /// Aborts the process at `point` when a crash test asked for it.
    pub fn crash_if(&self, point: CrashPoint) {
        if self.crash_at == Some(point) {
            tracing::error!(?point, "aborting at the crash point a test asked for");
            std::process::abort();
        }
    }
}
