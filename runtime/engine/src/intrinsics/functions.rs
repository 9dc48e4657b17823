//! What each intrinsic function computes, with AWS's argument rules.

use base64::Engine as _;
use serde_json::{Number, Value};
use sha2::Digest as _;

use super::{Env, Failure, Function};
use crate::jsonpath::values_equal;

/// AWS's limit on the input of `States.Base64Encode`, `States.Base64Decode` and `States.Hash`.
const MAX_INPUT_CHARS: usize = 10_000;

/// AWS's limit on the length of the array `States.ArrayRange` builds.
const MAX_RANGE_ITEMS: u64 = 1000;

/// Evaluates `function` on already evaluated arguments.
pub(super) fn evaluate(
    function: Function,
    args: Vec<Value>,
    raw_template: Option<&str>,
    env: &mut dyn Env,
) -> Result<Value, Failure> {
    let name = function.name();
    match function {
        Function::Format => format(name, args, raw_template),
        Function::StringToJson => {
            let [text] = exact(name, args)?;
            let text = string(name, 1, &text)?;
            // Jackson, which AWS uses, reads blank text as null.
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str(text)
                .map_err(|e| Failure(format!("{name}: the argument is not valid JSON: {e}")))
        }
        Function::JsonToString => {
            let [value] = exact(name, args)?;
            serde_json::to_string(&value)
                .map(Value::String)
                .map_err(|e| Failure(format!("{name}: {e}")))
        }
        Function::Array => Ok(Value::Array(args)),
        Function::ArrayPartition => {
            let [array, size] = exact(name, args)?;
            let array = self::array(name, 1, array)?;
            let size = integer(name, 2, &size)?;
            let size = usize::try_from(size)
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| {
                    Failure(format!(
                        "{name}: the chunk size must be greater than 0, got {size}"
                    ))
                })?;
            Ok(Value::Array(
                array
                    .chunks(size)
                    .map(|chunk| Value::Array(chunk.to_vec()))
                    .collect(),
            ))
        }
        Function::ArrayContains => {
            let [array, value] = exact(name, args)?;
            let array = self::array(name, 1, array)?;
            Ok(Value::Bool(
                array.iter().any(|item| values_equal(item, &value)),
            ))
        }
        Function::ArrayRange => {
            let [start, end, step] = exact(name, args)?;
            range(
                name,
                integer(name, 1, &start)?,
                integer(name, 2, &end)?,
                integer(name, 3, &step)?,
            )
        }
        Function::ArrayGetItem => {
            let [array, index] = exact(name, args)?;
            let array = self::array(name, 1, array)?;
            let index = integer(name, 2, &index)?;
            usize::try_from(index)
                .ok()
                .and_then(|i| array.get(i))
                .cloned()
                .ok_or_else(|| {
                    Failure(format!(
                        "{name}: index {index} is out of bounds for an array of length {}",
                        array.len()
                    ))
                })
        }
        Function::ArrayLength => {
            let [array] = exact(name, args)?;
            Ok(Value::from(self::array(name, 1, array)?.len()))
        }
        Function::ArrayUnique => {
            let [array] = exact(name, args)?;
            let mut unique: Vec<Value> = Vec::new();
            for item in self::array(name, 1, array)? {
                if !unique.iter().any(|seen| values_equal(seen, &item)) {
                    unique.push(item);
                }
            }
            Ok(Value::Array(unique))
        }
        Function::Base64Encode => {
            let [text] = exact(name, args)?;
            let text = limited(name, string(name, 1, &text)?)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(text),
            ))
        }
        Function::Base64Decode => {
            let [text] = exact(name, args)?;
            let text = limited(name, string(name, 1, &text)?)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| Failure(format!("{name}: the argument is not valid base64: {e}")))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| Failure(format!("{name}: the decoded data is not UTF-8 text")))
        }
        Function::Hash => {
            let [data, algorithm] = exact(name, args)?;
            let data = match data {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let data = limited(name, &data)?;
            hash(name, data.as_bytes(), string(name, 2, &algorithm)?)
        }
        Function::JsonMerge => {
            let [left, right, deep] = exact(name, args)?;
            match deep {
                Value::Bool(false) => {}
                Value::Bool(true) => {
                    return Err(Failure(format!(
                        "{name}: deep merging is not supported; the third argument must be false"
                    )))
                }
                other => return Err(type_error(name, 3, "the boolean false", &other)),
            }
            let (Value::Object(mut merged), Value::Object(right)) = (left, right) else {
                return Err(Failure(format!(
                    "{name}: the first two arguments must be JSON objects"
                )));
            };
            merged.extend(right);
            Ok(Value::Object(merged))
        }
        Function::MathRandom => math_random(name, args, env),
        Function::MathAdd => {
            let [a, b] = exact(name, args)?;
            let (a, b) = (rounded(name, 1, &a)?, rounded(name, 2, &b)?);
            a.checked_add(b)
                .map(Value::from)
                .ok_or_else(|| Failure(format!("{name}: the sum of {a} and {b} is out of range")))
        }
        Function::StringSplit => {
            let [text, delimiters] = exact(name, args)?;
            let text = string(name, 1, &text)?;
            let delimiters: Vec<char> = string(name, 2, &delimiters)?.chars().collect();
            // Like Java's StringTokenizer: any delimiter character splits, and empty tokens go.
            Ok(Value::Array(
                text.split(|c| delimiters.contains(&c))
                    .filter(|token| !token.is_empty())
                    .map(|token| Value::String(token.to_string()))
                    .collect(),
            ))
        }
        Function::Uuid => {
            let [] = exact(name, args)?;
            Ok(Value::String(uuid_v4(env.random_u64(), env.random_u64())))
        }
    }
}

/// Checks the argument count and hands the arguments back as an array.
fn exact<const N: usize>(name: &str, args: Vec<Value>) -> Result<[Value; N], Failure> {
    let count = args.len();
    <[Value; N]>::try_from(args).map_err(|_| {
        let plural = if N == 1 { "" } else { "s" };
        Failure(format!(
            "{name} takes {N} argument{plural}, but {count} were given"
        ))
    })
}

/// How a value's type is named in messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn type_error(name: &str, position: usize, expected: &str, found: &Value) -> Failure {
    Failure(format!(
        "{name}: argument {position} must be {expected}, but it is {}",
        kind(found)
    ))
}

fn string<'a>(name: &str, position: usize, value: &'a Value) -> Result<&'a str, Failure> {
    value
        .as_str()
        .ok_or_else(|| type_error(name, position, "a string", value))
}

fn array(name: &str, position: usize, value: Value) -> Result<Vec<Value>, Failure> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(type_error(name, position, "an array", &other)),
    }
}

/// An integer argument; a float with no fractional part counts as one.
fn integer(name: &str, position: usize, value: &Value) -> Result<i64, Failure> {
    let Value::Number(number) = value else {
        return Err(type_error(name, position, "an integer", value));
    };
    if let Some(i) = number.as_i64() {
        return Ok(i);
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(Failure(format!(
            "{name}: argument {position} must be an integer, but it is {number}"
        ))),
    }
}

/// A number rounded the way Java's `Math.round` does (half up), as AWS does for
/// `States.MathAdd` and `States.MathRandom`.
fn rounded(name: &str, position: usize, value: &Value) -> Result<i64, Failure> {
    let Value::Number(number) = value else {
        return Err(type_error(name, position, "a number", value));
    };
    if let Some(i) = number.as_i64() {
        return Ok(i);
    }
    match number.as_f64().map(|f| (f + 0.5).floor()) {
        Some(f) if f.abs() < 9.0e18 => Ok(f as i64),
        _ => Err(Failure(format!(
            "{name}: argument {position} is out of range: {number}"
        ))),
    }
}

fn limited<'a>(name: &str, text: &'a str) -> Result<&'a str, Failure> {
    if text.chars().count() > MAX_INPUT_CHARS {
        return Err(Failure(format!(
            "{name}: the input is longer than {MAX_INPUT_CHARS} characters"
        )));
    }
    Ok(text)
}

fn format(name: &str, args: Vec<Value>, raw_template: Option<&str>) -> Result<Value, Failure> {
    let mut args = args.into_iter();
    let template = match args.next() {
        Some(Value::String(template)) => template,
        Some(other) => return Err(type_error(name, 1, "a string", &other)),
        None => {
            return Err(Failure(format!(
                "{name} takes at least 1 argument, but 0 were given"
            )))
        }
    };
    let pieces = match raw_template {
        Some(raw) => template_pieces(raw, true),
        None => template_pieces(&template, false),
    };
    let values: Vec<Value> = args.collect();
    let placeholders = pieces.iter().filter(|p| p.is_none()).count();
    if placeholders != values.len() {
        return Err(Failure(format!(
            "{name}: the template has {placeholders} placeholder(s) but {} value(s) were given",
            values.len()
        )));
    }
    let mut values = values.iter();
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Some(text) => out.push_str(&text),
            None => {
                if let Some(value) = values.next() {
                    render_java(value, &mut out);
                }
            }
        }
    }
    Ok(Value::String(out))
}

/// Splits a template into literal text (`Some`) and `{}` placeholders (`None`); with
/// `escapes`, `\x` stands for `x` (so `\{` is a literal brace).
fn template_pieces(template: &str, escapes: bool) -> Vec<Option<String>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if escapes => match chars.peek() {
                Some(&next @ ('\'' | '{' | '}' | '\\')) => {
                    text.push(next);
                    chars.next();
                }
                _ => text.push('\\'),
            },
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                pieces.push(Some(std::mem::take(&mut text)));
                pieces.push(None);
            }
            c => text.push(c),
        }
    }
    pieces.push(Some(text));
    pieces
}

/// Renders a value the way AWS's `States.Format` does: strings raw, and containers the way
/// Java's `toString` prints maps and lists (`{a=1, b=[x, y]}`).
fn render_java(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_java(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push('=');
                render_java(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn range(name: &str, start: i64, end: i64, step: i64) -> Result<Value, Failure> {
    if step == 0 {
        return Err(Failure(format!("{name}: the step must not be 0")));
    }
    let span = i128::from(end) - i128::from(start);
    let count = if (span >= 0) == (step > 0) {
        span / i128::from(step) + 1
    } else {
        0
    };
    if count > i128::from(MAX_RANGE_ITEMS) {
        return Err(Failure(format!(
            "{name}: the range would have {count} items, more than {MAX_RANGE_ITEMS}"
        )));
    }
    let items = (0..count)
        .filter_map(|i| i64::try_from(i128::from(start) + i * i128::from(step)).ok())
        .map(Value::from)
        .collect();
    Ok(Value::Array(items))
}

fn hash(name: &str, data: &[u8], algorithm: &str) -> Result<Value, Failure> {
    let digest: Vec<u8> = match algorithm {
        "MD5" => md5::Md5::digest(data).to_vec(),
        "SHA-1" => sha1::Sha1::digest(data).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data).to_vec(),
        other => {
            return Err(Failure(format!(
            "{name}: unsupported algorithm '{other}'; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
        )))
        }
    };
    Ok(Value::String(
        digest.iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

fn math_random(name: &str, args: Vec<Value>, env: &mut dyn Env) -> Result<Value, Failure> {
    let count = args.len();
    let mut args = args.into_iter();
    let (Some(start), Some(end), seed, None) = (args.next(), args.next(), args.next(), args.next())
    else {
        return Err(Failure(format!(
            "{name} takes 2 or 3 arguments, but {count} were given"
        )));
    };
    let (start, end) = (rounded(name, 1, &start)?, rounded(name, 2, &end)?);
    let bound = end.checked_sub(start).filter(|b| *b > 0).ok_or_else(|| {
        Failure(format!(
            "{name}: the start ({start}) must be less than the end ({end})"
        ))
    })?;
    let offset = match seed {
        // A seeded call must give the same number every time: draw like java.util.Random.
        Some(seed) => java_next_int(rounded(name, 3, &seed)?, bound),
        None => {
            let bound = u64::try_from(bound).unwrap_or(u64::MAX);
            i64::try_from(env.random_u64() % bound).unwrap_or(0)
        }
    };
    Ok(Value::Number(Number::from(start + offset)))
}

/// `new java.util.Random(seed).nextInt(bound)`, falling back to a plain modulo of the first
/// draw when the bound does not fit an `int`.
fn java_next_int(seed: i64, bound: i64) -> i64 {
    const MULTIPLIER: i64 = 0x5DEE_CE66D;
    const MASK: i64 = (1 << 48) - 1;
    let mut state = (seed ^ MULTIPLIER) & MASK;
    let mut next31 = || {
        state = state.wrapping_mul(MULTIPLIER).wrapping_add(0xB) & MASK;
        state >> 17
    };
    if bound > i64::from(i32::MAX) {
        return next31() % bound;
    }
    if bound & -bound == bound {
        return (bound * next31()) >> 31;
    }
    loop {
        let bits = next31();
        let value = bits % bound;
        // Java rejects draws from the incomplete last block, detected by int overflow.
        if bits - value + (bound - 1) <= i64::from(i32::MAX) {
            return value;
        }
    }
}

/// A version 4 UUID from 128 random bits.
fn uuid_v4(high: u64, low: u64) -> String {
    let high = (high & !0xF000) | 0x4000;
    let low = (low & !(0xC000 << 48)) | (0x8000 << 48);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xFFFF,
        high & 0xFFFF,
        low >> 48,
        low & 0xFFFF_FFFF_FFFF
    )
}
