//! A reader of the Prometheus text exposition format, enough for `orderctl watch`: samples with
//! their labels, and quantiles from histogram buckets.

use std::collections::BTreeMap;

/// One sample line: `name{label="value",...} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// All samples of one scrape.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// Parses the text format, skipping comments and lines it cannot read.
    pub fn parse(text: &str) -> Self {
        let samples = text.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()).filter_map(parse_line).collect();
        Self { samples }
    }

    /// Sum of every series of `name` whose labels include `filter`.
    pub fn sum(&self, name: &str, filter: &[(&str, &str)]) -> f64 {
        self.matching(name, filter).map(|sample| sample.value).sum()
    }

    pub fn matching<'a>(&'a self, name: &'a str, filter: &'a [(&str, &str)]) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |sample| {
            sample.name == name && filter.iter().all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(*value))
        })
    }

    /// Cumulative bucket counts of histogram `name`, summed over its series, by upper bound.
    pub fn buckets(&self, name: &str) -> Vec<(f64, f64)> {
        let mut by_bound: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
        for sample in self.matching(&format!("{name}_bucket"), &[]).collect::<Vec<_>>() {
            let Some(bound) = sample.labels.get("le").and_then(|le| le.parse::<f64>().ok()) else { continue };
            let entry = by_bound.entry(bound.to_bits()).or_insert((bound, 0.0));
            entry.1 += sample.value;
        }
        let mut buckets: Vec<(f64, f64)> = by_bound.into_values().collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        buckets
    }
}

/// Estimates quantile `q` from cumulative buckets, interpolating linearly inside a bucket as
/// PromQL's `histogram_quantile` does. Returns `None` without observations.
pub fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower_bound = 0.0;
    let mut lower_count = 0.0;
    for &(bound, count) in buckets {
        if count >= rank {
            if bound.is_infinite() {
                return Some(lower_bound);
            }
            let in_bucket = count - lower_count;
            let fraction = if in_bucket > 0.0 { (rank - lower_count) / in_bucket } else { 1.0 };
            return Some(lower_bound + (bound - lower_bound) * fraction);
        }
        lower_bound = bound;
        lower_count = count;
    }
    Some(lower_bound)
}

/// Bucket counts of `after` minus those of `before`: the observations between two scrapes.
pub fn bucket_delta(before: &[(f64, f64)], after: &[(f64, f64)]) -> Vec<(f64, f64)> {
    after
        .iter()
        .map(|&(bound, count)| {
            let earlier = before.iter().find(|(b, _)| *b == bound).map_or(0.0, |(_, c)| *c);
            (bound, (count - earlier).max(0.0))
        })
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    let (name, labels) = match series.split_once('{') {
        None => (series.to_owned(), BTreeMap::new()),
        Some((name, rest)) => (name.to_owned(), parse_labels(rest.strip_suffix('}')?)?),
    };
    Some(Sample { name, labels, value })
}

/// Parses `a="x",b="y"`, with the escapes `\\`, `\"` and `\n` inside values.
fn parse_labels(text: &str) -> Option<BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if chars.next()? != '"' {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '\\' => match chars.next()? {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break,
                other => value.push(other),
            }
        }
        labels.insert(key.trim().to_owned(), value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    Some(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP x help\n# TYPE x counter\nx_total 5\nlag{topic=\"orders\",partition=\"0\"} 3\nlag{topic=\"orders\",partition=\"1\"} 4\nh_bucket{le=\"0.1\"} 50\nh_bucket{le=\"1\"} 90\nh_bucket{le=\"+Inf\"} 100\nq{v=\"a\\\"b,c\"} 1\n";

    #[test]
    fn parse_reads_samples_and_labels() {
        let scrape = Scrape::parse(TEXT);
        assert_eq!(scrape.sum("x_total", &[]), 5.0);
        assert_eq!(scrape.sum("lag", &[]), 7.0);
        assert_eq!(scrape.sum("lag", &[("partition", "1")]), 4.0);
        assert_eq!(scrape.matching("q", &[]).next().unwrap().labels["v"], "a\"b,c");
    }

    #[test]
    fn quantile_interpolates_in_bucket() {
        let buckets = Scrape::parse(TEXT).buckets("h");
        assert_eq!(buckets.len(), 3);
        let median = quantile(0.5, &buckets).unwrap();
        assert!((median - 0.1).abs() < 1e-9, "{median}");
        let p75 = quantile(0.75, &buckets).unwrap();
        assert!((p75 - (0.1 + 0.9 * 25.0 / 40.0)).abs() < 1e-9, "{p75}");
        assert_eq!(quantile(0.99, &buckets), Some(1.0));
    }

    #[test]
    fn quantile_without_observations_is_none() {
        assert_eq!(quantile(0.5, &[(0.1, 0.0), (f64::INFINITY, 0.0)]), None);
    }
}
