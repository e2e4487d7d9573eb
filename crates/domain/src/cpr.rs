//! Danish personal identification numbers (CPR).

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// A syntactically valid CPR number whose date part is a real date.
///
/// The modulus-11 check is deliberately not applied: CPR numbers issued since
/// 2007 need not satisfy it.
///
/// To keep CPR numbers out of logs and JSON by accident, this type has no
/// `Display` and no serde support, and its `Debug` output is masked
/// (`DDMMYY-XXXX`). Use [`Cpr::digits`] only where the full number is
/// genuinely needed (hashing, encryption).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cpr {
    digits: String,
    birth_date: NaiveDate,
}

/// Why a string is not a CPR number. Messages never contain the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum CprError {
    /// Not ten digits in the form `DDMMYY-SSSS` / `DDMMYYSSSS`.
    #[error("CPR must be 10 digits as DDMMYY-SSSS (dash optional)")]
    Format,
    /// The date part (with the century derived from the serial) does not exist.
    #[error("the CPR's date part is not a real date")]
    NoSuchDate,
}

impl CprError {
    /// Stable snake_case code for API error responses.
    pub fn code(self) -> &'static str {
        match self {
            CprError::Format => "cpr_format",
            CprError::NoSuchDate => "cpr_no_such_date",
        }
    }
}

impl Cpr {
    /// Parses `DDMMYY-SSSS` or `DDMMYYSSSS`, ignoring surrounding ASCII
    /// whitespace.
    ///
    /// The century comes from the first serial digit (the 7th digit):
    /// 0–3 → 1900s; 4 or 9 → 2000s if YY ≤ 36, else 1900s;
    /// 5–8 → 2000s if YY ≤ 57, else 1800s.
    pub fn parse(s: &str) -> Result<Cpr, CprError> {
        let s = s.trim_matches(|c: char| c.is_ascii_whitespace());
        let bytes = s.as_bytes();
        let digits: String = match bytes.len() {
            10 if bytes.iter().all(u8::is_ascii_digit) => s.to_owned(),
            11 if bytes[6] == b'-'
                && bytes[..6].iter().all(u8::is_ascii_digit)
                && bytes[7..].iter().all(u8::is_ascii_digit) =>
            {
                format!("{}{}", &s[..6], &s[7..])
            }
            _ => return Err(CprError::Format),
        };
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let day = d[0] * 10 + d[1];
        let month = d[2] * 10 + d[3];
        let yy = d[4] * 10 + d[5];
        let century = match d[6] {
            0..=3 => 1900,
            4 | 9 if yy <= 36 => 2000,
            4 | 9 => 1900,
            _ if yy <= 57 => 2000,
            _ => 1800,
        };
        // `yy` < 100, so the sum always fits.
        let year = century + yy as i32;
        let birth_date = NaiveDate::from_ymd_opt(year, month, day).ok_or(CprError::NoSuchDate)?;
        Ok(Cpr { digits, birth_date })
    }

    /// The birth date encoded in the number.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// The ten digits without a dash. Handle with care: this is the full
    /// identifier.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The masked form `DDMMYY-XXXX`, safe for logs and screens.
    pub fn masked(&self) -> String {
        mask_birth_date(self.birth_date)
    }

    /// Completed years of age on `date`; 0 if `date` is before the birth.
    ///
    /// Someone born on 29 February has their birthday on 1 March in non-leap
    /// years (they turn 18 on 1 March, not on 28 February).
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        age_on(self.birth_date, date)
    }
}

impl fmt::Debug for Cpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cpr").field(&self.masked()).finish()
    }
}

/// Completed years of age on `date` for someone born on `born`; 0 if `date` is before the birth.
///
/// Someone born on 29 February has their birthday on 1 March in non-leap
/// years (they turn 18 on 1 March, not on 28 February).
pub fn age_on(born: NaiveDate, date: NaiveDate) -> u32 {
    if date < born {
        return 0;
    }
    // Comparing (month, day) against (2, 29) makes 1 March the first day
    // on or after the birthday in a non-leap year, which is the rule.
    let had_birthday = (date.month(), date.day()) >= (born.month(), born.day());
    let mut years = date.year() - born.year();
    if !had_birthday {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// Formats a birth date as a masked CPR, `DDMMYY-XXXX`.
pub fn mask_birth_date(d: NaiveDate) -> String {
    format!("{:02}{:02}{:02}-XXXX", d.day(), d.month(), d.year().rem_euclid(100))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn year_of(s: &str) -> i32 {
        Cpr::parse(s).unwrap().birth_date().year()
    }

    #[test]
    fn a_cpr_with_a_dash_and_without_parses_the_same() {
        let a = Cpr::parse("010203-1234").unwrap();
        let b = Cpr::parse("0102031234").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.digits(), "0102031234");
        assert_eq!(a.birth_date(), date(1903, 2, 1));
    }

    #[test]
    fn surrounding_ascii_whitespace_is_ignored() {
        let a = Cpr::parse(" \t010203-1234\n").unwrap();
        assert_eq!(a.digits(), "0102031234");
    }

    #[test]
    fn serial_digits_0_to_3_always_mean_the_1900s() {
        for d in 0..=3 {
            for yy in ["00", "36", "37", "57", "58", "99"] {
                let s = format!("0101{yy}{d}000");
                assert_eq!(year_of(&s), 1900 + yy.parse::<i32>().unwrap(), "{s}");
            }
        }
    }

    #[test]
    fn serial_digits_4_and_9_mean_2000s_up_to_36_and_1900s_from_37() {
        for d in [4, 9] {
            assert_eq!(year_of(&format!("010100{d}000")), 2000);
            assert_eq!(year_of(&format!("010136{d}000")), 2036);
            assert_eq!(year_of(&format!("010137{d}000")), 1937);
            assert_eq!(year_of(&format!("010157{d}000")), 1957);
            assert_eq!(year_of(&format!("010158{d}000")), 1958);
            assert_eq!(year_of(&format!("010199{d}000")), 1999);
        }
    }

    #[test]
    fn serial_digits_5_to_8_mean_2000s_up_to_57_and_1800s_from_58() {
        for d in 5..=8 {
            assert_eq!(year_of(&format!("010100{d}000")), 2000);
            assert_eq!(year_of(&format!("010136{d}000")), 2036);
            assert_eq!(year_of(&format!("010137{d}000")), 2037);
            assert_eq!(year_of(&format!("010157{d}000")), 2057);
            assert_eq!(year_of(&format!("010158{d}000")), 1858);
            assert_eq!(year_of(&format!("010199{d}000")), 1899);
        }
    }

    #[test]
    fn the_29th_of_february_is_valid_in_a_leap_year() {
        let c = Cpr::parse("290200-4123").unwrap();
        assert_eq!(c.birth_date(), date(2000, 2, 29));
    }

    #[test]
    fn the_29th_of_february_is_invalid_in_a_non_leap_year() {
        assert_eq!(Cpr::parse("290201-4123"), Err(CprError::NoSuchDate));
        // 1900 was not a leap year, 2000 was: the century matters.
        assert_eq!(Cpr::parse("290200-1123"), Err(CprError::NoSuchDate));
    }

    #[test]
    fn impossible_dates_are_rejected() {
        assert_eq!(Cpr::parse("310480-1234"), Err(CprError::NoSuchDate));
        assert_eq!(Cpr::parse("010080-1234"), Err(CprError::NoSuchDate));
        assert_eq!(Cpr::parse("000180-1234"), Err(CprError::NoSuchDate));
        assert_eq!(Cpr::parse("011380-1234"), Err(CprError::NoSuchDate));
        assert_eq!(Cpr::parse("320180-1234"), Err(CprError::NoSuchDate));
    }

    #[test]
    fn malformed_strings_are_rejected_as_format_errors() {
        for s in [
            "",
            "01018O-1234",
            "abcdefghij",
            "010180-123",
            "010180123",
            "010180-12345",
            "01018012345",
            "0101801-234",
            "010180 1234",
            "010180--1234",
            "+010180-1234",
            "-0101801234",
            "０１０１８０１２３４",
        ] {
            assert_eq!(Cpr::parse(s), Err(CprError::Format), "{s:?}");
        }
    }

    #[test]
    fn the_masked_form_keeps_the_date_and_hides_the_serial() {
        let c = Cpr::parse("0503921234").unwrap();
        assert_eq!(c.masked(), "050392-XXXX");
        assert_eq!(mask_birth_date(date(2007, 12, 24)), "241207-XXXX");
    }

    #[test]
    fn debug_output_never_contains_the_serial_digits() {
        let c = Cpr::parse("050392-8761").unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("8761"), "{dbg}");
        assert!(dbg.contains("050392-XXXX"), "{dbg}");
        let pretty = format!("{c:#?}");
        assert!(!pretty.contains("8761"), "{pretty}");
    }

    #[test]
    fn error_messages_never_echo_the_input() {
        for s in ["310480-1234", "31048x-1234"] {
            let e = Cpr::parse(s).unwrap_err();
            assert!(!e.to_string().contains("1234"));
            assert!(!format!("{e:?}").contains("1234"));
        }
    }

    #[test]
    fn age_counts_completed_years_around_a_birthday() {
        let c = Cpr::parse("150606-4321").unwrap(); // 15 June 2006
        assert_eq!(c.age_on(date(2024, 6, 14)), 17);
        assert_eq!(c.age_on(date(2024, 6, 15)), 18);
        assert_eq!(c.age_on(date(2024, 6, 16)), 18);
        assert_eq!(c.age_on(date(2006, 6, 15)), 0);
        assert_eq!(c.age_on(date(2006, 6, 14)), 0);
        assert_eq!(c.age_on(date(1990, 1, 1)), 0);
    }

    #[test]
    fn someone_born_on_29_february_ages_on_1_march_in_non_leap_years() {
        let c = Cpr::parse("290204-4321").unwrap(); // 29 Feb 2004
        assert_eq!(c.age_on(date(2022, 2, 28)), 17);
        assert_eq!(c.age_on(date(2022, 3, 1)), 18);
        assert_eq!(c.age_on(date(2024, 2, 28)), 19);
        assert_eq!(c.age_on(date(2024, 2, 29)), 20);
    }

    /// The 7th digits that make `year` come out of a CPR with its two-digit year.
    fn century_digits(year: i32) -> Vec<u8> {
        let yy = year % 100;
        match year {
            1858..=1899 => vec![5, 6, 7, 8],
            1900..=1999 if yy >= 37 => vec![0, 1, 2, 3, 4, 9],
            1900..=1999 => vec![0, 1, 2, 3],
            2000..=2036 => vec![4, 5, 6, 7, 8, 9],
            _ => vec![5, 6, 7, 8],
        }
    }

    proptest! {
        #[test]
        fn any_real_date_from_1858_to_2057_round_trips(
            offset in 0i64..=(date(2057, 12, 31) - date(1858, 1, 1)).num_days(),
            pick in 0usize..6,
            serial in 0u32..1000,
            dash in any::<bool>(),
        ) {
            let born = date(1858, 1, 1) + chrono::Duration::days(offset);
            let digits = century_digits(born.year());
            let seventh = digits[pick % digits.len()];
            let s = format!(
                "{:02}{:02}{:02}{}{}{:03}",
                born.day(),
                born.month(),
                born.year() % 100,
                if dash { "-" } else { "" },
                seventh,
                serial
            );
            let cpr = Cpr::parse(&s).unwrap();
            prop_assert_eq!(cpr.birth_date(), born);
            prop_assert_eq!(cpr.digits(), s.replace('-', ""));
        }

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            let _ = Cpr::parse(&s);
        }

        #[test]
        fn cpr_shaped_strings_never_panic(s in "[0-9 -]{0,13}") {
            if let Ok(c) = Cpr::parse(&s) {
                prop_assert_eq!(c.digits().len(), 10);
            }
        }
    }
}
