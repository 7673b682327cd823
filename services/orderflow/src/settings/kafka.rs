//! Settings that locate the Kafka brokers.

use std::fmt;
use std::str::FromStr;

/// Default bootstrap address of the local broker started by `scripts/kafka up`.
pub const DEFAULT_BROKERS: &str = "127.0.0.1:9092";

#[derive(Debug, Clone, clap::Args)]
pub struct KafkaSettings {
    /// Kafka bootstrap servers, comma-separated `host:port` pairs.
    #[arg(long, env = "ORDERFLOW_BROKERS", default_value = DEFAULT_BROKERS)]
    pub brokers: Brokers,
}

/// A validated, non-empty list of `host:port` bootstrap servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brokers(String);

impl Brokers {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Brokers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Brokers {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let entries: Vec<&str> = value.split(',').map(str::trim).collect();
        for entry in &entries {
            let valid = match entry.rsplit_once(':') {
                Some((host, port)) => !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0),
                None => false,
            };
            if !valid {
                return Err(format!(
                    "broker address {entry:?} in {value:?} is not of the form host:port, e.g. {DEFAULT_BROKERS}"
                ));
            }
        }
        Ok(Brokers(entries.join(",")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brokers_accept_host_port_list() {
        let brokers: Brokers = "a:1, b:9092".parse().unwrap();
        assert_eq!(brokers.as_str(), "a:1,b:9092");
    }

    #[test]
    fn brokers_reject_missing_port() {
        let error = "localhost".parse::<Brokers>().unwrap_err();
        assert!(error.contains("\"localhost\""), "{error}");
    }

    #[test]
    fn brokers_reject_empty_entry() {
        assert!("a:1,".parse::<Brokers>().is_err());
    }
}
