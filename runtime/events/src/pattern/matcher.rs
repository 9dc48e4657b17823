//! One match value of a pattern and whether one leaf of an event meets it.

use super::compile::fold;
use super::Invalid;
use serde_json::Value;
use std::net::IpAddr;

/// A match value.
#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    /// An exact string (and, when it is an IP address, any spelling of that address).
    String(String, Option<IpAddr>),
    /// A number, compared as a number (or as text, for numbers a double cannot hold).
    Number(f64, String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `prefix` (text folded when `ignore_case`).
    Prefix {
        /// The prefix.
        text: String,
        /// Compared without case.
        ignore_case: bool,
    },
    /// `suffix` (text folded when `ignore_case`).
    Suffix {
        /// The suffix.
        text: String,
        /// Compared without case.
        ignore_case: bool,
    },
    /// `equals-ignore-case` (folded text).
    EqualsIgnoreCase(String),
    /// `wildcard`.
    Wildcard(Wildcard),
    /// `numeric`.
    Numeric(Range),
    /// `cidr`.
    Cidr(Cidr),
    /// `exists`: whether the field must have a leaf.
    Exists(bool),
    /// `anything-but`.
    AnythingBut(AnythingBut),
}

/// What `anything-but` excludes.
#[derive(Debug, Clone, PartialEq)]
pub enum AnythingBut {
    /// These strings.
    Strings(Vec<String>),
    /// These numbers.
    Numbers(Vec<f64>),
    /// Strings with these prefixes.
    Prefixes(Vec<String>),
    /// Strings with these suffixes.
    Suffixes(Vec<String>),
    /// Strings matching these wildcards.
    Wildcards(Vec<Wildcard>),
    /// These strings, without case (folded).
    EqualsIgnoreCase(Vec<String>),
}

impl Matcher {
    /// An exact string match value.
    pub fn string(text: &str) -> Matcher {
        Matcher::String(text.to_string(), text.parse().ok())
    }

    /// Whether a leaf value meets this match value (`exists` is decided by the search,
    /// which knows whether the field has leaves at all).
    pub fn accepts(&self, leaf: &Value) -> bool {
        match self {
            Matcher::String(text, ip) => match leaf.as_str() {
                Some(s) => s == text || ip.is_some_and(|ip| s.parse::<IpAddr>().ok() == Some(ip)),
                None => false,
            },
            Matcher::Number(n, text) => match leaf {
                Value::Number(v) => v.as_f64() == Some(*n) || v.to_string() == *text,
                _ => false,
            },
            Matcher::Bool(b) => leaf.as_bool() == Some(*b),
            Matcher::Null => leaf.is_null(),
            Matcher::Prefix { text, ignore_case } => {
                leaf.as_str().is_some_and(|s| match ignore_case {
                    true => fold(s).starts_with(text.as_str()),
                    false => s.starts_with(text.as_str()),
                })
            }
            Matcher::Suffix { text, ignore_case } => {
                leaf.as_str().is_some_and(|s| match ignore_case {
                    true => fold(s).ends_with(text.as_str()),
                    false => s.ends_with(text.as_str()),
                })
            }
            Matcher::EqualsIgnoreCase(text) => leaf.as_str().is_some_and(|s| fold(s) == *text),
            Matcher::Wildcard(w) => leaf.as_str().is_some_and(|s| w.matches(s)),
            Matcher::Numeric(range) => leaf
                .as_f64()
                .is_some_and(|n| leaf.is_number() && range.contains(n)),
            Matcher::Cidr(cidr) => leaf
                .as_str()
                .and_then(|s| s.parse().ok())
                .is_some_and(|ip| cidr.contains(ip)),
            Matcher::Exists(exists) => *exists,
            Matcher::AnythingBut(but) => !but.excludes(leaf),
        }
    }
}

impl AnythingBut {
    /// Whether `leaf` is one of what is excluded (a value of another type never is).
    fn excludes(&self, leaf: &Value) -> bool {
        match (self, leaf) {
            (AnythingBut::Strings(list), Value::String(s)) => list.iter().any(|x| x == s),
            (AnythingBut::Numbers(list), Value::Number(n)) => {
                n.as_f64().is_some_and(|n| list.contains(&n))
            }
            (AnythingBut::Prefixes(list), Value::String(s)) => {
                list.iter().any(|p| s.starts_with(p.as_str()))
            }
            (AnythingBut::Suffixes(list), Value::String(s)) => {
                list.iter().any(|p| s.ends_with(p.as_str()))
            }
            (AnythingBut::Wildcards(list), Value::String(s)) => list.iter().any(|w| w.matches(s)),
            (AnythingBut::EqualsIgnoreCase(list), Value::String(s)) => {
                let folded = fold(s);
                list.contains(&folded)
            }
            _ => false,
        }
    }
}

/// A numeric range; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    bottom: Option<(f64, bool)>,
    top: Option<(f64, bool)>,
}

impl Range {
    /// Every number.
    pub fn unbounded() -> Range {
        Range {
            bottom: None,
            top: None,
        }
    }

    /// Exactly `n`.
    pub fn exactly(n: f64) -> Range {
        Range {
            bottom: Some((n, true)),
            top: Some((n, true)),
        }
    }

    /// Numbers above `n` (or equal, when `inclusive`).
    pub fn set_bottom(&mut self, n: f64, inclusive: bool) {
        self.bottom = Some((n, inclusive));
    }

    /// Numbers below `n` (or equal, when `inclusive`).
    pub fn set_top(&mut self, n: f64, inclusive: bool) {
        self.top = Some((n, inclusive));
    }

    /// Whether `n` is in the range.
    pub fn contains(&self, n: f64) -> bool {
        let above = match self.bottom {
            None => true,
            Some((b, inclusive)) => n > b || (inclusive && n == b),
        };
        let below = match self.top {
            None => true,
            Some((t, inclusive)) => n < t || (inclusive && n == t),
        };
        above && below
    }
}

/// A `wildcard` text: `*` stands for any characters, `\*` and `\\` for themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wildcard {
    /// The literal pieces between stars; a star sits between each two.
    pieces: Vec<String>,
}

impl Wildcard {
    /// Reads a wildcard text.
    ///
    /// # Errors
    /// `Consecutive wildcard characters at pos N` and `Invalid escape character at pos N`
    /// (Ruler's positions: the byte offset, counted from 1).
    pub fn parse(text: &str) -> Result<Wildcard, Invalid> {
        let mut pieces = vec![String::new()];
        let mut chars = text.char_indices().peekable();
        let mut last_was_star = false;
        while let Some((i, c)) = chars.next() {
            match c {
                '*' => {
                    if last_was_star {
                        return Err(Invalid(format!(
                            "Consecutive wildcard characters at pos {i}"
                        )));
                    }
                    pieces.push(String::new());
                    last_was_star = true;
                    continue;
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('*' | '\\'))) => push(&mut pieces, e),
                    _ => {
                        return Err(Invalid(format!(
                            "Invalid escape character at pos {}",
                            i + 1
                        )))
                    }
                },
                other => push(&mut pieces, other),
            }
            last_was_star = false;
        }
        Ok(Wildcard { pieces })
    }

    /// How many stars it has.
    pub fn stars(&self) -> usize {
        self.pieces.len() - 1
    }

    /// Whether `s` matches: the first piece starts it, the last ends it, and the middle
    /// ones occur in order between (taking each at its earliest place is enough).
    pub fn matches(&self, s: &str) -> bool {
        let (Some(first), Some(last)) = (self.pieces.first(), self.pieces.last()) else {
            return false;
        };
        if self.pieces.len() == 1 {
            return s == first;
        }
        if s.len() < first.len() + last.len()
            || !s.starts_with(first.as_str())
            || !s.ends_with(last.as_str())
        {
            return false;
        }
        let mut rest = s.get(first.len()..s.len() - last.len()).unwrap_or("");
        for piece in self.pieces.iter().skip(1).take(self.pieces.len() - 2) {
            match rest.find(piece.as_str()) {
                Some(at) => rest = rest.get(at + piece.len()..).unwrap_or(""),
                None => return false,
            }
        }
        true
    }
}

fn push(pieces: &mut [String], c: char) {
    if let Some(last) = pieces.last_mut() {
        last.push(c);
    }
}

/// A `cidr` block, IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    bits: u8,
}

impl Cidr {
    /// Reads `address/bits`.
    ///
    /// # Errors
    /// Ruler's messages for a malformed block.
    pub fn parse(text: &str) -> Result<Cidr, Invalid> {
        let invalid = |m: String| Err(Invalid(m));
        let parts: Vec<&str> = text.split('/').collect();
        let [address, bits] = parts.as_slice() else {
            return invalid("Malformed CIDR, one '/' required".into());
        };
        let Ok(bits) = bits.parse::<i64>() else {
            return invalid("Malformed CIDR, mask bits must be an integer".into());
        };
        if bits < 0 {
            return invalid("Malformed CIDR, mask bits must not be negative".into());
        }
        let Ok(network) = address.parse::<IpAddr>() else {
            return invalid(format!("Nonstandard IP address: {address}"));
        };
        match network {
            IpAddr::V4(_) if bits > 31 => invalid("IPv4 mask bits must be < 32".into()),
            IpAddr::V6(_) if bits > 127 => invalid("IPv6 mask bits must be < 128".into()),
            _ => Ok(Cidr {
                network,
                bits: u8::try_from(bits).unwrap_or(0),
            }),
        }
    }

    /// Whether `ip` is in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}
