//! Parses `States.Name(arg, ...)` text into a [`Call`].

use serde_json::Value;

use super::{Arg, Call, Function};
use crate::jsonpath::{self, Reference};

/// Parses a whole call; whitespace around it is allowed.
pub(super) fn parse(text: &str) -> Result<Call, String> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        pos: 0,
    };
    parser.skip_ws();
    let call = parser.call()?;
    parser.skip_ws();
    match parser.peek() {
        None => Ok(Call {
            text: text.to_string(),
            ..call
        }),
        Some(c) => Err(format!(
            "unexpected '{c}' after the call at position {}",
            parser.pos
        )),
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
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

    fn call(&mut self) -> Result<Call, String> {
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
        Ok(Call {
            text: self.slice(start, self.pos),
            function,
            args,
        })
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
        Reference::parse(&text).map_err(|e| e.to_string())?;
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
