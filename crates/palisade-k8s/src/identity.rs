//! Who a request comes from: users, groups and service accounts, with the groups the API server
//! adds implicitly.

use std::fmt;

use serde::Serialize;

/// The group the API server allows every request, before and whatever RBAC says
/// (`system:masters`): impersonating it is cluster-admin.
pub const SUPERUSER_GROUP: &str = "system:masters";

/// How a service account's user name starts.
const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// A subject as RBAC bindings name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "PascalCase")]
pub enum Subject {
    User { name: String },
    Group { name: String },
    ServiceAccount { namespace: String, name: String },
}

impl Subject {
    /// Parses `user:alice`, `group:devs`, `sa:ns/name`, `serviceaccount:ns:name`,
    /// `system:serviceaccount:ns:name` or a bare user name.
    pub fn parse(text: &str) -> Option<Subject> {
        if text.starts_with(SERVICE_ACCOUNT_PREFIX) {
            return match Subject::of_username(text) {
                account @ Subject::ServiceAccount { .. } => Some(account),
                _ => None,
            };
        }
        let (kind, rest) = text.split_once(':').unwrap_or(("user", text));
        let sa = |rest: &str| {
            let (ns, name) = rest.split_once('/').or_else(|| rest.split_once(':'))?;
            (!ns.is_empty() && !name.is_empty()).then(|| Subject::service_account(ns, name))
        };
        match kind.to_ascii_lowercase().as_str() {
            "user" | "u" if !rest.is_empty() => Some(Subject::User { name: rest.into() }),
            "group" | "g" if !rest.is_empty() => Some(Subject::Group { name: rest.into() }),
            "sa" | "serviceaccount" => sa(rest),
            _ => Some(Subject::User { name: text.into() }),
        }
    }

    /// The subject an authenticated user name is (as audit events and impersonation name it):
    /// the service account `system:serviceaccount:NAMESPACE:NAME`, else a user.
    pub fn of_username(name: &str) -> Subject {
        match name
            .strip_prefix(SERVICE_ACCOUNT_PREFIX)
            .and_then(|rest| rest.split_once(':'))
        {
            Some((namespace, account)) => Subject::service_account(namespace, account),
            None => Subject::User { name: name.into() },
        }
    }

    pub fn service_account(namespace: &str, name: &str) -> Subject {
        Subject::ServiceAccount {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The identity a request made as this subject carries. A group is modelled as a member
    /// that has only that group (and `system:authenticated` unless the group is
    /// `system:unauthenticated`).
    pub fn identity(&self) -> Identity {
        match self {
            Subject::User { name } if name == "system:anonymous" => Identity {
                user: name.clone(),
                groups: vec!["system:unauthenticated".into()],
            },
            Subject::User { name } => Identity {
                user: name.clone(),
                groups: vec!["system:authenticated".into()],
            },
            Subject::Group { name } => Identity {
                user: String::new(),
                groups: if name == "system:unauthenticated" {
                    vec![name.clone()]
                } else {
                    vec![name.clone(), "system:authenticated".into()]
                },
            },
            Subject::ServiceAccount { namespace, name } => Identity {
                user: format!("system:serviceaccount:{namespace}:{name}"),
                groups: vec![
                    "system:serviceaccounts".into(),
                    format!("system:serviceaccounts:{namespace}"),
                    "system:authenticated".into(),
                ],
            },
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::User { name } => write!(f, "User {name}"),
            Subject::Group { name } => write!(f, "Group {name}"),
            Subject::ServiceAccount { namespace, name } => {
                write!(
                    f,
                    "ServiceAccount {}/{name}",
                    crate::names::display_ns(namespace)
                )
            }
        }
    }
}

/// An authenticated (or anonymous) requester: a user name and groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub groups: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_spellings() {
        assert_eq!(
            Subject::parse("sa:ops/deployer"),
            Some(Subject::service_account("ops", "deployer"))
        );
        assert_eq!(
            Subject::parse("system:serviceaccount:ops:deployer"),
            Some(Subject::service_account("ops", "deployer"))
        );
        assert_eq!(
            Subject::parse("group:devs"),
            Some(Subject::Group {
                name: "devs".into()
            })
        );
        assert_eq!(
            Subject::parse("alice"),
            Some(Subject::User {
                name: "alice".into()
            })
        );
        assert_eq!(Subject::parse("sa:nonamespace"), None);
    }

    #[test]
    fn service_accounts_carry_their_implicit_groups() {
        let id = Subject::service_account("ops", "ci").identity();
        assert_eq!(id.user, "system:serviceaccount:ops:ci");
        assert!(
            id.groups
                .contains(&"system:serviceaccounts:ops".to_string())
        );
        assert!(id.groups.contains(&"system:authenticated".to_string()));
        let anon = Subject::User {
            name: "system:anonymous".into(),
        }
        .identity();
        assert_eq!(anon.groups, ["system:unauthenticated"]);
    }
}
