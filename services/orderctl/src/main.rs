//! orderctl: the operator's command line for an orderflow pipeline.

mod cli;
mod commands;
mod generator;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    orderflow::telemetry::init(cli.telemetry.log_format);

    let result = match cli.command {
        Command::Produce(args) => commands::produce::run(args).await.map(|()| true),
        Command::Verify(args) => commands::verify::run(args).await,
        Command::Replay(args) => commands::replay::run(args).await.map(|()| true),
        Command::Lag(args) => commands::lag::run(args).await.map(|()| true),
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
