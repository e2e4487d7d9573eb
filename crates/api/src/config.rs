//! Settings for one server instance, built from the command line and environment by `main`
//! (or directly by tests). Nothing here is global.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use smaajob_domain::Money;
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::{BackendKind, DatabaseUrl};

use crate::auth::{AuthConfigError, Authenticator, KeySource};

/// The default issuer of Småjob's own tokens.
pub const DEFAULT_ISSUER: &str = "smaajob";
/// The default audience of Småjob's own tokens.
pub const DEFAULT_AUDIENCE: &str = "smaajob-api";
/// The default wage floor per hour: around the lowest rates of the collective agreements for
/// unskilled adult work; a coordinating actor configures its own.
pub const DEFAULT_WAGE_FLOOR: &str = "130.00";
/// How long an `Idempotency-Key` is remembered by default: seven days, as Stripe does.
pub const DEFAULT_IDEMPOTENCY_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 60 * 60);
/// The default SQLite file, in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://smaajob.sqlite3";

/// Everything one server instance needs.
#[derive(Debug)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free one.
    pub bind: String,
    /// The database.
    pub database_url: DatabaseUrl,
    /// Token verification.
    pub auth: Authenticator,
    /// Key for personal data at rest.
    pub data_key: DataKey,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Database connections in the pool.
    pub pool_size: u32,
    /// Threads per HTTP worker that run database work; `None`: as many as the pool has
    /// connections.
    pub blocking_threads: Option<std::num::NonZeroUsize>,
    /// The lowest hourly wage a task may offer.
    pub wage_floor: Money,
    /// How long a keyed write's first response is kept and replayed; a retry after that is a
    /// new request. Expired keys are purged in the background.
    pub idempotency_ttl: std::time::Duration,
    /// Wrong guesses at a CPR number and card number allowed per company or coordinator, per
    /// source address and per citizen, and the lockouts after them.
    pub guess_limits: crate::services::guesses::GuessLimits,
    /// The per-source request rate where a citizen is named by CPR number.
    pub source_rate: crate::guess_guard::SourceRateConfig,
    /// The identity providers people sign in at on the pages (none: only the development
    /// sign-in, where it is allowed).
    pub sign_in: crate::oidc::SignInConfig,
    /// The dispatcher of notifications and where webhooks may point.
    pub notify: NotifySettings,
}

/// Notifications: the dispatcher's settings and the webhook URL policy.
#[derive(Debug, Clone, Default)]
pub struct NotifySettings {
    /// How the dispatcher runs and sends.
    pub dispatch: crate::dispatch::DispatchSettings,
    /// Where webhook subscriptions may point.
    pub webhook_urls: crate::services::webhooks::UrlPolicy,
}

/// Where keys come from, as configured (environment or flags).
#[derive(Debug, Clone, Default)]
pub struct KeyInputs {
    /// `SMAAJOB_JWT_SECRET`: HS256 secret.
    pub jwt_secret: Option<String>,
    /// `SMAAJOB_JWT_PUBLIC_KEY`: path to a PEM public key (RS256/ES256).
    pub jwt_public_key: Option<PathBuf>,
    /// `SMAAJOB_JWKS_PATH`: path to a JWKS file (RS256/ES256).
    pub jwks_path: Option<PathBuf>,
    /// `SMAAJOB_JWKS_URL`: an identity provider's JWKS URL (RS256/ES256), fetched when a token
    /// names a key not held yet.
    pub jwks_url: Option<String>,
    /// `SMAAJOB_JWKS_REFRESH_FLOOR`: the shortest time between two fetches of the JWKS URL.
    pub jwks_refresh_floor: Option<std::time::Duration>,
    /// `SMAAJOB_DATA_KEY`: base64 32-byte key for personal data.
    pub data_key: Option<String>,
    /// `SMAAJOB_JWT_ISSUER`.
    pub issuer: Option<String>,
    /// `SMAAJOB_JWT_AUDIENCE`.
    pub audience: Option<String>,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// PostgreSQL needs explicit secrets.
    #[error("{0} must be set when the database is PostgreSQL (local secrets are only generated for SQLite)")]
    MissingSecret(&'static str),
    /// The data key is malformed.
    #[error(transparent)]
    DataKey(#[from] smaajob_persistence::crypto::BadDataKey),
    /// The token keys are unusable.
    #[error(transparent)]
    Auth(#[from] AuthConfigError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The HTTP client for identity providers could not be built.
    #[error("the HTTP client for identity providers cannot be built: {0}")]
    HttpClient(String),
    /// `token` found no secrets file to sign with, and creates none: a token signed with a new
    /// secret would only be refused by the server.
    #[error(
        "no secrets file at {0}: `token` signs with the secret the server generated beside its SQLite database, and creates none itself. Run `token` with the server's --database-url (or from the directory the server runs in), start the server once first, or set SMAAJOB_JWT_SECRET to the server's secret"
    )]
    NoSecretsFile(String),
    /// The local secrets file is unreadable.
    #[error(
        "{0} is not a valid secrets file; move it away to generate a new one (data encrypted with the old key will be unreadable)"
    )]
    BadSecretsFile(String),
}

/// Secrets generated for local SQLite use, kept beside the database file.
#[derive(Serialize, Deserialize)]
struct LocalSecrets {
    jwt_secret: String,
    data_key: String,
}

/// The local secrets file for an SQLite database: `<database file>.secrets.json`.
pub fn local_secrets_path(sqlite_path: &str) -> PathBuf {
    PathBuf::from(format!("{sqlite_path}.secrets.json"))
}

/// Token verifier and data key from the configured inputs. For SQLite, secrets not given are
/// generated once and kept beside the database file (mode 0600); `serve` and `token` therefore
/// agree without flags. For PostgreSQL, missing secrets are an error.
/// Returns the path of a secrets file that was created now, so the caller can log it.
pub fn resolve_keys(
    url: &DatabaseUrl,
    inputs: &KeyInputs,
) -> Result<(Authenticator, DataKey, Option<PathBuf>), ConfigError> {
    let needs_local = inputs.data_key.is_none()
        || (inputs.jwt_secret.is_none()
            && inputs.jwt_public_key.is_none()
            && inputs.jwks_path.is_none()
            && inputs.jwks_url.is_none());
    let (local, created) = match (needs_local, url.kind(), url.sqlite_path()) {
        (false, _, _) => (None, None),
        (true, BackendKind::Sqlite, Some(path)) => {
            let (secrets, created) = load_or_create_local(&local_secrets_path(path))?;
            (Some(secrets), created)
        }
        (true, _, _) => {
            let which = if inputs.data_key.is_none() {
                "SMAAJOB_DATA_KEY"
            } else {
                "SMAAJOB_JWT_SECRET (or SMAAJOB_JWT_PUBLIC_KEY / SMAAJOB_JWKS_PATH / SMAAJOB_JWKS_URL)"
            };
            return Err(ConfigError::MissingSecret(which));
        }
    };
    let data_key = match (&inputs.data_key, &local) {
        (Some(k), _) => DataKey::from_base64(k)?,
        (None, Some(l)) => DataKey::from_base64(&l.data_key)?,
        (None, None) => return Err(ConfigError::MissingSecret("SMAAJOB_DATA_KEY")),
    };
    let auth = authenticator(inputs, local.as_ref())?;
    Ok((auth, data_key, created))
}

/// The token keys for `smaajob token`: the configured ones, or the secret in the local secrets
/// file of an SQLite database, which must already exist (unlike [`resolve_keys`], this never
/// creates one). Returns the secrets file used, if any, so the caller can name it.
pub fn token_keys(url: &DatabaseUrl, inputs: &KeyInputs) -> Result<(Authenticator, Option<PathBuf>), ConfigError> {
    let configured = inputs.jwt_secret.is_some()
        || inputs.jwt_public_key.is_some()
        || inputs.jwks_path.is_some()
        || inputs.jwks_url.is_some();
    if configured {
        return Ok((authenticator(inputs, None)?, None));
    }
    let Some(sqlite) = url.sqlite_path() else {
        return Err(ConfigError::MissingSecret(
            "SMAAJOB_JWT_SECRET (or SMAAJOB_JWT_PUBLIC_KEY / SMAAJOB_JWKS_PATH / SMAAJOB_JWKS_URL)",
        ));
    };
    let path = local_secrets_path(sqlite);
    let local: LocalSecrets = match std::fs::read(&path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map_err(|_| ConfigError::BadSecretsFile(path.display().to_string()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::NoSecretsFile(path.display().to_string()));
        }
        Err(source) => return Err(ConfigError::Io { path: path.display().to_string(), source }),
    };
    Ok((authenticator(inputs, Some(&local))?, Some(path)))
}

fn authenticator(inputs: &KeyInputs, local: Option<&LocalSecrets>) -> Result<Authenticator, ConfigError> {
    let source = if let Some(path) = &inputs.jwt_public_key {
        KeySource::Pem(read(path)?)
    } else if let Some(url) = &inputs.jwks_url {
        let http = crate::jwks::http_client().map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        let floor = inputs.jwks_refresh_floor.unwrap_or(crate::jwks::DEFAULT_REFRESH_FLOOR);
        KeySource::JwksUrl(std::sync::Arc::new(crate::jwks::RemoteJwks::new(url.clone(), http, floor)))
    } else if let Some(path) = &inputs.jwks_path {
        KeySource::Jwks(String::from_utf8_lossy(&read(path)?).into_owned())
    } else if let Some(secret) = &inputs.jwt_secret {
        KeySource::Hs256(secret.as_bytes().to_vec())
    } else if let Some(l) = local {
        KeySource::Hs256(l.jwt_secret.as_bytes().to_vec())
    } else {
        return Err(ConfigError::MissingSecret("SMAAJOB_JWT_SECRET"));
    };
    Ok(Authenticator::new(
        source,
        inputs.issuer.as_deref().unwrap_or(DEFAULT_ISSUER),
        inputs.audience.as_deref().unwrap_or(DEFAULT_AUDIENCE),
    )?)
}

fn read(path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Io { path: path.display().to_string(), source })
}

fn load_or_create_local(path: &Path) -> Result<(LocalSecrets, Option<PathBuf>), ConfigError> {
    let io = |source| ConfigError::Io { path: path.display().to_string(), source };
    match std::fs::read(path) {
        Ok(bytes) => {
            let s =
                serde_json::from_slice(&bytes).map_err(|_| ConfigError::BadSecretsFile(path.display().to_string()))?;
            return Ok((s, None));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let secrets =
        LocalSecrets { jwt_secret: STANDARD.encode(rand::random::<[u8; 48]>()), data_key: DataKey::generate_base64() };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            let json = serde_json::to_vec_pretty(&secrets).map_err(|e| io(std::io::Error::other(e)))?;
            file.write_all(&json).map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok((secrets, Some(path.to_owned())))
        }
        // Another process (e.g. `token` beside a starting `serve`) created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_local(path),
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn local_secrets_are_generated_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.sqlite3");
        let url = DatabaseUrl::parse(db.to_str().unwrap()).unwrap();
        let (_, _, created) = resolve_keys(&url, &KeyInputs::default()).unwrap();
        let path = created.expect("created on first use");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let first = std::fs::read(&path).unwrap();
        let (_, _, again) = resolve_keys(&url, &KeyInputs::default()).unwrap();
        assert!(again.is_none());
        assert_eq!(std::fs::read(&path).unwrap(), first);
    }

    #[test]
    fn token_keys_never_create_a_secrets_file_and_name_the_one_they_use() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.sqlite3");
        let url = DatabaseUrl::parse(db.to_str().unwrap()).unwrap();
        let err = token_keys(&url, &KeyInputs::default()).unwrap_err();
        assert!(matches!(err, ConfigError::NoSecretsFile(_)), "{err}");
        assert!(err.to_string().contains("x.sqlite3.secrets.json"), "{err}");
        assert!(!local_secrets_path(db.to_str().unwrap()).exists(), "no file was created");
        let (_, _, created) = resolve_keys(&url, &KeyInputs::default()).unwrap();
        let (_, used) = token_keys(&url, &KeyInputs::default()).unwrap();
        assert_eq!(used, created);
        let secret = KeyInputs { jwt_secret: Some("s".repeat(48)), ..Default::default() };
        assert_eq!(token_keys(&url, &secret).unwrap().1, None);
    }

    #[test]
    fn postgres_without_secrets_is_refused_by_name() {
        let url = DatabaseUrl::parse("postgres://localhost/x").unwrap();
        let err = resolve_keys(&url, &KeyInputs::default()).unwrap_err();
        assert!(err.to_string().contains("SMAAJOB_DATA_KEY"), "{err}");
        let only_key = KeyInputs { data_key: Some(DataKey::generate_base64()), ..Default::default() };
        let err = resolve_keys(&url, &only_key).unwrap_err();
        assert!(err.to_string().contains("SMAAJOB_JWT_SECRET"), "{err}");
    }
}
