//! The HTTP side of the limits on guessing who a citizen is (the rules are in
//! [`crate::services::guesses`]):
//!
//! - [`guarded`] refuses a request that names a citizen by CPR number while a lock binds the
//!   guesser, and counts a wrong answer in the database ledger: the one that trips a limit is
//!   answered 429 with `Retry-After`.
//! - [`limit_source`] caps the rate of such requests per source address in memory (a GCRA
//!   limiter from the `governor` crate), right or wrong, before any database work: it stops a
//!   flood cheaply, the ledger stops patient guessing across restarts and instances.
//!
//! The source is the TCP peer address. Behind a reverse proxy or load balancer that is the
//! proxy's address, so every caller shares one source: either rate-limit at the proxy and raise
//! the source limits here, or put the service where it sees its callers' addresses. A
//! forwarded-for header is not trusted, since any caller could set it.

use std::future::Future;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;
use crate::services::error::Code;
use crate::services::guesses::{self, GuessAttempt, source_subject};
use crate::state::AppState;

/// The per-source request rate on the endpoints where a citizen is named by CPR number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceRateConfig {
    /// One more request is allowed per this period.
    pub period: Duration,
    /// Requests allowed at once after a quiet spell.
    pub burst: NonZeroU32,
}

/// The default source rate: 10 at once, then one a second.
pub const DEFAULT_SOURCE_RATE: SourceRateConfig =
    SourceRateConfig { period: Duration::from_secs(1), burst: NonZeroU32::new(10).expect("ten is not zero") };

/// The in-memory limiter of one server instance, keyed by source address.
#[derive(Clone)]
pub struct SourceRate {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

impl SourceRate {
    /// A limiter with this rate; `None` for a period of zero.
    pub fn new(config: SourceRateConfig) -> Option<SourceRate> {
        let quota = Quota::with_period(config.period)?.allow_burst(config.burst);
        Some(SourceRate { limiter: Arc::new(DefaultKeyedRateLimiter::keyed(quota)) })
    }

    /// Ok, or how long the source must wait.
    fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&source_subject(ip))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets sources that are back at their full allowance, so the map does not grow.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

/// Middleware for a route where a citizen is named by CPR number: refuses a source over its
/// rate with 429 `rate_limited` and `Retry-After`.
pub async fn limit_source(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let rate = req.app_data::<web::Data<SourceRate>>();
    let peer = req.peer_addr().map(|a| a.ip());
    if let (Some(rate), Some(ip)) = (rate, peer)
        && let Err(wait) = rate.check(ip)
    {
        let seconds = wait.as_millis().div_ceil(1000).max(1);
        let refusal = ApiError::TooManyRequests {
            code: Code::RateLimited,
            detail: format!("too many requests from this address; try again in {seconds} seconds"),
            retry_after_seconds: u64::try_from(seconds).unwrap_or(u64::MAX),
        };
        return Ok(req.error_response(refusal).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

/// Answers a guess: refuses it while a lock binds the guesser (429), awaits `answer`, and when
/// the answer is a wrong guess (as `is_wrong` tells from the error) counts it in its own
/// transaction, answering 429 instead of the refusal when this guess tripped a limit. If the
/// count cannot be written, the refusal is answered and the failure logged.
pub async fn guarded<Fut>(
    state: &AppState,
    attempt: GuessAttempt,
    is_wrong: fn(&ApiError) -> bool,
    answer: Fut,
) -> Result<HttpResponse, ApiError>
where
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    let limits = state.guess_limits;
    let checked = attempt.clone();
    state.read(move |conn| Ok(guesses::check(conn, &checked)?)).await?;
    let answered = answer.await;
    if !answered.as_ref().err().is_some_and(is_wrong) {
        return answered;
    }
    match state.write(move |conn| Ok(guesses::record_wrong(conn, &limits, &attempt)?)).await {
        Ok(Some(wait)) => Err(guesses::too_many(wait).into()),
        Ok(None) => answered,
        Err(e) => {
            tracing::error!(error = %e, "a wrong guess could not be counted");
            answered
        }
    }
}
