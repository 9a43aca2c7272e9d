//! Whether the namespaces a read is limited to (`--namespace`) are the cluster's: a name it
//! does not have would read nothing, which looks like a clean namespace.

use crate::SnapshotHeader;

/// Namespaces asked for that the cluster does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the cluster of context {context} has no namespace {}; its namespaces: {}",
    quoted(names),
    at_most_twenty(known)
)]
pub struct UnknownNamespaces {
    /// The kubeconfig context the cluster was read through.
    pub context: String,
    /// The names asked for that it does not have.
    pub names: Vec<String>,
    /// The names it has, sorted.
    pub known: Vec<String>,
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn at_most_twenty(names: &[String]) -> String {
    const MOST: usize = 20;
    let mut said = names
        .iter()
        .take(MOST)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MOST {
        said.push_str(&format!(" and {} more", names.len() - MOST));
    }
    if said.is_empty() {
        said.push_str("none");
    }
    said
}

/// `Err` names those of `asked` that are not among `held`, the names of the Namespaces the read
/// of context `context` listed; `held` is `None` when it could not list them: nothing is known
/// then, and the types read in each namespace say for themselves whether they were listed.
pub fn check<'a>(
    context: &str,
    held: Option<impl Iterator<Item = &'a str>>,
    asked: &[String],
) -> Result<(), UnknownNamespaces> {
    let Some(held) = held.filter(|_| !asked.is_empty()) else {
        return Ok(());
    };
    let mut known: Vec<String> = held.map(str::to_string).collect();
    known.sort();
    known.dedup();
    let names: Vec<String> = asked
        .iter()
        .filter(|a| known.binary_search(a).is_err())
        .cloned()
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    Err(UnknownNamespaces {
        context: context.to_string(),
        names,
        known,
    })
}

/// Whether the read whose `header` this is listed the cluster's Namespaces.
pub fn listed(header: &SnapshotHeader) -> bool {
    header
        .resources
        .iter()
        .any(|r| r.group.is_empty() && r.resource == "namespaces")
}

/// [`check`] for a read whose `header` says whether Namespaces were listed.
pub fn check_read<'a>(
    header: &SnapshotHeader,
    held: impl Iterator<Item = &'a str>,
    asked: &[String],
) -> Result<(), UnknownNamespaces> {
    let context = header.metadata.context.as_deref().unwrap_or_default();
    check(context, listed(header).then_some(held), asked)
}

/// The names of the Namespaces among `objects`.
pub fn held(objects: &[palisade_inventory::Object]) -> impl Iterator<Item = &str> {
    objects
        .iter()
        .filter(|o| o.id.group().is_empty() && o.id.kind == "Namespace")
        .filter_map(|o| o.id.name.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::ListedResource;

    fn header(namespaces_listed: bool) -> SnapshotHeader {
        let mut header = SnapshotHeader::default();
        header.metadata.context = Some("prod".into());
        if namespaces_listed {
            header.resources.push(ListedResource {
                group: String::new(),
                version: "v1".into(),
                resource: "namespaces".into(),
                kind: "Namespace".into(),
                namespaced: false,
                count: 2,
            });
        }
        header
    }

    #[test]
    fn a_namespace_the_cluster_lacks_is_named_with_those_it_has() {
        let asked = ["shop".to_string(), "shpo".to_string()];
        let error =
            check_read(&header(true), ["shop", "kube-system"].into_iter(), &asked).unwrap_err();
        assert_eq!(error.names, ["shpo"]);
        assert_eq!(
            error.to_string(),
            "the cluster of context prod has no namespace \"shpo\"; its namespaces: kube-system, shop"
        );
        assert!(check_read(&header(true), ["shop"].into_iter(), &asked[..1]).is_ok());
        assert!(check_read(&header(true), std::iter::empty(), &[]).is_ok());
    }

    #[test]
    fn nothing_is_refused_when_namespaces_could_not_be_listed() {
        let asked = ["shpo".to_string()];
        assert!(check_read(&header(false), std::iter::empty(), &asked).is_ok());
    }

    #[test]
    fn many_namespaces_are_counted_past_twenty() {
        let names: Vec<String> = (0..25).map(|i| format!("ns{i:02}")).collect();
        let error = check_read(
            &header(true),
            names.iter().map(String::as_str),
            &["x".to_string()],
        )
        .unwrap_err();
        assert!(error.to_string().ends_with("ns19 and 5 more"), "{error}");
    }
}
