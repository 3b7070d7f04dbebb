//! `static_configs`: fixed target groups, one per entry, named by the
//! entry's index (as Prometheus's static provider names them).

use tokio::sync::mpsc;

use super::{LabelSet, TargetGroup};
use crate::config::StaticConfig;

/// The groups of a job's `static_configs`: group `i` has source `"i"`.
pub fn groups(configs: &[StaticConfig]) -> Vec<TargetGroup> {
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| TargetGroup::from_addresses(i.to_string(), &c.targets, LabelSet::clone(&c.labels.0)))
        .collect()
}

/// Sends the groups once; static groups never change until a reload.
pub async fn run(configs: Vec<StaticConfig>, tx: mpsc::Sender<Vec<TargetGroup>>) {
    let _ = tx.send(groups(&configs)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_group_per_entry_named_by_index() {
        let configs: Vec<StaticConfig> =
            yaml_serde::from_str("- targets: [a:1, b:2]\n  labels: {env: prod}\n- targets: [c:3]\n").unwrap();
        let g = groups(&configs);
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].source.as_str(), g[1].source.as_str()), ("0", "1"));
        assert_eq!(g[0].targets[1]["__address__"], "b:2");
        assert_eq!(g[0].labels["env"], "prod");
        assert_eq!(g[1].targets.len(), 1);
    }
}
