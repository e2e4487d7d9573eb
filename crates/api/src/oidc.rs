//! Sign-in at the identity providers: OpenID Connect's authorization code flow with PKCE, one
//! configured issuer per kind of user (citizens through MitID, companies through MitID
//! Erhverv, coordinators at their municipality's own provider), through the `openidconnect`
//! crate. This module speaks the protocol and reads the claims; who the claims name here is
//! looked up by `services::sign_in`, and the pages keep the flow's state in the sealed session
//! cookie.
//!
//! The provider's ID-token keys are kept in memory and fetched again when a token names a new
//! `kid` (at most once per refresh floor, see [`crate::jwks`]).

use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreResponseType, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IdTokenVerifier,
    IssuerUrl, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, Scope, SignatureVerificationError, StandardErrorResponse,
    StandardTokenResponse, TokenResponse, reqwest,
};
use serde::{Deserialize, Serialize};
use smaajob_domain::{Cpr, Cvr, MunicipalityCode};

use crate::jwks::RemoteJwks;
use crate::services::principal::Role;

/// The claim a citizens' provider puts the CPR number in, unless configured otherwise
/// (NemLog-in's OpenID Connect profile).
pub const DEFAULT_CPR_CLAIM: &str = "https://data.gov.dk/model/core/eid/cprNumber";
/// The claim a business provider puts the CVR number in, unless configured otherwise (MitID
/// Erhverv through NemLog-in).
pub const DEFAULT_CVR_CLAIM: &str = "https://data.gov.dk/model/core/eid/professional/cvr";
/// The claim a municipality's provider puts the municipality code in, unless configured otherwise.
pub const DEFAULT_MUNICIPALITY_CLAIM: &str = "municipality";
/// The claim that holds a coordinator's groups or roles, unless configured otherwise.
pub const DEFAULT_COORDINATOR_CLAIM: &str = "groups";
/// The value among those groups that makes a person a coordinator, unless configured otherwise.
pub const DEFAULT_COORDINATOR_VALUE: &str = "smaajob-coordinator";
/// How long a started sign-in may take before its answer is refused.
pub const SIGN_IN_TIMEOUT_SECONDS: i64 = 10 * 60;

/// Which people an issuer signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuerKind {
    /// Citizens, by CPR number (MitID through NemLog-in or a broker).
    Citizen,
    /// Companies, by CVR number (MitID Erhverv).
    Company,
    /// Coordinators, by municipality (the municipality's own provider).
    Coordinator,
}

impl IssuerKind {
    /// Every kind, in the order the sign-in page offers them.
    pub const ALL: [IssuerKind; 3] = [IssuerKind::Citizen, IssuerKind::Company, IssuerKind::Coordinator];

    /// The kind's path segment in the sign-in URLs (`/log-ind/oidc/{slug}`).
    pub fn slug(self) -> &'static str {
        match self {
            IssuerKind::Citizen => "borger",
            IssuerKind::Company => "virksomhed",
            IssuerKind::Coordinator => "koordinator",
        }
    }

    /// The kind a path segment names.
    pub fn from_slug(slug: &str) -> Option<IssuerKind> {
        IssuerKind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// The role its people act in.
    pub fn role(self) -> Role {
        match self {
            IssuerKind::Citizen => Role::Citizen,
            IssuerKind::Company => Role::Company,
            IssuerKind::Coordinator => Role::Coordinator,
        }
    }
}

/// One configured issuer.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// Whom it signs in.
    pub kind: IssuerKind,
    /// The issuer URL (its discovery document is at `/.well-known/openid-configuration` below it).
    pub issuer: String,
    /// Småjob's client id there.
    pub client_id: String,
    /// Småjob's client secret there (`client_secret_basic`).
    pub client_secret: Option<String>,
    /// Where the provider sends the browser back: `{public URL}/log-ind/oidc/{kind}/retur`.
    pub redirect_url: String,
    /// The scopes asked for, beyond `openid`.
    pub scopes: Vec<String>,
}

/// Which claims say who a person is, for every issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMapping {
    /// The citizens' issuer's CPR claim.
    pub cpr: String,
    /// The companies' issuer's CVR claim.
    pub cvr: String,
    /// The coordinators' issuer's municipality claim.
    pub municipality: String,
    /// The coordinators' issuer's claim with groups or roles (a string or a list of strings).
    pub coordinator_claim: String,
    /// The value in that claim that makes a person a coordinator.
    pub coordinator_value: String,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        ClaimMapping {
            cpr: DEFAULT_CPR_CLAIM.into(),
            cvr: DEFAULT_CVR_CLAIM.into(),
            municipality: DEFAULT_MUNICIPALITY_CLAIM.into(),
            coordinator_claim: DEFAULT_COORDINATOR_CLAIM.into(),
            coordinator_value: DEFAULT_COORDINATOR_VALUE.into(),
        }
    }
}

/// The configured sign-in: the issuers (at most one per kind) and the claim mapping.
#[derive(Debug, Clone, Default)]
pub struct SignInConfig {
    /// The issuers.
    pub issuers: Vec<IssuerConfig>,
    /// The claims that name a person.
    pub claims: ClaimMapping,
    /// The shortest time between two fetches of an issuer's keys (default: one minute).
    pub jwks_refresh_floor: Option<Duration>,
}

/// Every claim of an ID token beyond the standard ones, kept as the provider sent them, so the
/// configured mapping can name any claim.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<IdFields, CoreTokenType>;
type OidcClient = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in did not work.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The configuration cannot be used (a URL that does not parse, two issuers of one kind).
    #[error("the sign-in configuration is invalid: {0}")]
    Config(String),
    /// The provider's discovery document or keys could not be fetched or read.
    #[error("the identity provider at {issuer} cannot be used: {reason}")]
    Discovery {
        /// The issuer.
        issuer: String,
        /// What went wrong.
        reason: String,
    },
    /// The provider refused the code (used already, expired, or not issued to us).
    #[error("the identity provider refused the authorization code: {0}")]
    CodeRefused(String),
    /// The ID token is missing, forged, for someone else, or does not carry our nonce.
    #[error("the ID token is not valid: {0}")]
    BadIdToken(String),
    /// The ID token does not carry the claims the mapping needs (the message names the claim,
    /// never its value).
    #[error("the ID token does not say who this is: {0}")]
    MissingClaim(String),
}

/// A started sign-in, kept in the sealed session cookie until the provider answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// The issuer it went to.
    pub kind: IssuerKind,
    /// The `state` sent, which the answer must carry back.
    pub state: String,
    /// The `nonce` sent, which the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier of the challenge sent.
    pub verifier: String,
    /// When it started (seconds since the epoch).
    pub started_at: i64,
}

/// Who an issuer says a person is, by the configured claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asserted {
    /// A citizen with this CPR number.
    Citizen(Cpr),
    /// Someone acting for the company with this CVR number.
    Company(Cvr),
    /// A coordinator of this municipality.
    Coordinator(MunicipalityCode),
}

/// A verified sign-in.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The issuer's kind.
    pub kind: IssuerKind,
    /// The subject, prefixed with the issuer's kind so two issuers' subjects never collide.
    pub sub: String,
    /// The person's name, when the provider gives one.
    pub name: Option<String>,
    /// Who the claims name.
    pub asserted: Asserted,
}

/// One discovered issuer.
pub struct Provider {
    config: IssuerConfig,
    client: OidcClient,
    issuer: IssuerUrl,
    end_session: Option<openidconnect::EndSessionUrl>,
    keys: RemoteJwks<CoreJsonWebKeySet>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("kind", &self.config.kind).field("issuer", &self.config.issuer).finish()
    }
}

/// The discovered issuers and the claim mapping.
#[derive(Debug)]
pub struct SignIns {
    providers: Vec<Arc<Provider>>,
    claims: ClaimMapping,
}

impl SignIns {
    /// Fetches every configured issuer's discovery document and keys; fails when one cannot be
    /// used, so a wrong URL is found at start rather than at someone's first sign-in.
    pub async fn discover(config: &SignInConfig, http: reqwest::Client) -> Result<SignIns, OidcError> {
        let mut providers = Vec::new();
        for issuer in &config.issuers {
            if providers.iter().any(|p: &Arc<Provider>| p.config.kind == issuer.kind) {
                return Err(OidcError::Config(format!("two issuers for {}", issuer.kind.slug())));
            }
            let floor = config.jwks_refresh_floor.unwrap_or(crate::jwks::DEFAULT_REFRESH_FLOOR);
            providers.push(Arc::new(Provider::discover(issuer.clone(), http.clone(), floor).await?));
        }
        Ok(SignIns { providers, claims: config.claims.clone() })
    }

    /// No issuer: the development sign-in may be offered instead.
    pub fn none() -> SignIns {
        SignIns { providers: Vec::new(), claims: ClaimMapping::default() }
    }

    /// Whether no issuer is configured.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// The kinds of people who can sign in, in the page's order.
    pub fn kinds(&self) -> Vec<IssuerKind> {
        IssuerKind::ALL.into_iter().filter(|k| self.get(*k).is_some()).collect()
    }

    /// The issuer of a kind.
    pub fn get(&self, kind: IssuerKind) -> Option<Arc<Provider>> {
        self.providers.iter().find(|p| p.config.kind == kind).cloned()
    }

    /// The claim mapping.
    pub fn claims(&self) -> &ClaimMapping {
        &self.claims
    }
}

impl Provider {
    async fn discover(config: IssuerConfig, http: reqwest::Client, floor: Duration) -> Result<Provider, OidcError> {
        let issuer_name = config.issuer.clone();
        let fail = move |reason| OidcError::Discovery { issuer: issuer_name.clone(), reason };
        let issuer = IssuerUrl::new(config.issuer.clone()).map_err(|e| OidcError::Config(e.to_string()))?;
        let redirect = RedirectUrl::new(config.redirect_url.clone()).map_err(|e| OidcError::Config(e.to_string()))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer.clone(), &http)
            .await
            .map_err(|e| fail(error_chain(&e)))?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let keys = RemoteJwks::with_initial(
            metadata.jwks_uri().url().to_string(),
            http.clone(),
            floor,
            metadata.jwks().clone(),
        );
        let client = OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect);
        tracing::info!(issuer = %config.issuer, kind = config.kind.slug(), "identity provider discovered");
        Ok(Provider { config, client, issuer, end_session, keys, http })
    }

    /// The kind of people it signs in.
    pub fn kind(&self) -> IssuerKind {
        self.config.kind
    }

    /// Starts a sign-in: where to send the browser, and what to keep until it comes back.
    pub fn start(&self, now: i64) -> (String, PendingSignIn) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self.client.authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = PendingSignIn {
            kind: self.config.kind,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            started_at: now,
        };
        (url.to_string(), pending)
    }

    /// Trades the code for tokens (with the PKCE verifier) and checks the ID token: signature
    /// (by a key of the provider's, fetched again once if the token names a new one), issuer,
    /// audience, expiry and nonce. Returns who the configured claims name.
    pub async fn finish(
        &self,
        pending: &PendingSignIn,
        code: String,
        mapping: &ClaimMapping,
    ) -> Result<Identity, OidcError> {
        let tokens = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::CodeRefused(error_chain(&e)))?;
        let id_token = tokens.id_token().ok_or_else(|| OidcError::BadIdToken("the answer has no ID token".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let held = self.keys.held_or_fetched().await.map_err(|e| OidcError::BadIdToken(e.to_string()))?;
        let claims = match id_token.claims(&self.verifier((*held).clone()), &nonce) {
            Ok(claims) => claims.clone(),
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                let fresh = self.keys.refreshed().await.map_err(|e| OidcError::BadIdToken(e.to_string()))?;
                id_token
                    .claims(&self.verifier((*fresh).clone()), &nonce)
                    .map_err(|e| OidcError::BadIdToken(e.to_string()))?
                    .clone()
            }
            Err(e) => return Err(OidcError::BadIdToken(e.to_string())),
        };
        let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned());
        let asserted = assert_claims(self.config.kind, &claims.additional_claims().claims, mapping)?;
        Ok(Identity {
            kind: self.config.kind,
            sub: format!("{}:{}", self.config.kind.slug(), claims.subject().as_str()),
            name,
            asserted,
        })
    }

    fn verifier(&self, keys: CoreJsonWebKeySet) -> IdTokenVerifier<'static, CoreJsonWebKey> {
        let client_id = ClientId::new(self.config.client_id.clone());
        match &self.config.client_secret {
            Some(secret) => IdTokenVerifier::new_confidential_client(
                client_id,
                ClientSecret::new(secret.clone()),
                self.issuer.clone(),
                keys,
            ),
            None => IdTokenVerifier::new_public_client(client_id, self.issuer.clone(), keys),
        }
    }

    /// Where to send the browser to end the session at the provider too (RP-initiated
    /// logout), when the provider offers it; it sends the browser back to `after`.
    pub fn end_session_url(&self, after: &str) -> Option<String> {
        let endpoint = self.end_session.clone()?;
        let mut request = LogoutRequest::from(endpoint).set_client_id(ClientId::new(self.config.client_id.clone()));
        if let Ok(url) = PostLogoutRedirectUrl::new(after.to_owned()) {
            request = request.set_post_logout_redirect_uri(url);
        }
        Some(request.http_get_url().to_string())
    }

    /// Where the browser comes back after the provider ended its session: the sign-in page,
    /// at the origin of the redirect URL.
    pub fn post_logout_url(&self) -> Option<String> {
        let mut url = openidconnect::url::Url::parse(&self.config.redirect_url).ok()?;
        url.set_path("/log-ind");
        url.set_query(Some("ok=ud"));
        Some(url.to_string())
    }
}

/// Who the configured claims of an ID token name, for an issuer of `kind`. The error names the
/// claim that is missing or unusable, never its value (a CPR number is never logged).
pub fn assert_claims(
    kind: IssuerKind,
    claims: &serde_json::Map<String, serde_json::Value>,
    mapping: &ClaimMapping,
) -> Result<Asserted, OidcError> {
    let text = |name: &str| -> Result<&str, OidcError> {
        claims.get(name).and_then(|v| v.as_str()).ok_or_else(|| OidcError::MissingClaim(format!("no `{name}` claim")))
    };
    match kind {
        IssuerKind::Citizen => Cpr::parse(text(&mapping.cpr)?)
            .map(Asserted::Citizen)
            .map_err(|_| OidcError::MissingClaim(format!("the `{}` claim is not a CPR number", mapping.cpr))),
        IssuerKind::Company => Cvr::parse(text(&mapping.cvr)?)
            .map(Asserted::Company)
            .map_err(|_| OidcError::MissingClaim(format!("the `{}` claim is not a CVR number", mapping.cvr))),
        IssuerKind::Coordinator => {
            let member = match claims.get(&mapping.coordinator_claim) {
                Some(serde_json::Value::String(one)) => *one == mapping.coordinator_value,
                Some(serde_json::Value::Array(many)) => {
                    many.iter().any(|v| v.as_str() == Some(mapping.coordinator_value.as_str()))
                }
                _ => false,
            };
            if !member {
                return Err(OidcError::MissingClaim(format!(
                    "the `{}` claim does not hold `{}`",
                    mapping.coordinator_claim, mapping.coordinator_value
                )));
            }
            MunicipalityCode::parse(text(&mapping.municipality)?).map(Asserted::Coordinator).map_err(|_| {
                OidcError::MissingClaim(format!("the `{}` claim is not a municipality code", mapping.municipality))
            })
        }
    }
}

/// An error with its causes, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn claims(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_citizen_is_named_by_the_configured_cpr_claim_and_a_bad_one_is_not_quoted() {
        let m = ClaimMapping::default();
        let ok = assert_claims(IssuerKind::Citizen, &claims(json!({ DEFAULT_CPR_CLAIM: "0101901234" })), &m).unwrap();
        assert_eq!(ok, Asserted::Citizen(Cpr::parse("0101901234").unwrap()));
        let bad = assert_claims(IssuerKind::Citizen, &claims(json!({ DEFAULT_CPR_CLAIM: "3213901234" })), &m);
        let text = bad.unwrap_err().to_string();
        assert!(!text.contains("3213901234"), "{text}");
        assert!(assert_claims(IssuerKind::Citizen, &claims(json!({ "cpr": "0101901234" })), &m).is_err());
    }

    #[test]
    fn a_coordinator_needs_the_configured_group_and_a_municipality_code() {
        let m = ClaimMapping::default();
        let both = claims(json!({ "groups": ["staff", DEFAULT_COORDINATOR_VALUE], "municipality": "730" }));
        assert_eq!(
            assert_claims(IssuerKind::Coordinator, &both, &m).unwrap(),
            Asserted::Coordinator(MunicipalityCode::parse("730").unwrap())
        );
        let one = claims(json!({ "groups": DEFAULT_COORDINATOR_VALUE, "municipality": "730" }));
        assert!(assert_claims(IssuerKind::Coordinator, &one, &m).is_ok());
        let outsider = claims(json!({ "groups": ["staff"], "municipality": "730" }));
        assert!(assert_claims(IssuerKind::Coordinator, &outsider, &m).is_err());
        let nowhere = claims(json!({ "groups": [DEFAULT_COORDINATOR_VALUE], "municipality": "9999" }));
        assert!(assert_claims(IssuerKind::Coordinator, &nowhere, &m).is_err());
    }

    #[test]
    fn a_company_is_named_by_the_configured_cvr_claim() {
        let m = ClaimMapping { cvr: "cvr".into(), ..ClaimMapping::default() };
        let c = claims(json!({ "cvr": "10150817" }));
        assert_eq!(
            assert_claims(IssuerKind::Company, &c, &m).unwrap(),
            Asserted::Company(Cvr::parse("10150817").unwrap())
        );
        assert!(assert_claims(IssuerKind::Company, &claims(json!({ "cvr": "10150818" })), &m).is_err());
        assert!(assert_claims(IssuerKind::Company, &claims(json!({ DEFAULT_CVR_CLAIM: "10150817" })), &m).is_err());
    }

    #[test]
    fn each_kind_has_its_own_path_segment() {
        for k in IssuerKind::ALL {
            assert_eq!(IssuerKind::from_slug(k.slug()), Some(k));
        }
        assert_eq!(IssuerKind::from_slug("operator"), None);
    }
}
