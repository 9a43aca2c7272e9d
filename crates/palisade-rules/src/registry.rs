//! The one table of built-in rules. Add a rule here and nowhere else; ids are never reused
//! (a retired rule keeps its id reserved in `RETIRED_IDS`).

use crate::rule::Rule;
use crate::rules::*;

static RULES: &[&dyn Rule] = &[
    &PrivilegedContainer,
    &PrivilegeEscalationAllowed,
    &RootUserAllowed,
    &HostNamespaceShared,
    &HostPathVolume,
    &ResourceLimitsMissing,
    &CapabilityAdded,
    &CapabilitiesNotDropped,
    &HostPort,
    &AppArmorUnconfined,
    &SelinuxCustomOptions,
    &UnmaskedProcMount,
    &SeccompUnconfined,
    &SeccompProfileMissing,
    &UnsafeSysctl,
    &RestrictedVolumeType,
    &WindowsHostProcess,
    &WritableRootFilesystem,
    &ResourceRequestsMissing,
    &ServiceAccountTokenAutomounted,
    &DefaultServiceAccount,
    &SensitiveHostPath,
    &GitRepoVolume,
    &ProcessNamespaceShared,
    &HostAliases,
    &SecretInEnv,
    &CredentialInEnv,
    &ProbeMissing,
    &SubPathWritableVolume,
    &ServiceLinksEnabled,
    &PodSecurityAdmissionViolation,
    &ProbeTargetsOtherHost,
    &LowUserId,
    &RootGroup,
    &GitSyncBinary,
    &ControllerTemplateExceeded,
    &MutableImageTag,
    &ImageNotPinned,
    &ImagePullPolicy,
    &UntrustedRegistry,
    &ExternallyExposedService,
    &ServiceExternalIps,
    &SensitivePortExposed,
    &MissingNetworkPolicy,
    &IngressNginxDangerousAnnotation,
    &IngressWithoutTls,
    &NamespaceWithoutDefaultDeny,
    &AllowAllNetworkPolicy,
    &DanglingNetworkPolicy,
    &UnrestrictedInternetEgress,
    &ExposedServiceWithoutNetworkPolicy,
    &SensitiveNamespaceOpen,
    &DatabaseReachable,
    &IngressWithoutWaf,
    &IngressWildcardHost,
    &MeshMtlsNotStrict,
    &MeshTlsDisabled,
    &MissingSecretReference,
    &CredentialInConfigMap,
    &LegacyServiceAccountToken,
    &ExposedPrivateKey,
    &ExposedCloudCredential,
    &ExposedSourceControlToken,
    &ExposedSaasToken,
    &ExposedPackageRegistryToken,
    &ExposedJsonWebToken,
    &CredentialInUrl,
    &ExposedAuthorizationCredential,
    &CredentialInField,
    &WeakDefaultCredential,
    &SecretInManifest,
    &SecretInLastApplied,
    &WidelyReadableSecret,
    &ClusterAdminBinding,
    &SecretsReadAccess,
    &WildcardRule,
    &WorkloadCreationAccess,
    &PodExecAccess,
    &RbacEscalationAccess,
    &NodesProxyAccess,
    &TokenRequestAccess,
    &CertificateApprovalAccess,
    &WebhookConfigurationAccess,
    &PersistentVolumeCreationAccess,
    &NamespaceModificationAccess,
    &NodeStatusAccess,
    &EphemeralContainerAccess,
    &BroadGroupBinding,
    &DefaultServiceAccountBinding,
    &EscalationPath,
    &DanglingBinding,
    &TrafficRedirectionAccess,
    &AwsAuthWriteAccess,
    &RemovedApiVersion,
    &DefaultNamespace,
    &NamespaceNotSet,
    &RequiredLabelsMissing,
    &NamespaceWithoutResourcePolicy,
    &NamespacePodSecurity,
    &WorkloadInKubeSystem,
];

/// Ids that were published and retired; a new rule must not take them.
pub const RETIRED_IDS: &[&str] = &[];

/// Every built-in rule, in registry order.
pub fn all_rules() -> &'static [&'static dyn Rule] {
    RULES
}

/// The rule with this id or slug (case-insensitive).
pub fn find_rule(id_or_slug: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| {
        r.meta().id.eq_ignore_ascii_case(id_or_slug)
            || r.meta().slug.eq_ignore_ascii_case(id_or_slug)
    })
}
