//! HTTP handlers, one module per resource.

pub mod atp_rates;
pub mod audit;
pub mod balance;
pub mod caps;
pub mod citizens;
pub mod companies;
pub mod dead_letters;
pub mod employments;
pub mod frikort;
pub mod gtfs;
pub mod hours;
pub mod matching;
pub mod ops;
pub mod outside_income;
pub mod pay_runs;
pub mod payouts;
pub mod placements;
pub mod queue;
pub mod register_entries;
pub mod reports;
pub mod tasks;
pub mod webhooks;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every `/api/v1` handler (each with its OpenAPI description).
pub fn api_v1(cfg: &mut ServiceConfig) {
    // The most frequent requests first: the router tries each route in this order, and every
    // route with a path parameter before the one that matches costs a regex match. No other
    // route's pattern matches their paths, so the order decides nothing else.
    cfg.service(balance::citizen_balance)
        .service(balance::my_balance)
        .service(payouts::register_payout)
        .service(citizens::create_citizen)
        .service(citizens::list_citizens)
        .service(citizens::get_citizen)
        .service(citizens::update_citizen)
        .service(citizens::transfer_citizen)
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
        .service(caps::preview_cap)
        .service(atp_rates::list_atp_rates)
        .service(atp_rates::get_atp_rate)
        .service(atp_rates::set_atp_rate)
        .service(companies::register_self)
        .service(companies::get_self)
        .service(companies::create_company)
        .service(companies::list_companies)
        .service(companies::get_company)
        .service(companies::update_company)
        .service(audit::list_audit)
        .service(employments::create_employment)
        .service(employments::list_employments)
        .service(employments::get_employment)
        .service(employments::end_employment)
        .service(payouts::list_payouts)
        .service(payouts::reverse_payout)
        .service(payouts::list_adjustments)
        .service(outside_income::record_outside_income)
        .service(outside_income::list_outside_income)
        .service(outside_income::withdraw_outside_income)
        .service(outside_income::import_register_statement)
        .service(outside_income::accept_register_statement)
        .service(register_entries::list_register_entries)
        .service(register_entries::export_register_entries)
        .service(register_entries::mark_register_entry_registered)
        .service(tasks::create_task)
        .service(tasks::list_tasks)
        .service(tasks::get_task)
        .service(tasks::update_task)
        .service(tasks::open_task)
        .service(tasks::complete_task)
        .service(tasks::cancel_task)
        .service(tasks::my_tasks)
        .service(placements::offer)
        .service(placements::offer_candidate)
        .service(matching::task_candidates)
        .service(matching::my_suggestions)
        .service(gtfs::import_gtfs)
        .service(gtfs::current_gtfs)
        .service(reports::transport_gaps)
        .service(placements::show_interest)
        .service(placements::list_placements)
        .service(placements::my_offers)
        .service(placements::get_placement)
        .service(placements::offer_interest)
        .service(placements::accept_offer)
        .service(placements::decline_offer)
        .service(placements::approve)
        .service(placements::reject_placement)
        .service(placements::cancel_placement)
        .service(placements::no_show_placement)
        .service(hours::report_hours)
        .service(hours::list_hours)
        .service(hours::confirm_hours)
        .service(hours::dispute_hours)
        .service(pay_runs::preview_pay_run)
        .service(pay_runs::commit_pay_run)
        .service(pay_runs::list_pay_runs)
        .service(pay_runs::get_pay_run)
        .service(queue::queue)
        .service(queue::placement_stats)
        .service(webhooks::create_subscription)
        .service(webhooks::list_subscriptions)
        .service(webhooks::rotate_secret)
        .service(webhooks::delete_subscription)
        .service(dead_letters::list_dead_letters)
        .service(dead_letters::resend_dead_letter);
}
