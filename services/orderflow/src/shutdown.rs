//! Turning SIGTERM and SIGINT into a cancellation token.

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

/// Returns a token that is cancelled on the first SIGTERM or SIGINT.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let mut terminate = match signal(SignalKind::terminate()) {
            Ok(stream) => stream,
            Err(error) => {
                tracing::error!(%error, "failed to install the SIGTERM handler; only SIGINT stops the process cleanly");
                let _ = tokio::signal::ctrl_c().await;
                cancel.cancel();
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("received SIGINT, finishing the current batch"),
            _ = terminate.recv() => tracing::info!("received SIGTERM, finishing the current batch"),
        }
        cancel.cancel();
    });
    token
}
