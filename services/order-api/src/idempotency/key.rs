//! The `Idempotency-Key` header value, validated.

use std::fmt;

pub const HEADER: &str = "Idempotency-Key";
pub const MAX_KEY_CHARS: usize = 255;

/// A key of 1 to 255 printable ASCII characters (0x20 to 0x7E), as the header's structured
/// string form allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(value: &[u8]) -> Result<Self, String> {
        if value.is_empty() || value.len() > MAX_KEY_CHARS {
            return Err(format!("{HEADER} has {} characters, expected 1 to {MAX_KEY_CHARS}", value.len()));
        }
        if let Some(position) = value.iter().position(|byte| !(0x20..=0x7e).contains(byte)) {
            return Err(format!(
                "{HEADER} contains the byte 0x{:02X} at position {position}; use printable ASCII only, such as a UUID",
                value[position]
            ));
        }
        Ok(Self(String::from_utf8(value.to_vec()).expect("printable ASCII is UTF-8")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_accepts_printable_ascii() {
        assert_eq!(IdempotencyKey::parse(b"order-1 retry").unwrap().as_str(), "order-1 retry");
        assert!(IdempotencyKey::parse(&[b'a'; 255]).is_ok());
    }

    #[test]
    fn key_rejects_bad_values() {
        assert!(IdempotencyKey::parse(b"").is_err());
        assert!(IdempotencyKey::parse(&[b'a'; 256]).is_err());
        assert!(IdempotencyKey::parse(b"tab\there").unwrap_err().contains("0x09"));
        assert!(IdempotencyKey::parse("caf\u{e9}".as_bytes()).is_err());
    }
}
