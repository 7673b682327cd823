//! The fingerprint of a request body: the same JSON with its keys in another order, or other
//! white space, has the same fingerprint.

use sha2::{Digest, Sha256};

/// SHA-256 of the body re-serialized with object keys sorted and no white space.
pub fn fingerprint(body: &serde_json::Value) -> Vec<u8> {
    let mut canonical = String::new();
    write_canonical(body, &mut canonical);
    Sha256::digest(canonical.as_bytes()).to_vec()
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).expect("a string serializes"));
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_and_spacing_do_not_matter() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b": [1, {"y": 2, "x": 1}], "a": "t"}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":"t","b":[1,{"x":1,"y":2}]}"#).unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
    }

    #[test]
    fn different_values_differ() {
        let a: serde_json::Value = serde_json::from_str(r#"{"a": 1}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a": 2}"#).unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
