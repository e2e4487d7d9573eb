//! Danish company registration numbers (CVR).

use std::fmt;

/// A CVR number: eight digits, not starting with 0, passing the modulus-11
/// check with weights 2, 7, 6, 5, 4, 3, 2, 1.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Cvr(u32);

/// Why a string is not a CVR number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum CvrError {
    /// Not exactly eight digits, or starting with 0.
    #[error("CVR must be 8 digits and cannot start with 0")]
    Format,
    /// Eight digits, but the modulus-11 check fails (likely a typo).
    #[error("the CVR number's check digit is wrong; please check for typos")]
    Checksum,
}

impl CvrError {
    /// Stable snake_case code for API error responses.
    pub fn code(self) -> &'static str {
        match self {
            CvrError::Format => "cvr_format",
            CvrError::Checksum => "cvr_checksum",
        }
    }
}

const WEIGHTS: [u32; 8] = [2, 7, 6, 5, 4, 3, 2, 1];

fn weighted_sum(digits: &[u32]) -> u32 {
    digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum()
}

impl Cvr {
    /// Parses eight ASCII digits, ignoring surrounding whitespace.
    pub fn parse(s: &str) -> Result<Cvr, CvrError> {
        let s = s.trim();
        let bytes = s.as_bytes();
        if bytes.len() != 8 || !bytes.iter().all(u8::is_ascii_digit) || bytes[0] == b'0' {
            return Err(CvrError::Format);
        }
        let digits: Vec<u32> = bytes.iter().map(|b| u32::from(b - b'0')).collect();
        if !weighted_sum(&digits).is_multiple_of(11) {
            return Err(CvrError::Checksum);
        }
        let value = digits.iter().fold(0, |acc, d| acc * 10 + d);
        Ok(Cvr(value))
    }

    /// The number as an integer (always eight digits).
    pub fn as_u32(self) -> u32 {
        self.0
    }

    /// Completes a seven-digit prefix (1000000..=9999999) with its check
    /// digit. `None` if the prefix is out of range or has no valid check
    /// digit (the required digit would be 10). For demo data and tests.
    #[doc(hidden)]
    pub fn with_valid_checksum(first7: u32) -> Option<Cvr> {
        if !(1_000_000..=9_999_999).contains(&first7) {
            return None;
        }
        let digits: Vec<u32> = (0..7).rev().map(|p| first7 / 10u32.pow(p) % 10).collect();
        // The last weight is 1, so the check digit is whatever brings the sum to 0 mod 11.
        let check = (11 - weighted_sum(&digits) % 11) % 11;
        (check < 10).then(|| Cvr(first7 * 10 + check))
    }
}

/// Free-function form of [`Cvr::with_valid_checksum`].
#[doc(hidden)]
pub fn with_valid_checksum(first7: u32) -> Option<Cvr> {
    Cvr::with_valid_checksum(first7)
}

impl fmt::Display for Cvr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08}", self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_valid_cvr_numbers_parse() {
        // 1*2+0*7+1*6+5*5+0*4+8*3+1*2+7*1 = 66 = 6*11
        let c = Cvr::parse("10150817").unwrap();
        assert_eq!(c.as_u32(), 10_150_817);
        assert_eq!(c.to_string(), "10150817");
        // 1*2+9*1 = 11; 2+14+18+20+20+18+14+4 = 110; 9*29+3 = 264 = 24*11
        for s in ["10000009", "12345674", "99999993"] {
            assert!(Cvr::parse(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        assert_eq!(Cvr::parse(" 10150817\n").unwrap(), Cvr::parse("10150817").unwrap());
    }

    #[test]
    fn a_wrong_check_digit_is_a_checksum_error() {
        assert_eq!(Cvr::parse("10150818"), Err(CvrError::Checksum));
        assert_eq!(Cvr::parse("12345678"), Err(CvrError::Checksum));
    }

    #[test]
    fn wrong_shapes_are_format_errors() {
        for s in ["", "1015081", "101508170", "01234567", "1015 0817", "1015081a", "-1015081", "+1015081"] {
            assert_eq!(Cvr::parse(s), Err(CvrError::Format), "{s:?}");
        }
    }

    #[test]
    fn a_prefix_is_completed_with_its_check_digit_when_one_exists() {
        assert_eq!(Cvr::with_valid_checksum(1_015_081), Some(Cvr::parse("10150817").unwrap()));
        assert_eq!(Cvr::with_valid_checksum(999_999), None);
        assert_eq!(Cvr::with_valid_checksum(10_000_000), None);
        // Some prefixes need check digit 10 and cannot be completed.
        let impossible = (1_000_000..1_000_100).filter(|p| Cvr::with_valid_checksum(*p).is_none()).count();
        assert!(impossible > 0);
    }

    #[test]
    fn every_weight_is_invertible_mod_11_so_single_digit_errors_are_caught() {
        // If w*delta ≡ 0 (mod 11) had a solution with delta in ±1..=9, a typo
        // could slip through; 11 is prime and no weight is a multiple of it.
        for w in WEIGHTS {
            for delta in 1..=9 {
                assert_ne!((w * delta) % 11, 0);
            }
        }
    }

    proptest! {
        #[test]
        fn completed_prefixes_parse_and_any_single_digit_change_fails(prefix in 1_000_000u32..=9_999_999) {
            if let Some(cvr) = Cvr::with_valid_checksum(prefix) {
                let s = cvr.to_string();
                prop_assert_eq!(Cvr::parse(&s), Ok(cvr));
                prop_assert_eq!(cvr.as_u32() / 10, prefix);
                for pos in 0..8 {
                    for d in b'0'..=b'9' {
                        let mut bytes = s.clone().into_bytes();
                        if bytes[pos] == d {
                            continue;
                        }
                        bytes[pos] = d;
                        let changed = String::from_utf8(bytes).unwrap();
                        prop_assert!(Cvr::parse(&changed).is_err(), "{} parsed", changed);
                    }
                }
            }
        }

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            let _ = Cvr::parse(&s);
        }
    }
}
