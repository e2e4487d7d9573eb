//! Building and running the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ResourceDef, Server, ServiceRequest, ServiceResponse};
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_web_prom::PrometheusMetricsBuilder;
use smaajob_persistence::{DbPool, connect, run_migrations};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::audit_writer::AuditWriter;
use crate::config::Settings;
use crate::error::ApiError;
use crate::guess_guard::SourceRate;
use crate::json::BodyLimit;
use crate::routes;
use crate::services::error::Code;
use crate::state::AppState;
use crate::telemetry::{RedactingRootSpan, contains_cpr, redact_cpr};

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] smaajob_persistence::RepoError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The error.
        source: std::io::Error,
    },
    /// A setting cannot be used.
    #[error("configuration: {0}")]
    Config(String),
    /// Metrics could not be set up.
    #[error("metrics: {0}")]
    Metrics(String),
}

/// The address to bind for a `--bind` value: `:PORT` (e.g. `:0` for a free port) listens on
/// 127.0.0.1; anything else is used as given (`0.0.0.0:8080`, `[::1]:8080`, `localhost:8080`).
pub fn listen_address(bind: &str) -> String {
    match bind.strip_prefix(':') {
        Some(port) => format!("127.0.0.1:{port}"),
        None => bind.to_owned(),
    }
}

/// A path template of the API with the methods it serves, for telling 405 from 404.
struct KnownRoute {
    def: ResourceDef,
    methods: Vec<String>,
}

fn known_routes() -> Vec<KnownRoute> {
    let mut routes: Vec<KnownRoute> = routes_of(&crate::openapi::spec());
    for fixed in ["/openapi.json", "/metrics"] {
        routes.push(KnownRoute { def: ResourceDef::new(fixed), methods: vec!["GET".into()] });
    }
    routes
}

fn routes_of(spec: &utoipa::openapi::OpenApi) -> Vec<KnownRoute> {
    spec.paths
        .paths
        .iter()
        .map(|(path, item)| {
            let methods = [
                ("GET", item.get.is_some()),
                ("PUT", item.put.is_some()),
                ("POST", item.post.is_some()),
                ("DELETE", item.delete.is_some()),
                ("PATCH", item.patch.is_some()),
            ]
            .into_iter()
            .filter(|(_, has)| *has)
            .map(|(m, _)| m.to_owned())
            .collect();
            KnownRoute { def: ResourceDef::new(path.as_str()), methods }
        })
        .collect()
}

async fn fallback(req: HttpRequest, known: web::Data<Vec<KnownRoute>>) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    Err(match known.iter().find(|r| r.def.is_match(path)) {
        Some(r) if !r.methods.iter().any(|m| m == req.method().as_str()) => {
            ApiError::MethodNotAllowed { allow: r.methods.clone() }
        }
        _ => ApiError::NotFound(format!("no resource at {}", shown_path(path))),
    })
}

/// A path as a 404 names it: a 30 KB path is not worth sending back whole.
fn shown_path(path: &str) -> String {
    const SHOWN: usize = 200;
    match path.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &path[..cut]),
        None => path.to_owned(),
    }
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let detail = redact_cpr(&format!("the query string is invalid: {err}")).into_owned();
    ApiError::BadRequest { code: Code::InvalidQuery, detail }.into()
}

/// A CPR number in a URL ends up in proxy logs, browser histories and referrers, which this
/// service cannot clean: such a request is refused before it is routed, and its target is
/// logged masked. CPR numbers go in JSON bodies.
async fn refuse_cpr_in_url(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if contains_cpr(req.path()) || contains_cpr(req.query_string()) {
        // Answered rather than raised, so the request id middleware outside sees a response.
        let refusal = ApiError::BadRequest {
            code: Code::CprInUrl,
            detail: "a CPR number must not be sent in a URL (path or query); send it in the JSON request body".into(),
        };
        return Ok(req.error_response(refusal).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

fn path_error(_err: PathError, req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound(format!("no resource at {}", shown_path(req.path()))).into()
}

impl Application {
    /// Opens the database, applies migrations, binds the address; `port()` then tells where.
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let pool = connect(&settings.database_url, settings.pool_size)?;
        let applied = {
            let mut conn = pool.get().map_err(smaajob_persistence::RepoError::from)?;
            run_migrations(&mut conn)?
        };
        tracing::info!(database = %settings.database_url.redacted(), migrations_applied = applied, "database ready");
        let listener = TcpListener::bind(listen_address(&settings.bind))
            .map_err(|source| StartError::Bind { addr: settings.bind.clone(), source })?;
        let local = listener.local_addr().map_err(|source| StartError::Bind { addr: settings.bind.clone(), source })?;
        let port = local.port();
        // Browsers send a Secure cookie over plain HTTP to a loopback address only; anywhere
        // else the site is served over HTTPS (behind a proxy) and the cookie must be Secure.
        let sign_ins = if settings.sign_in.issuers.is_empty() {
            crate::oidc::SignIns::none()
        } else {
            let http = crate::jwks::http_client().map_err(|e| StartError::Config(e.to_string()))?;
            crate::oidc::SignIns::discover(&settings.sign_in, http)
                .await
                .map_err(|e| StartError::Config(e.to_string()))?
        };
        let pages = web::Data::new(crate::pages::Pages {
            sealer: crate::pages::session::Sealer::new(&settings.data_key.session_key(), !local.ip().is_loopback()),
            dev_sign_in: crate::pages::DevSignIn::decide(
                local.ip(),
                settings.database_url.kind(),
                !sign_ins.is_empty(),
            ),
            sign_ins: Arc::new(sign_ins),
        });
        if pages.dev_sign_in == crate::pages::DevSignIn::Available {
            tracing::warn!(url = %format!("http://{local}/"), "development sign-in is on: anyone at this machine can sign in as a demo user");
        }

        let audit = AuditWriter::start(pool.clone())
            .map_err(|source| StartError::Bind { addr: "audit writer thread".into(), source })?;
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            data_key: settings.data_key.clone(),
            wage_floor: settings.wage_floor,
            audit,
            idempotency_ttl: settings.idempotency_ttl,
            guess_limits: settings.guess_limits,
            transit: std::sync::Arc::new(crate::services::transit::TransitCache::new()),
            webhook_urls: settings.notify.webhook_urls,
        });
        if settings.notify.dispatch.in_process {
            let dispatcher = crate::dispatch::Dispatcher::new(
                pool.clone(),
                settings.data_key.clone(),
                settings.notify.dispatch.clone(),
            )
            .map_err(StartError::Config)?;
            actix_web::rt::spawn(dispatcher.run());
        }
        spawn_idempotency_purge(pool.clone(), settings.idempotency_ttl);
        let source_rate = web::Data::new(
            SourceRate::new(settings.source_rate)
                .ok_or_else(|| StartError::Config("the source rate period must be longer than zero".into()))?,
        );
        spawn_guess_purge(pool.clone(), source_rate.get_ref().clone());
        let auth = web::Data::new(Arc::new(settings.auth));
        let known = web::Data::new(known_routes());
        let spec = crate::openapi::spec();
        let metrics = PrometheusMetricsBuilder::new("smaajob")
            .endpoint("/metrics")
            .mask_unmatched_patterns("UNKNOWN")
            .build()
            .map_err(|e| StartError::Metrics(e.to_string()))?;
        let limit = settings.max_body_bytes;

        let server = HttpServer::new(move || {
            App::new()
                .into_utoipa_app()
                .app_data(BodyLimit(limit))
                .app_data(web::PayloadConfig::default().limit(limit))
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(state.clone())
                .app_data(auth.clone())
                .app_data(known.clone())
                .app_data(source_rate.clone())
                .app_data(pages.clone())
                .service(utoipa_actix_web::scope("/api/v1").configure(routes::api_v1))
                .service(routes::ops::healthz)
                .service(routes::ops::readyz)
                .into_app()
                .wrap(from_fn(refuse_cpr_in_url))
                .wrap(metrics.clone())
                .wrap(TracingLogger::<RedactingRootSpan>::new())
                .wrap(from_fn(crate::request_id::request_id))
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", spec.clone()))
                .route(
                    "/docs",
                    web::get().to(|| async {
                        HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
                    }),
                )
                .configure(crate::pages::configure)
                .default_service(web::to(fallback))
        })
        .workers(worker_count())
        // More threads than connections would only queue on the pool, each holding a thread.
        .worker_max_blocking_threads(
            settings
                .blocking_threads
                .map_or(usize::try_from(settings.pool_size).unwrap_or(usize::MAX).max(1), |n| n.get()),
        )
        .shutdown_timeout(30)
        .listen(listener)
        .map_err(|source| StartError::Bind { addr: settings.bind.clone(), source })?
        .run();
        Ok(Application { port, server, pool })
    }

    /// The port the server is bound to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database pool the server uses (for tests and the demo loader).
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Serves until SIGINT/SIGTERM; in-flight requests get up to 30 s to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Deletes expired idempotency keys now and then, for as long as the server's runtime lives.
fn spawn_idempotency_purge(pool: DbPool, ttl: std::time::Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(crate::idempotency::purge_interval(ttl));
        loop {
            tick.tick().await;
            let pool = pool.clone();
            let purged = web::block(move || {
                let mut conn = pool.get().map_err(smaajob_persistence::RepoError::from)?;
                crate::idempotency::purge_expired(&mut conn, ttl)
            })
            .await;
            match purged {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(purged = n, "expired idempotency keys deleted"),
                Ok(Err(e)) => tracing::warn!(error = %e, "purging expired idempotency keys failed"),
                Err(e) => tracing::warn!(error = %e, "purging expired idempotency keys failed"),
            }
        }
    });
}

/// How often quiet guess counters are deleted and idle sources forgotten.
const GUESS_PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Deletes guess counters that hold nothing that still counts, and forgets idle sources of the
/// in-memory rate, now and then for as long as the server's runtime lives.
fn spawn_guess_purge(pool: DbPool, source_rate: SourceRate) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(GUESS_PURGE_INTERVAL);
        loop {
            tick.tick().await;
            source_rate.forget_idle();
            let pool = pool.clone();
            let purged = web::block(move || {
                let mut conn = pool.get().map_err(smaajob_persistence::RepoError::from)?;
                smaajob_persistence::write_transaction(&mut conn, crate::services::guesses::purge_quiet)
            })
            .await;
            match purged {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(purged = n, "quiet guess counters deleted"),
                Ok(Err(e)) => tracing::warn!(error = %e, "purging quiet guess counters failed"),
                Err(e) => tracing::warn!(error = %e, "purging quiet guess counters failed"),
            }
        }
    });
}

fn worker_count() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bare_port_listens_on_the_loopback_address() {
        assert_eq!(super::listen_address(":0"), "127.0.0.1:0");
        assert_eq!(super::listen_address(":8080"), "127.0.0.1:8080");
        assert_eq!(super::listen_address("0.0.0.0:8080"), "0.0.0.0:8080");
        assert_eq!(super::listen_address("[::1]:9"), "[::1]:9");
    }
}
