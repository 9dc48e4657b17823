//! DynamoDB numbers: exact decimals of up to 38 significant digits, from 1E-130 to
//! 9.99…E+125 in magnitude, as DynamoDB keeps them. Never a float: `N` values are strings
//! on the wire so that `0.1 + 0.2` is `0.3` and an order total of cents stays exact.

use std::cmp::Ordering;
use std::fmt;

/// The most significant digits DynamoDB keeps.
pub const MAX_DIGITS: usize = 38;
/// The largest decimal exponent of a number's leading digit (9.99…E+125).
const MAX_EXPONENT: i64 = 125;
/// The smallest decimal exponent of a number's leading digit (1E-130).
const MIN_EXPONENT: i64 = -130;

/// An exact decimal: `sign × 0.d₁d₂…dₙ × 10^(exponent)` with `d₁ ≠ 0`, or zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    /// Significant digits (0–9 each), no leading or trailing zeros; empty for zero.
    digits: Vec<u8>,
    /// Where the decimal point sits: the value is `0.digits × 10^point`.
    point: i64,
}

/// Why a text is not a DynamoDB number, in DynamoDB's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not a decimal number at all.
    #[error("The parameter cannot be converted to a numeric value: {0}")]
    NotNumeric(String),
    /// More than 38 significant digits.
    #[error("Attempting to store more than 38 significant digits in a Number")]
    Precision,
    /// Beyond 9.99…E+125.
    #[error(
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )]
    Overflow,
    /// Below 1E-130 (and not zero).
    #[error("Number underflow. Attempting to store a number with magnitude smaller than supported range")]
    Underflow,
}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number {
            negative: false,
            digits: Vec::new(),
            point: 0,
        }
    }

    /// Reads a number as DynamoDB accepts it: optional sign, digits with an optional
    /// decimal point, optional exponent (`1.5`, `-0.25`, `1e3`, `.5`).
    ///
    /// # Errors
    /// [`Error`] saying why the text is not a number DynamoDB stores.
    pub fn parse(text: &str) -> Result<Number, Error> {
        let bad = || Error::NotNumeric(text.to_string());
        let t = text.trim();
        let (negative, rest) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => {
                let exp = rest
                    .get(at + 1..)
                    .and_then(|e| e.parse::<i64>().ok())
                    .filter(|e| e.abs() < 1_000_000)
                    .ok_or_else(bad)?;
                (rest.get(..at).ok_or_else(bad)?, exp)
            }
            None => (rest, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let all: Vec<u8> = whole
            .bytes()
            .chain(fraction.bytes())
            .map(|b| b - b'0')
            .collect();
        let point = whole.len() as i64 + exponent;
        Number::from_parts(negative, all, point)
    }

    /// Normalizes digits (strips zeros) and checks DynamoDB's limits.
    fn from_parts(negative: bool, mut digits: Vec<u8>, mut point: i64) -> Result<Number, Error> {
        let leading = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..leading);
        point -= leading as i64;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        if digits.len() > MAX_DIGITS {
            return Err(Error::Precision);
        }
        // The leading digit's exponent is point - 1.
        if point - 1 > MAX_EXPONENT {
            return Err(Error::Overflow);
        }
        if point - 1 < MIN_EXPONENT {
            return Err(Error::Underflow);
        }
        Ok(Number {
            negative,
            digits,
            point,
        })
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// `self + other`, exactly.
    ///
    /// # Errors
    /// [`Error`] when the sum does not fit DynamoDB's limits.
    pub fn add(&self, other: &Number) -> Result<Number, Error> {
        if self.is_zero() {
            return Ok(other.clone());
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        // Both as integers scaled to the smallest digit position.
        let low = self.low().min(other.low());
        let high = self.point.max(other.point) + 1;
        let a = self.aligned(low, high);
        let b = other.aligned(low, high);
        let (negative, digits) = match (self.negative, other.negative) {
            (x, y) if x == y => (x, add_digits(&a, &b)),
            _ => match compare_digits(&a, &b) {
                Ordering::Equal => return Ok(Number::zero()),
                Ordering::Greater => (self.negative, sub_digits(&a, &b)),
                Ordering::Less => (other.negative, sub_digits(&b, &a)),
            },
        };
        Number::from_parts(negative, digits, high)
    }

    /// `-self`.
    pub fn negated(&self) -> Number {
        Number {
            negative: !self.negative && !self.is_zero(),
            ..self.clone()
        }
    }

    /// `self - other`, exactly.
    ///
    /// # Errors
    /// [`Error`] when the difference does not fit DynamoDB's limits.
    pub fn sub(&self, other: &Number) -> Result<Number, Error> {
        self.add(&other.negated())
    }

    /// The position (power of ten) of the last significant digit.
    fn low(&self) -> i64 {
        self.point - self.digits.len() as i64
    }

    /// The digits placed in a fixed frame from 10^(high-1) down to 10^low, most
    /// significant first.
    fn aligned(&self, low: i64, high: i64) -> Vec<u8> {
        let width = usize::try_from(high - low).unwrap_or(0);
        let mut out = vec![0u8; width];
        let start = usize::try_from(high - self.point).unwrap_or(0);
        for (i, d) in self.digits.iter().enumerate() {
            if let Some(slot) = out.get_mut(start + i) {
                *slot = *d;
            }
        }
        out
    }

    /// The value as an `f64`, for sizes and the plain-JSON view (may round).
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(0.0)
    }

    /// The value when it is a whole number that fits an `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        if self.low() < 0 {
            return None;
        }
        self.to_string().parse().ok()
    }
}

fn add_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len()];
    let mut carry = 0;
    for i in (0..a.len()).rev() {
        let s = a.get(i).copied().unwrap_or(0) + b.get(i).copied().unwrap_or(0) + carry;
        if let Some(slot) = out.get_mut(i) {
            *slot = s % 10;
        }
        carry = s / 10;
    }
    out
}

/// `a - b` for `a >= b`, same width.
fn sub_digits(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len()];
    let mut borrow = 0i8;
    for i in (0..a.len()).rev() {
        let mut d =
            a.get(i).copied().unwrap_or(0) as i8 - b.get(i).copied().unwrap_or(0) as i8 - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        if let Some(slot) = out.get_mut(i) {
            *slot = d as u8;
        }
    }
    out
}

fn compare_digits(a: &[u8], b: &[u8]) -> Ordering {
    a.cmp(b)
}

impl std::str::FromStr for Number {
    type Err = Error;

    fn from_str(text: &str) -> Result<Number, Error> {
        Number::parse(text)
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| match (n.is_zero(), n.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        };
        let (sa, sb) = (sign(self), sign(other));
        if sa != sb || sa == 0 {
            return sa.cmp(&sb);
        }
        let magnitude = self
            .point
            .cmp(&other.point)
            .then_with(|| self.digits.cmp(&other.digits));
        match sa {
            1 => magnitude,
            _ => magnitude.reverse(),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Number {
    /// Plain decimal notation, no exponent, as DynamoDB answers (`1E2` reads back `100`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut s = String::new();
        if self.negative {
            s.push('-');
        }
        let digit = |d: &u8| char::from(b'0' + d);
        if self.point <= 0 {
            s.push_str("0.");
            s.extend(std::iter::repeat_n(
                '0',
                usize::try_from(-self.point).unwrap_or(0),
            ));
            s.extend(self.digits.iter().map(digit));
        } else {
            let whole = usize::try_from(self.point).unwrap_or(0);
            for i in 0..whole {
                s.push(self.digits.get(i).map(digit).unwrap_or('0'));
            }
            if let Some(rest) = self.digits.get(whole..).filter(|r| !r.is_empty()) {
                s.push('.');
                s.extend(rest.iter().map(digit));
            }
        }
        f.write_str(&s)
    }
}

/// Bytes that sort as the numbers do: sign, then the leading digit's exponent, then the
/// digits (inverted for negatives). For sort keys, which a Query scans in order.
pub fn sortable(n: &Number) -> Vec<u8> {
    if n.is_zero() {
        return vec![0x80];
    }
    // Exponents span [-130, 125]: offset to a byte that keeps their order.
    let exp = u8::try_from(n.point - 1 - MIN_EXPONENT).unwrap_or(u8::MAX);
    let mut out = Vec::with_capacity(n.digits.len() + 3);
    if n.negative {
        out.push(0x40);
        out.push(u8::MAX - exp);
        out.extend(n.digits.iter().map(|d| 9 - d + b'0'));
        // A longer negative is smaller: the terminator must sort above every digit.
        out.push(0xff);
    } else {
        out.push(0xc0);
        out.push(exp);
        out.extend(n.digits.iter().map(|d| d + b'0'));
        out.push(0x00);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    #[test]
    fn numbers_read_back_normalized() {
        for (text, shown) in [
            ("0", "0"),
            ("-0.000", "0"),
            ("1.50", "1.5"),
            ("0100", "100"),
            ("1e2", "100"),
            ("1.5E-3", "0.0015"),
            (".5", "0.5"),
            ("-12.340", "-12.34"),
            ("+7", "7"),
        ] {
            assert_eq!(n(text).to_string(), shown, "{text}");
        }
        for bad in ["", "abc", "1.2.3", "--1", "1e", "e5", "0x10", "1 2"] {
            assert!(
                matches!(Number::parse(bad), Err(Error::NotNumeric(_))),
                "{bad}"
            );
        }
        assert_eq!(Number::parse(&"1".repeat(39)), Err(Error::Precision));
        assert!(Number::parse(&"1".repeat(38)).is_ok());
        assert_eq!(Number::parse("1e126"), Err(Error::Overflow));
        assert!(Number::parse("9.9e125").is_ok());
        assert_eq!(Number::parse("1e-131"), Err(Error::Underflow));
        assert!(Number::parse("1e-130").is_ok());
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(n("0.1").add(&n("0.2")).unwrap(), n("0.3"));
        assert_eq!(n("10").sub(&n("0.01")).unwrap().to_string(), "9.99");
        assert_eq!(n("-5").add(&n("3")).unwrap(), n("-2"));
        assert_eq!(n("5").sub(&n("5")).unwrap(), Number::zero());
        assert_eq!(n("999").add(&n("1")).unwrap().to_string(), "1000");
        assert_eq!(n("-1.5").sub(&n("2.25")).unwrap().to_string(), "-3.75");
        assert_eq!(
            n(&"9".repeat(38)).add(&n("1")),
            Ok(n("1e38")),
            "a carry that drops digits still fits"
        );
        assert_eq!(n(&"9".repeat(38)).add(&n("0.1")), Err(Error::Precision));
    }

    #[test]
    fn order_and_sortable_bytes_agree() {
        let mut all: Vec<Number> = [
            "-1000", "-10.5", "-10", "-2", "-1.25", "-1", "-0.5", "-0.001", "0", "0.001", "0.5",
            "1", "1.25", "2", "10", "10.5", "1000", "1e100",
        ]
        .iter()
        .map(|t| n(t))
        .collect();
        let sorted = all.clone();
        all.reverse();
        all.sort();
        assert_eq!(all, sorted);
        for pair in sorted.windows(2) {
            assert!(sortable(&pair[0]) < sortable(&pair[1]), "{pair:?}");
        }
        assert_eq!(n("1.0"), n("1"));
        assert_eq!(n("7").to_i64(), Some(7));
        assert_eq!(n("7.5").to_i64(), None);
    }
}
