//! Where a Node is reached: the address its `status.addresses` give, internal first (what the
//! API server itself prefers, `--kubelet-preferred-address-types`' default order), then
//! external, then the host name.

use serde_json::Value;

/// The address a Node (its object) is reached at, when it gives one.
pub fn node_address(node: &Value) -> Option<&str> {
    let addresses = node.get("status")?.get("addresses")?.as_array()?;
    ["InternalIP", "ExternalIP", "Hostname"]
        .into_iter()
        .find_map(|kind| {
            addresses
                .iter()
                .find(|a| a.get("type").and_then(Value::as_str) == Some(kind))
                .and_then(|a| a.get("address"))
                .and_then(Value::as_str)
                .filter(|a| !a.is_empty())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_internal_address_comes_first() {
        let node = json!({"status": {"addresses": [
            {"type": "Hostname", "address": "worker-1"},
            {"type": "ExternalIP", "address": "203.0.113.7"},
            {"type": "InternalIP", "address": "10.0.0.11"}
        ]}});
        assert_eq!(node_address(&node), Some("10.0.0.11"));
        let named = json!({"status": {"addresses": [{"type": "Hostname", "address": "w"}]}});
        assert_eq!(node_address(&named), Some("w"));
        assert_eq!(node_address(&json!({"status": {}})), None);
    }
}
