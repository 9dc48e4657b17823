use super::*;
use serde_json::json;

/// Resolves `$`, `$.a.b` against an input document and `$name` against one variable `name`,
/// enough to exercise every kind of path a rule can hold.
struct Doc(Value);

impl Resolve for Doc {
    fn resolve(&self, path: &str) -> Result<Option<Value>, Error> {
        let rest = if let Some(rest) = path.strip_prefix("$.") {
            rest
        } else if path == "$" {
            ""
        } else if path == "$var" {
            return Ok(self.0.get("__var").cloned());
        } else {
            return Err(Error(format!("unsupported path {path}")));
        };
        let mut current = &self.0;
        for key in rest.split('.').filter(|key| !key.is_empty()) {
            match current.get(key) {
                Some(value) => current = value,
                None => return Ok(None),
            }
        }
        Ok(Some(current.clone()))
    }
}

fn eval(rule: Value, input: Value) -> Result<bool, Error> {
    Condition::parse(&rule)?.evaluate(&Doc(input))
}

/// Evaluates `{"Variable": "$.v", <op>: <operand>}` with `v` bound to `value`.
fn check(op: &str, operand: Value, value: Value) -> bool {
    let mut rule = serde_json::Map::new();
    rule.insert("Variable".into(), json!("$.v"));
    rule.insert(op.into(), operand);
    eval(Value::Object(rule), json!({ "v": value })).unwrap()
}

/// Evaluates `{"Variable": "$.v", <op>Path: "$.w"}` with `v` and `w` bound.
fn check_path(op: &str, value: Value, other: Value) -> bool {
    let mut rule = serde_json::Map::new();
    rule.insert("Variable".into(), json!("$.v"));
    rule.insert(format!("{op}Path"), json!("$.w"));
    eval(Value::Object(rule), json!({ "v": value, "w": other })).unwrap()
}

fn parse_error(rule: Value) -> String {
    Condition::parse(&rule).unwrap_err().0
}

#[test]
fn string_comparisons() {
    assert!(check("StringEquals", json!("abc"), json!("abc")));
    assert!(!check("StringEquals", json!("abc"), json!("abd")));
    assert!(!check("StringEquals", json!("\t\r\n"), json!("\t\n")));
    assert!(check("StringLessThan", json!("AB"), json!("A")));
    assert!(!check("StringLessThan", json!(""), json!("")));
    assert!(check("StringGreaterThan", json!("A"), json!("AB")));
    assert!(!check("StringGreaterThan", json!("A "), json!("A")));
    assert!(check("StringLessThanEquals", json!("A"), json!("A")));
    assert!(!check("StringLessThanEquals", json!("A"), json!("AB")));
    assert!(check("StringGreaterThanEquals", json!("A"), json!("AB")));
    assert!(!check("StringGreaterThanEquals", json!("B"), json!("AB")));
}

#[test]
fn strings_order_by_utf16_code_units_like_java() {
    // U+FF5E is above the surrogate range in code points' order but a supplementary
    // character (U+1F600, surrogates D83D DE00) sorts below it in UTF-16.
    assert!(check(
        "StringLessThan",
        json!("\u{FF5E}"),
        json!("\u{1F600}")
    ));
    assert!(check("StringGreaterThan", json!("a"), json!("b")));
    assert!(check("StringLessThan", json!("a"), json!("B")));
}

#[test]
fn numeric_comparisons() {
    assert!(check("NumericEquals", json!(1), json!(1.0)));
    assert!(check("NumericEquals", json!(0.0), json!(0)));
    assert!(!check("NumericEquals", json!(1), json!(1.1)));
    assert!(check("NumericLessThan", json!(1), json!(0)));
    assert!(!check("NumericLessThan", json!(1), json!(1)));
    assert!(check("NumericGreaterThan", json!(0), json!(0.5)));
    assert!(!check("NumericGreaterThan", json!(0), json!(0.0)));
    assert!(check("NumericLessThanEquals", json!(1), json!(1.0)));
    assert!(check("NumericLessThanEquals", json!(-2.5), json!(-3)));
    assert!(check("NumericGreaterThanEquals", json!(0), json!(0.0)));
    assert!(!check("NumericGreaterThanEquals", json!(1), json!(0.999)));
}

#[test]
fn large_integers_compare_exactly() {
    let big = 9_007_199_254_740_993_u64; // 2^53 + 1, not representable as f64
    assert!(!check("NumericEquals", json!(big - 1), json!(big)));
    assert!(check("NumericGreaterThan", json!(big - 1), json!(big)));
    assert!(check("NumericEquals", json!(u64::MAX), json!(u64::MAX)));
    assert!(check("NumericLessThan", json!(-1), json!(i64::MIN)));
    assert!(check(
        "NumericGreaterThan",
        json!(9_007_199_254_740_992.0),
        json!(big)
    ));
    assert!(check("NumericLessThan", json!(1e300), json!(u64::MAX)));
}

#[test]
fn boolean_equals() {
    assert!(check("BooleanEquals", json!(true), json!(true)));
    assert!(check("BooleanEquals", json!(false), json!(false)));
    assert!(!check("BooleanEquals", json!(true), json!(false)));
    assert!(!check("BooleanEquals", json!(false), json!(0)));
    assert!(!check("BooleanEquals", json!(false), json!("")));
    assert!(!check("BooleanEquals", json!(false), json!(null)));
}

#[test]
fn timestamp_comparisons() {
    let t55 = json!("2012-10-09T19:00:55Z");
    let t56 = json!("2012-10-09T19:00:56Z");
    assert!(check("TimestampEquals", t55.clone(), t55.clone()));
    assert!(check(
        "TimestampEquals",
        t55.clone(),
        json!("2012-10-09T20:00:55+01:00")
    ));
    assert!(check(
        "TimestampEquals",
        t55.clone(),
        json!("2012-10-09T19:00:55.000Z")
    ));
    assert!(!check("TimestampEquals", t55.clone(), t56.clone()));
    assert!(check("TimestampLessThan", t56.clone(), t55.clone()));
    assert!(!check("TimestampLessThan", t55.clone(), t55.clone()));
    assert!(check("TimestampGreaterThan", t55.clone(), t56.clone()));
    assert!(check("TimestampLessThanEquals", t55.clone(), t55.clone()));
    assert!(!check("TimestampLessThanEquals", t55.clone(), t56.clone()));
    assert!(check(
        "TimestampGreaterThanEquals",
        t56.clone(),
        t56.clone()
    ));
    assert!(!check(
        "TimestampGreaterThanEquals",
        t56.clone(),
        t55.clone()
    ));
}

#[test]
fn timestamps_that_do_not_parse_compare_false() {
    let t = json!("2012-10-09T19:00:55Z");
    for value in [
        json!("2012-10-09T19:00:55"),
        json!("2023-02-24 12:15:56.832957"),
        json!(""),
        json!(0),
        json!(null),
        json!(false),
    ] {
        assert!(
            !check("TimestampEquals", t.clone(), value.clone()),
            "{value}"
        );
        assert!(!check("TimestampLessThanEquals", t.clone(), value.clone()));
        assert!(!check("TimestampGreaterThanEquals", t.clone(), value));
    }
    assert!(!check_path(
        "TimestampEquals",
        t.clone(),
        json!("not a timestamp")
    ));
}

#[test]
fn type_mismatches_are_false_not_errors() {
    for value in [
        json!(null),
        json!(0),
        json!(1.1),
        json!(true),
        json!([]),
        json!([""]),
        json!({}),
        json!({"A": 0}),
    ] {
        assert!(!check("StringEquals", json!("HelloWorld"), value.clone()));
        assert!(!check("StringLessThanEquals", json!("zzz"), value.clone()));
        assert!(!check("StringMatches", json!("*"), value.clone()));
    }
    for value in [json!(null), json!("0"), json!(""), json!(false), json!([0])] {
        assert!(!check("NumericEquals", json!(0), value.clone()));
        assert!(!check("NumericGreaterThanEquals", json!(0), value.clone()));
        assert!(!check("NumericLessThanEquals", json!(0), value.clone()));
    }
    // The same holds when the operand comes from a path and is the one of the wrong type.
    assert!(!check_path("StringEquals", json!("1"), json!(1)));
    assert!(!check_path("NumericEquals", json!(1), json!("1")));
    assert!(!check_path("BooleanEquals", json!(true), json!("true")));
}

#[test]
fn path_variants_compare_against_the_resolved_value() {
    assert!(check_path("StringEquals", json!("a"), json!("a")));
    assert!(check_path("StringLessThan", json!("a"), json!("b")));
    assert!(check_path("StringGreaterThan", json!("b"), json!("a")));
    assert!(check_path("StringLessThanEquals", json!(""), json!("")));
    assert!(check_path(
        "StringGreaterThanEquals",
        json!("AB"),
        json!("A")
    ));
    assert!(check_path("NumericEquals", json!(2.22), json!(2.22)));
    assert!(check_path("NumericLessThan", json!(0), json!(1)));
    assert!(check_path("NumericGreaterThan", json!(1), json!(0)));
    assert!(check_path("NumericLessThanEquals", json!(0), json!(0.0)));
    assert!(check_path("NumericGreaterThanEquals", json!(1), json!(1)));
    assert!(check_path("BooleanEquals", json!(false), json!(false)));
    assert!(!check_path("BooleanEquals", json!(true), json!(false)));
    let (t55, t56) = (json!("2012-10-09T19:00:55Z"), json!("2012-10-09T19:00:56Z"));
    assert!(check_path("TimestampEquals", t55.clone(), t55.clone()));
    assert!(check_path("TimestampLessThan", t55.clone(), t56.clone()));
    assert!(check_path("TimestampGreaterThan", t56.clone(), t55.clone()));
    assert!(check_path(
        "TimestampLessThanEquals",
        t55.clone(),
        t55.clone()
    ));
    assert!(!check_path("TimestampGreaterThanEquals", t55, t56));
}

#[test]
fn paths_may_point_at_variables_and_the_whole_input() {
    let rule = json!({"Variable": "$var", "StringEqualsPath": "$.answer"});
    assert!(eval(rule.clone(), json!({"__var": "42", "answer": "42"})).unwrap());
    assert!(!eval(rule, json!({"__var": "41", "answer": "42"})).unwrap());
    let rule = json!({"Variable": "$", "IsNumeric": true});
    assert!(eval(rule.clone(), json!(3)).unwrap());
    assert!(!eval(rule, json!({})).unwrap());
}

#[test]
fn string_matches_wildcards() {
    assert!(check(
        "StringMatches",
        json!("log-*.txt"),
        json!("log-2024.txt")
    ));
    assert!(check(
        "StringMatches",
        json!("log-*.txt"),
        json!("log-.txt")
    ));
    assert!(!check(
        "StringMatches",
        json!("log-*.txt"),
        json!("log-1.txt.gz")
    ));
    assert!(check("StringMatches", json!("*"), json!("")));
    assert!(check("StringMatches", json!("**"), json!("anything")));
    assert!(check("StringMatches", json!("a*b*c"), json!("aXbYbZc")));
    assert!(!check("StringMatches", json!("a*b*c"), json!("aXbYbZ")));
    assert!(check("StringMatches", json!("*ab"), json!("aab")));
    assert!(check("StringMatches", json!(""), json!("")));
    assert!(!check("StringMatches", json!(""), json!("x")));
    assert!(!check("StringMatches", json!("abc"), json!("ab")));
    assert!(check("StringMatches", json!("é*ü"), json!("é—ü")));
}

#[test]
fn string_matches_escapes() {
    assert!(check("StringMatches", json!(r"a\*b"), json!("a*b")));
    assert!(!check("StringMatches", json!(r"a\*b"), json!("aXb")));
    assert!(check("StringMatches", json!(r"a\\b"), json!(r"a\b")));
    assert!(check("StringMatches", json!(r"a\\*"), json!(r"a\anything")));
    assert!(!check("StringMatches", json!(r"a\\*"), json!("a")));
    assert!(check("StringMatches", json!(r"\**"), json!("*star")));
    // A backslash that escapes nothing stands for itself.
    assert!(check("StringMatches", json!(r"a\b"), json!(r"a\b")));
    assert!(check("StringMatches", json!(r"a\"), json!(r"a\")));
}

#[test]
fn is_operators() {
    let values = [
        json!(null),
        json!(""),
        json!("HelloWorld"),
        json!("2012-10-09T19:00:55Z"),
        json!("2012-10-09T19:00:55"),
        json!(0),
        json!(1.1),
        json!(true),
        json!([]),
        json!({}),
    ];
    for value in values {
        let expectations = [
            ("IsNull", value.is_null()),
            ("IsNumeric", value.is_number()),
            ("IsString", value.is_string()),
            ("IsBoolean", value.is_boolean()),
            ("IsTimestamp", value == json!("2012-10-09T19:00:55Z")),
            ("IsPresent", true),
        ];
        for (op, holds) in expectations {
            assert_eq!(check(op, json!(true), value.clone()), holds, "{op} {value}");
            assert_eq!(
                check(op, json!(false), value.clone()),
                !holds,
                "{op} {value}"
            );
        }
    }
}

#[test]
fn is_present_answers_for_missing_paths() {
    let present = json!({"Variable": "$.missing", "IsPresent": true});
    let absent = json!({"Variable": "$.missing", "IsPresent": false});
    assert!(!eval(present, json!({})).unwrap());
    assert!(eval(absent, json!({})).unwrap());
    let nested = json!({"Variable": "$.a.b", "IsPresent": true});
    assert!(!eval(nested.clone(), json!({"a": 1})).unwrap());
    assert!(eval(nested, json!({"a": {"b": null}})).unwrap());
}

#[test]
fn missing_variable_is_a_runtime_error() {
    for rule in [
        json!({"Variable": "$.x", "StringEquals": "a"}),
        json!({"Variable": "$.x", "NumericEquals": 1}),
        json!({"Variable": "$.x", "IsNull": true}),
        json!({"Variable": "$.x", "IsString": false}),
        json!({"Variable": "$.x", "StringMatches": "*"}),
        json!({"Variable": "$.x", "BooleanEqualsPath": "$.y"}),
    ] {
        assert_eq!(
            eval(rule, json!({"y": true})).unwrap_err().0,
            "Invalid path '$.x': The choice state's condition path references an invalid value."
        );
    }
}

#[test]
fn missing_comparison_path_is_a_runtime_error() {
    let rule = json!({"Variable": "$.x", "NumericEqualsPath": "$.y"});
    assert_eq!(
        eval(rule, json!({"x": 1})).unwrap_err().0,
        "Invalid path '$.y': The choice state's condition path references an invalid value."
    );
}

#[test]
fn resolver_errors_propagate() {
    let rule = json!({"Variable": "$$.Bad", "IsPresent": true});
    assert_eq!(
        eval(rule, json!({})).unwrap_err().0,
        "unsupported path $$.Bad"
    );
}

#[test]
fn and_or_not() {
    let input = json!({"type": "Public", "value": 22});
    let is_public = json!({"Variable": "$.type", "StringEquals": "Public"});
    let is_small = json!({"Variable": "$.value", "NumericLessThan": 10});
    assert!(eval(json!({"And": [is_public.clone()]}), input.clone()).unwrap());
    assert!(!eval(
        json!({"And": [is_public.clone(), is_small.clone()]}),
        input.clone()
    )
    .unwrap());
    assert!(eval(
        json!({"Or": [is_small.clone(), is_public.clone()]}),
        input.clone()
    )
    .unwrap());
    assert!(!eval(json!({"Or": [is_small.clone()]}), input.clone()).unwrap());
    assert!(eval(json!({"Not": is_small.clone()}), input.clone()).unwrap());
    assert!(!eval(json!({"Not": {"Not": is_small}}), input.clone()).unwrap());
    let nested = json!({"And": [
        {"Variable": "$", "IsPresent": true},
        {"And": [{"Variable": "$", "IsNumeric": true}, {"Variable": "$", "NumericEquals": 3}]}
    ]});
    assert!(eval(nested.clone(), json!(3)).unwrap());
    assert!(!eval(nested, json!({})).unwrap());
}

#[test]
fn and_or_stop_at_the_first_deciding_rule() {
    let missing = json!({"Variable": "$.missing", "StringEquals": "x"});
    let yes = json!({"Variable": "$.a", "IsPresent": true});
    let no = json!({"Variable": "$.a", "IsPresent": false});
    let input = json!({"a": 1});
    assert!(!eval(json!({"And": [no.clone(), missing.clone()]}), input.clone()).unwrap());
    assert!(eval(json!({"Or": [yes.clone(), missing.clone()]}), input.clone()).unwrap());
    assert!(eval(json!({"And": [yes, missing.clone()]}), input.clone()).is_err());
    assert!(eval(json!({"Or": [no, missing]}), input).is_err());
}

#[test]
fn top_level_fields_without_conditions_are_ignored() {
    let rule = json!({
        "Comment": "c", "Next": "N", "Assign": {"x": 1},
        "Variable": "$.a", "BooleanEquals": true
    });
    assert!(eval(rule, json!({"a": true})).unwrap());
    let rule = json!({"Next": "N", "Or": [{"Variable": "$.a", "IsBoolean": true}]});
    assert!(eval(rule, json!({"a": true})).unwrap());
}

#[test]
fn parse_refuses_malformed_rules() {
    let cases = [
        (json!("StringEquals"), "must be an object"),
        (
            json!({"Variable": "$.a", "Next": "N"}),
            "must have a comparison",
        ),
        (
            json!({"Variable": "$.a", "StringEquals": "x", "IsNull": true}),
            "exactly one operator",
        ),
        (json!({"Variable": "$.a", "StringContains": "x"}), "unknown"),
        (
            json!({"Variable": "$.a", "BooleanLessThan": true}),
            "unknown",
        ),
        (
            json!({"Variable": "$.a", "StringMatchesPath": "$.b"}),
            "unknown",
        ),
        (
            json!({"Variable": "$.a", "IsPresentPath": "$.b"}),
            "unknown",
        ),
        (json!({"StringEquals": "x"}), "must have a 'Variable'"),
        (
            json!({"Variable": "a", "StringEquals": "x"}),
            "reference path",
        ),
        (
            json!({"Variable": 1, "StringEquals": "x"}),
            "reference path",
        ),
        (json!({"Variable": "$.a", "StringEquals": 1}), "a string"),
        (json!({"Variable": "$.a", "StringMatches": 1}), "a string"),
        (json!({"Variable": "$.a", "NumericEquals": "1"}), "a number"),
        (
            json!({"Variable": "$.a", "NumericLessThan": null}),
            "a number",
        ),
        (
            json!({"Variable": "$.a", "BooleanEquals": "true"}),
            "a boolean",
        ),
        (json!({"Variable": "$.a", "IsNull": "true"}), "a boolean"),
        (json!({"Variable": "$.a", "IsTimestamp": 1}), "a boolean"),
        (
            json!({"Variable": "$.a", "TimestampEquals": "2016-12-05T21:29:29"}),
            "timestamp",
        ),
        (
            json!({"Variable": "$.a", "TimestampLessThan": 0}),
            "timestamp",
        ),
        (
            json!({"Variable": "$.a", "StringEqualsPath": "b"}),
            "reference path",
        ),
        (
            json!({"Variable": "$.a", "NumericEqualsPath": 1}),
            "reference path",
        ),
        (json!({"And": []}), "non-empty array"),
        (
            json!({"Or": {"Variable": "$.a", "IsNull": true}}),
            "non-empty array",
        ),
        (json!({"Not": []}), "one choice rule"),
        (
            json!({"And": [{"Variable": "$.a"}]}),
            "must have a comparison",
        ),
        (
            json!({"Not": {"Variable": "$.a", "NumericEquals": "x"}}),
            "a number",
        ),
        (
            json!({"Variable": "$.a", "Not": {"Variable": "$.a", "IsNull": true}}),
            "cannot have a 'Variable'",
        ),
    ];
    for (rule, fragment) in cases {
        let message = parse_error(rule.clone());
        assert!(
            message.contains(fragment),
            "{rule}: {message:?} lacks {fragment:?}"
        );
    }
}

#[test]
fn parse_accepts_every_operator() {
    let literals = [
        ("String", json!("x")),
        ("Numeric", json!(1.5)),
        ("Timestamp", json!("2016-03-14T01:59:00Z")),
    ];
    let relations = [
        "Equals",
        "LessThan",
        "GreaterThan",
        "LessThanEquals",
        "GreaterThanEquals",
    ];
    let mut operators = vec![
        ("BooleanEquals".to_owned(), json!(true)),
        ("BooleanEqualsPath".to_owned(), json!("$.b")),
        ("StringMatches".to_owned(), json!("x*")),
    ];
    for (family, literal) in &literals {
        for relation in relations {
            operators.push((format!("{family}{relation}"), literal.clone()));
            operators.push((format!("{family}{relation}Path"), json!("$.b")));
        }
    }
    for is in [
        "IsNull",
        "IsPresent",
        "IsNumeric",
        "IsString",
        "IsBoolean",
        "IsTimestamp",
    ] {
        operators.push((is.to_owned(), json!(true)));
    }
    assert_eq!(operators.len(), 3 + 30 + 6);
    for (op, operand) in operators {
        let mut rule = serde_json::Map::new();
        rule.insert("Variable".into(), json!("$.a"));
        rule.insert(op.clone(), operand);
        assert!(
            Condition::parse(&Value::Object(rule)).is_ok(),
            "{op} should parse"
        );
    }
}

/// A Choice state whose one rule is `depth` nested `Not`s around a test.
fn not_chain(depth: usize) -> String {
    let leaf = r#"{"Variable": "$.a", "IsPresent": true}"#;
    let rule = format!("{}{leaf}{}", r#"{"Not": "#.repeat(depth), "}".repeat(depth));
    let rule = rule.replacen(r#"{"Not": "#, r#"{"Next": "D", "Not": "#, 1);
    format!(
        r#"{{"StartAt": "C", "States": {{"C": {{"Type": "Choice", "Choices": [{rule}], "Default": "D"}}, "D": {{"Type": "Succeed"}}}}}}"#
    )
}

#[test]
fn rule_nesting_is_bounded_by_the_json_parser() {
    // Definitions are read by serde_json with its default recursion limit of 128 arrays and
    // objects, so a rule cannot nest deeper than that and parsing and evaluating rules
    // recurse a bounded number of times. A chain just inside the limit works...
    let deepest = not_chain(122);
    let definition = crate::Definition::parse(&deepest).unwrap();
    drop(definition);
    assert!(crate::validate::validate(&deepest, crate::validate::MachineType::Standard).is_empty());
    let value: Value = serde_json::from_str(&deepest).unwrap();
    let rule = &value["States"]["C"]["Choices"][0];
    let condition = Condition::parse(rule).unwrap();
    // 122 `Not`s (even) around IsPresent.
    assert_eq!(condition.evaluate(&Doc(json!({"a": 1}))), Ok(true));
    assert_eq!(condition.evaluate(&Doc(json!({}))), Ok(false));

    // ...and a deeper one is refused as a malformed document, not a crash.
    let too_deep = not_chain(200);
    let err = crate::Definition::parse(&too_deep).unwrap_err();
    assert!(
        err.to_string().contains("recursion limit exceeded"),
        "{err}"
    );
    let diagnostics = crate::validate::validate(&too_deep, crate::validate::MachineType::Standard);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(
        diagnostics[0].code,
        crate::validate::INVALID_JSON_DESCRIPTION
    );
    assert!(diagnostics[0].message.contains("recursion limit exceeded"));
}
