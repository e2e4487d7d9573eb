//! Signing keys from an identity provider's JWKS URL, kept in memory and fetched again when a
//! token names a key (`kid`) the copy does not hold, as a provider that rotates its keys
//! publishes the new one before it signs with it. A fetch happens at most once per
//! [`RemoteJwks::floor`]: a token with a made-up `kid` costs a lookup in memory, never a request
//! to the provider, so nobody can make this server hammer it.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use openidconnect::reqwest;
use serde::de::DeserializeOwned;

/// The shortest time between two fetches of one key set, unless configured otherwise.
pub const DEFAULT_REFRESH_FLOOR: Duration = Duration::from_secs(60);
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed key set that can say whether it holds a key.
pub trait KeySet: DeserializeOwned + Send + Sync + 'static {
    /// Whether a key with this id is in the set.
    fn has_kid(&self, kid: &str) -> bool;
}

impl KeySet for jsonwebtoken::jwk::JwkSet {
    fn has_kid(&self, kid: &str) -> bool {
        self.find(kid).is_some()
    }
}

impl KeySet for openidconnect::core::CoreJsonWebKeySet {
    fn has_kid(&self, kid: &str) -> bool {
        use openidconnect::JsonWebKey;
        self.keys().iter().any(|k| k.key_id().is_some_and(|id| id.as_str() == kid))
    }
}

/// Why the key set could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The provider did not answer, or answered with an error status.
    #[error("the JWKS at {url} could not be fetched: {reason}")]
    Fetch {
        /// The JWKS URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The answer is not a JWK set.
    #[error("the JWKS at {url} is not a valid JWK set: {reason}")]
    Parse {
        /// The JWKS URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// One provider's key set, fetched on demand.
pub struct RemoteJwks<S: KeySet> {
    url: String,
    http: reqwest::Client,
    floor: Duration,
    current: RwLock<Option<Arc<S>>>,
    /// When the set was last fetched; held across a fetch, so concurrent requests for a new
    /// `kid` wait for one fetch instead of each making their own.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl<S: KeySet> std::fmt::Debug for RemoteJwks<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteJwks").field("url", &self.url).field("floor", &self.floor).finish_non_exhaustive()
    }
}

impl<S: KeySet> RemoteJwks<S> {
    /// A key set at `url`, not fetched yet; fetched again at most once per `floor`.
    pub fn new(url: impl Into<String>, http: reqwest::Client, floor: Duration) -> RemoteJwks<S> {
        RemoteJwks {
            url: url.into(),
            http,
            floor,
            current: RwLock::new(None),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    /// A key set already fetched (by discovery), counted as fetched now.
    pub fn with_initial(url: impl Into<String>, http: reqwest::Client, floor: Duration, set: S) -> RemoteJwks<S> {
        RemoteJwks {
            url: url.into(),
            http,
            floor,
            current: RwLock::new(Some(Arc::new(set))),
            last_fetch: tokio::sync::Mutex::new(Some(Instant::now())),
        }
    }

    /// The JWKS URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The shortest time between two fetches.
    pub fn floor(&self) -> Duration {
        self.floor
    }

    fn held(&self) -> Option<Arc<S>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    /// The key set, holding `kid` if the provider publishes it: the copy in memory when it
    /// holds `kid`, else a fresh one unless the last fetch was less than the floor ago. A set
    /// without `kid` means the key is unknown; the caller refuses the token.
    pub async fn for_kid(&self, kid: &str) -> Result<Arc<S>, JwksError> {
        if let Some(set) = self.held().filter(|s| s.has_kid(kid)) {
            return Ok(set);
        }
        self.refresh(|s| s.has_kid(kid)).await
    }

    /// The key set held, or a fetched one when none is held yet.
    pub async fn held_or_fetched(&self) -> Result<Arc<S>, JwksError> {
        match self.held() {
            Some(set) => Ok(set),
            None => self.refresh(|_| false).await,
        }
    }

    /// A fresh key set unless the last fetch was less than the floor ago (then the copy held),
    /// for a caller whose token named no key it could find.
    pub async fn refreshed(&self) -> Result<Arc<S>, JwksError> {
        self.refresh(|_| false).await
    }

    async fn refresh(&self, enough: impl Fn(&S) -> bool) -> Result<Arc<S>, JwksError> {
        let mut last = self.last_fetch.lock().await;
        // Another request may have fetched it while this one waited for the lock.
        let held = self.held();
        if let Some(set) = held.as_ref().filter(|s| enough(s)) {
            return Ok(set.clone());
        }
        if let (Some(at), Some(set)) = (*last, held.as_ref())
            && at.elapsed() < self.floor
        {
            return Ok(set.clone());
        }
        *last = Some(Instant::now());
        let set = Arc::new(self.fetch().await?);
        if let Ok(mut current) = self.current.write() {
            *current = Some(set.clone());
        }
        tracing::info!(url = %self.url, "fetched the identity provider's signing keys");
        Ok(set)
    }

    async fn fetch(&self) -> Result<S, JwksError> {
        let fetch_error = |e: reqwest::Error| JwksError::Fetch { url: self.url.clone(), reason: e.to_string() };
        let body = self
            .http
            .get(&self.url)
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(fetch_error)?
            .bytes()
            .await
            .map_err(fetch_error)?;
        serde_json::from_slice(&body).map_err(|e| JwksError::Parse { url: self.url.clone(), reason: e.to_string() })
    }
}

/// The HTTP client for identity providers: it never follows a redirect (a provider's answer
/// that points elsewhere is not followed into another network, RFC 9700 § 4.11).
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(FETCH_TIMEOUT).build()
}
