//! Value parsers shared by the isotp subcommands: CAN identifiers, single bytes, addressing
//! (durations and hex messages use the one grammar of `crate::notation`).

use crate::codec::can::CanId;
use crate::codec::isotp::AddressingMode;

/// A CAN id in hex, candump style: up to 3 digits is 11-bit, 8 digits (or a value above
/// 0x7FF) is 29-bit. An optional `0x` prefix is allowed: `7E0`, `0x7E0`, `18DAF110`.
pub fn parse_can_id(s: &str) -> Result<CanId, String> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    let raw = u32::from_str_radix(digits, 16)
        .map_err(|_| format!("`{s}` is not a hexadecimal CAN id (e.g. 7E0 or 18DAF110)"))?;
    let extended = digits.len() == 8 || raw > 0x7FF;
    CanId::new(raw, extended)
        .ok_or_else(|| format!("`{s}` does not fit a 29-bit CAN id (at most 1FFFFFFF)"))
}

/// A byte in hex (`F1`, `0xF1`).
pub fn parse_hex_byte(s: &str) -> Result<u8, String> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    u8::from_str_radix(digits, 16).map_err(|_| format!("`{s}` is not a hexadecimal byte (00-FF)"))
}

/// The addressing format names of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Addressing {
    /// One CAN id per direction, no address byte.
    Normal,
    /// 29-bit 0x18DA<TA><SA>, no address byte.
    NormalFixed,
    /// First data byte is N_TA.
    Extended,
    /// First data byte is N_AE.
    Mixed,
}

impl From<Addressing> for AddressingMode {
    fn from(a: Addressing) -> Self {
        match a {
            Addressing::Normal => AddressingMode::Normal,
            Addressing::NormalFixed => AddressingMode::NormalFixed,
            Addressing::Extended => AddressingMode::Extended,
            Addressing::Mixed => AddressingMode::Mixed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_11_bit_unless_written_with_8_digits_or_too_big() {
        assert_eq!(parse_can_id("7E0").unwrap(), CanId::new(0x7E0, false).unwrap());
        assert_eq!(parse_can_id("0x7e8").unwrap(), CanId::new(0x7E8, false).unwrap());
        assert_eq!(parse_can_id("000007E0").unwrap(), CanId::new(0x7E0, true).unwrap());
        assert_eq!(parse_can_id("18DAF110").unwrap(), CanId::new(0x18DA_F110, true).unwrap());
        assert_eq!(parse_can_id("800").unwrap(), CanId::new(0x800, true).unwrap());
        assert!(parse_can_id("20000000").unwrap_err().contains("29-bit"));
        assert!(parse_can_id("7G0").unwrap_err().contains("hexadecimal"));
    }

    #[test]
    fn bytes_are_hex_integers() {
        assert_eq!(parse_hex_byte("0xF1").unwrap(), 0xF1);
        assert_eq!(parse_hex_byte("0").unwrap(), 0);
        assert!(parse_hex_byte("100").is_err());
    }
}
