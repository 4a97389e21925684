//! Scalar value types of the simulator configuration, each parsed from YAML with its own rule so
//! that a bad value is reported at its own line and column (serde-saphyr attaches the position
//! of the node whose `Deserialize` failed).

use core::fmt;
use core::time::Duration;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A duration written with a unit: `500ms`, `2s`, `5min`, `100us`, `0`.
///
/// A bare number is rejected: `2` could mean seconds or milliseconds, and a timer off by a
/// factor of 1000 is the kind of mistake a conformance tool must not make silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ConfigDuration(pub Duration);

impl ConfigDuration {
    pub const fn from_millis(ms: u64) -> Self {
        ConfigDuration(Duration::from_millis(ms))
    }

    pub const fn get(self) -> Duration {
        self.0
    }

    /// Parses `<integer><unit>` with unit `us`, `ms`, `s` or `min`; `0` alone is allowed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "0" {
            return Ok(ConfigDuration(Duration::ZERO));
        }
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        if digits.is_empty() {
            return Err(format!("duration `{text}` must start with a number, e.g. `500ms`"));
        }
        let n: u64 = digits.parse().map_err(|_| format!("duration `{text}` is too large"))?;
        let d = match unit.trim() {
            "us" => Duration::from_micros(n),
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "min" => Duration::from_secs(n.saturating_mul(60)),
            "" => {
                return Err(format!(
                    "duration `{text}` needs a unit (us, ms, s, min), e.g. `{text}ms`"
                ));
            }
            other => return Err(format!("duration unit `{other}` is not one of us, ms, s, min")),
        };
        Ok(ConfigDuration(d))
    }
}

impl fmt::Display for ConfigDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.as_micros();
        if us == 0 {
            write!(f, "0")
        } else if us.is_multiple_of(60_000_000) {
            write!(f, "{}min", us / 60_000_000)
        } else if us.is_multiple_of(1_000_000) {
            write!(f, "{}s", us / 1_000_000)
        } else if us.is_multiple_of(1000) {
            write!(f, "{}ms", us / 1000)
        } else {
            write!(f, "{us}us")
        }
    }
}

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ConfigDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration with a unit, e.g. `500ms`, `2s`, `5min`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ConfigDuration, E> {
                ConfigDuration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ConfigDuration, E> {
                if v == 0 {
                    Ok(ConfigDuration(Duration::ZERO))
                } else {
                    Err(E::custom(format!(
                        "duration `{v}` needs a unit (us, ms, s, min), e.g. `{v}ms`"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ConfigDuration, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom("a duration cannot be negative")),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for ConfigDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Bytes written as hex, with optional spaces, colons or dashes between pairs:
/// `"01 02 0A"`, `"01020a"`, `"00:1A:2B"`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HexBytes(pub Vec<u8>);

impl HexBytes {
    pub fn parse(text: &str) -> Result<Self, String> {
        let digits: String =
            text.chars().filter(|c| !matches!(c, ' ' | ':' | '-' | '_' | '\t')).collect();
        let digits = digits.strip_prefix("0x").unwrap_or(&digits);
        if !digits.len().is_multiple_of(2) {
            return Err(format!("hex `{text}` has an odd number of digits"));
        }
        hex::decode(digits).map(HexBytes).map_err(|e| format!("hex `{text}` is not valid: {e}"))
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        HexBytes::parse(&text).map_err(de::Error::custom)
    }
}

impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(&self.0))
    }
}

/// A 6-byte entity or group identification (EID / GID, ISO 13400-2:2019 Table 5), written as
/// 12 hex digits, optionally separated: `"00:1A:2B:3C:4D:5E"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SixBytes(pub [u8; 6]);

impl<'de> Deserialize<'de> for SixBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let HexBytes(bytes) = HexBytes::deserialize(d)?;
        let array: [u8; 6] = bytes.as_slice().try_into().map_err(|_| {
            de::Error::custom(format!(
                "EID/GID must be exactly 6 bytes (12 hex digits), got {}",
                bytes.len()
            ))
        })?;
        Ok(SixBytes(array))
    }
}

impl Serialize for SixBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        HexBytes(self.0.to_vec()).serialize(s)
    }
}

/// A vehicle identification number: exactly 17 ASCII characters (ISO 3779; ISO 13400-2:2019
/// Table 5 carries it as 17 ASCII bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vin(pub [u8; 17]);

impl<'de> Deserialize<'de> for Vin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if !text.is_ascii() {
            return Err(de::Error::custom("VIN must be ASCII"));
        }
        let array: [u8; 17] = text.as_bytes().try_into().map_err(|_| {
            de::Error::custom(format!("VIN must be exactly 17 characters, got {}", text.len()))
        })?;
        Ok(Vin(array))
    }
}

impl Serialize for Vin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(&self.0))
    }
}

/// A socket address (`127.0.0.1:13400`, `[::1]:13400`), kept as `core::net` data: the pure
/// core never opens sockets, it only carries addresses for the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigSocketAddr(pub core::net::SocketAddr);

impl<'de> Deserialize<'de> for ConfigSocketAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(ConfigSocketAddr).map_err(|_| {
            de::Error::custom(format!(
                "`{text}` is not an IP socket address like `127.0.0.1:13400`"
            ))
        })
    }
}

impl Serialize for ConfigSocketAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// An IP address (`127.0.0.1`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigIpAddr(pub core::net::IpAddr);

impl<'de> Deserialize<'de> for ConfigIpAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map(ConfigIpAddr)
            .map_err(|_| de::Error::custom(format!("`{text}` is not an IP address")))
    }
}

impl Serialize for ConfigIpAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(ConfigDuration::parse("500ms").unwrap().get(), Duration::from_millis(500));
        assert_eq!(ConfigDuration::parse("5min").unwrap().get(), Duration::from_secs(300));
        assert_eq!(ConfigDuration::parse("100us").unwrap().get(), Duration::from_micros(100));
        assert_eq!(ConfigDuration::parse("0").unwrap().get(), Duration::ZERO);
        assert!(ConfigDuration::parse("2").unwrap_err().contains("needs a unit"));
        assert!(ConfigDuration::parse("2h").unwrap_err().contains("unit `h`"));
        assert!(ConfigDuration::parse("ms").is_err());
        assert!(ConfigDuration::parse("99999999999999999999999s").is_err());
    }

    #[test]
    fn durations_display_in_the_largest_exact_unit() {
        for text in ["0", "100us", "500ms", "2s", "5min", "1500ms"] {
            assert_eq!(ConfigDuration::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn hex_accepts_separators_and_rejects_odd_digits() {
        assert_eq!(HexBytes::parse("01 02 0a").unwrap().0, vec![1, 2, 10]);
        assert_eq!(HexBytes::parse("00:1A:2B").unwrap().0, vec![0, 0x1A, 0x2B]);
        assert!(HexBytes::parse("123").unwrap_err().contains("odd"));
        assert!(HexBytes::parse("zz").is_err());
    }
}
