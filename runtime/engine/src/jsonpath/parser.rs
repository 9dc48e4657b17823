//! Turns JSONPath text into [`Step`]s.
//!
//! The grammar is Jayway's, as AWS uses it: dot and bracket notation, wildcards, deep scan,
//! unions, slices without a step, filters, and the trailing `length()` function.
//!
//! The descent is recursive, so its depth is counted: filters, parentheses and `!` together
//! nest at most [`MAX_NESTING`] levels, and a path has at most [`MAX_STEPS`] steps. Both
//! bounds also hold for what is built from the text, so evaluating and dropping a parsed
//! path recurse no deeper than parsing did.

use serde_json::{Number, Value};

use super::{MAX_NESTING, MAX_STEPS};

/// One location step of a path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    /// `..`: the selector applies at this node and at every node below it.
    pub(crate) deep: bool,
    /// What the step picks from each node.
    pub(crate) selector: Selector,
}

/// What a step picks from a node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Selector {
    /// `.name` or `['name']`.
    Name(String),
    /// `[3]` or `[-1]`.
    Index(i64),
    /// `.*` or `[*]`.
    Wildcard,
    /// `['a','b']`: two or more names.
    Names(Vec<String>),
    /// `[0,2]`: two or more indices.
    Indices(Vec<i64>),
    /// `[start:end]`, either bound optional; negative bounds count from the end.
    Slice {
        /// First index taken.
        start: Option<i64>,
        /// First index no longer taken.
        end: Option<i64>,
    },
    /// `[?(expr)]`.
    Filter(Box<Expr>),
}

/// A trailing Jayway function such as `.length()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Function {
    /// Size of an array or object, or the length of a string.
    Length,
}

/// A filter expression.
///
/// `||` and `&&` chains are kept flat, so only `!`, parentheses and nested filters make the
/// tree deeper, and those are bounded by [`MAX_NESTING`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// `a || b || ...`: two or more terms.
    Or(Vec<Expr>),
    /// `a && b && ...`: two or more terms.
    And(Vec<Expr>),
    /// `!a`.
    Not(Box<Expr>),
    /// `@.a < 3`.
    Compare(Operand, Op, Operand),
    /// `@.a`: true when the path exists.
    Exists(Operand),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    /// `@...`: relative to the node being filtered.
    Current(Vec<Step>, Option<Function>),
    /// `$...`: relative to the document root.
    Root(Vec<Step>, Option<Function>),
    /// A string, number, boolean or null.
    Literal(Value),
}

/// A parsed path: its steps and an optional trailing function.
pub(crate) type Parsed = (Vec<Step>, Option<Function>);

/// Why a text is not a path.
#[derive(Debug)]
pub(crate) struct Refusal {
    /// What is wrong, with its position.
    pub(crate) reason: String,
    /// True when the text went past [`MAX_NESTING`] or [`MAX_STEPS`].
    pub(crate) limit: bool,
}

/// Parses a whole path; `text` must start with `$`.
pub(crate) fn parse(text: &str) -> Result<Parsed, Refusal> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        pos: 0,
        depth: 0,
        limit: false,
    };
    let parsed = parser.path();
    parsed.map_err(|reason| Refusal {
        reason,
        limit: parser.limit,
    })
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    /// How many filters, parentheses and `!` enclose the current position.
    depth: usize,
    /// Set when the text goes past a limit, so the error can say it is one.
    limit: bool,
}

/// Characters that end a dot-notation name inside a filter, where operators follow paths.
fn ends_filter_name(c: char) -> bool {
    c.is_whitespace() || matches!(c, ')' | '=' | '!' | '<' | '>' | '&' | '|' | ',' | ']')
}

/// Characters a dot-notation name may not contain: they only make sense in brackets.
fn forbidden_in_name(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\'' | '"' | ']' | ')' | ',' | '*')
}

impl Parser {
    fn path(&mut self) -> Result<Parsed, String> {
        if self.peek() != Some('$') {
            return Err("a path must start with '$'".to_string());
        }
        self.pos += 1;
        let parsed = self.steps(false)?;
        match self.peek() {
            None => Ok(parsed),
            Some(c) => Err(format!(
                "unexpected character '{c}' at position {}",
                self.pos
            )),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.peek() {
            Some(found) if found == c => {
                self.pos += 1;
                Ok(())
            }
            Some(found) => Err(format!(
                "expected '{c}' but found '{found}' at position {}",
                self.pos
            )),
            None => Err(format!("expected '{c}' but the path ended")),
        }
    }

    /// Runs `parse` one nesting level deeper, refusing to go past [`MAX_NESTING`].
    fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Parser) -> Result<T, String>,
    ) -> Result<T, String> {
        if self.depth >= MAX_NESTING {
            self.limit = true;
            return Err(format!(
                "filters, parentheses and '!' nest deeper than the limit of {MAX_NESTING} levels at position {}",
                self.pos
            ));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    /// Parses steps until the text ends or, in a filter, until something that is not a step.
    fn steps(&mut self, in_filter: bool) -> Result<Parsed, String> {
        let mut steps = Vec::new();
        loop {
            if steps.len() > MAX_STEPS {
                self.limit = true;
                return Err(format!(
                    "a path has more than the limit of {MAX_STEPS} steps at position {}",
                    self.pos
                ));
            }
            match self.peek() {
                None => return Ok((steps, None)),
                Some('.') => {
                    self.pos += 1;
                    let deep = self.peek() == Some('.');
                    if deep {
                        self.pos += 1;
                        if self.peek() == Some('[') {
                            self.pos += 1;
                            steps.push(Step {
                                deep,
                                selector: self.bracket()?,
                            });
                            continue;
                        }
                    }
                    if self.peek() == Some('*') {
                        self.pos += 1;
                        steps.push(Step {
                            deep,
                            selector: Selector::Wildcard,
                        });
                        continue;
                    }
                    let name = self.dot_name(in_filter)?;
                    if self.peek() == Some('(') {
                        if deep {
                            return Err(format!("function '{name}()' cannot follow '..'"));
                        }
                        return Ok((steps, Some(self.function(&name, in_filter)?)));
                    }
                    steps.push(Step {
                        deep,
                        selector: Selector::Name(name),
                    });
                }
                Some('[') => {
                    self.pos += 1;
                    steps.push(Step {
                        deep: false,
                        selector: self.bracket()?,
                    });
                }
                Some(_) if in_filter => return Ok((steps, None)),
                Some(c) => {
                    return Err(format!(
                        "unexpected character '{c}' at position {}",
                        self.pos
                    ))
                }
            }
        }
    }

    /// Reads `()` after a function name; a function must end the path.
    fn function(&mut self, name: &str, in_filter: bool) -> Result<Function, String> {
        self.expect('(')?;
        self.skip_ws();
        self.expect(')')?;
        let function = match name {
            "length" | "size" => Function::Length,
            other => return Err(format!("unsupported function '{other}()'")),
        };
        match self.peek() {
            Some(c) if !(in_filter && ends_filter_name(c)) => Err(format!(
                "a function must end the path, found '{c}' after '{name}()'"
            )),
            _ => Ok(function),
        }
    }

    fn dot_name(&mut self, in_filter: bool) -> Result<String, String> {
        let start = self.pos;
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c == '.' || c == '[' || c == '(' || (in_filter && ends_filter_name(c)) {
                break;
            }
            if forbidden_in_name(c) {
                return Err(format!(
                    "character '{c}' at position {} is not allowed in a name; use ['...']",
                    self.pos
                ));
            }
            name.push(c);
            self.pos += 1;
        }
        if name.is_empty() {
            return Err(format!("expected a name at position {start}"));
        }
        Ok(name)
    }

    /// Parses what follows `[` up to and including `]`.
    fn bracket(&mut self) -> Result<Selector, String> {
        self.skip_ws();
        let selector = match self.peek() {
            Some('\'' | '"') => {
                let mut names = vec![self.quoted()?];
                self.skip_ws();
                while self.peek() == Some(',') {
                    self.pos += 1;
                    self.skip_ws();
                    names.push(self.quoted()?);
                    self.skip_ws();
                }
                match names.pop() {
                    Some(last) if names.is_empty() => Selector::Name(last),
                    Some(last) => {
                        names.push(last);
                        Selector::Names(names)
                    }
                    None => return Err("expected a name".to_string()),
                }
            }
            Some('*') => {
                self.pos += 1;
                Selector::Wildcard
            }
            Some('?') => {
                self.pos += 1;
                self.skip_ws();
                let expr = self.nested(Parser::or)?;
                Selector::Filter(Box::new(expr))
            }
            Some(c) if c == '-' || c == ':' || c.is_ascii_digit() => self.indices()?,
            Some(c) => {
                return Err(format!(
                    "unexpected character '{c}' in brackets at position {}",
                    self.pos
                ))
            }
            None => return Err("unclosed '['".to_string()),
        };
        self.skip_ws();
        self.expect(']')?;
        Ok(selector)
    }

    /// An index, a union of indices, or a slice.
    fn indices(&mut self) -> Result<Selector, String> {
        let first = self.optional_int()?;
        self.skip_ws();
        if self.peek() == Some(':') {
            self.pos += 1;
            self.skip_ws();
            let end = self.optional_int()?;
            self.skip_ws();
            if self.peek() == Some(':') {
                return Err("slices with a step are not supported".to_string());
            }
            return Ok(Selector::Slice { start: first, end });
        }
        let first = first.ok_or_else(|| format!("expected an index at position {}", self.pos))?;
        if self.peek() != Some(',') {
            return Ok(Selector::Index(first));
        }
        let mut all = vec![first];
        while self.peek() == Some(',') {
            self.pos += 1;
            self.skip_ws();
            let next = self.optional_int()?;
            all.push(next.ok_or_else(|| format!("expected an index at position {}", self.pos))?);
            self.skip_ws();
        }
        Ok(Selector::Indices(all))
    }

    fn optional_int(&mut self) -> Result<Option<i64>, String> {
        let start = self.pos;
        let mut digits = String::new();
        if self.peek() == Some('-') {
            digits.push('-');
            self.pos += 1;
        }
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            digits.push(c);
            self.pos += 1;
        }
        match digits.as_str() {
            "" => Ok(None),
            "-" => Err(format!("expected digits after '-' at position {start}")),
            _ => digits
                .parse()
                .map(Some)
                .map_err(|_| format!("index '{digits}' is out of range")),
        }
    }

    /// A quoted name or string; a backslash escapes the quote and itself, and stays otherwise
    /// (AWS keeps `\"` inside `['...']` as two characters).
    fn quoted(&mut self) -> Result<String, String> {
        let quote = match self.peek() {
            Some(q @ ('\'' | '"')) => q,
            _ => return Err(format!("expected a quoted string at position {}", self.pos)),
        };
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err("unterminated quoted string".to_string()),
                Some('\\') => match self.peek_at(1) {
                    Some(c) if c == quote || c == '\\' => {
                        out.push(c);
                        self.pos += 2;
                    }
                    _ => {
                        out.push('\\');
                        self.pos += 1;
                    }
                },
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let first = self.and()?;
        let mut rest = Vec::new();
        loop {
            self.skip_ws();
            if !self.starts_with("||") {
                break;
            }
            self.pos += 2;
            rest.push(self.and()?);
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Expr::Or(std::iter::once(first).chain(rest).collect())
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let first = self.unary()?;
        let mut rest = Vec::new();
        loop {
            self.skip_ws();
            if !self.starts_with("&&") {
                break;
            }
            self.pos += 2;
            rest.push(self.unary()?);
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Expr::And(std::iter::once(first).chain(rest).collect())
        })
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.skip_ws();
        match self.peek() {
            Some('!') => {
                self.pos += 1;
                self.nested(|p| Ok(Expr::Not(Box::new(p.unary()?))))
            }
            Some('(') => {
                self.pos += 1;
                self.nested(|p| {
                    let inner = p.or()?;
                    p.skip_ws();
                    p.expect(')')?;
                    Ok(inner)
                })
            }
            _ => self.comparison(),
        }
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.operand()?;
        self.skip_ws();
        let op = if self.starts_with("==") {
            Some((Op::Eq, 2))
        } else if self.starts_with("!=") {
            Some((Op::Ne, 2))
        } else if self.starts_with("<=") {
            Some((Op::Le, 2))
        } else if self.starts_with(">=") {
            Some((Op::Ge, 2))
        } else if self.starts_with("<") {
            Some((Op::Lt, 1))
        } else if self.starts_with(">") {
            Some((Op::Gt, 1))
        } else if self.starts_with("=~") || self.starts_with("=") {
            return Err(format!(
                "unsupported filter operator at position {}",
                self.pos
            ));
        } else {
            None
        };
        match op {
            Some((op, len)) => {
                self.pos += len;
                self.skip_ws();
                let right = self.operand()?;
                Ok(Expr::Compare(left, op, right))
            }
            None if matches!(left, Operand::Literal(_)) => Err(format!(
                "expected a comparison operator at position {}",
                self.pos
            )),
            None => Ok(Expr::Exists(left)),
        }
    }

    fn operand(&mut self) -> Result<Operand, String> {
        self.skip_ws();
        match self.peek() {
            Some('@') => {
                self.pos += 1;
                let (steps, function) = self.steps(true)?;
                Ok(Operand::Current(steps, function))
            }
            Some('$') => {
                self.pos += 1;
                let (steps, function) = self.steps(true)?;
                Ok(Operand::Root(steps, function))
            }
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                Ok(Operand::Literal(Value::Number(self.number()?)))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.pos;
                let mut word = String::new();
                while let Some(c) = self.peek().filter(char::is_ascii_alphabetic) {
                    word.push(c);
                    self.pos += 1;
                }
                match word.as_str() {
                    "true" => Ok(Operand::Literal(Value::Bool(true))),
                    "false" => Ok(Operand::Literal(Value::Bool(false))),
                    "null" => Ok(Operand::Literal(Value::Null)),
                    _ => Err(format!("unexpected '{word}' at position {start}")),
                }
            }
            Some(c) => Err(format!(
                "unexpected character '{c}' in filter at position {}",
                self.pos
            )),
            None => Err("the filter is not closed".to_string()),
        }
    }

    fn number(&mut self) -> Result<Number, String> {
        let start = self.pos;
        let mut text = String::new();
        while let Some(c) = self
            .peek()
            .filter(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        {
            text.push(c);
            self.pos += 1;
        }
        parse_number(&text).ok_or_else(|| format!("invalid number '{text}' at position {start}"))
    }
}

/// Parses a JSON-like number, keeping integers as integers.
pub(crate) fn parse_number(text: &str) -> Option<Number> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Number::from(i));
    }
    if text.ends_with('.') || text.starts_with('.') || text.starts_with("-.") {
        return None;
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}
