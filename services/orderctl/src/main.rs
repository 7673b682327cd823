//! orderctl: the operator's command line for an orderflow pipeline.

mod cases;
mod cli;
mod commands;
mod generator;
mod metrics_text;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so `orderctl dlt list | head` would panic on the closed pipe; the
    // default action ends the process quietly, as other command-line tools do.
    // SAFETY: called before any other thread writes to stdout; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }

    let cli = Cli::parse();
    orderflow::telemetry::init(cli.telemetry.log_format, "warn");

    let result = match cli.command {
        Command::Produce(args) => commands::produce::run(args).await.map(|()| true),
        Command::Verify(args) => commands::verify::run(args).await,
        Command::Replay(args) => commands::replay::run(args).await.map(|()| true),
        Command::Lag(args) => commands::lag::run(args).await.map(|()| true),
        Command::Dlt(args) => commands::dlt::run(args).await.map(|()| true),
        Command::Watch(args) => commands::watch::run(args).await.map(|()| true),
        Command::Client(args) => commands::client::run(args).await.map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("orderctl: {error:#}");
            ExitCode::from(2)
        }
    }
}
