//! Built-in rules, one file each, named after the bad pattern they find.

mod cluster_admin_binding;
mod externally_exposed_service;
mod host_namespace_shared;
mod hostpath_volume;
mod missing_secret_reference;
mod mutable_image_tag;
mod privilege_escalation_allowed;
mod privileged_container;
mod resource_limits_missing;
mod root_user_allowed;

pub use cluster_admin_binding::ClusterAdminBinding;
pub use externally_exposed_service::ExternallyExposedService;
pub use host_namespace_shared::HostNamespaceShared;
pub use hostpath_volume::HostPathVolume;
pub use missing_secret_reference::MissingSecretReference;
pub use mutable_image_tag::MutableImageTag;
pub use privilege_escalation_allowed::PrivilegeEscalationAllowed;
pub use privileged_container::PrivilegedContainer;
pub use resource_limits_missing::ResourceLimitsMissing;
pub use root_user_allowed::RootUserAllowed;
