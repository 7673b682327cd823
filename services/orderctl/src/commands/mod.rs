//! One module per `orderctl` subcommand.

pub mod client;
pub mod dlt;
pub mod lag;
pub mod produce;
pub mod replay;
pub mod verify;
pub mod via_api;
pub mod watch;
