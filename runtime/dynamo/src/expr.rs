//! DynamoDB's expression languages, parsed: conditions (`ConditionExpression`,
//! `FilterExpression`, `KeyConditionExpression`), updates (`UpdateExpression`) and
//! projections (`ProjectionExpression`). Parsing resolves `#name` and `:value`
//! placeholders against the request's maps and records which were used, so that the
//! request can refuse unused ones as DynamoDB does.

use super::value::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// A map key (or a top-level attribute).
    Key(String),
    /// A list index.
    Index(usize),
}

/// A document path: `a.b[2].c`.
pub type Path = Vec<Step>;

/// Something a condition compares.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// An attribute of the item.
    Path(Path),
    /// A value from `ExpressionAttributeValues`.
    Value(Value),
    /// `size(path)`.
    Size(Path),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `a <op> b`
    Compare(Operand, Comparator, Operand),
    /// `a BETWEEN low AND high`
    Between(Operand, Operand, Operand),
    /// `a IN (b, c, ...)`
    In(Operand, Vec<Operand>),
    /// `attribute_exists(path)`
    Exists(Path),
    /// `attribute_not_exists(path)`
    NotExists(Path),
    /// `attribute_type(path, :type)`
    Type(Path, Operand),
    /// `begins_with(path, :prefix)`
    BeginsWith(Operand, Operand),
    /// `contains(path, :operand)`
    Contains(Operand, Operand),
    /// `a AND b`
    And(Box<Condition>, Box<Condition>),
    /// `a OR b`
    Or(Box<Condition>, Box<Condition>),
    /// `NOT a`
    Not(Box<Condition>),
}

/// The value a `SET` action assigns.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// A plain operand.
    Operand(SetOperand),
    /// `a + b`
    Plus(SetOperand, SetOperand),
    /// `a - b`
    Minus(SetOperand, SetOperand),
}

/// An operand of a `SET` action.
#[derive(Debug, Clone, PartialEq)]
pub enum SetOperand {
    /// An attribute.
    Path(Path),
    /// A value.
    Value(Value),
    /// `if_not_exists(path, value)`
    IfNotExists(Path, Box<SetOperand>),
    /// `list_append(a, b)`
    ListAppend(Box<SetOperand>, Box<SetOperand>),
}

/// One action of an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `SET path = value`
    Set(Path, SetValue),
    /// `REMOVE path`
    Remove(Path),
    /// `ADD path value`
    Add(Path, Value),
    /// `DELETE path value`
    Delete(Path, Value),
}

/// Which expression is parsed, for the messages ("Invalid UpdateExpression: ...").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ConditionExpression`
    Condition,
    /// `FilterExpression`
    Filter,
    /// `KeyConditionExpression`
    KeyCondition,
    /// `UpdateExpression`
    Update,
    /// `ProjectionExpression`
    Projection,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Condition => "ConditionExpression",
            Kind::Filter => "FilterExpression",
            Kind::KeyCondition => "KeyConditionExpression",
            Kind::Update => "UpdateExpression",
            Kind::Projection => "ProjectionExpression",
        }
    }
}

/// The placeholders of a request, and which of them its expressions used.
#[derive(Debug, Default)]
pub struct Placeholders {
    names: Option<BTreeMap<String, String>>,
    values: Option<BTreeMap<String, Value>>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Placeholders {
    /// The request's `ExpressionAttributeNames` and `ExpressionAttributeValues`.
    pub fn new(
        names: Option<BTreeMap<String, String>>,
        values: Option<BTreeMap<String, Value>>,
    ) -> Placeholders {
        Placeholders {
            names,
            values,
            ..Placeholders::default()
        }
    }

    /// After every expression is parsed: refuses placeholders no expression used.
    ///
    /// # Errors
    /// DynamoDB's ValidationException message.
    pub fn check_all_used(&self) -> Result<(), String> {
        let unused = |all: Option<Vec<&String>>, used: &BTreeSet<String>| -> Vec<String> {
            all.unwrap_or_default()
                .into_iter()
                .filter(|k| !used.contains(*k))
                .cloned()
                .collect()
        };
        let names = unused(
            self.names.as_ref().map(|m| m.keys().collect()),
            &self.used_names,
        );
        if !names.is_empty() {
            return Err(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                names.join(", ")
            ));
        }
        let values = unused(
            self.values.as_ref().map(|m| m.keys().collect()),
            &self.used_values,
        );
        if !values.is_empty() {
            return Err(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                values.join(", ")
            ));
        }
        Ok(())
    }

    /// Parses a condition (`ConditionExpression`, `FilterExpression`,
    /// `KeyConditionExpression`).
    ///
    /// # Errors
    /// DynamoDB's ValidationException message.
    pub fn condition(&mut self, kind: Kind, text: &str) -> Result<Condition, String> {
        let mut p = Parser::new(self, kind, text)?;
        let c = p.or()?;
        p.end()?;
        Ok(c)
    }

    /// Parses an `UpdateExpression`.
    ///
    /// # Errors
    /// DynamoDB's ValidationException message.
    pub fn update(&mut self, text: &str) -> Result<Vec<Action>, String> {
        let mut p = Parser::new(self, Kind::Update, text)?;
        let actions = p.update()?;
        p.end()?;
        check_overlaps(actions.iter().map(|a| match a {
            Action::Set(p, _) | Action::Remove(p) | Action::Add(p, _) | Action::Delete(p, _) => p,
        }))?;
        Ok(actions)
    }

    /// Parses a `ProjectionExpression`.
    ///
    /// # Errors
    /// DynamoDB's ValidationException message.
    pub fn projection(&mut self, text: &str) -> Result<Vec<Path>, String> {
        let mut p = Parser::new(self, Kind::Projection, text)?;
        let mut paths = vec![p.path()?];
        while p.eat(&Token::Comma) {
            paths.push(p.path()?);
        }
        p.end()?;
        check_overlaps(paths.iter())?;
        Ok(paths)
    }
}

/// Refuses two paths of which one is the other or lies inside it.
fn check_overlaps<'p>(paths: impl Iterator<Item = &'p Path>) -> Result<(), String> {
    let paths: Vec<&Path> = paths.collect();
    for (i, a) in paths.iter().enumerate() {
        for b in paths.iter().skip(i + 1) {
            let shorter = a.len().min(b.len());
            if a.get(..shorter) == b.get(..shorter) {
                return Err(format!(
                    "Invalid expression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [{}], path two: [{}]",
                    show(a),
                    show(b)
                ));
            }
        }
    }
    Ok(())
}

/// A path as DynamoDB prints it in messages: `a, b, [2]`.
fn show(path: &Path) -> String {
    path.iter()
        .map(|s| match s {
            Step::Key(k) => k.clone(),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    NamePlaceholder(String),
    ValuePlaceholder(String),
    Number(usize),
    Comma,
    Dot,
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Plus,
    Minus,
    Cmp(Comparator),
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Name(s) | Token::NamePlaceholder(s) | Token::ValuePlaceholder(s) => s.clone(),
            Token::Number(n) => n.to_string(),
            Token::Comma => ",".into(),
            Token::Dot => ".".into(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::OpenBracket => "[".into(),
            Token::CloseBracket => "]".into(),
            Token::Plus => "+".into(),
            Token::Minus => "-".into(),
            Token::Cmp(c) => match c {
                Comparator::Eq => "=",
                Comparator::Ne => "<>",
                Comparator::Lt => "<",
                Comparator::Le => "<=",
                Comparator::Gt => ">",
                Comparator::Ge => ">=",
            }
            .into(),
        }
    }

    /// A bare word, compared without case (keywords and function names).
    fn is_word(&self, word: &str) -> bool {
        matches!(self, Token::Name(n) if n.eq_ignore_ascii_case(word))
    }
}

/// The longest expression DynamoDB accepts, in bytes.
const MAX_EXPRESSION_BYTES: usize = 4096;
/// How deep parentheses and NOTs may nest: a bound on the parser's recursion.
const MAX_DEPTH: usize = 64;

fn tokens(kind: Kind, text: &str) -> Result<Vec<Token>, String> {
    let invalid = |why: String| format!("Invalid {}: {why}", kind.name());
    if text.trim().is_empty() {
        return Err(format!(
            "Invalid {}: The expression can not be empty;",
            kind.name()
        ));
    }
    if text.len() > MAX_EXPRESSION_BYTES {
        return Err(invalid(format!(
            "Expression size has exceeded the maximum allowed size; expression size: {}",
            text.len()
        )));
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        i += 1;
        let token =
            match c {
                c if c.is_whitespace() => continue,
                ',' => Token::Comma,
                '.' => Token::Dot,
                '(' => Token::Open,
                ')' => Token::Close,
                '[' => Token::OpenBracket,
                ']' => Token::CloseBracket,
                '+' => Token::Plus,
                '-' => Token::Minus,
                '=' => Token::Cmp(Comparator::Eq),
                '<' if next == Some('>') => {
                    i += 1;
                    Token::Cmp(Comparator::Ne)
                }
                '<' if next == Some('=') => {
                    i += 1;
                    Token::Cmp(Comparator::Le)
                }
                '<' => Token::Cmp(Comparator::Lt),
                '>' if next == Some('=') => {
                    i += 1;
                    Token::Cmp(Comparator::Ge)
                }
                '>' => Token::Cmp(Comparator::Gt),
                '#' | ':' => {
                    let start = i - 1;
                    while chars.get(i).is_some_and(|c| word(*c)) {
                        i += 1;
                    }
                    let name: String = chars.get(start..i).unwrap_or_default().iter().collect();
                    if name.len() == 1 {
                        return Err(invalid(format!(
                            "Syntax error; token: \"{c}\", near: \"{}\"",
                            near(&chars, start)
                        )));
                    }
                    match c {
                        '#' => Token::NamePlaceholder(name),
                        _ => Token::ValuePlaceholder(name),
                    }
                }
                c if c.is_ascii_digit() => {
                    let start = i - 1;
                    while chars.get(i).is_some_and(char::is_ascii_digit) {
                        i += 1;
                    }
                    let digits: String = chars.get(start..i).unwrap_or_default().iter().collect();
                    Token::Number(digits.parse().map_err(|_| {
                        invalid(format!("List index is out of range; index: {digits}"))
                    })?)
                }
                c if word(c) => {
                    let start = i - 1;
                    while chars.get(i).is_some_and(|c| word(*c)) {
                        i += 1;
                    }
                    Token::Name(chars.get(start..i).unwrap_or_default().iter().collect())
                }
                other => {
                    return Err(invalid(format!(
                        "Invalid token: \"{other}\", near: \"{}\"",
                        near(&chars, i - 1)
                    )))
                }
            };
        out.push(token);
    }
    Ok(out)
}

/// A few characters around `at`, as DynamoDB's "near" shows.
fn near(chars: &[char], at: usize) -> String {
    let from = at.saturating_sub(8);
    let to = (at + 8).min(chars.len());
    chars.get(from..to).unwrap_or_default().iter().collect()
}

struct Parser<'p> {
    holders: &'p mut Placeholders,
    kind: Kind,
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl<'p> Parser<'p> {
    fn new(holders: &'p mut Placeholders, kind: Kind, text: &str) -> Result<Self, String> {
        Ok(Parser {
            tokens: tokens(kind, text)?,
            holders,
            kind,
            at: 0,
            depth: 0,
        })
    }

    fn invalid(&self, why: impl std::fmt::Display) -> String {
        format!("Invalid {}: {why}", self.kind.name())
    }

    fn syntax(&self) -> String {
        match self.tokens.get(self.at) {
            Some(t) => self.invalid(format!(
                "Syntax error; token: \"{}\", near: \"{}\"",
                t.text(),
                self.near()
            )),
            None => self.invalid("Syntax error; token: <EOF>, near: \"\""),
        }
    }

    fn near(&self) -> String {
        let from = self.at.saturating_sub(1);
        let to = (self.at + 2).min(self.tokens.len());
        self.tokens
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .map(Token::text)
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.tokens.get(self.at + n)
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.at += 1;
            return true;
        }
        false
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.peek().is_some_and(|t| t.is_word(word)) {
            self.at += 1;
            return true;
        }
        false
    }

    fn expect(&mut self, token: &Token) -> Result<(), String> {
        match self.eat(token) {
            true => Ok(()),
            false => Err(self.syntax()),
        }
    }

    fn end(&self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.syntax()),
        }
    }

    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        match self.depth > MAX_DEPTH {
            true => Err(self.invalid("The expression has too many nested levels")),
            false => Ok(()),
        }
    }

    // Conditions: OR < AND < NOT < comparisons, BETWEEN, IN, functions.

    fn or(&mut self) -> Result<Condition, String> {
        let mut left = self.and()?;
        while self.eat_word("OR") {
            let right = self.and()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition, String> {
        let mut left = self.not()?;
        while self.eat_word("AND") {
            let right = self.not()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Condition, String> {
        if self.eat_word("NOT") {
            self.deeper()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, String> {
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            self.deeper()?;
            let inner = self.or()?;
            self.depth -= 1;
            self.expect(&Token::Close)?;
            return Ok(inner);
        }
        if let Some(Token::Name(name)) = self.peek().cloned() {
            if self.peek_at(1) == Some(&Token::Open) {
                let function = name.to_ascii_lowercase();
                if function != "size" {
                    return self.function(&function);
                }
            }
        }
        let left = self.operand()?;
        match self.peek().cloned() {
            Some(Token::Cmp(c)) => {
                self.at += 1;
                let right = self.operand()?;
                Ok(Condition::Compare(left, c, right))
            }
            Some(t) if t.is_word("BETWEEN") => {
                self.at += 1;
                let low = self.operand()?;
                if !self.eat_word("AND") {
                    return Err(self.syntax());
                }
                let high = self.operand()?;
                Ok(Condition::Between(left, low, high))
            }
            Some(t) if t.is_word("IN") => {
                self.at += 1;
                self.expect(&Token::Open)?;
                let mut options = vec![self.operand()?];
                while self.eat(&Token::Comma) {
                    options.push(self.operand()?);
                }
                self.expect(&Token::Close)?;
                if options.len() > 100 {
                    return Err(self.invalid(
                        "The IN operator is provided with too many operands; number of operands: "
                            .to_string()
                            + &options.len().to_string(),
                    ));
                }
                Ok(Condition::In(left, options))
            }
            _ => Err(self.syntax()),
        }
    }

    fn function(&mut self, name: &str) -> Result<Condition, String> {
        self.at += 2; // name and '('
        let condition = match name {
            "attribute_exists" => Condition::Exists(self.path()?),
            "attribute_not_exists" => Condition::NotExists(self.path()?),
            "attribute_type" => {
                let path = self.path()?;
                self.expect(&Token::Comma)?;
                Condition::Type(path, self.operand()?)
            }
            "begins_with" => {
                let a = self.operand()?;
                self.expect(&Token::Comma)?;
                Condition::BeginsWith(a, self.operand()?)
            }
            "contains" => {
                let a = self.operand()?;
                self.expect(&Token::Comma)?;
                Condition::Contains(a, self.operand()?)
            }
            other => return Err(self.invalid(format!("Invalid function name; function: {other}"))),
        };
        self.expect(&Token::Close)?;
        Ok(condition)
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.peek().cloned() {
            Some(Token::ValuePlaceholder(v)) => {
                self.at += 1;
                Ok(Operand::Value(self.value(&v)?))
            }
            Some(Token::Name(n))
                if n.eq_ignore_ascii_case("size") && self.peek_at(1) == Some(&Token::Open) =>
            {
                self.at += 2;
                let path = self.path()?;
                self.expect(&Token::Close)?;
                Ok(Operand::Size(path))
            }
            _ => Ok(Operand::Path(self.path()?)),
        }
    }

    fn value(&mut self, placeholder: &str) -> Result<Value, String> {
        let found = self
            .holders
            .values
            .as_ref()
            .and_then(|m| m.get(placeholder))
            .cloned();
        match found {
            Some(v) => {
                self.holders.used_values.insert(placeholder.to_string());
                Ok(v)
            }
            None => Err(self.invalid(format!(
                "An expression attribute value used in expression is not defined; attribute value: {placeholder}"
            ))),
        }
    }

    fn path(&mut self) -> Result<Path, String> {
        let mut path = vec![Step::Key(self.name()?)];
        loop {
            if self.eat(&Token::Dot) {
                path.push(Step::Key(self.name()?));
            } else if self.eat(&Token::OpenBracket) {
                let Some(Token::Number(n)) = self.peek().cloned() else {
                    return Err(self.syntax());
                };
                self.at += 1;
                self.expect(&Token::CloseBracket)?;
                path.push(Step::Index(n));
            } else {
                return Ok(path);
            }
        }
    }

    fn name(&mut self) -> Result<String, String> {
        match self.peek().cloned() {
            Some(Token::Name(n)) => {
                self.at += 1;
                Ok(n)
            }
            Some(Token::NamePlaceholder(h)) => {
                self.at += 1;
                match self.holders.names.as_ref().and_then(|m| m.get(&h)).cloned() {
                    Some(n) => {
                        self.holders.used_names.insert(h);
                        Ok(n)
                    }
                    None => Err(self.invalid(format!(
                        "An expression attribute name used in the document path is not defined; attribute name: {h}"
                    ))),
                }
            }
            _ => Err(self.syntax()),
        }
    }

    // Updates: clauses SET, REMOVE, ADD, DELETE, each at most once, in any order.

    fn update(&mut self) -> Result<Vec<Action>, String> {
        let mut actions = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some(Token::Name(clause)) = self.peek().cloned() {
            let clause = clause.to_ascii_uppercase();
            if !["SET", "REMOVE", "ADD", "DELETE"].contains(&clause.as_str()) {
                return Err(self.syntax());
            }
            if !seen.insert(clause.clone()) {
                return Err(self.invalid(format!(
                    "The \"{clause}\" section can only be used once in an update expression;"
                )));
            }
            self.at += 1;
            loop {
                actions.push(self.action(&clause)?);
                if !self.eat(&Token::Comma) {
                    break;
                }
            }
        }
        if actions.is_empty() {
            return Err(self.syntax());
        }
        Ok(actions)
    }

    fn action(&mut self, clause: &str) -> Result<Action, String> {
        let path = self.path()?;
        match clause {
            "SET" => {
                self.expect(&Token::Cmp(Comparator::Eq))?;
                let left = self.set_operand()?;
                let value = if self.eat(&Token::Plus) {
                    SetValue::Plus(left, self.set_operand()?)
                } else if self.eat(&Token::Minus) {
                    SetValue::Minus(left, self.set_operand()?)
                } else {
                    SetValue::Operand(left)
                };
                Ok(Action::Set(path, value))
            }
            "REMOVE" => Ok(Action::Remove(path)),
            _ => {
                let Some(Token::ValuePlaceholder(v)) = self.peek().cloned() else {
                    return Err(self.syntax());
                };
                self.at += 1;
                let value = self.value(&v)?;
                Ok(match clause {
                    "ADD" => Action::Add(path, value),
                    _ => Action::Delete(path, value),
                })
            }
        }
    }

    fn set_operand(&mut self) -> Result<SetOperand, String> {
        match self.peek().cloned() {
            Some(Token::ValuePlaceholder(v)) => {
                self.at += 1;
                Ok(SetOperand::Value(self.value(&v)?))
            }
            Some(Token::Name(n)) if self.peek_at(1) == Some(&Token::Open) => {
                self.at += 2;
                self.deeper()?;
                let operand = match n.to_ascii_lowercase().as_str() {
                    "if_not_exists" => {
                        let path = self.path()?;
                        self.expect(&Token::Comma)?;
                        SetOperand::IfNotExists(path, Box::new(self.set_operand()?))
                    }
                    "list_append" => {
                        let a = self.set_operand()?;
                        self.expect(&Token::Comma)?;
                        SetOperand::ListAppend(Box::new(a), Box::new(self.set_operand()?))
                    }
                    other => {
                        return Err(
                            self.invalid(format!("Invalid function name; function: {other}"))
                        )
                    }
                };
                self.depth -= 1;
                self.expect(&Token::Close)?;
                Ok(operand)
            }
            _ => Ok(SetOperand::Path(self.path()?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::Number;

    fn maps() -> (BTreeMap<String, String>, BTreeMap<String, Value>) {
        let names = [("#s", "status"), ("#n", "name")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let values = [
            (":one", Value::N(Number::parse("1").unwrap())),
            (":paid", Value::S("paid".into())),
            (":l", Value::L(vec![])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        (names, values)
    }

    #[test]
    fn conditions_parse_with_precedence_and_placeholders() {
        let (names, values) = maps();
        let mut h = Placeholders::new(Some(names.clone()), Some(values.clone()));
        let c = h
            .condition(
                Kind::Condition,
                "attribute_not_exists(id) OR #s = :paid AND NOT stock.n[0] < :one",
            )
            .unwrap();
        let Condition::Or(left, right) = c else {
            panic!("OR binds loosest: {c:?}")
        };
        assert_eq!(*left, Condition::NotExists(vec![Step::Key("id".into())]));
        assert!(matches!(*right, Condition::And(_, _)));
        assert_eq!(
            h.check_all_used().unwrap_err(),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}"
        );
        let c = h
            .condition(
                Kind::Filter,
                "size(#n) BETWEEN :one AND :one AND (#n IN (:paid, :one))",
            )
            .unwrap();
        assert!(matches!(c, Condition::And(_, _)));
        assert_eq!(
            h.check_all_used().unwrap_err(),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:l}"
        );
    }

    #[test]
    fn bad_expressions_get_dynamodb_messages() {
        let (names, values) = maps();
        for (text, says) in [
            (
                "a = ",
                "Invalid ConditionExpression: Syntax error; token: <EOF>",
            ),
            ("a == b", "Syntax error; token: \"=\""),
            (
                "#missing = :one",
                "attribute name used in the document path is not defined; attribute name: #missing",
            ),
            (
                "a = :nope",
                "attribute value used in expression is not defined; attribute value: :nope",
            ),
            (
                "frobnicate(a)",
                "Invalid function name; function: frobnicate",
            ),
            ("", "The expression can not be empty"),
            ("a = $", "Invalid token: \"$\""),
            ("a BETWEEN :one", "Syntax error"),
        ] {
            let mut h = Placeholders::new(Some(names.clone()), Some(values.clone()));
            let e = h.condition(Kind::Condition, text).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
        }
        let deep = format!("{}a = :one{}", "(".repeat(100), ")".repeat(100));
        let mut h = Placeholders::new(Some(names.clone()), Some(values.clone()));
        assert!(h
            .condition(Kind::Condition, &deep)
            .unwrap_err()
            .contains("nested"));
    }

    #[test]
    fn updates_and_projections_parse() {
        let (names, values) = maps();
        let mut h = Placeholders::new(Some(names.clone()), Some(values.clone()));
        let actions = h
            .update(
                "SET n = n - :one, l = list_append(if_not_exists(l, :l), :l) REMOVE #s ADD c :one",
            )
            .unwrap();
        assert_eq!(actions.len(), 4);
        assert!(matches!(&actions[0], Action::Set(_, SetValue::Minus(_, _))));
        assert!(matches!(&actions[2], Action::Remove(p) if p == &vec![Step::Key("status".into())]));
        for (text, says) in [
            ("SET a = :one SET b = :one", "can only be used once"),
            ("SET a = :one, a = :one", "Two document paths overlap"),
            ("SET a.b = :one REMOVE a", "Two document paths overlap"),
            ("ADD a b", "Syntax error"),
            ("UPSERT a = :one", "Syntax error"),
        ] {
            let mut h = Placeholders::new(Some(names.clone()), Some(values.clone()));
            let e = h.update(text).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
        }
        let mut h = Placeholders::new(Some(names.clone()), None);
        assert_eq!(
            h.projection("id, #n, items[1].sku").unwrap(),
            vec![
                vec![Step::Key("id".into())],
                vec![Step::Key("name".into())],
                vec![
                    Step::Key("items".into()),
                    Step::Index(1),
                    Step::Key("sku".into())
                ],
            ]
        );
    }
}
