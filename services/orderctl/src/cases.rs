//! Test inputs written by others, sent as poison and edge cases: the files of JSONTestSuite's
//! `test_parsing` folder as raw message values, and each string of the Big List of Naughty
//! Strings as the customer name of an otherwise valid order.

use std::path::Path;

use anyhow::Context;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::generator::{MessageKind, OrderGenerator, PlannedMessage};

/// Paths of the two corpora inside the cases folder.
const JSON_TEST_SUITE_DIR: &str = "json-test-suite/test_parsing";
const NAUGHTY_STRINGS_FILE: &str = "naughty-strings/blns.json";

/// Reads both corpora below `dir` and returns one message per file and per string.
pub fn load(dir: &Path, seed: u64) -> anyhow::Result<Vec<PlannedMessage>> {
    let mut messages = Vec::new();

    let suite = dir.join(JSON_TEST_SUITE_DIR);
    let mut files: Vec<_> = std::fs::read_dir(&suite)
        .with_context(|| format!("cannot read {}; --cases must name the folder that holds {JSON_TEST_SUITE_DIR}", suite.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot list {}", suite.display()))?;
    files.sort_by_key(|entry| entry.file_name());
    for (index, entry) in files.iter().enumerate() {
        let value = std::fs::read(entry.path()).with_context(|| format!("cannot read {}", entry.path().display()))?;
        messages.push(PlannedMessage { key: format!("json-test-suite-{index}"), value, kind: MessageKind::JsonTestSuiteFile });
    }

    let naughty = dir.join(NAUGHTY_STRINGS_FILE);
    let text = std::fs::read_to_string(&naughty).with_context(|| format!("cannot read {}", naughty.display()))?;
    let names: Vec<String> = serde_json::from_str(&text).with_context(|| format!("{} is not a JSON array of strings", naughty.display()))?;
    let mut generator = OrderGenerator::new(seed ^ 0x6e61_7567_6874_7921, 0, 0, 0);
    for (index, name) in names.into_iter().enumerate() {
        let mut order = generator.order_for_case(index);
        order.customer.name = name;
        let value = serde_json::to_vec(&order).expect("an order always serializes");
        messages.push(PlannedMessage { key: order.order_id.to_string(), value, kind: MessageKind::NaughtyName });
    }
    Ok(messages)
}

/// Inserts `extra` into `plan` at seeded random positions, keeping the order within each list.
pub fn interleave(plan: Vec<PlannedMessage>, extra: Vec<PlannedMessage>, seed: u64) -> Vec<PlannedMessage> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6361_7365_7321);
    let total = plan.len() + extra.len();
    let mut result = Vec::with_capacity(total);
    let (mut plan, mut extra) = (plan.into_iter(), extra.into_iter());
    while result.len() < total {
        let remaining_plan = plan.len();
        let remaining_extra = extra.len();
        let take_extra = remaining_plan == 0 || (remaining_extra > 0 && rng.random_range(0..remaining_plan + remaining_extra) < remaining_extra);
        let next = if take_extra { extra.next() } else { plan.next() };
        result.push(next.expect("a list with remaining items"));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(prefix: &str, count: usize) -> Vec<PlannedMessage> {
        (0..count)
            .map(|i| PlannedMessage { key: format!("{prefix}{i}"), value: Vec::new(), kind: MessageKind::Order })
            .collect()
    }

    #[test]
    fn interleave_keeps_both_orders() {
        let mixed = interleave(messages("a", 50), messages("b", 20), 3);
        assert_eq!(mixed.len(), 70);
        let keys = |prefix: &str| mixed.iter().filter(|m| m.key.starts_with(prefix)).map(|m| m.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys("a"), (0..50).map(|i| format!("a{i}")).collect::<Vec<_>>());
        assert_eq!(keys("b"), (0..20).map(|i| format!("b{i}")).collect::<Vec<_>>());
        assert_ne!(mixed[50..].iter().filter(|m| m.key.starts_with('b')).count(), 20, "the extras are spread out");
    }
}
