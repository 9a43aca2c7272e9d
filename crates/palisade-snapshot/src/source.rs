//! Snapshots as sources of objects: a snapshot file (or a `kubectl get -o json` List) and a
//! snapshot just read from a live cluster. Both are the whole cluster, and both say which
//! types could not be listed, so a scan never mistakes a gap for a clean cluster.

use std::path::{Path, PathBuf};

use palisade_inventory::load::Envelope;
use palisade_inventory::{
    FileSource, Limits, LoadOptions, Loaded, ObjectSource, Reading, SourceRead, ValuesSource,
    read_sources,
};

use crate::format::{
    Dump, SNAPSHOT_API_VERSION, SNAPSHOT_KIND, Snapshot, SnapshotError, SnapshotHeader, read_header,
};

/// How the inventory loader recognises a snapshot: its `items` are objects, and another
/// format version is an error.
pub const ENVELOPE: Envelope = Envelope {
    kind: SNAPSHOT_KIND,
    api_version: SNAPSHOT_API_VERSION,
    noun: "snapshot",
    unsupported_code: "unsupported-snapshot",
    advice: "take the snapshot again with this version",
};

/// The envelopes this crate defines, for [`Limits::envelopes`].
pub const ENVELOPES: &[Envelope] = &[ENVELOPE];

/// `limits` that also read snapshot files found among manifests.
pub fn recognising_snapshots(limits: Limits) -> Limits {
    Limits {
        envelopes: ENVELOPES,
        ..limits
    }
}

/// A type the cluster would not list: `(group, kind, why)`, as scan options want it.
pub type Unlisted = (String, String, String);

/// Whether a type the cluster would not list, `(group, kind)` of an [`Unlisted`], withholds
/// objects of `of`: the same type, or any kind of a group whose discovery failed (the kind is
/// empty), or of every group (the group is `*`).
pub fn withholds((group, kind): (&str, &str), (of_group, of_kind): (&str, &str)) -> bool {
    group == "*" || (group == of_group && (kind.is_empty() || kind == of_kind))
}

/// The types a snapshot could not list.
pub fn unlisted(header: &SnapshotHeader) -> Vec<Unlisted> {
    header
        .errors
        .iter()
        .map(|e| (e.group.clone(), e.kind.clone(), e.describe()))
        .collect()
}

/// A snapshot file, or a `kubectl get -o json` List, as the live side of a scan or drift.
#[derive(Debug, Clone)]
pub struct SnapshotFile {
    path: PathBuf,
    dump: Dump,
    options: LoadOptions,
}

impl SnapshotFile {
    /// Reads the header (refusing what is neither a snapshot nor a List, or a snapshot of
    /// another format version). Snapshots of large clusters exceed the manifest size limit
    /// (up to 4 GiB is read); `keep_managed_fields` is for drift, and otherwise large ones
    /// are read without `managedFields`.
    pub fn open(path: &Path, keep_managed_fields: bool) -> Result<SnapshotFile, SnapshotError> {
        let dump = read_header(path)?;
        let options = LoadOptions {
            limits: recognising_snapshots(Limits {
                max_file_bytes: 4 << 30,
                drop_managed_fields: !keep_managed_fields,
                ..Limits::default()
            }),
            ..LoadOptions::default()
        };
        Ok(SnapshotFile {
            path: path.to_path_buf(),
            dump,
            options,
        })
    }

    /// The types it could not list (none known for a List).
    pub fn unlisted(&self) -> Vec<Unlisted> {
        match &self.dump {
            Dump::Snapshot(header) => unlisted(header),
            Dump::List => Vec::new(),
        }
    }

    /// Its objects.
    pub fn load(self) -> Loaded {
        let options = self.options.clone();
        read_sources(vec![Box::new(self)], &options)
    }

    /// Its objects, for a read limited to `namespaces` (`--namespace`): refused when the
    /// snapshot listed the cluster's Namespaces and one of these is not among them
    /// ([`crate::namespaces::check_read`]). A List holds no record of what was listed: it is read.
    pub fn load_in(self, namespaces: &[String]) -> Result<Loaded, crate::UnknownNamespaces> {
        let header = match &self.dump {
            Dump::Snapshot(header) => Some(header.as_ref().clone()),
            Dump::List => None,
        };
        let loaded = self.load();
        if let Some(header) = header {
            crate::namespaces::check_read(
                &header,
                crate::namespaces::held(&loaded.inventory.objects),
                namespaces,
            )?;
        }
        Ok(loaded)
    }
}

impl ObjectSource for SnapshotFile {
    /// Read with the snapshot's own limits, whatever the run's are.
    fn read(self: Box<Self>, _reading: &Reading<'_>) -> SourceRead {
        let reading = Reading::new(&self.options);
        Box::new(FileSource(self.path.clone())).read(&reading)
    }
}

impl Snapshot {
    /// The types it could not list.
    pub fn unlisted(&self) -> Vec<Unlisted> {
        unlisted(&self.header)
    }

    /// Its objects as an inventory, without writing and parsing them again; each at the line
    /// it has in the written snapshot. No size limit applies: the objects are in memory.
    pub fn load(self) -> Loaded {
        let options = LoadOptions {
            limits: Limits {
                max_file_bytes: u64::MAX,
                ..Limits::default()
            },
            ..LoadOptions::default()
        };
        read_sources(vec![Box::new(self)], &options)
    }
}

impl ObjectSource for Snapshot {
    /// The items, named `cluster:CONTEXT`, within the run's node limit.
    fn read(self: Box<Self>, reading: &Reading<'_>) -> SourceRead {
        let values = ValuesSource {
            name: self.source_name(),
            first_line: Snapshot::FIRST_ITEM_LINE,
            items: self.items,
        };
        Box::new(values).read(reading)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_list_or_discovery_withholds_its_types() {
        assert!(withholds(("", "Secret"), ("", "Secret")));
        assert!(!withholds(("", "Secret"), ("", "ConfigMap")));
        assert!(!withholds(("", "Secret"), ("apps", "Secret")));
        // The discovery of a group failed: every kind of it; of every group: everything.
        assert!(withholds(
            ("metrics.k8s.io", ""),
            ("metrics.k8s.io", "PodMetrics")
        ));
        assert!(!withholds(("metrics.k8s.io", ""), ("", "Pod")));
        assert!(withholds(
            ("*", ""),
            ("rbac.authorization.k8s.io", "RoleBinding")
        ));
    }
    use palisade_inventory::load_text;

    #[test]
    fn manifests_hold_snapshots_only_when_the_envelope_is_registered() {
        let text = "{\"apiVersion\": \"palisade.dev/v1alpha1\", \"kind\": \"ClusterSnapshot\", \"metadata\": {}, \"items\": [{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"c\"}}]}";
        let plain = load_text("s.json", text, &Limits::default());
        assert_eq!(plain.inventory.objects[0].id.kind, "ClusterSnapshot");
        let with = load_text("s.json", text, &recognising_snapshots(Limits::default()));
        assert_eq!(with.inventory.objects[0].id.kind, "ConfigMap");
        let future = text.replace("v1alpha1", "v9");
        let refused = load_text("s.json", &future, &recognising_snapshots(Limits::default()));
        assert!(refused.inventory.objects.is_empty());
        assert_eq!(refused.diagnostics[0].code, "unsupported-snapshot");
        assert!(
            refused.diagnostics[0]
                .message
                .contains("take the snapshot again"),
            "{}",
            refused.diagnostics[0].message
        );
    }
}
