//! How to reach PostgreSQL. The URL carries a password, so it is never printed whole.

use std::fmt;
use std::str::FromStr;

use tokio_postgres::config::Host;

pub const DEFAULT_DATABASE_URL: &str = "postgres://orderflow:orderflow@127.0.0.1:5432/orderflow";

#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseSettings {
    /// PostgreSQL connection URL (`postgres://user:password@host:port/database`); the default is
    /// the database of scripts/postgres, postgres://orderflow:orderflow@127.0.0.1:5432/orderflow.
    #[arg(long, env = "ORDERFLOW_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_default_value = true, hide_env_values = true)]
    pub database_url: DatabaseUrl,

    /// Maximum number of pooled PostgreSQL connections.
    #[arg(long, env = "ORDERFLOW_DATABASE_POOL_SIZE", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub database_pool_size: u16,
}

/// A parsed connection URL whose `Display` and `Debug` hide the password.
#[derive(Clone)]
pub struct DatabaseUrl {
    config: tokio_postgres::Config,
}

impl DatabaseUrl {
    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// Returns the same server and user with another database name, for tools that create databases.
    pub fn with_database(&self, name: &str) -> DatabaseUrl {
        let mut config = self.config.clone();
        config.dbname(name);
        DatabaseUrl { config }
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let config = tokio_postgres::Config::from_str(value).map_err(|error| {
            format!(
                "database URL is invalid ({error}); expected the form {}",
                DEFAULT_DATABASE_URL.replace(":orderflow@", ":PASSWORD@")
            )
        })?;
        if config.get_hosts().is_empty() {
            return Err("database URL names no host; expected e.g. postgres://user:password@127.0.0.1:5432/orderflow".to_owned());
        }
        Ok(DatabaseUrl { config })
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = self.config.get_user().unwrap_or("");
        let password = if self.config.get_password().is_some() { ":***" } else { "" };
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(name)) => name.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => String::new(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let database = self.config.get_dbname().unwrap_or("");
        write!(f, "postgres://{user}{password}@{host}:{port}/{database}")
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_password() {
        let url: DatabaseUrl = "postgres://app:s3cret@db.local:6543/shop".parse().unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db.local:6543/shop");
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn garbage_url_is_rejected_with_example() {
        let error = "postgres://user@host:notaport/db".parse::<DatabaseUrl>().unwrap_err();
        assert!(error.contains("expected the form"), "{error}");
    }
}
