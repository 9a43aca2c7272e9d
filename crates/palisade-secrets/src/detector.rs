//! The detectors: what kind of secret a match is, and the family (rule) it belongs to.

/// One kind of secret the engine recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Detector {
    /// A PEM or OpenSSH private key block, or a PuTTY key file.
    PrivateKey,
    /// An AWS access key id (`AKIA...`, `ASIA...`).
    AwsAccessKeyId,
    /// An AWS secret access key next to its name.
    AwsSecretAccessKey,
    /// A Google Cloud service-account key (JSON with a private key).
    GcpServiceAccountKey,
    /// A Google API key (`AIza...`).
    GcpApiKey,
    /// An Azure storage account key or shared access key in a connection string.
    AzureAccountKey,
    /// An Azure shared access signature (`sig=` with `sv=`).
    AzureSasToken,
    /// A GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`).
    GitHubToken,
    /// A GitLab token (`glpat-`, `gldt-`, `glrt-`, ...).
    GitLabToken,
    /// A Slack token (`xoxb-`, `xoxp-`, ...).
    SlackToken,
    /// The secret part of a Slack incoming-webhook URL.
    SlackWebhook,
    /// A Stripe secret or restricted key.
    StripeKey,
    /// A Twilio API key (`SK` + 32 hex digits).
    TwilioApiKey,
    /// A SendGrid API key (`SG.x.y`).
    SendGridKey,
    /// An npm access token (`npm_`).
    NpmToken,
    /// A PyPI upload token (`pypi-AgEIcHlwaS5vcmc...`).
    PyPiToken,
    /// A JSON Web Token whose header decodes.
    Jwt,
    /// A URL with a password in its user info (`postgres://u:PASS@h/db`).
    UrlCredentials,
    /// A database connection string with a password (`Password=...;`).
    ConnectionString,
    /// A password in an SQL statement (`CREATE USER ... PASSWORD '...'`, `IDENTIFIED BY`).
    SqlPassword,
    /// An `Authorization: Basic` or `Bearer` header value, or `curl -u user:pass`.
    AuthorizationHeader,
    /// A container-registry `auth` entry (base64 `user:password`), as in `.dockerconfigjson`.
    RegistryAuth,
    /// A value under a credential's name that looks chosen or generated.
    Generic,
    /// A well-known default password under a credential's name.
    WeakDefault,
    /// A placeholder (`xxxxx`, `<your-token>`, a key block without a key) where a credential
    /// belongs: no secret is exposed, but the manifest is built to carry one in plain text.
    Placeholder,
}

/// Families of detectors: each family is one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    PrivateKey,
    CloudProvider,
    SourceControl,
    SaasApi,
    PackageRegistry,
    Jwt,
    UrlCredentials,
    AuthorizationHeader,
    Generic,
    WeakDefault,
}

impl Detector {
    /// Every detector, in a fixed order.
    pub const ALL: &'static [Detector] = &[
        Detector::PrivateKey,
        Detector::AwsAccessKeyId,
        Detector::AwsSecretAccessKey,
        Detector::GcpServiceAccountKey,
        Detector::GcpApiKey,
        Detector::AzureAccountKey,
        Detector::AzureSasToken,
        Detector::GitHubToken,
        Detector::GitLabToken,
        Detector::SlackToken,
        Detector::SlackWebhook,
        Detector::StripeKey,
        Detector::TwilioApiKey,
        Detector::SendGridKey,
        Detector::NpmToken,
        Detector::PyPiToken,
        Detector::Jwt,
        Detector::UrlCredentials,
        Detector::ConnectionString,
        Detector::SqlPassword,
        Detector::AuthorizationHeader,
        Detector::RegistryAuth,
        Detector::Generic,
        Detector::WeakDefault,
        Detector::Placeholder,
    ];

    /// A stable identifier (`aws-access-key-id`), used in labelled test sets and JSON.
    pub fn id(self) -> &'static str {
        match self {
            Detector::PrivateKey => "private-key",
            Detector::AwsAccessKeyId => "aws-access-key-id",
            Detector::AwsSecretAccessKey => "aws-secret-access-key",
            Detector::GcpServiceAccountKey => "gcp-service-account-key",
            Detector::GcpApiKey => "gcp-api-key",
            Detector::AzureAccountKey => "azure-account-key",
            Detector::AzureSasToken => "azure-sas-token",
            Detector::GitHubToken => "github-token",
            Detector::GitLabToken => "gitlab-token",
            Detector::SlackToken => "slack-token",
            Detector::SlackWebhook => "slack-webhook",
            Detector::StripeKey => "stripe-key",
            Detector::TwilioApiKey => "twilio-api-key",
            Detector::SendGridKey => "sendgrid-key",
            Detector::NpmToken => "npm-token",
            Detector::PyPiToken => "pypi-token",
            Detector::Jwt => "jwt",
            Detector::UrlCredentials => "url-credentials",
            Detector::ConnectionString => "connection-string",
            Detector::SqlPassword => "sql-password",
            Detector::AuthorizationHeader => "authorization-header",
            Detector::RegistryAuth => "registry-auth",
            Detector::Generic => "generic",
            Detector::WeakDefault => "weak-default",
            Detector::Placeholder => "placeholder",
        }
    }

    /// What was found, for messages: "an AWS access key id".
    pub fn what(self) -> &'static str {
        match self {
            Detector::PrivateKey => "a private key",
            Detector::AwsAccessKeyId => "an AWS access key id",
            Detector::AwsSecretAccessKey => "an AWS secret access key",
            Detector::GcpServiceAccountKey => "a Google Cloud service-account key",
            Detector::GcpApiKey => "a Google API key",
            Detector::AzureAccountKey => "an Azure account key",
            Detector::AzureSasToken => "an Azure shared access signature",
            Detector::GitHubToken => "a GitHub token",
            Detector::GitLabToken => "a GitLab token",
            Detector::SlackToken => "a Slack token",
            Detector::SlackWebhook => "a Slack incoming-webhook secret",
            Detector::StripeKey => "a Stripe secret key",
            Detector::TwilioApiKey => "a Twilio API key",
            Detector::SendGridKey => "a SendGrid API key",
            Detector::NpmToken => "an npm access token",
            Detector::PyPiToken => "a PyPI upload token",
            Detector::Jwt => "a JSON Web Token",
            Detector::UrlCredentials => "a password inside a URL",
            Detector::ConnectionString => "a password inside a connection string",
            Detector::SqlPassword => "a password inside an SQL statement",
            Detector::AuthorizationHeader => "an authorization header credential",
            Detector::RegistryAuth => "container-registry credentials",
            Detector::Generic => "a plain-text credential",
            Detector::WeakDefault => "a well-known default password",
            Detector::Placeholder => "a placeholder where a credential belongs",
        }
    }

    /// The rule family.
    pub fn family(self) -> Family {
        match self {
            Detector::PrivateKey => Family::PrivateKey,
            Detector::AwsAccessKeyId
            | Detector::AwsSecretAccessKey
            | Detector::GcpServiceAccountKey
            | Detector::GcpApiKey
            | Detector::AzureAccountKey
            | Detector::AzureSasToken => Family::CloudProvider,
            Detector::GitHubToken | Detector::GitLabToken => Family::SourceControl,
            Detector::SlackToken
            | Detector::SlackWebhook
            | Detector::StripeKey
            | Detector::TwilioApiKey
            | Detector::SendGridKey => Family::SaasApi,
            Detector::NpmToken | Detector::PyPiToken => Family::PackageRegistry,
            Detector::Jwt => Family::Jwt,
            Detector::UrlCredentials | Detector::ConnectionString | Detector::SqlPassword => {
                Family::UrlCredentials
            }
            Detector::AuthorizationHeader | Detector::RegistryAuth => Family::AuthorizationHeader,
            Detector::Generic | Detector::Placeholder => Family::Generic,
            Detector::WeakDefault => Family::WeakDefault,
        }
    }

    /// How many leading characters of a match are the format's public prefix (`AKIA`, `ghp_`):
    /// at most 4, and none for secrets without one, so a message never shows a secret's
    /// own characters.
    pub fn public_prefix_len(self) -> usize {
        match self {
            Detector::AwsAccessKeyId
            | Detector::GcpApiKey
            | Detector::GitHubToken
            | Detector::SlackToken
            | Detector::NpmToken
            | Detector::PyPiToken => 4,
            Detector::GitLabToken | Detector::StripeKey => 3,
            Detector::SendGridKey | Detector::TwilioApiKey => 2,
            Detector::Jwt => 3,
            _ => 0,
        }
    }

    /// Whether the detector needs a name that says "credential" (the value alone says
    /// nothing).
    pub fn needs_name(self) -> bool {
        matches!(
            self,
            Detector::Generic
                | Detector::WeakDefault
                | Detector::AwsSecretAccessKey
                | Detector::Placeholder
        )
    }

    /// Whether a match is a secret someone can use (everything but a placeholder).
    pub fn exposes_secret(self) -> bool {
        self != Detector::Placeholder
    }
}
