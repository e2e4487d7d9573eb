//! Every text of the web pages, in one catalogue: Danish, and English when the browser asks
//! for it first (`Accept-Language`). A page never writes a sentence of its own; it takes one
//! from here, so a translation is one place to change.

use actix_web::HttpRequest;
use actix_web::http::header::{AcceptLanguage, Header};
use chrono::{Datelike, NaiveDate};
use smaajob_domain::Money;

/// The language a page is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Danish, the default.
    Da,
    /// English, when the browser prefers it to Danish.
    En,
}

impl Lang {
    /// The language the request asks for: English only when an English tag ranks before any
    /// Danish one; Danish otherwise (also when the header is missing or unreadable).
    pub fn of(req: &HttpRequest) -> Lang {
        let Ok(accept) = AcceptLanguage::parse(req) else { return Lang::Da };
        for tag in accept.ranked() {
            let tag = tag.to_string().to_ascii_lowercase();
            if tag.starts_with("da") || tag.starts_with("nb") || tag.starts_with("no") {
                return Lang::Da;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Da
    }

    /// The `lang` attribute of the page.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Da => "da",
            Lang::En => "en",
        }
    }

    /// The texts in this language.
    pub fn t(self) -> &'static Texts {
        match self {
            Lang::Da => &DA,
            Lang::En => &EN,
        }
    }

    /// An amount as a person reads it: `41.280,00 kr.` in Danish, `DKK 41,280.00` in English.
    pub fn money(self, m: Money) -> String {
        let ore = m.ore();
        let sign = if ore < 0 { "-" } else { "" };
        let abs = ore.unsigned_abs();
        let (kroner, rest) = (abs / 100, abs % 100);
        let (group, decimal) = match self {
            Lang::Da => ('.', ','),
            Lang::En => (',', '.'),
        };
        let digits = kroner.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(group);
            }
            grouped.push(c);
        }
        match self {
            Lang::Da => format!("{sign}{grouped}{decimal}{rest:02} kr."),
            Lang::En => format!("{sign}DKK {grouped}{decimal}{rest:02}"),
        }
    }

    /// A date in words: `12. marts 2027` / `12 March 2027`.
    pub fn date(self, d: NaiveDate) -> String {
        let month = self.t().months[d.month0() as usize];
        match self {
            Lang::Da => format!("{}. {month} {}", d.day(), d.year()),
            Lang::En => format!("{} {month} {}", d.day(), d.year()),
        }
    }

    /// When the cap is reached at the pace so far, in a sentence.
    pub fn cap_reached_at_pace(self, on: Option<NaiveDate>) -> String {
        match (self, on) {
            (Lang::Da, Some(d)) => {
                format!("Hvis du bliver ved med at tjene som hidtil, når du grænsen den {}.", self.date(d))
            }
            (Lang::En, Some(d)) => {
                format!("If you keep earning at the pace so far, you reach the limit on {}.", self.date(d))
            }
            (Lang::Da, None) => "Med det, du har tjent hidtil i år, når du ikke grænsen i år.".into(),
            (Lang::En, None) => "At the pace so far this year, you will not reach the limit this year.".into(),
        }
    }

    /// When the approved shifts would reach the cap, in a sentence.
    pub fn cap_reached_by_plan(self, on: Option<NaiveDate>) -> String {
        match (self, on) {
            (Lang::Da, Some(d)) => format!("Med de godkendte vagter når du grænsen den {}.", self.date(d)),
            (Lang::En, Some(d)) => format!("With the approved shifts you reach the limit on {}.", self.date(d)),
            (Lang::Da, None) => "De godkendte vagter holder dig under grænsen.".into(),
            (Lang::En, None) => "The approved shifts keep you under the limit.".into(),
        }
    }

    /// What the balance is based on.
    pub fn based_on(self, reconciled_on: Option<NaiveDate>) -> String {
        match (self, reconciled_on) {
            (Lang::Da, Some(d)) => format!(
                "Tallene bygger på den løn, Småjob kender, og er sidst afstemt med det nationale frikortregister den {}. Registret er det, der gælder.",
                self.date(d)
            ),
            (Lang::En, Some(d)) => format!(
                "The figures are based on the pay Småjob knows of, last reconciled with the national frikort register on {}. The register is what counts.",
                self.date(d)
            ),
            (Lang::Da, None) => "Tallene bygger på den løn, Småjob kender. De er endnu ikke afstemt med det nationale frikortregister, som er det, der gælder; løn fra arbejdsgivere uden for Småjob kan mangle.".into(),
            (Lang::En, None) => "The figures are based on the pay Småjob knows of. They are not yet reconciled with the national frikort register, which is what counts; pay from employers outside Småjob may be missing.".into(),
        }
    }

    /// The share of the cap used, for the bar's text.
    pub fn used_of(self, used: Money, cap: Money) -> String {
        match self {
            Lang::Da => format!("{} brugt af {}", self.money(used), self.money(cap)),
            Lang::En => format!("{} used of {}", self.money(used), self.money(cap)),
        }
    }

    /// A shift's time: date and hours.
    pub fn shift(self, first: NaiveDate, last: NaiveDate) -> String {
        if first == last {
            self.date(first)
        } else {
            match self {
                Lang::Da => format!("{} til {}", self.date(first), self.date(last)),
                Lang::En => format!("{} to {}", self.date(first), self.date(last)),
            }
        }
    }

    /// An hourly wage.
    pub fn per_hour(self, m: Money) -> String {
        match self {
            Lang::Da => format!("{} i timen", self.money(m)),
            Lang::En => format!("{} an hour", self.money(m)),
        }
    }

    /// Minutes worked as hours.
    pub fn hours(self, minutes: i32) -> String {
        let (h, m) = (minutes / 60, minutes % 60);
        match self {
            Lang::Da => format!("{h} t {m:02} min"),
            Lang::En => format!("{h} h {m:02} min"),
        }
    }

    /// A task's status in words.
    pub fn task_status(self, s: smaajob_domain::TaskStatus) -> &'static str {
        use smaajob_domain::TaskStatus::*;
        match (self, s) {
            (Lang::Da, Draft) => "kladde",
            (Lang::Da, Open) => "slået op",
            (Lang::Da, Filled) => "besat",
            (Lang::Da, Completed) => "afsluttet",
            (Lang::Da, Cancelled) => "aflyst",
            (Lang::En, Draft) => "draft",
            (Lang::En, Open) => "published",
            (Lang::En, Filled) => "filled",
            (Lang::En, Completed) => "completed",
            (Lang::En, Cancelled) => "cancelled",
        }
    }

    /// A placement's state in words.
    pub fn placement_state(self, s: smaajob_domain::PlacementState) -> &'static str {
        use smaajob_domain::PlacementState::*;
        match (self, s) {
            (Lang::Da, Interested) => "interesseret",
            (Lang::Da, Offered) => "tilbudt",
            (Lang::Da, Accepted) => "sagt ja, venter på godkendelse",
            (Lang::Da, Declined) => "sagt nej",
            (Lang::Da, Approved) => "godkendt",
            (Lang::Da, Rejected) => "afvist",
            (Lang::Da, Cancelled) => "aflyst",
            (Lang::Da, NoShow) => "udeblev",
            (Lang::Da, Completed) => "afsluttet",
            (Lang::En, Interested) => "interested",
            (Lang::En, Offered) => "offered",
            (Lang::En, Accepted) => "accepted, awaiting approval",
            (Lang::En, Declined) => "declined",
            (Lang::En, Approved) => "approved",
            (Lang::En, Rejected) => "rejected",
            (Lang::En, Cancelled) => "cancelled",
            (Lang::En, NoShow) => "no-show",
            (Lang::En, Completed) => "completed",
        }
    }

    /// A field error in this language, by the stable code the use case gave.
    pub fn field_error(self, code: &str) -> &'static str {
        let t = self.t();
        // The codes are the use cases' own (`name_empty`, `money_format`, `schedule_time_format`, …):
        // read by their family, so a new code of a known family still gets its words.
        match code {
            "required" => t.err_required,
            c if c.ends_with("_empty") => t.err_required,
            c if c.ends_with("too_long") && !c.starts_with("schedule") => t.err_too_long,
            "time_format" | "schedule_time_format" => t.err_time,
            "date_format" => t.err_date,
            "below_wage_floor" => t.err_wage_floor,
            "hours_exceed_shift" => t.err_hours_exceed_shift,
            "out_of_range" => t.err_out_of_range,
            "schedule_end_not_after_start" => t.err_end_before_start,
            "schedule_too_early" => t.err_too_early,
            c if c.starts_with("money_") || c.starts_with("hours_") => t.err_number,
            c if c.contains("phone") => t.err_phone,
            c if c.contains("email") => t.err_email,
            _ => t.err_invalid,
        }
    }

    /// A refusal of a use case in this language, by its problem code; `None` when the code has
    /// no text of its own (the page then says the generic [`Texts::refused`]).
    pub fn refusal(self, code: &str) -> Option<&'static str> {
        let t = self.t();
        Some(match code {
            "would_exceed_frikort" => t.refused_would_exceed,
            "illegal_transition" => t.refused_transition,
            "no_free_position" => t.refused_no_position,
            "company_not_verified" => t.refused_company_unverified,
            "no_active_card_for_schedule" => t.refused_no_card,
            "overlapping_placement" => t.refused_overlap,
            "weekly_hours_exceeded" => t.refused_weekly_hours,
            "task_not_open" => t.refused_task_not_open,
            "hours_already_answered" => t.refused_hours_answered,
            _ => return None,
        })
    }
}

/// The catalogue's entries. Each field is one text, in one language.
#[allow(missing_docs)]
pub struct Texts {
    pub site: &'static str,
    pub skip_to_content: &'static str,
    pub months: [&'static str; 12],
    pub sign_in_title: &'static str,
    pub sign_in_intro: &'static str,
    pub dev_sign_in_title: &'static str,
    pub dev_sign_in_warning: &'static str,
    pub dev_sign_in_pick: &'static str,
    pub dev_sign_in_button: &'static str,
    pub dev_sign_in_no_demo: &'static str,
    pub dev_sign_in_off: &'static str,
    pub dev_sign_in_refused: &'static str,
    pub no_sign_in_configured: &'static str,
    pub sign_in_citizen: &'static str,
    pub sign_in_company: &'static str,
    pub sign_in_coordinator: &'static str,
    pub sign_in_failed: &'static str,
    pub sign_in_cancelled: &'static str,
    pub sign_in_unknown_citizen: &'static str,
    pub sign_in_unknown_company: &'static str,
    pub sign_in_unknown_issuer: &'static str,
    pub session_expired: &'static str,
    pub session_invalid: &'static str,
    pub session_missing: &'static str,
    pub csrf_failed: &'static str,
    pub signed_out: &'static str,
    pub sign_out: &'static str,
    pub signed_in_as: &'static str,
    pub role_citizen: &'static str,
    pub role_coordinator: &'static str,
    pub role_company: &'static str,
    pub not_found_title: &'static str,
    pub not_found: &'static str,
    pub forbidden_title: &'static str,
    pub forbidden: &'static str,
    pub error_title: &'static str,
    pub error: &'static str,
    pub bad_form: &'static str,
    pub refused: &'static str,
    pub back_to_start: &'static str,
    pub form_has_errors: &'static str,
    // Citizen.
    pub my_page: &'static str,
    pub my_allowance: &'static str,
    pub cap_of_year: &'static str,
    pub provisional_cap: &'static str,
    pub used: &'static str,
    pub left: &'static str,
    pub taxable_so_far: &'static str,
    pub planned_pay: &'static str,
    pub what_it_means_title: &'static str,
    pub what_it_means: &'static str,
    pub what_over_means: &'static str,
    pub based_on_title: &'static str,
    pub offers: &'static str,
    pub no_offers: &'static str,
    pub accept: &'static str,
    pub decline: &'static str,
    pub accepted_notice: &'static str,
    pub declined_notice: &'static str,
    pub at_company: &'static str,
    // Coordinator.
    pub coordinator_start: &'static str,
    pub approval_queue: &'static str,
    pub queue_empty: &'static str,
    pub citizen: &'static str,
    pub task: &'static str,
    pub waiting_hours: &'static str,
    pub approve: &'static str,
    pub accept_taxable: &'static str,
    pub reject: &'static str,
    pub reason: &'static str,
    pub reason_hint: &'static str,
    pub approved_notice: &'static str,
    pub rejected_notice: &'static str,
    pub near_cap: &'static str,
    pub controls_due: &'static str,
    pub companies_waiting: &'static str,
    pub none: &'static str,
    // Company.
    pub company_start: &'static str,
    pub your_tasks: &'static str,
    pub no_tasks: &'static str,
    pub post_task: &'static str,
    pub new_task: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub date: &'static str,
    pub start: &'static str,
    pub end: &'static str,
    pub paid_hours: &'static str,
    pub paid_hours_hint: &'static str,
    pub hourly_wage: &'static str,
    pub hourly_wage_hint: &'static str,
    pub positions: &'static str,
    pub frikort_only: &'static str,
    pub address: &'static str,
    pub contact_name: &'static str,
    pub contact_phone: &'static str,
    pub contact_email: &'static str,
    pub optional: &'static str,
    pub save_task: &'static str,
    pub task_saved_notice: &'static str,
    pub publish: &'static str,
    pub published_notice: &'static str,
    pub status: &'static str,
    pub placements: &'static str,
    pub no_placements: &'static str,
    pub hours_to_confirm: &'static str,
    pub no_hours: &'static str,
    pub confirm: &'static str,
    pub confirmed_notice: &'static str,
    pub shift_date: &'static str,
    pub worked: &'static str,
    // Field errors.
    pub err_required: &'static str,
    pub err_too_long: &'static str,
    pub err_time: &'static str,
    pub err_date: &'static str,
    pub err_wage_floor: &'static str,
    pub err_hours_exceed_shift: &'static str,
    pub err_out_of_range: &'static str,
    pub err_number: &'static str,
    pub err_whole_number: &'static str,
    pub err_end_before_start: &'static str,
    pub err_too_early: &'static str,
    pub err_phone: &'static str,
    pub err_email: &'static str,
    pub err_invalid: &'static str,
    // Refusals.
    pub refused_would_exceed: &'static str,
    pub refused_transition: &'static str,
    pub refused_no_position: &'static str,
    pub refused_company_unverified: &'static str,
    pub refused_no_card: &'static str,
    pub refused_overlap: &'static str,
    pub refused_weekly_hours: &'static str,
    pub refused_task_not_open: &'static str,
    pub refused_hours_answered: &'static str,
}

static DA: Texts = Texts {
    site: "Småjob",
    skip_to_content: "Gå til indholdet",
    months: [
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ],
    sign_in_title: "Log ind",
    sign_in_intro: "Log ind for at se dit fribeløb, dine tilbud og dine opgaver.",
    dev_sign_in_title: "Udviklerlogin",
    dev_sign_in_warning: "Kun til udvikling og afprøvning: du vælger selv, hvem du er. Findes kun, når serveren kører på din egen maskine (127.0.0.1) med SQLite og uden en rigtig login-udbyder.",
    dev_sign_in_pick: "Vælg en demobruger",
    dev_sign_in_button: "Log ind som den valgte",
    dev_sign_in_no_demo: "Demodata er ikke indlæst: kør `smaajob demo` for at få borgere og virksomheder at logge ind som.",
    dev_sign_in_off: "Udviklerlogin er slået fra her.",
    dev_sign_in_refused: "Udviklerlogin er ikke tilladt på denne server.",
    no_sign_in_configured: "Der er ikke sat nogen login-udbyder op på denne server. Kontakt den, der driver Småjob.",
    sign_in_citizen: "Log ind med MitID (borger)",
    sign_in_company: "Log ind med MitID Erhverv (virksomhed)",
    sign_in_coordinator: "Log ind som koordinator (kommunens login)",
    sign_in_failed: "Log-ind lykkedes ikke. Prøv igen fra begyndelsen.",
    sign_in_cancelled: "Log-ind blev afbrudt hos login-udbyderen. Du kan prøve igen.",
    sign_in_unknown_citizen: "Du er logget ind med MitID, men du er ikke tilmeldt Småjob. Kontakt din kommunes jobcenter, hvis du har et socialt frikort og vil bruge Småjob.",
    sign_in_unknown_company: "Virksomheden er ikke registreret i Småjob endnu. Kontakt kommunens koordinator, så den kan blive oprettet.",
    sign_in_unknown_issuer: "Den login-metode findes ikke på denne server.",
    session_expired: "Du er blevet logget ud, fordi der er gået for lang tid. Log ind igen.",
    session_invalid: "Din session kunne ikke læses. Log ind igen.",
    session_missing: "Du skal logge ind for at se siden.",
    csrf_failed: "Formularen kunne ikke godkendes (den var for gammel eller kom ikke fra Småjob). Log ind igen.",
    signed_out: "Du er logget ud.",
    sign_out: "Log ud",
    signed_in_as: "Logget ind som",
    role_citizen: "borger",
    role_coordinator: "koordinator",
    role_company: "virksomhed",
    not_found_title: "Ikke fundet",
    not_found: "Det, du leder efter, findes ikke, eller du har ikke adgang til det.",
    forbidden_title: "Ingen adgang",
    forbidden: "Det har du ikke adgang til med din rolle.",
    error_title: "Noget gik galt",
    error: "Noget gik galt hos os. Prøv igen om lidt.",
    bad_form: "Formularen kunne ikke læses. Gå tilbage og prøv igen.",
    refused: "Det kunne ikke lade sig gøre.",
    back_to_start: "Tilbage til forsiden",
    form_has_errors: "Ret de markerede felter og prøv igen.",
    my_page: "Mit småjob",
    my_allowance: "Mit fribeløb",
    cap_of_year: "Årets grænse",
    provisional_cap: "Foreløbig: årets grænse er ikke fastsat endnu, så sidste års grænse bruges.",
    used: "Brugt",
    left: "Tilbage",
    taxable_so_far: "Skattepligtigt indtil nu",
    planned_pay: "Planlagt løn fra godkendte vagter",
    what_it_means_title: "Hvad betyder det for mig?",
    what_it_means: "Løn op til grænsen er skattefri og bliver ikke trukket i din kontanthjælp eller andre ydelser.",
    what_over_means: "Løn over grænsen er almindelig skattepligtig indkomst. Den bliver indberettet til Skattestyrelsen og modregnet i dine ydelser.",
    based_on_title: "Hvad tallene bygger på",
    offers: "Tilbud til dig",
    no_offers: "Du har ingen tilbud lige nu.",
    accept: "Sig ja",
    decline: "Sig nej",
    accepted_notice: "Du har sagt ja. Din koordinator godkender nu jobbet.",
    declined_notice: "Du har sagt nej tak.",
    at_company: "hos",
    coordinator_start: "Koordinator",
    approval_queue: "Venter på godkendelse",
    queue_empty: "Ingen placeringer venter på godkendelse.",
    citizen: "Borger",
    task: "Opgave",
    waiting_hours: "Ventet (timer)",
    approve: "Godkend",
    accept_taxable: "Godkend alligevel, selvom en del af lønnen bliver skattepligtig",
    reject: "Afvis",
    reason: "Begrundelse",
    reason_hint: "Borgeren og virksomheden kan se begrundelsen.",
    approved_notice: "Placeringen er godkendt, og ansættelsen er registreret.",
    rejected_notice: "Placeringen er afvist.",
    near_cap: "Borgere tæt på grænsen",
    controls_due: "Kontroller der skal laves",
    companies_waiting: "Virksomheder der venter på godkendelse",
    none: "Ingen.",
    company_start: "Virksomhed",
    your_tasks: "Jeres opgaver",
    no_tasks: "I har ingen opgaver endnu.",
    post_task: "Opret en opgave",
    new_task: "Ny opgave (én vagt)",
    title: "Titel",
    description: "Hvad skal laves?",
    date: "Dato",
    start: "Starter kl.",
    end: "Slutter kl.",
    paid_hours: "Betalte timer",
    paid_hours_hint: "For eksempel 3,5",
    hourly_wage: "Timeløn i kroner",
    hourly_wage_hint: "For eksempel 140,00",
    positions: "Antal personer",
    frikort_only: "Kun for personer med socialt frikort",
    address: "Adresse",
    contact_name: "Kontaktperson",
    contact_phone: "Kontaktpersonens telefon",
    contact_email: "Kontaktpersonens e-mail",
    optional: "(kan udelades)",
    save_task: "Gem opgaven",
    task_saved_notice: "Opgaven er gemt som kladde. Slå den op, når den er klar.",
    publish: "Slå op",
    published_notice: "Opgaven er slået op.",
    status: "Status",
    placements: "Placeringer",
    no_placements: "Ingen placeringer endnu.",
    hours_to_confirm: "Timer I skal bekræfte",
    no_hours: "Ingen timer venter på jer.",
    confirm: "Bekræft",
    confirmed_notice: "Timerne er bekræftet, og lønnen er registreret.",
    shift_date: "Vagtens dato",
    worked: "Arbejdet",
    err_required: "Skal udfyldes.",
    err_too_long: "Teksten er for lang.",
    err_time: "Skriv tiden som TT:MM, for eksempel 08:30.",
    err_date: "Skriv datoen som ÅÅÅÅ-MM-DD.",
    err_wage_floor: "Timelønnen er lavere end den laveste tilladte.",
    err_hours_exceed_shift: "Der er flere betalte timer, end vagten er lang.",
    err_out_of_range: "Tallet er uden for det tilladte.",
    err_number: "Skriv et beløb eller et tal, for eksempel 140,00.",
    err_whole_number: "Skriv et helt tal.",
    err_end_before_start: "Vagten skal slutte efter den starter.",
    err_too_early: "Datoen ligger for tidligt.",
    err_phone: "Det er ikke et gyldigt telefonnummer.",
    err_email: "Det er ikke en gyldig e-mailadresse.",
    err_invalid: "Værdien kan ikke bruges.",
    refused_would_exceed: "Godkendes placeringen, kommer borgerens forventede løn over det, der er tilbage af fribeløbet. Det overskydende bliver skattepligtigt og modregnes i borgerens ydelser. Tal med borgeren, og sæt kryds nedenfor, hvis I vil godkende alligevel.",
    refused_transition: "Det kan ikke lade sig gøre i den tilstand, sagen er i nu.",
    refused_no_position: "Alle pladser på opgaven er besat.",
    refused_company_unverified: "Virksomheden er ikke godkendt endnu.",
    refused_no_card: "Opgaven er kun for frikortholdere, og borgerens frikort er ikke aktivt i hele perioden.",
    refused_overlap: "Vagterne overlapper en anden godkendt placering for borgeren.",
    refused_weekly_hours: "Med denne placering arbejder borgeren flere timer om ugen, end borgeren har sagt ja til.",
    refused_task_not_open: "Opgaven er ikke slået op.",
    refused_hours_answered: "Timerne er allerede besvaret.",
};

static EN: Texts = Texts {
    site: "Småjob",
    skip_to_content: "Skip to content",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    sign_in_title: "Sign in",
    sign_in_intro: "Sign in to see your tax-free allowance, your offers and your tasks.",
    dev_sign_in_title: "Development sign-in",
    dev_sign_in_warning: "For development and trials only: you choose who you are. Only offered when the server runs on your own machine (127.0.0.1) with SQLite and no real identity provider.",
    dev_sign_in_pick: "Choose a demo user",
    dev_sign_in_button: "Sign in as the chosen user",
    dev_sign_in_no_demo: "No demo data loaded: run `smaajob demo` to get citizens and companies to sign in as.",
    dev_sign_in_off: "Development sign-in is off here.",
    dev_sign_in_refused: "Development sign-in is not allowed on this server.",
    no_sign_in_configured: "No identity provider is configured on this server. Contact whoever runs Småjob.",
    sign_in_citizen: "Sign in with MitID (citizen)",
    sign_in_company: "Sign in with MitID Erhverv (company)",
    sign_in_coordinator: "Sign in as a coordinator (the municipality's sign-in)",
    sign_in_failed: "Sign-in did not succeed. Please start again.",
    sign_in_cancelled: "Sign-in was cancelled at the identity provider. You can try again.",
    sign_in_unknown_citizen: "You are signed in with MitID, but you are not enrolled in Småjob. Contact your municipality's job centre if you hold a social frikort and want to use Småjob.",
    sign_in_unknown_company: "The company is not registered in Småjob yet. Contact the municipality's coordinator to have it registered.",
    sign_in_unknown_issuer: "That way of signing in does not exist on this server.",
    session_expired: "You were signed out because too much time passed. Please sign in again.",
    session_invalid: "Your session could not be read. Please sign in again.",
    session_missing: "Please sign in to see this page.",
    csrf_failed: "The form could not be accepted (it was too old or did not come from Småjob). Please sign in again.",
    signed_out: "You are signed out.",
    sign_out: "Sign out",
    signed_in_as: "Signed in as",
    role_citizen: "citizen",
    role_coordinator: "coordinator",
    role_company: "company",
    not_found_title: "Not found",
    not_found: "What you are looking for does not exist, or you have no access to it.",
    forbidden_title: "No access",
    forbidden: "Your role has no access to this.",
    error_title: "Something went wrong",
    error: "Something went wrong on our side. Please try again in a moment.",
    bad_form: "The form could not be read. Go back and try again.",
    refused: "That could not be done.",
    back_to_start: "Back to the start page",
    form_has_errors: "Correct the marked fields and try again.",
    my_page: "My small jobs",
    my_allowance: "My tax-free allowance",
    cap_of_year: "This year's limit",
    provisional_cap: "Provisional: this year's limit is not set yet, so last year's is used.",
    used: "Used",
    left: "Left",
    taxable_so_far: "Taxable so far",
    planned_pay: "Planned pay from approved shifts",
    what_it_means_title: "What does this mean for me?",
    what_it_means: "Pay up to the limit is tax-free and is not deducted from your social assistance or other benefits.",
    what_over_means: "Pay above the limit is ordinary taxable income. It is reported to the tax authority and deducted from your benefits.",
    based_on_title: "What the figures are based on",
    offers: "Offers for you",
    no_offers: "You have no offers right now.",
    accept: "Say yes",
    decline: "Say no",
    accepted_notice: "You said yes. Your coordinator will now approve the job.",
    declined_notice: "You said no thanks.",
    at_company: "at",
    coordinator_start: "Coordinator",
    approval_queue: "Waiting for approval",
    queue_empty: "No placements are waiting for approval.",
    citizen: "Citizen",
    task: "Task",
    waiting_hours: "Waiting (hours)",
    approve: "Approve",
    accept_taxable: "Approve anyway, although part of the pay becomes taxable",
    reject: "Reject",
    reason: "Reason",
    reason_hint: "The citizen and the company can see the reason.",
    approved_notice: "The placement is approved and the employment registered.",
    rejected_notice: "The placement is rejected.",
    near_cap: "Citizens near their limit",
    controls_due: "Controls due",
    companies_waiting: "Companies waiting for verification",
    none: "None.",
    company_start: "Company",
    your_tasks: "Your tasks",
    no_tasks: "You have no tasks yet.",
    post_task: "Post a task",
    new_task: "New task (one shift)",
    title: "Title",
    description: "What is the work?",
    date: "Date",
    start: "Starts at",
    end: "Ends at",
    paid_hours: "Paid hours",
    paid_hours_hint: "For example 3.5",
    hourly_wage: "Hourly wage in DKK",
    hourly_wage_hint: "For example 140.00",
    positions: "Number of people",
    frikort_only: "Only for holders of a social free card",
    address: "Address",
    contact_name: "Contact person",
    contact_phone: "Contact person's phone",
    contact_email: "Contact person's email",
    optional: "(optional)",
    save_task: "Save the task",
    task_saved_notice: "The task is saved as a draft. Publish it when it is ready.",
    publish: "Publish",
    published_notice: "The task is published.",
    status: "Status",
    placements: "Placements",
    no_placements: "No placements yet.",
    hours_to_confirm: "Hours for you to confirm",
    no_hours: "No hours are waiting for you.",
    confirm: "Confirm",
    confirmed_notice: "The hours are confirmed and the pay registered.",
    shift_date: "Shift date",
    worked: "Worked",
    err_required: "Required.",
    err_too_long: "The text is too long.",
    err_time: "Write the time as HH:MM, for example 08:30.",
    err_date: "Write the date as YYYY-MM-DD.",
    err_wage_floor: "The hourly wage is below the lowest allowed.",
    err_hours_exceed_shift: "More paid hours than the shift is long.",
    err_out_of_range: "The number is out of range.",
    err_number: "Write an amount or a number, for example 140.00.",
    err_whole_number: "Write a whole number.",
    err_end_before_start: "The shift must end after it starts.",
    err_too_early: "The date is too early.",
    err_phone: "That is not a valid phone number.",
    err_email: "That is not a valid email address.",
    err_invalid: "This value cannot be used.",
    refused_would_exceed: "If approved, the citizen's expected pay goes above what is left of the tax-free allowance. The excess becomes taxable and is deducted from the citizen's benefits. Talk to the citizen, and tick the box below to approve anyway.",
    refused_transition: "That is not possible in the state the case is in now.",
    refused_no_position: "Every position of the task is taken.",
    refused_company_unverified: "The company is not verified yet.",
    refused_no_card: "The task is for free card holders, and the citizen's card is not active through the whole period.",
    refused_overlap: "The shifts overlap another approved placement of the citizen.",
    refused_weekly_hours: "With this placement the citizen works more hours a week than they agreed to.",
    refused_task_not_open: "The task is not published.",
    refused_hours_answered: "The hours are already answered.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_the_danish_and_the_english_way() {
        assert_eq!(Lang::Da.money(Money::from_ore(4_128_000)), "41.280,00 kr.");
        assert_eq!(Lang::En.money(Money::from_ore(4_128_050)), "DKK 41,280.50");
        assert_eq!(Lang::Da.money(Money::from_ore(5)), "0,05 kr.");
        assert_eq!(Lang::Da.money(Money::from_ore(100_000_000)), "1.000.000,00 kr.");
    }

    #[test]
    fn field_errors_are_read_by_their_family() {
        assert_eq!(Lang::Da.field_error("name_empty"), "Skal udfyldes.");
        assert_eq!(Lang::Da.field_error("money_too_precise"), DA.err_number);
        assert_eq!(Lang::Da.field_error("schedule_time_format"), DA.err_time);
        assert_eq!(Lang::En.field_error("something_new"), EN.err_invalid);
    }

    #[test]
    fn dates_are_written_in_words() {
        let d = NaiveDate::from_ymd_opt(2027, 3, 12).unwrap_or_default();
        assert_eq!(Lang::Da.date(d), "12. marts 2027");
        assert_eq!(Lang::En.date(d), "12 March 2027");
    }
}
