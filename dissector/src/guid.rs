//! Channel, resource and peer GUIDs.
//!
//! On the wire a GUID is the 16 bytes of a Windows `GUID` struct: the first
//! three groups little-endian, the last eight bytes as written. So the bytes
//! `10 9a 0f 7d c3 f9 ae 4a a2 d6 0e 54 63 9b c7 15` are the text
//! `{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}` (the CCTV-5 channel).

use core::fmt;
use core::str::FromStr;

/// A GUID held in wire (Windows) byte order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Guid(pub [u8; 16]);

/// Why a GUID text did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a GUID in {{8-4-4-4-12}} form: {0:?}")]
pub struct GuidParseError(pub String);

impl Guid {
    pub const LEN: usize = 16;

    /// The GUID from its 16 wire bytes.
    pub const fn from_wire(bytes: [u8; 16]) -> Guid {
        Guid(bytes)
    }

    /// The 16 wire bytes.
    pub const fn to_wire(self) -> [u8; 16] {
        self.0
    }

    /// Parses `{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}`; braces optional,
    /// hex digits in either case (the channel list mixes both).
    pub fn parse_text(text: &str) -> Result<Guid, GuidParseError> {
        let err = || GuidParseError(text.to_owned());
        let t = text.trim();
        let t = match (t.strip_prefix('{'), t.ends_with('}')) {
            (Some(rest), true) => &rest[..rest.len() - 1],
            (None, false) => t,
            _ => return Err(err()),
        };
        let groups: Vec<&str> = t.split('-').collect();
        let widths = [8, 4, 4, 4, 12];
        if groups.len() != 5 || groups.iter().zip(widths).any(|(g, w)| g.len() != w) {
            return Err(err());
        }
        let hex: String = groups.concat();
        // from_str_radix alone would accept a '+' sign.
        if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(err());
        }
        let mut text_order = [0u8; 16];
        for (i, out) in text_order.iter_mut().enumerate() {
            let pair = hex.get(2 * i..2 * i + 2).ok_or_else(err)?;
            *out = u8::from_str_radix(pair, 16).map_err(|_| err())?;
        }
        Ok(Guid(swap_to_wire(text_order)))
    }

    /// The bytes in the order the text shows them.
    fn text_order(self) -> [u8; 16] {
        // The swap is its own inverse.
        swap_to_wire(self.0)
    }
}

/// Reverses the first three groups (4, 2, 2 bytes): text order <-> wire order.
fn swap_to_wire(b: [u8; 16]) -> [u8; 16] {
    let mut w = b;
    w[0..4].reverse();
    w[4..6].reverse();
    w[6..8].reverse();
    w
}

impl fmt::Display for Guid {
    /// Upper-case `{8-4-4-4-12}`, as the channel list writes `ChannelGuid`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.text_order();
        write!(f, "{{")?;
        for (i, byte) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                write!(f, "-")?;
            }
            write!(f, "{byte:02X}")?;
        }
        write!(f, "}}")
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

impl FromStr for Guid {
    type Err = GuidParseError;
    fn from_str(s: &str) -> Result<Guid, GuidParseError> {
        Guid::parse_text(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CCTV5_WIRE: [u8; 16] =
        [0x10, 0x9a, 0x0f, 0x7d, 0xc3, 0xf9, 0xae, 0x4a, 0xa2, 0xd6, 0x0e, 0x54, 0x63, 0x9b, 0xc7, 0x15];

    #[test]
    fn test_format_cctv5() {
        assert_eq!(Guid::from_wire(CCTV5_WIRE).to_string(), "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}");
    }

    #[test]
    fn test_parse_cctv5() {
        let g: Guid = "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}".parse().unwrap();
        assert_eq!(g.to_wire(), CCTV5_WIRE);
    }

    #[test]
    fn test_parse_lower_case_base_channel() {
        let g = Guid::parse_text("{ceb266b8-11d4-4ab3-83bc-c4b502a3cb74}").unwrap();
        assert_eq!(g.to_string(), "{CEB266B8-11D4-4AB3-83BC-C4B502A3CB74}");
        assert_eq!(&g.to_wire()[..4], &[0xb8, 0x66, 0xb2, 0xce]);
    }

    #[test]
    fn test_parse_rejects_malformed() {
        for bad in [
            "",
            "{}",
            "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC71}",
            "{7D0F9A10F9C34AAEA2D60E54639BC715}",
            "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC7G5}",
            "7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}",
            "{+D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}",
        ] {
            assert!(Guid::parse_text(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn prop_text_round_trip(b in any::<[u8; 16]>()) {
            let g = Guid(b);
            prop_assert_eq!(Guid::parse_text(&g.to_string()).unwrap(), g);
        }

        #[test]
        fn prop_parse_never_panics(s in ".{0,48}") {
            let _ = Guid::parse_text(&s);
        }
    }
}
