use serde_json::{json, Value};

use super::*;
use crate::jsonpath::{Reference, Root};

/// Resolves paths against an input, a context and one variable; randomness is a counter.
struct TestEnv {
    input: Value,
    context: Value,
    var: Value,
    next: u64,
}

impl TestEnv {
    fn new(input: Value) -> TestEnv {
        TestEnv {
            input,
            context: json!({"Execution": {"Id": "arn:exec", "Name": "run-1"}, "Map": {"Item": {"Index": 2}}}),
            var: json!({"x": [10, 20]}),
            next: 0,
        }
    }
}

impl Env for TestEnv {
    fn resolve(&self, path: &str) -> Result<Value, Failure> {
        let reference = Reference::parse(path).map_err(|e| Failure(e.to_string()))?;
        let doc = match reference.root {
            Root::Input => &self.input,
            Root::Context => &self.context,
            Root::Variable(name) if name == "var" => &self.var,
            Root::Variable(name) => return Err(Failure(format!("no variable {name}"))),
        };
        reference
            .path
            .select(doc)
            .ok_or_else(|| Failure(format!("no value at {path}")))
    }

    fn random_u64(&mut self) -> u64 {
        self.next += 1;
        self.next.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

fn eval_with(text: &str, input: Value) -> Result<Value, Failure> {
    Call::parse(text)
        .unwrap()
        .evaluate(&mut TestEnv::new(input))
}

fn eval(text: &str) -> Value {
    eval_with(text, json!({})).unwrap()
}

fn fails(text: &str) -> String {
    eval_with(text, json!({})).unwrap_err().0
}

#[test]
fn parses_arguments_of_every_kind() {
    let call = Call::parse("States.Array('a', -1, 2.5, true, false, null, $.x, $$.Execution.Id, $var.x[1], States.Array())")
        .unwrap();
    assert_eq!(call.function(), Function::Array);
    assert!(call.text().starts_with("States.Array('a'"));
    let out = call
        .evaluate(&mut TestEnv::new(json!({"x": {"y": 1}})))
        .unwrap();
    assert_eq!(
        out,
        json!(["a", -1, 2.5, true, false, null, {"y": 1}, "arn:exec", 20, []])
    );
}

#[test]
fn hands_paths_to_env_as_written() {
    struct Recorder;
    impl Env for Recorder {
        fn resolve(&self, _: &str) -> Result<Value, Failure> {
            Ok(json!(1))
        }
        fn random_u64(&mut self) -> u64 {
            0
        }
    }
    let call = Call::parse("States.Array($.a[?(@.b == 'x, y')], $$.Map.Item.Index ,$v)").unwrap();
    let paths: Vec<&str> = call
        .invocation
        .args
        .iter()
        .filter_map(|a| match a {
            Arg::Path(p) => Some(p.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(paths, ["$.a[?(@.b == 'x, y')]", "$$.Map.Item.Index", "$v"]);
    assert_eq!(call.evaluate(&mut Recorder).unwrap(), json!([1, 1, 1]));
}

#[test]
fn whitespace_is_allowed_between_arguments() {
    assert_eq!(eval("  States.Array( 1 ,2,  'x' )  "), json!([1, 2, "x"]));
    assert_eq!(eval("States.Array ()"), json!([]));
}

#[test]
fn rejects_bad_syntax_and_unknown_functions() {
    for bad in [
        "States.Nope(1)",
        "States.format('x')",
        "Format('x')",
        "States.Array(",
        "States.Array(1,)",
        "States.Array(1 2)",
        "States.Array('x)",
        "States.Array(yes)",
        "States.Array($.a b)",
        "States.Array($x-y)",
        "States.Array(1) extra",
        "States.Array(1.2.3)",
    ] {
        assert!(Call::parse(bad).is_err(), "{bad} parsed");
    }
    let err = Call::parse("States.Nope(1)").unwrap_err();
    assert!(
        err.reason.contains("unknown function 'States.Nope'"),
        "{err}"
    );
}

#[test]
fn looks_like_call_checks_the_prefix() {
    assert!(looks_like_call("States.Format('{}', $.a)"));
    assert!(!looks_like_call("$.States"));
}

#[test]
fn format_renders_values_like_aws() {
    assert_eq!(eval("States.Format('plain')"), json!("plain"));
    let out = eval_with(
        "States.Format('{} {} {} {} {} {}', $.s, $.i, $.f, $.b, $.n, $.o)",
        json!({"s": "str", "i": 1, "f": 1.1, "b": true, "n": null, "o": {"Arg1": 1, "Arg2": [], "L": ["a", {"k": "v"}]}}),
    );
    assert_eq!(
        out,
        Ok(json!("str 1 1.1 true null {Arg1=1, Arg2=[], L=[a, {k=v}]}"))
    );
    assert_eq!(
        eval_with("States.Format('[{}]', $.a)", json!({"a": [1, "two"]})),
        Ok(json!("[[1, two]]"))
    );
}

#[test]
fn format_escapes() {
    assert_eq!(eval(r"States.Format('\{\} is {}', 'x')"), json!("{} is x"));
    assert_eq!(eval(r"States.Format('it\'s {}\\', 'x')"), json!("it's x\\"));
    assert_eq!(eval(r"States.Format('{ and }')"), json!("{ and }"));
    // A template from a path has no escapes: only `{}` is special.
    assert_eq!(
        eval_with("States.Format($.t, 1)", json!({"t": "a\\{}"})),
        Ok(json!("a\\1"))
    );
    assert_eq!(
        eval(r"States.Array('\'', '\{', '\}', '\\')"),
        json!(["'", "{", "}", "\\"])
    );
    // Any other escape is refused, as AWS refuses `\"` in an intrinsic string.
    for illegal in [
        r"States.Array('\n')",
        r#"States.StringToJson('{"t":"a \"q\" b"}')"#,
    ] {
        assert!(Call::parse(illegal).is_err(), "{illegal} should not parse");
    }
}

#[test]
fn format_argument_errors() {
    assert!(fails("States.Format('{} {}', 1)").contains("2 placeholder"));
    assert!(fails("States.Format('{}', 1, 2)").contains("1 placeholder"));
    assert!(fails("States.Format(1)").contains("must be a string"));
    assert!(fails("States.Format()").contains("at least 1"));
}

#[test]
fn string_to_json_and_back() {
    assert_eq!(
        eval("States.StringToJson('{\"a\": [1, 2.5, \"x\"]}')"),
        json!({"a": [1, 2.5, "x"]})
    );
    assert_eq!(eval("States.StringToJson(' ')"), Value::Null);
    assert_eq!(eval("States.StringToJson('null')"), Value::Null);
    assert_eq!(eval("States.StringToJson('1')"), json!(1));
    assert!(fails("States.StringToJson('{oops')").contains("not valid JSON"));
    assert!(fails("States.StringToJson(1)").contains("must be a string"));
    assert_eq!(
        eval_with(
            "States.JsonToString($)",
            json!({"z": 1, "a": [true, null], "m": {"s": "q\""}})
        ),
        Ok(json!("{\"z\":1,\"a\":[true,null],\"m\":{\"s\":\"q\\\"\"}}"))
    );
    assert_eq!(eval("States.JsonToString(null)"), json!("null"));
    assert_eq!(eval("States.JsonToString('s')"), json!("\"s\""));
    assert!(fails("States.JsonToString()").contains("takes 1 argument,"));
}

#[test]
fn arrays() {
    assert_eq!(eval("States.Array()"), json!([]));
    assert_eq!(
        eval("States.ArrayPartition(States.Array(0, 1, 2, 3), 3)"),
        json!([[0, 1, 2], [3]])
    );
    assert_eq!(eval("States.ArrayPartition(States.Array(), 2)"), json!([]));
    assert_eq!(
        eval("States.ArrayPartition(States.Array(1), 2.0)"),
        json!([[1]])
    );
    assert!(fails("States.ArrayPartition(States.Array(1), 0)").contains("greater than 0"));
    assert!(fails("States.ArrayPartition(States.Array(1), 1.5)").contains("must be an integer"));
    assert!(fails("States.ArrayPartition('x', 1)").contains("must be an array"));

    assert_eq!(
        eval_with(
            "States.ArrayContains($.a, $.v)",
            json!({"a": [[1, 2, 3], 2], "v": [1, 2, 3]})
        ),
        Ok(json!(true))
    );
    assert_eq!(
        eval("States.ArrayContains(States.Array(1, 2), 1.0)"),
        json!(true)
    );
    assert_eq!(
        eval("States.ArrayContains(States.Array(), null)"),
        json!(false)
    );
    assert_eq!(
        eval("States.ArrayContains(States.Array(true), 'true')"),
        json!(false)
    );

    assert_eq!(
        eval("States.ArrayGetItem(States.Array('a', 'b'), 1)"),
        json!("b")
    );
    assert!(fails("States.ArrayGetItem(States.Array('a'), 1)").contains("out of bounds"));
    assert!(fails("States.ArrayGetItem(States.Array('a'), -1)").contains("out of bounds"));

    assert_eq!(
        eval("States.ArrayLength(States.Array(1, null, 3))"),
        json!(3)
    );
    assert!(fails("States.ArrayLength(States.Array(), 1)")
        .contains("takes 1 argument, but 2 were given"));
    assert!(fails("States.ArrayLength('abc')").contains("must be an array, but it is a string"));

    assert_eq!(
        eval_with(
            "States.ArrayUnique($)",
            json!([null, null, true, 1, 1.0, "1", [], [], {"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 1}])
        ),
        Ok(json!([null, true, 1, "1", [], {"a": 1, "b": 2}, {"a": 1}]))
    );
}

#[test]
fn array_range() {
    assert_eq!(eval("States.ArrayRange(0, 9, 3)"), json!([0, 3, 6, 9]));
    assert_eq!(eval("States.ArrayRange(0, 10, 3)"), json!([0, 3, 6, 9]));
    assert_eq!(eval("States.ArrayRange(1, 9, 9)"), json!([1]));
    assert_eq!(eval("States.ArrayRange(5, 1, -2)"), json!([5, 3, 1]));
    assert_eq!(eval("States.ArrayRange(5, 1, 2)"), json!([]));
    assert_eq!(
        eval("States.ArrayRange(0, 999, 1)")
            .as_array()
            .map(Vec::len),
        Some(1000)
    );
    assert!(fails("States.ArrayRange(0, 1000, 1)").contains("more than 1000"));
    assert!(fails("States.ArrayRange(0, 3, 0)").contains("must not be 0"));
    assert!(fails("States.ArrayRange(0, 3)").contains("takes 3 arguments, but 2 were given"));
    assert!(fails("States.ArrayRange('0', 3, 1)").contains("must be an integer"));
}

#[test]
fn base64() {
    assert_eq!(
        eval("States.Base64Encode('Data to encode')"),
        json!("RGF0YSB0byBlbmNvZGU=")
    );
    assert_eq!(
        eval("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')"),
        json!("Data to encode")
    );
    assert_eq!(
        eval("States.Base64Decode(States.Base64Encode('héllo'))"),
        json!("héllo")
    );
    assert!(fails("States.Base64Decode('***')").contains("not valid base64"));
    assert!(fails("States.Base64Encode(1)").contains("must be a string"));
    let long = "a".repeat(10_001);
    assert!(eval_with("States.Base64Encode($)", json!(long))
        .unwrap_err()
        .0
        .contains("10000"));
    assert!(eval_with("States.Base64Encode($)", json!("a".repeat(10_000))).is_ok());
}

#[test]
fn hash() {
    assert_eq!(
        eval("States.Hash('input data', 'SHA-512')"),
        json!("6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4")
    );
    assert_eq!(
        eval("States.Hash('', 'MD5')"),
        json!("d41d8cd98f00b204e9800998ecf8427e")
    );
    assert_eq!(
        eval("States.Hash('abc', 'SHA-1')"),
        json!("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(
        eval("States.Hash('abc', 'SHA-256')"),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        eval("States.Hash('abc', 'SHA-384')").as_str().map(str::len),
        Some(96)
    );
    // Non-string data is hashed as its JSON text.
    assert_eq!(
        eval("States.Hash(123, 'MD5')"),
        eval("States.Hash('123', 'MD5')")
    );
    assert!(fails("States.Hash('x', 'sha-256')").contains("unsupported algorithm"));
    assert!(fails("States.Hash('x', 1)").contains("must be a string"));
}

#[test]
fn json_merge() {
    let input = json!({"a": {"a": {"x": 1}, "b": 2, "d": 3}, "b": {"a": {"y": 1}, "c": 3, "d": 4}});
    assert_eq!(
        eval_with("States.JsonMerge($.a, $.b, false)", input.clone()),
        Ok(json!({"a": {"y": 1}, "b": 2, "d": 4, "c": 3}))
    );
    assert!(eval_with("States.JsonMerge($.a, $.b, true)", input.clone())
        .unwrap_err()
        .0
        .contains("must be false"));
    assert!(
        eval_with("States.JsonMerge($.a, $.b, 'false')", input.clone())
            .unwrap_err()
            .0
            .contains("argument 3")
    );
    assert!(eval_with("States.JsonMerge($.a, $.b)", input)
        .unwrap_err()
        .0
        .contains("takes 3 arguments"));
    assert!(
        fails("States.JsonMerge(1, States.StringToJson('{}'), false)").contains("JSON objects")
    );
}

#[test]
fn math_add_rounds_like_java() {
    assert_eq!(eval("States.MathAdd(-9, 3)"), json!(-6));
    for (a, b, sum) in [
        (-1.51, 0.0, -2),
        (0.5, 0.0, 1),
        (2.5, 0.0, 3),
        (-3.5, 0.0, -3),
        (1.5, 1.51, 4),
        (-1.49, -1.5, -2),
    ] {
        let out = eval_with("States.MathAdd($.a, $.b)", json!({"a": a, "b": b}));
        assert_eq!(out, Ok(json!(sum)), "{a} + {b}");
    }
    assert!(eval("States.MathAdd(1, 2)").is_i64());
    assert!(fails("States.MathAdd('1', 2)").contains("must be a number"));
    assert!(fails("States.MathAdd(1)").contains("takes 2 arguments, but 1 were given"));
    assert!(fails("States.MathAdd(9223372036854775807, 1)").contains("out of range"));
}

#[test]
fn math_random() {
    let mut env = TestEnv::new(json!({}));
    let call = Call::parse("States.MathRandom(1, 10)").unwrap();
    for _ in 0..50 {
        let n = call.evaluate(&mut env).unwrap().as_i64().unwrap();
        assert!((1..10).contains(&n), "{n}");
    }
    assert_eq!(env.next, 50, "one draw per call");
    // Seeded calls do not draw and always agree.
    let seeded = Call::parse("States.MathRandom(0, 999, 3)").unwrap();
    let first = seeded.evaluate(&mut env).unwrap();
    assert_eq!(seeded.evaluate(&mut env).unwrap(), first);
    assert_eq!(env.next, 50);
    // The same draws as java.util.Random, checked with jshell: `new Random(42).nextInt(10)`
    // is 0, `nextInt(16)` is 11, `new Random(3).nextInt(999)` is 239 and
    // `new Random(-7).nextInt(1000000)` is 934662.
    assert_eq!(eval("States.MathRandom(0, 10, 42)"), json!(0));
    assert_eq!(eval("States.MathRandom(100, 116, 42)"), json!(111));
    assert_eq!(eval("States.MathRandom(0, 999, 3)"), json!(239));
    assert_eq!(eval("States.MathRandom(0, 1000000, -7)"), json!(934662));
    assert_eq!(eval("States.MathRandom(5, 6, 1)"), json!(5));
    let n = eval("States.MathRandom(12.5, 44.51)").as_i64().unwrap();
    assert!((13..45).contains(&n));
    assert!(fails("States.MathRandom(5, 5)").contains("less than"));
    assert!(fails("States.MathRandom(5)").contains("takes 2 or 3 arguments"));
    assert!(fails("States.MathRandom(1, 2, 3, 4)").contains("takes 2 or 3 arguments"));
    assert!(fails("States.MathRandom('1', 2)").contains("must be a number"));
}

#[test]
fn string_split_drops_empty_tokens() {
    assert_eq!(
        eval("States.StringSplit('1,2,3', ',')"),
        json!(["1", "2", "3"])
    );
    assert_eq!(eval("States.StringSplit(',,,,', ',')"), json!([]));
    assert_eq!(
        eval("States.StringSplit('split on T and \nnew line', 'T\n')"),
        json!(["split on ", " and ", "new line"])
    );
    assert_eq!(eval("States.StringSplit('a b', '')"), json!(["a b"]));
    assert_eq!(eval("States.StringSplit(' a\n ', ',')"), json!([" a\n "]));
    assert!(fails("States.StringSplit(1, ',')").contains("must be a string"));
}

#[test]
fn uuid_is_v4_and_deterministic() {
    let mut env = TestEnv::new(json!({}));
    let call = Call::parse("States.UUID()").unwrap();
    let a = call.evaluate(&mut env).unwrap();
    let b = call.evaluate(&mut env).unwrap();
    assert_ne!(a, b);
    let a = a.as_str().unwrap().to_string();
    assert_eq!(a.len(), 36);
    let parts: Vec<&str> = a.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(parts[2].starts_with('4'));
    assert!(matches!(
        parts[3].chars().next(),
        Some('8' | '9' | 'a' | 'b')
    ));
    assert!(a
        .chars()
        .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(
        Call::parse("States.UUID()")
            .unwrap()
            .evaluate(&mut TestEnv::new(json!({}))),
        Ok(json!(a))
    );
    assert!(fails("States.UUID(1)").contains("takes 0 arguments"));
}

#[test]
fn nested_calls() {
    let out = eval_with(
        "States.ArrayGetItem(States.StringSplit($.name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($.name, '-')), -1))",
        json!({"name": "my-state-machine"}),
    );
    assert_eq!(out, Ok(json!("machine")));
    assert_eq!(
        eval("States.JsonMerge(States.StringToJson('{\"a\": \"false\"}'), States.StringToJson('{\"b\": 1}'), false)"),
        json!({"a": "false", "b": 1})
    );
    assert_eq!(
        eval("States.Format('{}', States.Array(1, States.Array()))"),
        json!("[1, []]")
    );
}

#[test]
fn resolution_failures_pass_through() {
    assert_eq!(fails("States.Array($.missing)"), "no value at $.missing");
    assert_eq!(fails("States.Array($nope)"), "no variable nope");
}

// Limits. These run on the ordinary 2 MiB test thread, so a parser or evaluator that
// recursed once per level again would crash the test binary, not just fail.

/// `States.Format('x{}', ` × n + `'y'` + `)` × n: n calls, each inside the previous one.
fn formats(n: usize) -> String {
    format!("{}'y'{}", "States.Format('x{}', ".repeat(n), ")".repeat(n))
}

/// Every string the parsed tree holds, in characters.
fn stored_chars(invocation: &Invocation) -> usize {
    invocation
        .args
        .iter()
        .map(|arg| match arg {
            Arg::Literal(_) => 0,
            Arg::Text { value, raw } => value.chars().count() + raw.chars().count(),
            Arg::Path(path) => path.chars().count(),
            Arg::Call(inner) => stored_chars(inner),
        })
        .sum()
}

#[test]
fn deep_nesting_is_refused_early() {
    // Issue 11, finding 2: 3,500 levels crashed the server, 3,000 cost ~90 MB.
    for levels in [3000, 3500] {
        let text = formats(levels);
        let err = Call::parse(&text).unwrap_err();
        assert!(err.limit);
        // The parser stops at the eleventh call, long before the end of the text.
        let eleventh = "States.Format('x{}', ".len() * MAX_NESTING;
        assert!(
            err.reason.ends_with(&format!(
                "intrinsic functions nest deeper than the limit of {MAX_NESTING} levels at position {eleventh}"
            )),
            "{}",
            err.reason
        );
    }
    assert!(!Call::parse("States.Nope()").unwrap_err().limit);
}

#[test]
fn nesting_up_to_the_limit_parses_and_evaluates() {
    let call = Call::parse(&formats(MAX_NESTING)).unwrap();
    assert_eq!(eval(&formats(MAX_NESTING)), json!("xxxxxxxxxxy"));
    assert_eq!(call.function(), Function::Format);
    assert!(Call::parse(&formats(MAX_NESTING + 1)).unwrap_err().limit);
    // A path argument past JSONPath's limits makes the call refused for a limit too.
    let deep_path = format!("States.Array($[?({}@.a)])", "!".repeat(4000));
    assert!(Call::parse(&deep_path).unwrap_err().limit);
}

#[test]
fn parsed_calls_hold_their_text_once() {
    // 3,000 calls, three deep: each level's text used to be copied into its call, which
    // made deep nesting quadratic. Now only the whole text is kept, and every argument
    // holds just its own characters.
    let one = "States.Format('{}-{}', States.Array('ab', $.a), States.ArrayLength($.list))";
    let text = format!("States.Array({})", vec![one; 1000].join(", "));
    let call = Call::parse(&text).unwrap();
    assert_eq!(call.text(), text);
    // Per `one`: '{}-{}' twice (value and raw), 'ab' twice, $.a and $.list.
    let per_call = 2 * "{}-{}".len() + 2 * "ab".len() + "$.a".len() + "$.list".len();
    assert_eq!(stored_chars(&call.invocation), 1000 * per_call);
    assert!(stored_chars(&call.invocation) < text.len());
    let out = call
        .evaluate(&mut TestEnv::new(json!({"a": 1, "list": [1, 2]})))
        .unwrap();
    assert_eq!(out.as_array().unwrap().len(), 1000);
}
