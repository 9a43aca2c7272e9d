//! `declare_rule!`: one rule struct, its metadata and its documentation from one place.

/// Removes the one space rustdoc leaves after `///` on each line.
pub fn unindent_docs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line.strip_prefix(' ').unwrap_or(line));
        out.push('\n');
    }
    out.trim().to_string() + "\n"
}

/// Declares a rule: a unit struct whose doc comment becomes the rule's documentation, its
/// `metadata()` (id, slug, title, severity, controls, remediation), and its [`Rule`] impl.
/// The rule file then implements only [`Check`]: what the rule looks for.
///
/// [`Rule`]: crate::rule::Rule
/// [`Check`]: crate::rule::Check
///
/// ```ignore
/// declare_rule! {
///     /// ## What it checks
///     /// ...
///     pub struct PrivilegedContainer {
///         id: "POD001",
///         slug: "privileged-container",
///         title: "Container runs privileged",
///         severity: Critical,
///         target: Target::PodSpec,
///         controls: [CisK8s112 "5.2.2", Pss "baseline/privileged-containers"],
///         remediation: "Remove `securityContext.privileged: true`.",
///     }
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:expr])*
        pub struct $name:ident {
            id: $id:literal,
            slug: $slug:literal,
            title: $title:literal,
            severity: $severity:ident,
            target: $target:expr,
            controls: [$($framework:ident $control:literal),* $(,)?],
            remediation: $remediation:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl $name {
            /// The rule's metadata.
            pub fn metadata() -> &'static palisade_core::RuleMeta {
                static META: std::sync::LazyLock<palisade_core::RuleMeta> =
                    std::sync::LazyLock::new(|| palisade_core::RuleMeta {
                        id: std::borrow::Cow::Borrowed($id),
                        slug: std::borrow::Cow::Borrowed($slug),
                        title: std::borrow::Cow::Borrowed($title),
                        severity: palisade_core::Severity::$severity,
                        controls: std::borrow::Cow::Owned(vec![
                            $(palisade_core::Control::new(palisade_core::Framework::$framework, $control)),*
                        ]),
                        remediation: std::borrow::Cow::Borrowed($remediation),
                        docs: std::borrow::Cow::Owned($crate::macros::unindent_docs(concat!($($doc, "\n"),*))),
                    });
                &META
            }
        }

        impl $crate::rule::Rule for $name {
            fn meta(&self) -> &'static palisade_core::RuleMeta {
                Self::metadata()
            }

            fn target(&self) -> $crate::rule::Target {
                $target
            }

            fn check(&self, cx: &mut $crate::context::Context<'_>) {
                $crate::rule::Check::check(self, cx)
            }

            fn unconfigured(&self, settings: &$crate::settings::RuleSettings) -> Option<&'static str> {
                $crate::rule::Check::unconfigured(self, settings)
            }

            fn reads(&self) -> &'static [(&'static str, &'static str)] {
                $crate::rule::Check::reads(self)
            }

            fn settings(&self) -> &'static [&'static $crate::settings::Setting] {
                $crate::rule::Check::settings(self)
            }

            fn models(&self, models: &mut $crate::context::Models) {
                $crate::rule::Check::models(self, models)
            }

            fn only_against_a_cluster(&self) -> Option<&'static str> {
                $crate::rule::Check::only_against_a_cluster(self)
            }
        }
    };
}
