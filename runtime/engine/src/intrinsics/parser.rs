//! Parses `States.Name(arg, ...)` text into an [`Invocation`].
//!
//! Each character is read once and copied at most into the one argument it belongs to, so
//! parsing is linear in the text; nesting stops at [`MAX_NESTING`].

use serde_json::Value;

use super::{Arg, Function, Invocation, MAX_NESTING};
use crate::jsonpath::{self, Reference};

/// Why a text is not an intrinsic call.
#[derive(Debug)]
pub(super) struct Refusal {
    /// What is wrong, with its position.
    pub(super) reason: String,
    /// True when the text went past a nesting or path limit.
    pub(super) limit: bool,
}

/// Parses a whole call; whitespace around it is allowed.
pub(super) fn parse(text: &str) -> Result<Invocation, Refusal> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        pos: 0,
        depth: 0,
        limit: false,
    };
    let call = parser.whole();
    call.map_err(|reason| Refusal {
        reason,
        limit: parser.limit,
    })
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    /// How many calls enclose the current position.
    depth: usize,
    /// Set when the text goes past a limit, so the error can say it is one.
    limit: bool,
}

impl Parser {
    fn whole(&mut self) -> Result<Invocation, String> {
        self.skip_ws();
        let call = self.call()?;
        self.skip_ws();
        match self.peek() {
            None => Ok(call),
            Some(c) => Err(format!(
                "unexpected '{c}' after the call at position {}",
                self.pos
            )),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    fn slice(&self, from: usize, to: usize) -> String {
        self.chars
            .iter()
            .skip(from)
            .take(to.saturating_sub(from))
            .collect()
    }

    /// A call, one nesting level deeper than where it appears.
    fn call(&mut self) -> Result<Invocation, String> {
        if self.depth >= MAX_NESTING {
            self.limit = true;
            return Err(format!(
                "intrinsic functions nest deeper than the limit of {MAX_NESTING} levels at position {}",
                self.pos
            ));
        }
        self.depth += 1;
        let call = self.invocation();
        self.depth -= 1;
        call
    }

    fn invocation(&mut self) -> Result<Invocation, String> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            self.pos += 1;
        }
        let name = self.slice(start, self.pos);
        let function = Function::from_name(&name).ok_or_else(|| match name.as_str() {
            "" => format!("expected a function name at position {start}"),
            _ => format!("unknown function '{name}'"),
        })?;
        self.skip_ws();
        if self.peek() != Some('(') {
            return Err(format!("expected '(' after '{name}'"));
        }
        self.pos += 1;
        self.skip_ws();
        let mut args = Vec::new();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                args.push(self.arg()?);
                self.skip_ws();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    Some(c) => {
                        return Err(format!(
                            "expected ',' or ')' but found '{c}' at position {}",
                            self.pos
                        ))
                    }
                    None => return Err(format!("'{name}(' is not closed")),
                }
            }
        }
        Ok(Invocation { function, args })
    }

    fn arg(&mut self) -> Result<Arg, String> {
        self.skip_ws();
        match self.peek() {
            Some('\'') => self.string(),
            Some('$') => self.path(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(_) if self.starts_with("States.") => Ok(Arg::Call(self.call()?)),
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                    self.pos += 1;
                }
                match self.slice(start, self.pos).as_str() {
                    "true" => Ok(Arg::Literal(Value::Bool(true))),
                    "false" => Ok(Arg::Literal(Value::Bool(false))),
                    "null" => Ok(Arg::Literal(Value::Null)),
                    word => Err(format!("unexpected '{word}' at position {start}")),
                }
            }
            Some(c) => Err(format!("unexpected '{c}' at position {}", self.pos)),
            None => Err("the call is not closed".to_string()),
        }
    }

    /// A single-quoted string; `\'`, `\{`, `\}` and `\\` are its only escapes. Any other
    /// backslash is an error, as on AWS (which refuses e.g. `\"` in an intrinsic string).
    fn string(&mut self) -> Result<Arg, String> {
        self.pos += 1;
        let start = self.pos;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err("unterminated string literal".to_string()),
                Some('\\') => match self.chars.get(self.pos + 1).copied() {
                    Some(c @ ('\'' | '{' | '}' | '\\')) => {
                        value.push(c);
                        self.pos += 2;
                    }
                    Some(c) => {
                        return Err(format!(
                            "illegal escape '\\{c}' at position {} (only \\', \\{{, \\}} and \\\\ are escapes)",
                            self.pos
                        ))
                    }
                    None => return Err("unterminated string literal".to_string()),
                },
                Some('\'') => {
                    let raw = self.slice(start, self.pos);
                    self.pos += 1;
                    return Ok(Arg::Text { value, raw });
                }
                Some(c) => {
                    value.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A path runs to the next `,` or `)` outside brackets, parentheses and quotes.
    fn path(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match (quote, c) {
                (Some(_), '\\') => self.pos += 1,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[' | '(') => depth += 1,
                (None, ']' | ')') if depth > 0 => depth -= 1,
                (None, ',' | ')') => break,
                _ => {}
            }
            self.pos += 1;
        }
        let text = self.slice(start, self.pos).trim_end().to_string();
        if let Err(e) = Reference::parse(&text) {
            self.limit |= e.limit;
            return Err(e.to_string());
        }
        Ok(Arg::Path(text))
    }

    fn number(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            self.pos += 1;
        }
        let text = self.slice(start, self.pos);
        jsonpath::parse_number(&text)
            .map(|n| Arg::Literal(Value::Number(n)))
            .ok_or_else(|| format!("invalid number '{text}' at position {start}"))
    }
}
