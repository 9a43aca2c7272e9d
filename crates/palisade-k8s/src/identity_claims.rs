//! Whether an API server lets an external identity provider name Kubernetes' own identities.
//!
//! An OpenID Connect (JWT) authenticator turns a token's claims into a user name and groups.
//! Kubernetes reserves the `system:` names for itself (`system:masters` is cluster-admin,
//! `system:kube-controller-manager` may mint any service account's token,
//! `system:serviceaccount:NS:NAME` is that account) but does not refuse them from a token:
//! unless the mapping prefixes what the provider says, or a `userValidationRules` expression
//! refuses `system:` names, whoever can set a user's name or groups at the provider (its
//! administrators, a self-service group, a user editing a profile claim) can become any of
//! them.
//!
//! Two ways of configuring it are read: the `--oidc-*` flags of kube-apiserver, and the
//! `jwt` authenticators of an `AuthenticationConfiguration` (`--authentication-config`).

use serde_json::Value;

/// Which of a user's names a mapping makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    Username,
    Groups,
}

impl Names {
    /// What a provider may then name, for messages.
    pub fn consequence(self) -> &'static str {
        match self {
            Names::Username => {
                "a provider user named system:kube-controller-manager acts as the controller \
                 manager, and one named system:serviceaccount:NS:NAME as that service account"
            }
            Names::Groups => "a provider group named system:masters is cluster-admin",
        }
    }
}

/// A mapping that passes the provider's names through as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unguarded {
    pub names: Names,
    /// How the names are made, for the message.
    pub how: String,
    /// Where it is set: a flag's name for the flags, a JSON pointer in a configuration.
    pub at: String,
}

/// What kube-apiserver's `--oidc-*` flags (`value` gives a flag's value, `None` when it is
/// not given) let through: nothing without `--oidc-issuer-url`. A user name from a claim
/// other than `email` is prefixed with the issuer's URL unless `--oidc-username-prefix=-`
/// turns that off (an e-mail address holds an `@`, which no reserved name does); groups are
/// prefixed only with `--oidc-groups-prefix`.
pub fn from_flags<'v>(value: impl Fn(&str) -> Option<&'v str>) -> Vec<Unguarded> {
    let given = |name: &str| value(name).map(str::trim).filter(|v| !v.is_empty());
    if given("oidc-issuer-url").is_none() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let claim = given("oidc-username-claim").unwrap_or("sub");
    match given("oidc-username-prefix") {
        Some("-") if claim != "email" => out.push(Unguarded {
            names: Names::Username,
            how: format!(
                "the user name is the provider's `{claim}` claim as it is \
                 (--oidc-username-prefix=-)"
            ),
            at: "oidc-username-prefix".into(),
        }),
        Some(prefix) if prefix != "-" && !protects(prefix) => out.push(Unguarded {
            names: Names::Username,
            how: format!("the user name is the `{claim}` claim after `{prefix}`"),
            at: "oidc-username-prefix".into(),
        }),
        _ => {}
    }
    if let Some(groups) = given("oidc-groups-claim") {
        match given("oidc-groups-prefix") {
            None => out.push(Unguarded {
                names: Names::Groups,
                how: format!(
                    "the groups are the provider's `{groups}` claim as it is (no \
                     --oidc-groups-prefix)"
                ),
                at: "oidc-groups-claim".into(),
            }),
            Some(prefix) if !protects(prefix) => out.push(Unguarded {
                names: Names::Groups,
                how: format!("the groups are the `{groups}` claim after `{prefix}`"),
                at: "oidc-groups-prefix".into(),
            }),
            Some(_) => {}
        }
    }
    out
}

/// Whether names that start with `prefix` can be none of the reserved ones: it is not empty,
/// and neither the start of `system:` (`sys` + `tem:masters`) nor within it.
fn protects(prefix: &str) -> bool {
    const RESERVED: &str = "system:";
    !prefix.is_empty() && !RESERVED.starts_with(prefix) && !prefix.starts_with(RESERVED)
}

/// What the `jwt` authenticators of an `AuthenticationConfiguration` let through, each at
/// its JSON pointer. A claim mapped with an empty prefix, or an expression that does not
/// start its result with a text of its own, passes the provider's names through, unless a
/// `userValidationRules` expression refuses `system:` names (one that reads `user.username`
/// or `user.groups` and `system:`).
pub fn from_configuration(config: &Value) -> Vec<Unguarded> {
    let Some(authenticators) = config.get("jwt").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, jwt) in authenticators.iter().enumerate() {
        let issuer = jwt
            .get("issuer")
            .and_then(|i| i.get("url"))
            .and_then(Value::as_str)
            .unwrap_or("an issuer");
        for names in [Names::Username, Names::Groups] {
            let key = match names {
                Names::Username => "username",
                Names::Groups => "groups",
            };
            let Some(mapping) = jwt.get("claimMappings").and_then(|m| m.get(key)) else {
                continue;
            };
            let Some(how) = passes_through(names, mapping) else {
                continue;
            };
            if refuses_reserved_names(jwt, names) {
                continue;
            }
            out.push(Unguarded {
                names,
                how: format!("{how} for {issuer}"),
                at: format!("/jwt/{i}/claimMappings/{key}"),
            });
        }
    }
    out
}

/// How `mapping` (`claim` and `prefix`, or `expression`) passes the provider's names
/// through, `None` when it prefixes them.
fn passes_through(names: Names, mapping: &Value) -> Option<String> {
    let text = |key: &str| mapping.get(key).and_then(Value::as_str).map(str::trim);
    if let Some(claim) = text("claim").filter(|c| !c.is_empty()) {
        let email = names == Names::Username && claim == "email";
        let prefixed = text("prefix").is_some_and(protects);
        return (!prefixed && !email).then(|| {
            let what = match names {
                Names::Username => "the user name",
                Names::Groups => "the groups",
            };
            format!("{what} is the `{claim}` claim with an empty prefix")
        });
    }
    let expression = text("expression").filter(|e| !e.is_empty())?;
    let prefixed = match names {
        Names::Username => starts_with_own_text(expression),
        Names::Groups => maps_each_with_own_text(expression),
    };
    (!prefixed).then(|| format!("the expression `{expression}` does not prefix what it reads"))
}

/// Whether a CEL expression starts its result with a string literal of its own that
/// [`protects`]: `'oidc:' + claims.sub`.
fn starts_with_own_text(expression: &str) -> bool {
    let expression = expression.trim();
    let Some(quote) = expression
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '"'))
    else {
        return false;
    };
    let body = &expression[1..];
    let Some(end) = body.find(quote) else {
        return false;
    };
    let literal = &body[..end];
    let rest = body[end + 1..].trim_start();
    protects(literal) && rest.starts_with('+')
}

/// Whether a CEL expression maps each group to one that starts with a text of its own:
/// `claims.groups.map(g, 'oidc:' + g)`.
fn maps_each_with_own_text(expression: &str) -> bool {
    let Some((_, args)) = expression.trim().split_once(".map(") else {
        return false;
    };
    let Some((_, body)) = args.split_once(',') else {
        return false;
    };
    starts_with_own_text(body)
}

/// Whether the authenticator's `userValidationRules` refuse `system:` names for `names`.
fn refuses_reserved_names(jwt: &Value, names: Names) -> bool {
    let field = match names {
        Names::Username => "user.username",
        Names::Groups => "user.groups",
    };
    jwt.get("userValidationRules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rule| rule.get("expression").and_then(Value::as_str))
        .any(|e| e.contains(field) && e.contains("system:"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flags(given: &[(&'static str, &'static str)]) -> Vec<(Names, String)> {
        from_flags(|name| given.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
            .into_iter()
            .map(|u| (u.names, u.at))
            .collect()
    }

    #[test]
    fn the_oidc_flags_pass_names_through_without_a_prefix() {
        let issuer = ("oidc-issuer-url", "https://idp.example");
        assert!(flags(&[]).is_empty(), "no OIDC");
        assert!(flags(&[issuer]).is_empty(), "sub, prefixed with the issuer");
        assert!(
            flags(&[("oidc-groups-claim", "groups")]).is_empty(),
            "no issuer"
        );
        assert_eq!(
            flags(&[issuer, ("oidc-groups-claim", "groups")]),
            [(Names::Groups, "oidc-groups-claim".to_string())]
        );
        assert!(
            flags(&[
                issuer,
                ("oidc-groups-claim", "groups"),
                ("oidc-groups-prefix", "oidc:")
            ])
            .is_empty()
        );
        assert_eq!(
            flags(&[
                issuer,
                ("oidc-username-claim", "preferred_username"),
                ("oidc-username-prefix", "-")
            ]),
            [(Names::Username, "oidc-username-prefix".to_string())]
        );
        // A prefix that is the start of a reserved name prefixes nothing.
        assert_eq!(
            flags(&[
                issuer,
                ("oidc-groups-claim", "groups"),
                ("oidc-groups-prefix", "sys")
            ]),
            [(Names::Groups, "oidc-groups-prefix".to_string())]
        );
        assert_eq!(
            flags(&[issuer, ("oidc-username-prefix", "system:")]),
            [(Names::Username, "oidc-username-prefix".to_string())]
        );
        // An e-mail address is no reserved name.
        assert!(
            flags(&[
                issuer,
                ("oidc-username-claim", "email"),
                ("oidc-username-prefix", "-")
            ])
            .is_empty()
        );
    }

    fn configured(jwt: Value) -> Vec<(Names, String)> {
        from_configuration(&json!({"jwt": [jwt]}))
            .into_iter()
            .map(|u| (u.names, u.at))
            .collect()
    }

    #[test]
    fn an_authentication_configuration_passes_names_through_unless_prefixed_or_refused() {
        let issuer = json!({"url": "https://idp.example", "audiences": ["k8s"]});
        let open = json!({
            "issuer": issuer,
            "claimMappings": {
                "username": {"claim": "sub", "prefix": ""},
                "groups": {"claim": "groups", "prefix": ""}
            }
        });
        assert_eq!(
            configured(open.clone()),
            [
                (Names::Username, "/jwt/0/claimMappings/username".to_string()),
                (Names::Groups, "/jwt/0/claimMappings/groups".to_string())
            ]
        );
        let mut refused = open.clone();
        refused["userValidationRules"] = json!([
            {"expression": "!user.username.startsWith('system:')", "message": "reserved"},
            {"expression": "user.groups.all(g, !g.startsWith('system:'))", "message": "reserved"}
        ]);
        assert!(configured(refused).is_empty());
        let prefixed = json!({
            "issuer": issuer,
            "claimMappings": {
                "username": {"expression": "'oidc:' + claims.sub"},
                "groups": {"expression": "claims.groups.map(g, 'oidc:' + g)"}
            }
        });
        assert!(configured(prefixed).is_empty());
        let bare = json!({
            "issuer": issuer,
            "claimMappings": {
                "username": {"expression": "claims.preferred_username"},
                "groups": {"expression": "claims.groups"}
            }
        });
        assert_eq!(configured(bare).len(), 2);
        // A prefix that itself is a reserved name's start prefixes nothing.
        let reserved = json!({
            "issuer": issuer,
            "claimMappings": {"username": {"expression": "'system:' + claims.sub"}}
        });
        assert_eq!(configured(reserved).len(), 1);
        // The e-mail claim, and a mapping with a prefix.
        let safe = json!({
            "issuer": issuer,
            "claimMappings": {
                "username": {"claim": "email", "prefix": ""},
                "groups": {"claim": "groups", "prefix": "idp:"}
            }
        });
        assert!(configured(safe).is_empty());
    }

    use proptest::strategy::Strategy as _;

    /// A reserved name, cut anywhere to make prefixes and tails of it.
    const RESERVED_NAME: &str = "system:masters";

    proptest::proptest! {
        /// A prefix that protects can start no reserved name, whatever the provider appends.
        #[test]
        fn a_protecting_prefix_starts_no_reserved_name(
            prefix in proptest::prop_oneof![
                "\\PC{0,12}",
                (0..=14usize).prop_map(|n| RESERVED_NAME[..n].to_string()),
            ],
            tail in proptest::prop_oneof![
                "\\PC{0,12}",
                (0..=14usize).prop_map(|n| RESERVED_NAME[n..].to_string()),
            ],
        ) {
            if protects(&prefix) {
                let name = prefix.clone() + &tail;
                proptest::prop_assert!(!name.starts_with("system:"), "{}", name);
            }
        }

        /// Any expression text is read without a panic.
        #[test]
        fn any_expression_is_read(expression in "\\PC{0,40}") {
            let _ = starts_with_own_text(&expression);
            let _ = maps_each_with_own_text(&expression);
            let mapping = serde_json::json!({"expression": expression});
            let _ = passes_through(Names::Groups, &mapping);
        }
    }

    #[test]
    fn odd_configurations_say_nothing_rather_than_fail() {
        for config in [
            json!({}),
            json!({"jwt": "x"}),
            json!({"jwt": [1, {"claimMappings": 2}, {"claimMappings": {"groups": {"expression": "'"}}}]}),
        ] {
            let _ = from_configuration(&config);
        }
        assert!(!starts_with_own_text("'unclosed + x"));
        assert!(!maps_each_with_own_text("claims.groups.map(g"));
    }
}
