//! The requests an identity made, read from audit logs for `palisade rbac generate`: with the
//! reader every audit command uses (rotated and gzip files and directories of them, EventLists,
//! GKE, AKS and EKS wrappers, `v1beta1`), each event reduced to what authorization looks at
//! ([`palisade_rbac::audit::SeenRequest`]).

use std::path::PathBuf;

use palisade_k8s::identity::Identity;
use palisade_rbac::audit::{AuditRequests, SeenRequest};

use crate::input::{InputError, ReadStats, read_path};
use crate::{Event, Origin};

/// The requests of `identity` in the logs at `paths`, and what reading found besides events.
/// A path that cannot be read is an error: roles generated from part of the logs would
/// refuse what the rest shows.
pub fn requests_of(
    paths: &[PathBuf],
    identity: &Identity,
) -> Result<(AuditRequests, ReadStats), InputError> {
    let mut requests = AuditRequests::default();
    let mut stats = ReadStats::default();
    let mut take = |event: &Event, _: &Origin| requests.take(&seen(event), identity);
    for path in paths {
        read_path(path, &mut stats, &mut take)?;
    }
    Ok((requests, stats))
}

/// `event` as generation reads it.
pub fn seen<'e>(event: &'e Event) -> SeenRequest<'e> {
    SeenRequest {
        stage: event.stage(),
        user: event.user(),
        impersonated: event
            .impersonated_user
            .as_ref()
            .map(|user| (user.name(), user.groups()))
            .filter(|(name, _)| !name.is_empty()),
        verb: event.verb(),
        namespace: event.namespace(),
        api_group: event.api_group(),
        resource: event.resource(),
        subresource: event.subresource(),
        name: event.name(),
        path: event.path(),
        refused: event.code() == Some(403) || event.decision().as_deref() == Some("forbid"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const IMPERSONATED: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"list","user":{"username":"alice","groups":["system:authenticated"]},"impersonatedUser":{"username":"system:serviceaccount:prod:admin","groups":["system:serviceaccounts","system:serviceaccounts:prod","system:authenticated"]},"objectRef":{"resource":"secrets","namespace":"prod","apiVersion":"v1"},"responseStatus":{"code":200}}"#;
    const DIRECT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"get","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"prod","name":"web","apiVersion":"v1"},"responseStatus":{"code":200},"annotations":{"authorization.k8s.io/decision":"forbid"}}"#;

    /// A gzip-rotated log is read as the audit commands read it, and an impersonated request
    /// is the impersonated identity's.
    #[test]
    fn requests_are_read_from_rotated_logs_as_the_audit_commands_read_them() {
        let dir = std::env::temp_dir().join(format!("palisade-least-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.log.1.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        writeln!(gz, "{IMPERSONATED}\n{DIRECT}\nnot json").unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let alice = palisade_k8s::identity::Subject::parse("user:alice")
            .unwrap()
            .identity();
        let (read, stats) = requests_of(std::slice::from_ref(&path), &alice).unwrap();
        assert_eq!((stats.events, stats.malformed), (2, 1), "{stats:?}");
        let granted: Vec<String> = read.requests.iter().map(|k| k.describe()).collect();
        assert_eq!(granted, ["impersonate serviceaccounts admin in prod"]);
        // The authorizer's `forbid` refused the direct request.
        let refused: Vec<String> = read.denied.iter().map(|k| k.describe()).collect();
        assert_eq!(refused, ["get pods web in prod"]);
        std::fs::remove_dir_all(&dir).ok();
    }
}
