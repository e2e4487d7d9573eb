//! Danish municipality codes (kommunekoder).

use std::fmt;

/// One of Denmark's 98 municipalities, or 411 Christiansø.
#[derive(Clone, Copy, Eq, PartialEq, Hash, Debug, Ord, PartialOrd)]
pub struct MunicipalityCode(u16);

/// Randers Kommune, the pilot municipality.
pub const RANDERS: MunicipalityCode = MunicipalityCode(730);

/// Why a string is not a municipality code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum MunicipalityError {
    /// Not exactly three digits.
    #[error("municipality code must be 3 digits, e.g. \"730\"")]
    Format,
    /// Three digits, but no Danish municipality has that code.
    #[error("no Danish municipality has this code")]
    Unknown,
}

impl MunicipalityError {
    /// Stable snake_case code for API error responses.
    pub fn code(self) -> &'static str {
        match self {
            MunicipalityError::Format => "municipality_format",
            MunicipalityError::Unknown => "unknown_municipality",
        }
    }
}

/// Code and Danish name of every municipality, sorted by code (binary search
/// relies on the order; a test checks it).
const MUNICIPALITIES: [(u16, &str); 99] = [
    (101, "København"),
    (147, "Frederiksberg"),
    (151, "Ballerup"),
    (153, "Brøndby"),
    (155, "Dragør"),
    (157, "Gentofte"),
    (159, "Gladsaxe"),
    (161, "Glostrup"),
    (163, "Herlev"),
    (165, "Albertslund"),
    (167, "Hvidovre"),
    (169, "Høje-Taastrup"),
    (173, "Lyngby-Taarbæk"),
    (175, "Rødovre"),
    (183, "Ishøj"),
    (185, "Tårnby"),
    (187, "Vallensbæk"),
    (190, "Furesø"),
    (201, "Allerød"),
    (210, "Fredensborg"),
    (217, "Helsingør"),
    (219, "Hillerød"),
    (223, "Hørsholm"),
    (230, "Rudersdal"),
    (240, "Egedal"),
    (250, "Frederikssund"),
    (253, "Greve"),
    (259, "Køge"),
    (260, "Halsnæs"),
    (265, "Roskilde"),
    (269, "Solrød"),
    (270, "Gribskov"),
    (306, "Odsherred"),
    (316, "Holbæk"),
    (320, "Faxe"),
    (326, "Kalundborg"),
    (329, "Ringsted"),
    (330, "Slagelse"),
    (336, "Stevns"),
    (340, "Sorø"),
    (350, "Lejre"),
    (360, "Lolland"),
    (370, "Næstved"),
    (376, "Guldborgsund"),
    (390, "Vordingborg"),
    (400, "Bornholm"),
    (410, "Middelfart"),
    (411, "Christiansø"),
    (420, "Assens"),
    (430, "Faaborg-Midtfyn"),
    (440, "Kerteminde"),
    (450, "Nyborg"),
    (461, "Odense"),
    (479, "Svendborg"),
    (480, "Nordfyns"),
    (482, "Langeland"),
    (492, "Ærø"),
    (510, "Haderslev"),
    (530, "Billund"),
    (540, "Sønderborg"),
    (550, "Tønder"),
    (561, "Esbjerg"),
    (563, "Fanø"),
    (573, "Varde"),
    (575, "Vejen"),
    (580, "Aabenraa"),
    (607, "Fredericia"),
    (615, "Horsens"),
    (621, "Kolding"),
    (630, "Vejle"),
    (657, "Herning"),
    (661, "Holstebro"),
    (665, "Lemvig"),
    (671, "Struer"),
    (706, "Syddjurs"),
    (707, "Norddjurs"),
    (710, "Favrskov"),
    (727, "Odder"),
    (730, "Randers"),
    (740, "Silkeborg"),
    (741, "Samsø"),
    (746, "Skanderborg"),
    (751, "Aarhus"),
    (756, "Ikast-Brande"),
    (760, "Ringkøbing-Skjern"),
    (766, "Hedensted"),
    (773, "Morsø"),
    (779, "Skive"),
    (787, "Thisted"),
    (791, "Viborg"),
    (810, "Brønderslev"),
    (813, "Frederikshavn"),
    (820, "Vesthimmerlands"),
    (825, "Læsø"),
    (840, "Rebild"),
    (846, "Mariagerfjord"),
    (849, "Jammerbugt"),
    (851, "Aalborg"),
    (860, "Hjørring"),
];

impl MunicipalityCode {
    /// Parses a three-digit code, ignoring surrounding whitespace.
    pub fn parse(s: &str) -> Result<MunicipalityCode, MunicipalityError> {
        let s = s.trim();
        let bytes = s.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(MunicipalityError::Format);
        }
        let code = bytes.iter().fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
        MunicipalityCode::from_code(code).ok_or(MunicipalityError::Unknown)
    }

    /// The municipality with this numeric code, if there is one.
    pub fn from_code(code: u16) -> Option<MunicipalityCode> {
        MUNICIPALITIES.binary_search_by_key(&code, |&(c, _)| c).ok().map(|_| MunicipalityCode(code))
    }

    /// The numeric code.
    pub fn as_u16(self) -> u16 {
        self.0
    }

    /// The municipality's Danish name, e.g. "Randers".
    pub fn name(&self) -> &'static str {
        MUNICIPALITIES.binary_search_by_key(&self.0, |&(c, _)| c).map_or("", |i| MUNICIPALITIES[i].1)
    }

    /// All municipalities in code order.
    pub fn all() -> impl Iterator<Item = MunicipalityCode> {
        MUNICIPALITIES.iter().map(|&(c, _)| MunicipalityCode(c))
    }
}

impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn well_known_codes_have_their_danish_names() {
        for (code, name) in [
            ("730", "Randers"),
            ("751", "Aarhus"),
            ("101", "København"),
            ("851", "Aalborg"),
            ("411", "Christiansø"),
            ("492", "Ærø"),
        ] {
            assert_eq!(MunicipalityCode::parse(code).unwrap().name(), name);
        }
    }

    #[test]
    fn randers_is_730() {
        assert_eq!(RANDERS, MunicipalityCode::parse("730").unwrap());
        assert_eq!(RANDERS.to_string(), "730");
        assert_eq!(RANDERS.as_u16(), 730);
        assert_eq!(RANDERS.name(), "Randers");
    }

    #[test]
    fn the_table_has_98_municipalities_plus_christiansoe_in_code_order() {
        assert_eq!(MUNICIPALITIES.len(), 99);
        assert!(MUNICIPALITIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(MunicipalityCode::all().count(), 99);
        for m in MunicipalityCode::all() {
            assert!(!m.name().is_empty());
            assert_eq!(MunicipalityCode::parse(&m.to_string()), Ok(m));
        }
    }

    #[test]
    fn three_digit_codes_that_are_no_municipality_are_unknown() {
        for s in ["000", "100", "102", "412", "999", "731"] {
            assert_eq!(MunicipalityCode::parse(s), Err(MunicipalityError::Unknown), "{s}");
        }
        assert_eq!(MunicipalityCode::from_code(0), None);
    }

    #[test]
    fn anything_but_three_digits_is_a_format_error() {
        for s in ["", "73", "0730", "7300", "73a", "+73", "7 30", "-730"] {
            assert_eq!(MunicipalityCode::parse(s), Err(MunicipalityError::Format), "{s:?}");
        }
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        assert_eq!(MunicipalityCode::parse(" 730 "), Ok(RANDERS));
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            let _ = MunicipalityCode::parse(&s);
        }
    }
}
