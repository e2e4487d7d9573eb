//! HTTP handlers, one module per resource.

pub mod audit;
pub mod balance;
pub mod caps;
pub mod citizens;
pub mod common;
pub mod companies;
pub mod employments;
pub mod frikort;
pub mod ops;
pub mod payouts;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every `/api/v1` handler (each with its OpenAPI description).
pub fn api_v1(cfg: &mut ServiceConfig) {
    cfg.service(citizens::create_citizen)
        .service(citizens::list_citizens)
        .service(citizens::get_citizen)
        .service(citizens::update_citizen)
        .service(citizens::get_me)
        .service(frikort::issue_card)
        .service(frikort::get_card)
        .service(frikort::deactivate_card)
        .service(frikort::reactivate_card)
        .service(frikort::record_control)
        .service(frikort::correct_decision_time)
        .service(frikort::controls_due)
        .service(caps::list_caps)
        .service(caps::get_cap)
        .service(caps::set_cap)
        .service(companies::create_company)
        .service(companies::list_companies)
        .service(companies::get_company)
        .service(companies::update_company)
        .service(audit::list_audit)
        .service(employments::create_employment)
        .service(employments::list_employments)
        .service(employments::get_employment)
        .service(employments::end_employment)
        .service(payouts::register_payout)
        .service(payouts::list_payouts)
        .service(payouts::reverse_payout)
        .service(payouts::list_adjustments)
        .service(balance::citizen_balance)
        .service(balance::my_balance);
}
