//! `orderctl client`: create and revoke API clients of the order API.

use anyhow::{bail, Context};
use orderflow::database::api_clients;
use orderflow::settings::DatabaseSettings;

#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    #[command(subcommand)]
    pub command: ClientCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ClientCommand {
    /// Create a client and print its API key, which is shown only this once.
    Create {
        #[command(flatten)]
        database: DatabaseSettings,
        /// A name to recognise the client by.
        #[arg(long)]
        name: String,
        /// Print only the key, for scripts.
        #[arg(long)]
        quiet: bool,
    },
    /// Revoke a client's key; its requests get 401 from then on.
    Revoke {
        #[command(flatten)]
        database: DatabaseSettings,
        /// The client id, the part between the dots of `of.<client id>.<secret>`.
        client_id: String,
    },
}

pub async fn run(args: ClientArgs) -> anyhow::Result<()> {
    let database = match &args.command {
        ClientCommand::Create { database, .. } | ClientCommand::Revoke { database, .. } => database,
    };
    let pool = orderflow::database::connect(database).await?;
    orderflow::database::migrate(&pool).await?;
    let client = pool.get().await.context("failed to get a database connection")?;

    match args.command {
        ClientCommand::Create { name, quiet, .. } => {
            if name.trim().is_empty() || name.chars().any(char::is_control) {
                bail!("--name {name:?} must be non-blank text without control characters");
            }
            let created = api_clients::create(&client, &name).await.context("failed to create the client")?;
            if quiet {
                println!("{}", created.api_key);
            } else {
                println!("created client {} ({name})", created.client_id);
                println!("API key (shown only now, store it safely): {}", created.api_key);
            }
        }
        ClientCommand::Revoke { client_id, .. } => {
            if !api_clients::revoke(&client, &client_id).await.context("failed to revoke the client")? {
                bail!("no active client {client_id}; check the id with the key's middle part");
            }
            println!("revoked client {client_id}");
        }
    }
    Ok(())
}
