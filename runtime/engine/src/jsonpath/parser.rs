//! Turns JSONPath text into [`Step`]s.
//!
//! The grammar is Jayway's, as AWS uses it: dot and bracket notation (quotes kept in dot
//! names, a dot allowed before a bracket), wildcards, deep scan, unions, slices (a step is
//! read and ignored, as Jayway ignores it), filters with Jayway's operators and literals
//! (`in`, `nin`, `subsetof`, `anyof`, `noneof`, `size`, `empty`, `contains`, `=~ /re/`,
//! `===`, JSON arrays and objects), and a trailing function (`length()`, `sum()`, ...).
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
    /// `[start:end]`, either bound optional, evaluated as Jayway does ([`Slice`]).
    Slice(Slice),
    /// `[?(expr)]`.
    Filter(Box<Expr>),
}

/// Jayway's three slice forms; a step after a second `:` is ignored, as Jayway ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slice {
    /// `[from:]`: a negative `from` counts from the end.
    From(i64),
    /// `[:to]`: a negative `to` counts from the end.
    To(i64),
    /// `[from:to]`: the indices from `from` up to `to` (capped at the length), each
    /// resolved on its own, so `[-4:1]` of six items takes items 2, 3, 4, 5 and 0.
    Between(i64, i64),
}

/// A trailing Jayway function such as `.length()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Function {
    /// Size of an array or object, or the length of a string.
    Length,
    /// Sum of the numbers.
    Sum,
    /// Smallest number.
    Min,
    /// Largest number.
    Max,
    /// Mean of the numbers.
    Avg,
    /// Population standard deviation of the numbers.
    Stddev,
    /// First item.
    First,
    /// Last item.
    Last,
    /// An object's keys.
    Keys,
}

impl Function {
    fn named(name: &str) -> Option<Function> {
        Some(match name {
            "length" | "size" => Function::Length,
            "sum" => Function::Sum,
            "min" => Function::Min,
            "max" => Function::Max,
            "avg" => Function::Avg,
            "stddev" => Function::Stddev,
            "first" => Function::First,
            "last" => Function::Last,
            "keys" => Function::Keys,
            _ => return None,
        })
    }
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

/// A relational operator, with Jayway's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `==`: a number equals a string that reads as it.
    Eq,
    /// `!=`.
    Ne,
    /// `===`: equal and of the same type.
    StrictEq,
    /// `!==`.
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=~ /re/flags`: the whole string matches.
    Matches,
    /// `in`: the left value is in the right list.
    In,
    /// `nin`.
    Nin,
    /// `subsetof`: every item of the left list is in the right one.
    SubsetOf,
    /// `anyof`: some item of the left list is in the right one.
    AnyOf,
    /// `noneof`: no item of the left list is in the right one.
    NoneOf,
    /// `size`: the left string or array has the right length.
    Size,
    /// `empty`: the left string, array or object is empty (or not, for `false`).
    Empty,
    /// `contains`: the left string contains the right one, or the left list the value.
    Contains,
    /// `all`: the left list holds every item of the right one.
    All,
}

impl Op {
    fn word(word: &str) -> Option<Op> {
        Some(match word.to_ascii_lowercase().as_str() {
            "in" => Op::In,
            "nin" => Op::Nin,
            "subsetof" => Op::SubsetOf,
            "anyof" => Op::AnyOf,
            "noneof" => Op::NoneOf,
            "size" => Op::Size,
            "empty" => Op::Empty,
            "contains" => Op::Contains,
            "all" => Op::All,
            _ => return None,
        })
    }

    fn symbol(symbol: &str) -> Option<Op> {
        Some(match symbol {
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "===" => Op::StrictEq,
            "!==" => Op::StrictNe,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "=~" => Op::Matches,
            _ => return None,
        })
    }
}

/// A regular expression literal, `/re/flags`, matched against whole strings.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// As written, for equality.
    text: String,
    pub(crate) regex: regex::Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.text == other.text
    }
}

/// The largest compiled regular expression a path may hold: far above any real pattern.
const MAX_REGEX_BYTES: usize = 1 << 20;

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    /// `@...`: relative to the node being filtered.
    Current(Vec<Step>, Option<Function>),
    /// `$...`: relative to the document root.
    Root(Vec<Step>, Option<Function>),
    /// A string, number, boolean, null, or a JSON array or object.
    Literal(Value),
    /// `/re/flags`.
    Pattern(Box<Pattern>),
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
    c.is_whitespace() || matches!(c, ')' | '=' | '!' | '<' | '>' | '~' | '&' | '|' | ',' | ']')
}

/// Characters a dot-notation name may not contain. Jayway keeps quotes as part of the name
/// (`$.'key'` is the member `'key'`) and refuses only blanks outside brackets.
fn forbidden_in_name(c: char, in_filter: bool) -> bool {
    c.is_whitespace() || matches!(c, ']' | ')' | ',') || (in_filter && c == '/')
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

    /// The text from `start` to the current position.
    fn text_from(&self, start: usize) -> String {
        self.chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect()
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
                    }
                    // `..[0]`, and Jayway's `.[0]` (a dot before a bracket changes nothing).
                    if self.peek() == Some('[') {
                        self.pos += 1;
                        steps.push(Step {
                            deep,
                            selector: self.bracket()?,
                        });
                        continue;
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
        let Some(function) = Function::named(name) else {
            return Err(format!("unsupported function '{name}()'"));
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
            if forbidden_in_name(c, in_filter) {
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
                // Jayway wants `[?(...)]`: the parentheses are not optional.
                if self.peek() != Some('(') {
                    return Err(format!(
                        "a filter must start with '[?(' at position {}",
                        self.pos
                    ));
                }
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
                // A step: read, then ignored, as Jayway does.
                self.pos += 1;
                self.skip_ws();
                self.optional_int()?;
                self.skip_ws();
            }
            return match (first, end) {
                (Some(from), None) => Ok(Selector::Slice(Slice::From(from))),
                (None, Some(to)) => Ok(Selector::Slice(Slice::To(to))),
                (Some(from), Some(to)) => Ok(Selector::Slice(Slice::Between(from, to))),
                (None, None) => Err("a slice needs a start or an end".to_string()),
            };
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
        // Jayway reads indices as Java ints.
        match digits.as_str() {
            "" => Ok(None),
            "-" => Err(format!("expected digits after '-' at position {start}")),
            _ => digits
                .parse::<i32>()
                .map(|i| Some(i64::from(i)))
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

    /// Jayway's relational operator: a run of `<>=~!`, or a word followed by a blank.
    fn operator(&mut self) -> Result<Option<Op>, String> {
        let start = self.pos;
        let symbol: String = self
            .chars
            .iter()
            .skip(self.pos)
            .take_while(|c| matches!(c, '<' | '>' | '=' | '~' | '!'))
            .collect();
        if !symbol.is_empty() {
            self.pos += symbol.chars().count();
            return Op::symbol(&symbol).map(Some).ok_or_else(|| {
                format!("unsupported filter operator '{symbol}' at position {start}")
            });
        }
        let word: String = self
            .chars
            .iter()
            .skip(self.pos)
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let followed_by_blank = self
            .peek_at(word.chars().count())
            .is_some_and(char::is_whitespace);
        match Op::word(&word) {
            Some(op) if followed_by_blank => {
                self.pos += word.chars().count();
                Ok(Some(op))
            }
            _ => Ok(None),
        }
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.operand()?;
        self.skip_ws();
        let op = self.operator()?;
        match op {
            Some(op) => {
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
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.string_literal()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                Ok(Operand::Literal(Value::Number(self.number()?)))
            }
            Some('[' | '{') => Ok(Operand::Literal(self.json_literal()?)),
            Some('/') => Ok(Operand::Pattern(Box::new(self.pattern()?))),
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

    /// A string literal in a filter: Jayway unescapes it (`\n`, `\u00f6`, `\'`, ...).
    fn string_literal(&mut self) -> Result<String, String> {
        let quote = self.peek().unwrap_or('\'');
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err("unterminated quoted string".to_string()),
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    let escaped = self.peek_at(1).ok_or("unterminated quoted string")?;
                    self.pos += 2;
                    match escaped {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'u' => {
                            let hex: String = self.chars.iter().skip(self.pos).take(4).collect();
                            let code = u32::from_str_radix(&hex, 16)
                                .ok()
                                .filter(|_| hex.len() == 4)
                                .ok_or_else(|| {
                                    format!("invalid \\u escape at position {}", self.pos)
                                })?;
                            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                            self.pos += 4;
                        }
                        other => out.push(other),
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A JSON array or object literal (Jayway reads it permissively: single-quoted
    /// strings are allowed).
    fn json_literal(&mut self) -> Result<Value, String> {
        let start = self.pos;
        let (mut depth, mut quote) = (0usize, None::<char>);
        while let Some(c) = self.peek() {
            self.pos += 1;
            match (quote, c) {
                (Some(_), '\\') => self.pos += 1,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        if depth != 0 {
            return Err(format!("unclosed JSON literal at position {start}"));
        }
        let text = self.text_from(start);
        serde_json::from_str(&text)
            .or_else(|_| serde_json::from_str(&single_to_double_quotes(&text)))
            .map_err(|e| format!("invalid JSON literal at position {start}: {e}"))
    }

    /// `/re/flags`.
    fn pattern(&mut self) -> Result<Pattern, String> {
        let start = self.pos;
        self.pos += 1;
        let mut source = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(format!(
                        "unterminated regular expression at position {start}"
                    ))
                }
                Some('/') => {
                    self.pos += 1;
                    break;
                }
                Some('\\') if self.peek_at(1) == Some('/') => {
                    source.push('/');
                    self.pos += 2;
                }
                Some(c) => {
                    source.push(c);
                    self.pos += 1;
                }
            }
        }
        let mut flags = String::new();
        while let Some(c) = self.peek().filter(|c| "idmsuxU".contains(*c)) {
            flags.push(c);
            self.pos += 1;
        }
        // Java's flags that Rust's engine knows; `d`, `u` and `U` change nothing here.
        let inline: String = flags.chars().filter(|c| "imsx".contains(*c)).collect();
        let anchored = match inline.is_empty() {
            true => format!("^(?:{source})$"),
            false => format!("(?{inline})^(?:{source})$"),
        };
        let regex = regex::RegexBuilder::new(&anchored)
            .size_limit(MAX_REGEX_BYTES)
            .build()
            .map_err(|e| format!("invalid regular expression at position {start}: {e}"))?;
        let text = self.text_from(start);
        Ok(Pattern { text, regex })
    }

    fn number(&mut self) -> Result<Number, String> {
        let start = self.pos;
        let mut text = String::new();
        while let Some(c) = self
            .peek()
            .filter(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | 'E'))
        {
            text.push(c);
            self.pos += 1;
        }
        parse_number(&text).ok_or_else(|| format!("invalid number '{text}' at position {start}"))
    }
}

/// JSON text with its single-quoted strings double-quoted, for Jayway's permissive literals.
fn single_to_double_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                out.push(c);
                out.extend(chars.next());
            }
            (Some('\''), '\'') => {
                quote = None;
                out.push('"');
            }
            (Some('\''), '"') => out.push_str("\\\""),
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (None, '\'') => {
                quote = Some('\'');
                out.push('"');
            }
            (None, '"') => {
                quote = Some('"');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
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
