//! The `smaajob` command: serve the API (default), migrate, mint a development token, load demo data,
//! print the OpenAPI document, verify the audit log's hash chains.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use smaajob_api::auth::{Claims, Role};
use smaajob_api::config::{DEFAULT_DATABASE_URL, DEFAULT_WAGE_FLOOR, KeyInputs, Settings, resolve_keys, token_keys};
use smaajob_api::error::ApiError;
use smaajob_api::guess_guard::SourceRateConfig;
use smaajob_api::services::gtfs;
use smaajob_api::services::guesses::{GuessCount, GuessLimits};
use smaajob_api::telemetry::{self, LogFormat};
use smaajob_api::{Application, demo, oidc, openapi};
use smaajob_domain::{Money, MunicipalityCode};
use smaajob_persistence::repo::audit_chain;
use smaajob_persistence::{DatabaseUrl, connect, run_migrations, write_transaction};

/// Småjob: small jobs and the socialt frikort.
#[derive(Parser)]
#[command(name = "smaajob", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (the default).
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Print a signed development token (HS256 with the configured or local secret).
    Token(TokenArgs),
    /// Fill the database with a small Randers demo data set (idempotent).
    Demo(DbArgs),
    /// Public-transport timetables (GTFS).
    #[command(subcommand)]
    Gtfs(GtfsCommand),
    /// Send the notifications' outbox (as the server does in its process), until stopped. Run one
    /// on SQLite; on PostgreSQL several may run side by side.
    Dispatch(DispatchArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// The audit log's hash chains.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Exit 0 when the server at the configured address answers GET /healthz with 200, else 1
    /// (for container health checks; needs no shell or curl).
    Healthcheck(HealthcheckArgs),
}

#[derive(Subcommand)]
enum GtfsCommand {
    /// Import a GTFS zip as a municipality's timetable, replacing its previous one atomically
    /// (a refused feed changes nothing).
    Import(GtfsImportArgs),
}

#[derive(Args)]
struct GtfsImportArgs {
    /// The GTFS feed, a zip archive.
    feed: PathBuf,
    /// The municipality code whose tasks use the feed, e.g. 730 (Randers).
    #[arg(long)]
    municipality: String,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk every chain of the audit log from its start and report, per chain, the entries
    /// verified and the last hash (keep it outside the database), or the first broken link.
    /// Exit 0 when every chain is intact, 2 when one is broken, 1 when the check could not run.
    Verify(DbArgs),
}

#[derive(Args)]
struct HealthcheckArgs {
    /// The server's listen address; 0.0.0.0 and [::] are asked on the loopback address.
    #[arg(long, env = "SMAAJOB_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// How long to wait for the answer.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Database URL: `sqlite://PATH` (default) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    /// HS256 secret for tokens (generated beside the SQLite file when unset).
    #[arg(long, env = "SMAAJOB_JWT_SECRET", hide_env_values = true, global = true)]
    jwt_secret: Option<String>,
    /// PEM public key (RSA → RS256, EC P-256 → ES256) of an external identity provider.
    #[arg(long, env = "SMAAJOB_JWT_PUBLIC_KEY", global = true)]
    jwt_public_key: Option<PathBuf>,
    /// JWKS file of an external identity provider (RS256/ES256, keys by `kid`).
    #[arg(long, env = "SMAAJOB_JWKS_PATH", global = true)]
    jwks_path: Option<PathBuf>,
    /// JWKS URL of an external identity provider (RS256/ES256, keys by `kid`), fetched again
    /// when a token names a key not held yet.
    #[arg(long, env = "SMAAJOB_JWKS_URL", global = true)]
    jwks_url: Option<String>,
    /// The shortest time between two fetches of a JWKS URL (a token naming an unknown key
    /// within it is refused without asking the provider).
    #[arg(long, env = "SMAAJOB_JWKS_REFRESH_FLOOR", default_value = "1m", value_parser = humantime::parse_duration, global = true)]
    jwks_refresh_floor: Duration,
    /// Expected token issuer.
    #[arg(long, env = "SMAAJOB_JWT_ISSUER", global = true)]
    jwt_issuer: Option<String>,
    /// Expected token audience.
    #[arg(long, env = "SMAAJOB_JWT_AUDIENCE", global = true)]
    jwt_audience: Option<String>,
    /// Base64 32-byte key encrypting personal data (generated beside the SQLite file when unset).
    #[arg(long, env = "SMAAJOB_DATA_KEY", hide_env_values = true, global = true)]
    data_key: Option<String>,
    /// Log format.
    #[arg(long, env = "SMAAJOB_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    log_format: LogFormat,
}

impl DbArgs {
    fn key_inputs(&self) -> KeyInputs {
        KeyInputs {
            jwt_secret: self.jwt_secret.clone(),
            jwt_public_key: self.jwt_public_key.clone(),
            jwks_path: self.jwks_path.clone(),
            jwks_url: self.jwks_url.clone(),
            jwks_refresh_floor: Some(self.jwks_refresh_floor),
            data_key: self.data_key.clone(),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
        }
    }
}

#[derive(Args, Clone)]
struct DispatchArgs {
    #[command(flatten)]
    notify: NotifyArgs,
    #[command(flatten)]
    db: DbArgs,
}

/// The notifications: the dispatcher, its channels and where webhooks may point.
#[derive(Args, Clone)]
struct NotifyArgs {
    /// Run the dispatcher inside the server (`false` when `smaajob dispatch` runs it apart).
    #[arg(long, env = "SMAAJOB_DISPATCHER", default_value_t = true, action = clap::ArgAction::Set)]
    dispatcher: bool,
    /// Attempts per message before it is a dead letter.
    #[arg(long, env = "SMAAJOB_DISPATCH_MAX_ATTEMPTS", default_value_t = 8)]
    dispatch_max_attempts: u32,
    /// The wait after a first failure; it doubles with each further one.
    #[arg(long, env = "SMAAJOB_DISPATCH_BACKOFF", default_value = "10s", value_parser = humantime::parse_duration)]
    dispatch_backoff: Duration,
    /// The longest wait between two attempts.
    #[arg(long, env = "SMAAJOB_DISPATCH_BACKOFF_MAX", default_value = "1h", value_parser = humantime::parse_duration)]
    dispatch_backoff_max: Duration,
    /// How long one send may take.
    #[arg(long, env = "SMAAJOB_DISPATCH_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    dispatch_timeout: Duration,
    /// How long the dispatcher waits when nothing was due.
    #[arg(long, env = "SMAAJOB_DISPATCH_POLL", default_value = "1s", value_parser = humantime::parse_duration)]
    dispatch_poll: Duration,
    /// The SMTP relay for e-mail notices (plain SMTP, a local relay); without one, e-mail fails.
    #[arg(long, env = "SMAAJOB_SMTP_HOST")]
    smtp_host: Option<String>,
    /// The relay's port.
    #[arg(long, env = "SMAAJOB_SMTP_PORT", default_value_t = 25)]
    smtp_port: u16,
    /// The sender of e-mail notices.
    #[arg(long, env = "SMAAJOB_SMTP_FROM", default_value = "Småjob <noreply@localhost>")]
    smtp_from: String,
    /// The SMS provider's HTTP endpoint; without one, SMS are only logged (development).
    #[arg(long, env = "SMAAJOB_SMS_URL")]
    sms_url: Option<String>,
    /// The SMS provider's API token.
    #[arg(long, env = "SMAAJOB_SMS_TOKEN", hide_env_values = true)]
    sms_token: Option<String>,
    /// Allow webhook URLs over plain http to the loopback address (development only).
    #[arg(long, env = "SMAAJOB_WEBHOOK_ALLOW_LOOPBACK", default_value_t = false, action = clap::ArgAction::Set)]
    webhook_allow_loopback: bool,
    /// Allow webhook URLs into private networks (an integration inside the municipality's network).
    #[arg(long, env = "SMAAJOB_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    webhook_allow_private: bool,
}

impl NotifyArgs {
    fn settings(&self) -> Result<smaajob_api::config::NotifySettings, Box<dyn std::error::Error>> {
        use smaajob_api::dispatch::DispatchSettings;
        if self.dispatch_max_attempts == 0 {
            return Err("--dispatch-max-attempts must be at least 1".into());
        }
        Ok(smaajob_api::config::NotifySettings {
            dispatch: DispatchSettings {
                in_process: self.dispatcher,
                poll_interval: self.dispatch_poll,
                batch: 50,
                retry: smaajob_domain::notification::RetryPolicy {
                    max_attempts: self.dispatch_max_attempts,
                    base_delay: self.dispatch_backoff,
                    max_delay: self.dispatch_backoff_max,
                },
                send_timeout: self.dispatch_timeout,
                smtp: self.smtp_host.clone().map(|host| smaajob_api::mail::SmtpRelay {
                    host,
                    port: self.smtp_port,
                    from: self.smtp_from.clone(),
                }),
                sms: match &self.sms_url {
                    Some(url) => {
                        smaajob_api::sms::SmsSettings::Http { url: url.clone(), token: self.sms_token.clone() }
                    }
                    None => smaajob_api::sms::SmsSettings::Log,
                },
            },
            webhook_urls: smaajob_api::services::webhooks::UrlPolicy {
                allow_loopback: self.webhook_allow_loopback,
                allow_private: self.webhook_allow_private,
            },
        })
    }
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on; `:PORT` listens on 127.0.0.1 (`:0` picks a free port).
    #[arg(long, env = "SMAAJOB_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "SMAAJOB_MAX_BODY_BYTES", default_value_t = 65_536)]
    max_body_bytes: usize,
    /// Database connections in the pool.
    #[arg(long, env = "SMAAJOB_POOL_SIZE", default_value_t = 10)]
    pool_size: u32,
    /// Threads per HTTP worker that run database work (default: the pool size, so none waits
    /// for a connection while holding a thread).
    #[arg(long, env = "SMAAJOB_BLOCKING_THREADS")]
    blocking_threads: Option<std::num::NonZeroUsize>,
    /// The lowest hourly wage (DKK) a task may offer.
    #[arg(long, env = "SMAAJOB_WAGE_FLOOR", default_value = DEFAULT_WAGE_FLOOR, value_parser = parse_wage_floor)]
    wage_floor: Money,
    /// How long an Idempotency-Key is remembered, e.g. `7d`, `24h`; a retry after that is a new request.
    #[arg(long, env = "SMAAJOB_IDEMPOTENCY_TTL", default_value = "7d", value_parser = parse_ttl)]
    idempotency_ttl: Duration,
    /// Wrong CPR/card-number guesses allowed per company or coordinator, as N/WINDOW; the Nth locks it out.
    #[arg(long, env = "SMAAJOB_GUESS_LIMIT_ACTOR", default_value = "5/15m", value_parser = GuessCount::parse)]
    guess_limit_actor: GuessCount,
    /// Wrong guesses allowed per source address (IPv4 address, IPv6 /64), as N/WINDOW.
    #[arg(long, env = "SMAAJOB_GUESS_LIMIT_SOURCE", default_value = "20/15m", value_parser = GuessCount::parse)]
    guess_limit_source: GuessCount,
    /// Wrong guesses allowed at one CPR number from anyone, as N/WINDOW (binds companies only).
    #[arg(long, env = "SMAAJOB_GUESS_LIMIT_CITIZEN", default_value = "5/1h", value_parser = GuessCount::parse)]
    guess_limit_citizen: GuessCount,
    /// The first lockout; each earlier lockout within a day doubles it.
    #[arg(long, env = "SMAAJOB_GUESS_LOCK", default_value = "15m", value_parser = humantime::parse_duration)]
    guess_lock: Duration,
    /// The longest lockout.
    #[arg(long, env = "SMAAJOB_GUESS_LOCK_MAX", default_value = "24h", value_parser = humantime::parse_duration)]
    guess_lock_max: Duration,
    /// Per source address on the endpoints that take a CPR number: one more request per this period.
    #[arg(long, env = "SMAAJOB_SOURCE_RATE_PERIOD", default_value = "1s", value_parser = humantime::parse_duration)]
    source_rate_period: Duration,
    /// Per source address on the endpoints that take a CPR number: requests allowed at once.
    #[arg(long, env = "SMAAJOB_SOURCE_RATE_BURST", default_value_t = NonZeroU32::new(10).expect("ten is not zero"))]
    source_rate_burst: NonZeroU32,
    #[command(flatten)]
    notify: NotifyArgs,
    #[command(flatten)]
    sign_in: SignInArgs,
    #[command(flatten)]
    db: DbArgs,
}

/// The identity providers of the pages' sign-in, one per kind of user, and the claims that
/// say who someone is. An issuer is configured when its URL is set; it then needs a client id
/// and a redirect URL too.
#[derive(Args, Clone)]
struct SignInArgs {
    /// Citizens' issuer (MitID through NemLog-in or a broker).
    #[arg(long, env = "SMAAJOB_OIDC_CITIZEN_ISSUER")]
    oidc_citizen_issuer: Option<String>,
    /// Småjob's client id at the citizens' issuer.
    #[arg(long, env = "SMAAJOB_OIDC_CITIZEN_CLIENT_ID")]
    oidc_citizen_client_id: Option<String>,
    /// Småjob's client secret at the citizens' issuer.
    #[arg(long, env = "SMAAJOB_OIDC_CITIZEN_CLIENT_SECRET", hide_env_values = true)]
    oidc_citizen_client_secret: Option<String>,
    /// The citizens' redirect URL: `{public URL}/log-ind/oidc/borger/retur`.
    #[arg(long, env = "SMAAJOB_OIDC_CITIZEN_REDIRECT_URL")]
    oidc_citizen_redirect_url: Option<String>,
    /// Scopes asked of the citizens' issuer beyond `openid`, separated by spaces.
    #[arg(long, env = "SMAAJOB_OIDC_CITIZEN_SCOPES", default_value = "profile")]
    oidc_citizen_scopes: String,
    /// Companies' issuer (MitID Erhverv).
    #[arg(long, env = "SMAAJOB_OIDC_COMPANY_ISSUER")]
    oidc_company_issuer: Option<String>,
    /// Småjob's client id at the companies' issuer.
    #[arg(long, env = "SMAAJOB_OIDC_COMPANY_CLIENT_ID")]
    oidc_company_client_id: Option<String>,
    /// Småjob's client secret at the companies' issuer.
    #[arg(long, env = "SMAAJOB_OIDC_COMPANY_CLIENT_SECRET", hide_env_values = true)]
    oidc_company_client_secret: Option<String>,
    /// The companies' redirect URL: `{public URL}/log-ind/oidc/virksomhed/retur`.
    #[arg(long, env = "SMAAJOB_OIDC_COMPANY_REDIRECT_URL")]
    oidc_company_redirect_url: Option<String>,
    /// Scopes asked of the companies' issuer beyond `openid`, separated by spaces.
    #[arg(long, env = "SMAAJOB_OIDC_COMPANY_SCOPES", default_value = "profile")]
    oidc_company_scopes: String,
    /// Coordinators' issuer (the municipality's own identity provider).
    #[arg(long, env = "SMAAJOB_OIDC_COORDINATOR_ISSUER")]
    oidc_coordinator_issuer: Option<String>,
    /// Småjob's client id at the coordinators' issuer.
    #[arg(long, env = "SMAAJOB_OIDC_COORDINATOR_CLIENT_ID")]
    oidc_coordinator_client_id: Option<String>,
    /// Småjob's client secret at the coordinators' issuer.
    #[arg(long, env = "SMAAJOB_OIDC_COORDINATOR_CLIENT_SECRET", hide_env_values = true)]
    oidc_coordinator_client_secret: Option<String>,
    /// The coordinators' redirect URL: `{public URL}/log-ind/oidc/koordinator/retur`.
    #[arg(long, env = "SMAAJOB_OIDC_COORDINATOR_REDIRECT_URL")]
    oidc_coordinator_redirect_url: Option<String>,
    /// Scopes asked of the coordinators' issuer beyond `openid`, separated by spaces.
    #[arg(long, env = "SMAAJOB_OIDC_COORDINATOR_SCOPES", default_value = "profile")]
    oidc_coordinator_scopes: String,
    /// The citizens' issuer's claim with the CPR number.
    #[arg(long, env = "SMAAJOB_OIDC_CPR_CLAIM", default_value = oidc::DEFAULT_CPR_CLAIM)]
    oidc_cpr_claim: String,
    /// The companies' issuer's claim with the CVR number.
    #[arg(long, env = "SMAAJOB_OIDC_CVR_CLAIM", default_value = oidc::DEFAULT_CVR_CLAIM)]
    oidc_cvr_claim: String,
    /// The coordinators' issuer's claim with the municipality code.
    #[arg(long, env = "SMAAJOB_OIDC_MUNICIPALITY_CLAIM", default_value = oidc::DEFAULT_MUNICIPALITY_CLAIM)]
    oidc_municipality_claim: String,
    /// The coordinators' issuer's claim with groups or roles (a string or a list).
    #[arg(long, env = "SMAAJOB_OIDC_COORDINATOR_CLAIM", default_value = oidc::DEFAULT_COORDINATOR_CLAIM)]
    oidc_coordinator_claim: String,
    /// The value in that claim that makes a person a coordinator.
    #[arg(long, env = "SMAAJOB_OIDC_COORDINATOR_VALUE", default_value = oidc::DEFAULT_COORDINATOR_VALUE)]
    oidc_coordinator_value: String,
}

impl SignInArgs {
    fn config(&self, jwks_refresh_floor: Duration) -> Result<oidc::SignInConfig, String> {
        let one = |kind: oidc::IssuerKind,
                   issuer: &Option<String>,
                   client_id: &Option<String>,
                   secret: &Option<String>,
                   redirect: &Option<String>,
                   scopes: &str|
         -> Result<Option<oidc::IssuerConfig>, String> {
            let Some(issuer) = issuer.clone() else { return Ok(None) };
            let upper = format!("{:?}", kind).to_uppercase();
            let client_id = client_id.clone().ok_or(format!("SMAAJOB_OIDC_{upper}_CLIENT_ID must be set"))?;
            let redirect_url = redirect.clone().ok_or(format!("SMAAJOB_OIDC_{upper}_REDIRECT_URL must be set"))?;
            Ok(Some(oidc::IssuerConfig {
                kind,
                issuer,
                client_id,
                client_secret: secret.clone(),
                redirect_url,
                scopes: scopes.split_whitespace().map(str::to_owned).collect(),
            }))
        };
        let issuers = [
            one(
                oidc::IssuerKind::Citizen,
                &self.oidc_citizen_issuer,
                &self.oidc_citizen_client_id,
                &self.oidc_citizen_client_secret,
                &self.oidc_citizen_redirect_url,
                &self.oidc_citizen_scopes,
            )?,
            one(
                oidc::IssuerKind::Company,
                &self.oidc_company_issuer,
                &self.oidc_company_client_id,
                &self.oidc_company_client_secret,
                &self.oidc_company_redirect_url,
                &self.oidc_company_scopes,
            )?,
            one(
                oidc::IssuerKind::Coordinator,
                &self.oidc_coordinator_issuer,
                &self.oidc_coordinator_client_id,
                &self.oidc_coordinator_client_secret,
                &self.oidc_coordinator_redirect_url,
                &self.oidc_coordinator_scopes,
            )?,
        ];
        Ok(oidc::SignInConfig {
            issuers: issuers.into_iter().flatten().collect(),
            claims: oidc::ClaimMapping {
                cpr: self.oidc_cpr_claim.clone(),
                cvr: self.oidc_cvr_claim.clone(),
                municipality: self.oidc_municipality_claim.clone(),
                coordinator_claim: self.oidc_coordinator_claim.clone(),
                coordinator_value: self.oidc_coordinator_value.clone(),
            },
            jwks_refresh_floor: Some(jwks_refresh_floor),
        })
    }
}

#[derive(Args)]
struct TokenArgs {
    /// The role the token carries (an operator token carries no scope).
    #[arg(long, value_enum)]
    role: Role,
    /// Coordinator scope: the municipality code (ignored for other roles).
    #[arg(long, default_value = "730")]
    municipality: String,
    /// Company scope: the company id (a registered company).
    #[arg(long)]
    company_id: Option<String>,
    /// Company scope: the CVR number, as a business identity provider would assert it; the
    /// company registers itself with it (POST /api/v1/companies/self) and is then scoped to it.
    #[arg(long)]
    cvr: Option<String>,
    /// Citizen scope: the citizen id.
    #[arg(long)]
    citizen_id: Option<String>,
    /// Subject (who acts); defaults to `dev-<role>`.
    #[arg(long)]
    sub: Option<String>,
    /// Lifetime, e.g. `8h`, `30m`.
    #[arg(long, default_value = "8h", value_parser = humantime::parse_duration)]
    ttl: Duration,
    #[command(flatten)]
    db: DbArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(args)) => serve(*args),
        Some(Command::Migrate(db)) => migrate(db),
        Some(Command::Dispatch(args)) => dispatch(args),
        Some(Command::Token(args)) => token(args),
        Some(Command::Demo(db)) => load_demo(db),
        Some(Command::Gtfs(GtfsCommand::Import(args))) => import_gtfs(args),
        Some(Command::Healthcheck(args)) => return healthcheck(&args),
        Some(Command::Audit(AuditCommand::Verify(db))) => return audit_verify(&db),
        Some(Command::Openapi) => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), openapi::spec_json().as_bytes());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smaajob: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_wage_floor(s: &str) -> Result<Money, String> {
    Money::parse_positive(s).map_err(|e| e.to_string())
}

fn parse_ttl(s: &str) -> Result<Duration, String> {
    let ttl = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if ttl < Duration::from_secs(1) {
        return Err("must be at least one second".into());
    }
    Ok(ttl)
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

fn keys(
    db: &DbArgs,
) -> Result<
    (DatabaseUrl, smaajob_api::auth::Authenticator, smaajob_persistence::crypto::DataKey),
    Box<dyn std::error::Error>,
> {
    let url = DatabaseUrl::parse(&db.database_url)?;
    let (auth, key, created) = resolve_keys(&url, &db.key_inputs())?;
    if let Some(path) = created {
        tracing::warn!(path = %path.display(), "generated local secrets (JWT secret and data key) beside the SQLite file; keep this file, data encrypted with it is unreadable without it");
    }
    Ok((url, auth, key))
}

fn serve(args: ServeArgs) -> CliResult {
    let format = args.db.log_format;
    telemetry::init(format);
    let (database_url, auth, data_key) = keys(&args.db)?;
    let settings = Settings {
        bind: args.bind,
        database_url,
        auth,
        data_key,
        max_body_bytes: args.max_body_bytes,
        pool_size: args.pool_size,
        blocking_threads: args.blocking_threads,
        wage_floor: args.wage_floor,
        idempotency_ttl: args.idempotency_ttl,
        guess_limits: GuessLimits::new(
            args.guess_limit_actor,
            args.guess_limit_source,
            args.guess_limit_citizen,
            args.guess_lock,
            args.guess_lock_max,
        )?,
        source_rate: SourceRateConfig { period: args.source_rate_period, burst: args.source_rate_burst },
        notify: args.notify.settings()?,
        sign_in: args.sign_in.config(args.db.jwks_refresh_floor)?,
    };
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        let port = app.port();
        let docs = format!("http://127.0.0.1:{port}/docs");
        match format {
            // In JSON the banner is one more structured event, not plain text in the stream.
            LogFormat::Json => {
                tracing::info!(port, docs = %docs, "Småjob is listening on port {port} — API docs: {docs}")
            }
            LogFormat::Text => {
                tracing::info!(port, "listening");
                eprintln!("Småjob is listening on port {port} — API docs: {docs}");
                eprintln!("Mint a token:  cargo run --release -- token --role coordinator --municipality 730");
            }
        }
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn dispatch(args: DispatchArgs) -> CliResult {
    telemetry::init(args.db.log_format);
    let (url, _, key) = keys(&args.db)?;
    let settings = args.notify.settings()?.dispatch;
    let pool = connect(&url, 4)?;
    run_migrations(&mut *pool.get()?)?;
    tracing::info!(database = %url.redacted(), "dispatching notifications");
    actix_web::rt::System::new().block_on(async move {
        let dispatcher = smaajob_api::dispatch::Dispatcher::new(pool, key, settings)?;
        dispatcher.run().await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

fn migrate(db: DbArgs) -> CliResult {
    telemetry::init(db.log_format);
    let url = DatabaseUrl::parse(&db.database_url)?;
    let pool = connect(&url, 1)?;
    let mut conn = pool.get()?;
    let applied = run_migrations(&mut conn)?;
    println!("{applied} migration(s) applied to {}", url.redacted());
    Ok(())
}

/// Verifies the audit chains; prints one line per chain on stdout (no personal data: chain
/// names are municipality codes, and entries are named by id).
fn audit_verify(db: &DbArgs) -> ExitCode {
    telemetry::init(db.log_format);
    let verified = DatabaseUrl::parse(&db.database_url)
        .and_then(|url| connect(&url, 1))
        .and_then(|pool| pool.get().map_err(smaajob_persistence::RepoError::from))
        .and_then(|mut conn| audit_chain::verify(&mut conn));
    let report = match verified {
        Ok(report) => report,
        Err(e) => {
            eprintln!("smaajob: the audit log could not be verified: {e}");
            return ExitCode::FAILURE;
        }
    };
    for chain in &report.chains {
        match &chain.broken {
            None => {
                println!("chain {}: intact, {} entries, last hash {}", chain.chain, chain.verified, chain.last_hash)
            }
            Some(link) => {
                let place = link.entry_id.map_or_else(|| "at its end".to_owned(), |id| format!("at entry {id}"));
                println!(
                    "chain {}: BROKEN {place}, after {} intact entries: {}",
                    chain.chain, chain.verified, link.problem
                );
            }
        }
    }
    if report.is_intact() {
        println!("audit log intact: {} chain(s)", report.chains.len());
        ExitCode::SUCCESS
    } else {
        println!("audit log BROKEN: {} of {} chain(s)", report.broken().count(), report.chains.len());
        ExitCode::from(2)
    }
}

fn token(args: TokenArgs) -> CliResult {
    let now = chrono::Utc::now().timestamp();
    let ttl = i64::try_from(args.ttl.as_secs()).map_err(|_| "ttl too long")?;
    if ttl == 0 {
        return Err("ttl must be at least one second".into());
    }
    let scope_missing = |flag: &str| format!("--role {} needs --{flag}", args.role.as_str());
    if args.role == Role::Company && args.company_id.is_none() && args.cvr.is_none() {
        return Err(scope_missing("cvr (or --company-id)").into());
    }
    let url = DatabaseUrl::parse(&args.db.database_url)?;
    let (auth, secrets_file) = token_keys(&url, &args.db.key_inputs())?;
    if let Some(path) = secrets_file {
        let path = std::path::absolute(&path).unwrap_or(path);
        // A token signed beside another database is refused by the server with only a bad
        // signature; naming the file makes that mistake visible.
        eprintln!(
            "smaajob: signed with the secret in {}; only a server using that database accepts this token",
            path.display()
        );
    }
    let claims = Claims {
        sub: args.sub.clone().unwrap_or_else(|| format!("dev-{}", args.role.as_str())),
        role: args.role,
        exp: now + ttl,
        iat: now,
        nbf: None,
        iss: auth.issuer().to_owned(),
        aud: auth.audience().into(),
        municipality: (args.role == Role::Coordinator).then(|| args.municipality.clone()),
        company_id: (args.role == Role::Company).then(|| args.company_id.clone()).flatten(),
        cvr: (args.role == Role::Company).then(|| args.cvr.clone()).flatten(),
        citizen_id: match args.role {
            Role::Citizen => Some(args.citizen_id.clone().ok_or_else(|| scope_missing("citizen-id"))?),
            _ => None,
        },
        // A CPR number on a command line ends up in shell histories: development tokens name
        // a citizen by id.
        cpr: None,
    };
    let token = auth.mint(&claims).ok_or(
        "tokens can only be minted with an HS256 secret; this configuration verifies an identity provider's keys",
    )?;
    println!("{token}");
    Ok(())
}

fn healthcheck(args: &HealthcheckArgs) -> ExitCode {
    match probe_healthz(&args.bind, args.timeout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smaajob healthcheck: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `GET /healthz` over plain HTTP/1.1; Ok only for a 200.
fn probe_healthz(bind: &str, timeout: Duration) -> Result<(), String> {
    use std::io::{Read, Write};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpStream, ToSocketAddrs};
    let address = smaajob_api::app::listen_address(bind);
    let mut target = address
        .to_socket_addrs()
        .map_err(|e| format!("{address}: {e}"))?
        .next()
        .ok_or_else(|| format!("{address} names no address"))?;
    // A server listening on every interface is asked on the loopback one.
    match target.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => target.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        IpAddr::V6(ip) if ip.is_unspecified() => target.set_ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        _ => {}
    }
    let mut stream = TcpStream::connect_timeout(&target, timeout).map_err(|e| format!("{target}: {e}"))?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    write!(stream, "GET /healthz HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("{target}: {e}"))?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).map_err(|e| format!("{target}: {e}"))?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status == "200" {
        Ok(())
    } else {
        Err(format!("{target} answered {:?}", status_line.lines().next().unwrap_or("")))
    }
}

fn import_gtfs(args: GtfsImportArgs) -> CliResult {
    telemetry::init(args.db.log_format);
    let municipality = MunicipalityCode::parse(&args.municipality)?;
    let bytes = std::fs::read(&args.feed).map_err(|e| format!("{}: {e}", args.feed.display()))?;
    let (url, _, _) = keys(&args.db)?;
    let pool = connect(&url, 1)?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    let imported =
        write_transaction(&mut conn, |conn| Ok::<_, ApiError>(gtfs::import_for(conn, municipality, "cli", &bytes)?))?;
    let f = &imported.feed;
    println!(
        "GTFS feed {} imported for municipality {}: {} stops, {} trips, {} connections, service days {} to {}.",
        f.id,
        f.municipality,
        f.stop_count,
        f.trip_count,
        f.connection_count,
        f.first_day.map_or_else(|| "none".into(), |d| d.to_string()),
        f.last_day.map_or_else(|| "none".into(), |d| d.to_string()),
    );
    Ok(())
}

fn load_demo(db: DbArgs) -> CliResult {
    telemetry::init(db.log_format);
    let (url, _, key) = keys(&db)?;
    let pool = connect(&url, 1)?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    let summary = demo::load(&mut conn, &key)?;
    println!("Demo data ready ({} new rows).", summary.created);
    println!("Companies:");
    for (name, id) in &summary.companies {
        println!("  {id}  {name}");
    }
    println!("Citizens:");
    for (name, id, card) in &summary.citizens {
        println!("  {id}  {name}  (frikort: {})", card.as_deref().unwrap_or("none"));
    }
    println!("Tasks:");
    for (title, id) in &summary.tasks {
        println!("  {id}  {title}");
    }
    if let Some((id, new)) = &summary.feed {
        println!("Timetable of Randers (730): {id}{}", if *new { " (imported now)" } else { "" });
    }
    println!("Token for a citizen:  smaajob token --role citizen --citizen-id <id>");
    Ok(())
}
