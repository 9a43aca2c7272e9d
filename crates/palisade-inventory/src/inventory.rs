//! The inventory: every loaded object, indexed for the lookups rules make across objects.

use std::collections::HashMap;

use crate::object::{Object, Source};

/// All objects of a scan, with their sources.
#[derive(Debug, Default)]
pub struct Inventory {
    pub sources: Vec<Source>,
    pub objects: Vec<Object>,
    /// Whether the inventory is a whole cluster (a live scan or snapshot) rather than a set of
    /// manifests; rules may then treat "absent" as "does not exist".
    pub complete: bool,
    by_kind: HashMap<(String, String), Vec<usize>>,
}

impl Inventory {
    /// Builds the inventory and its indexes.
    pub fn new(sources: Vec<Source>, objects: Vec<Object>) -> Self {
        let mut by_kind: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, object) in objects.iter().enumerate() {
            by_kind
                .entry((object.id.group().to_string(), object.id.kind.clone()))
                .or_default()
                .push(i);
        }
        Inventory {
            sources,
            objects,
            complete: false,
            by_kind,
        }
    }

    /// Objects of one group and kind (`""` is the core group).
    pub fn of_kind<'a>(&'a self, group: &str, kind: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.by_kind
            .get(&(group.to_string(), kind.to_string()))
            .into_iter()
            .flatten()
            .map(|&i| &self.objects[i])
    }

    /// The source an object came from.
    pub fn source_of(&self, object: &Object) -> &Source {
        &self.sources[object.source]
    }
}
