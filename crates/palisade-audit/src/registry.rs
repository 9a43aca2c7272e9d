//! The one table of detections, in id order. Ids are never reused.

use crate::detection::Detection;
use crate::detections::*;

/// Every detection.
pub static DETECTIONS: &[&Detection] = &[
    &pod_exec_or_attach::POD_EXEC_OR_ATTACH, // AUD001
    &pod_port_forward::POD_PORT_FORWARD,     // AUD002
    &ephemeral_container_added::EPHEMERAL_CONTAINER_ADDED, // AUD003
    &privileged_pod_created::PRIVILEGED_POD_CREATED, // AUD004
    &host_network_pod_created::HOST_NETWORK_POD_CREATED, // AUD005
    &host_pid_pod_created::HOST_PID_POD_CREATED, // AUD006
    &host_ipc_pod_created::HOST_IPC_POD_CREATED, // AUD007
    &sensitive_mount_pod_created::SENSITIVE_MOUNT_POD_CREATED, // AUD008
    &pod_in_system_namespace::POD_IN_SYSTEM_NAMESPACE, // AUD009
    &service_account_in_system_namespace::SERVICE_ACCOUNT_IN_SYSTEM_NAMESPACE, // AUD010
    &cluster_admin_bound::CLUSTER_ADMIN_BOUND, // AUD011
    &wildcard_role_created::WILDCARD_ROLE_CREATED, // AUD012
    &write_role_created::WRITE_ROLE_CREATED, // AUD013
    &pod_exec_role_created::POD_EXEC_ROLE_CREATED, // AUD014
    &system_role_modified::SYSTEM_ROLE_MODIFIED, // AUD015
    &system_namespace_rbac_modified::SYSTEM_NAMESPACE_RBAC_MODIFIED, // AUD016
    &secrets_listed::SECRETS_LISTED,         // AUD017
    &service_account_token_requested::SERVICE_ACCOUNT_TOKEN_REQUESTED, // AUD018
    &token_secret_created::TOKEN_SECRET_CREATED, // AUD019
    &anonymous_request_allowed::ANONYMOUS_REQUEST_ALLOWED, // AUD020
    &forbidden_burst::FORBIDDEN_BURST,       // AUD021
    &unauthenticated_burst::UNAUTHENTICATED_BURST, // AUD022
    &nodeport_service_created::NODEPORT_SERVICE_CREATED, // AUD023
    &credential_in_configmap::CREDENTIAL_IN_CONFIGMAP, // AUD024
    &admission_webhook_changed::ADMISSION_WEBHOOK_CHANGED, // AUD025
    &csr_approved::CSR_APPROVED,             // AUD026
    &node_proxy_accessed::NODE_PROXY_ACCESSED, // AUD027
    &impersonation_used::IMPERSONATION_USED, // AUD028
    &events_deleted::EVENTS_DELETED,         // AUD029
    &disallowed_user::DISALLOWED_USER,       // AUD030
    &disallowed_namespace_created::DISALLOWED_NAMESPACE_CREATED, // AUD031
    &disallowed_image_pod::DISALLOWED_IMAGE_POD, // AUD032
    &ingress_without_tls::INGRESS_WITHOUT_TLS, // AUD033
    &permission_enumeration::PERMISSION_ENUMERATION, // AUD034
    &object_lifecycle::OBJECT_LIFECYCLE,     // AUD035
    &first_seen_behaviour::FIRST_SEEN_BEHAVIOUR, // AUD036
    &service_account_outside_cluster::SERVICE_ACCOUNT_OUTSIDE_CLUSTER, // AUD037
    &scheduled_job_changed::SCHEDULED_JOB_CHANGED, // AUD038
    &offensive_tool_used::OFFENSIVE_TOOL_USED, // AUD039
    &pod_image_changed::POD_IMAGE_CHANGED,   // AUD040
    &capability_added_pod_created::CAPABILITY_ADDED_POD_CREATED, // AUD041
    &host_path_pod_created::HOST_PATH_POD_CREATED, // AUD042
    &role_binding_changed::ROLE_BINDING_CHANGED, // AUD043
    &container_added_to_workload::CONTAINER_ADDED_TO_WORKLOAD, // AUD044
    &host_path_volume_created::HOST_PATH_VOLUME_CREATED, // AUD045
    &volume_claim_changed::VOLUME_CLAIM_CHANGED, // AUD046
    &persistent_storage_deleted::PERSISTENT_STORAGE_DELETED, // AUD047
    &audit_level_lowered::AUDIT_LEVEL_LOWERED, // AUD048
    &audit_level_too_low::AUDIT_LEVEL_TOO_LOW, // AUD049
    &threat_intel_source::THREAT_INTEL_SOURCE, // AUD050
    &threat_intel_image::THREAT_INTEL_IMAGE, // AUD051
    &policy_engine_changed::POLICY_ENGINE_CHANGED, // AUD052
    &role_widened::ROLE_WIDENED,             // AUD053
    &secret_store_changed::SECRET_STORE_CHANGED, // AUD054
];

/// The detection with this id or slug (any case).
pub fn find(id_or_slug: &str) -> Option<&'static Detection> {
    DETECTIONS.iter().copied().find(|d| {
        let meta = d.meta();
        meta.id.eq_ignore_ascii_case(id_or_slug) || meta.slug.eq_ignore_ascii_case(id_or_slug)
    })
}
