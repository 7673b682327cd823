//! The gateway's duties, in the order they run: timeout and counting, authentication, rate
//! limiting. The body size limit is a layer on the router.

pub mod auth;
pub mod rate_limit;
pub mod timeout;
