use super::*;
use serde_json::json;

fn eval_with(
    source: &str,
    input: Option<Value>,
    vars: &[(&str, Value)],
) -> Result<Option<Value>, QueryError> {
    let query = Query::parse(source)?;
    let lookup = |name: &str| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| convert::to_jvalue(v))
    };
    let env = Env {
        input: input.as_ref(),
        variables: &lookup,
        now_millis: 1_700_000_000_123,
        entropy: 42,
        steps: 1_000_000,
    };
    query.evaluate(&env).map(|e| e.value).map_err(|(e, _)| e)
}

fn eval(source: &str, input: Value) -> Result<Option<Value>, QueryError> {
    eval_with(source, Some(input), &[])
}

#[test]
fn integers_stay_integers_and_fractions_stay_fractions() {
    assert_eq!(eval("a + 1", json!({"a": 1})), Ok(Some(json!(2))));
    assert_eq!(eval("a / 2", json!({"a": 1})), Ok(Some(json!(0.5))));
    assert_eq!(
        eval("[a, 'x', true, null]", json!({"a": 3})),
        Ok(Some(json!([3, "x", true, null])))
    );
}

#[test]
fn undefined_is_none_and_undefined_fields_are_left_out() {
    assert_eq!(eval("missing", json!({})), Ok(None));
    assert_eq!(
        eval("{'a': missing, 'b': 1}", json!({})),
        Ok(Some(json!({"b": 1})))
    );
}

#[test]
fn variables_are_bound_by_name() {
    let states = json!({"input": {"x": 5}});
    assert_eq!(
        eval_with(
            "$states.input.x * $k",
            None,
            &[("states", states), ("k", json!(3))]
        ),
        Ok(Some(json!(15)))
    );
    assert_eq!(eval_with("$unknown", None, &[]), Ok(None));
}

#[test]
fn errors_carry_the_reference_codes() {
    assert_eq!(
        eval("1 +", json!({})).map_err(|e| e.code),
        Err("S0207".to_string())
    );
    assert_eq!(
        eval("'a' + 1", json!({})).map_err(|e| e.code),
        Err("T2001".to_string())
    );
    assert_eq!(
        eval("/* open", json!({})).map_err(|e| e.code),
        Err("S0106".to_string())
    );
}

#[test]
fn eval_is_not_a_function() {
    let e = eval("$eval('1')", json!({})).err();
    let expected = (
        "T1006".to_string(),
        "Attempted to invoke a non-function".to_string(),
    );
    assert_eq!(e.map(|e| (e.code, e.message)), Some(expected));
}

#[test]
fn the_added_functions_work() {
    assert_eq!(
        eval("$partition([1,2,3,4,5], 2)", json!(null)),
        Ok(Some(json!([[1, 2], [3, 4], [5]])))
    );
    assert_eq!(
        eval("$range(0, 10, 5)", json!(null)),
        Ok(Some(json!([0, 5, 10])))
    );
    let collapsed = eval("$range(1, 9, 9)", json!(null));
    assert_eq!(collapsed, Ok(Some(json!(1))), "AWS collapses a singleton");
    assert_eq!(
        eval("$hash('abc', 'SHA-256')", json!(null)),
        Ok(Some(json!(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )))
    );
    assert_eq!(
        eval("$parse('{\"a\": [1]}').a[0]", json!(null)),
        Ok(Some(json!(1)))
    );
    assert_eq!(
        eval("$parse('nope')", json!(null)).map_err(|e| e.code),
        Err("D3051".to_string())
    );
    let e = eval("$partition([1], 0)", json!(null)).err();
    assert_eq!(e.map(|e| e.code), Some("D3050".to_string()));
}

#[test]
fn time_and_randomness_come_from_the_event() {
    assert_eq!(
        eval("$millis()", json!(null)),
        Ok(Some(json!(1_700_000_000_123_i64)))
    );
    assert_eq!(
        eval("$now()", json!(null)),
        Ok(Some(json!("2023-11-14T22:13:20.123Z")))
    );
    assert_eq!(
        eval("$now('[Y0001]')", json!(null)),
        Ok(Some(json!("2023")))
    );
    // A picture without a date takes the event's date, not today's.
    let date = "$fromMillis($toMillis('10:30', '[H]:[m]'), '[Y0001]-[M01]-[D01]')";
    assert_eq!(eval(date, json!(null)), Ok(Some(json!("2023-11-14"))));
    let shuffled = eval("$shuffle([1, 2, 3, 4, 5, 6, 7, 8])", json!(null));
    let again = eval("$shuffle([1, 2, 3, 4, 5, 6, 7, 8])", json!(null));
    assert_eq!(shuffled, again, "same entropy, same order");
    let Ok(Some(Value::Array(mut items))) = shuffled else {
        panic!("{shuffled:?}")
    };
    items.sort_by_key(Value::as_i64);
    assert_eq!(Value::Array(items), json!([1, 2, 3, 4, 5, 6, 7, 8]));
    let a = eval("[$random(), $uuid(), $random()]", json!(null));
    assert_eq!(
        a,
        eval("[$random(), $uuid(), $random()]", json!(null)),
        "same entropy, same draws"
    );
    let Ok(Some(Value::Array(draws))) = a else {
        panic!("{a:?}")
    };
    assert_ne!(
        draws.first(),
        draws.get(2),
        "draws differ within one evaluation"
    );
    // java.util.Random(42).nextDouble()
    assert_eq!(
        eval("$random(42)", json!(null)),
        Ok(Some(json!(0.7275636800328681)))
    );
}

#[test]
fn runaway_evaluations_stop_deterministically() {
    let source = "($f := function($n) { $n = 0 ? 0 : $f($n - 1) + $f($n - 1) }; $f(40))";
    let query = Query::parse(source).expect("parses");
    let lookup = |_: &str| None;
    let env = Env {
        input: None,
        variables: &lookup,
        now_millis: 0,
        entropy: 0,
        steps: 50_000,
    };
    let (a, used_a) = query.evaluate(&env).expect_err("stops");
    let (b, used_b) = query.evaluate(&env).expect_err("stops");
    assert!(a.out_of_steps(), "{a:?}");
    assert_eq!((a, used_a), (b, used_b));
    let deep = "($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))";
    let env = Env {
        steps: 100_000_000,
        ..env
    };
    let e = Query::parse(deep)
        .expect("parses")
        .evaluate(&env)
        .expect_err("too deep");
    assert_eq!(e.0.code, "D1011");
}

#[test]
fn deeply_nested_expressions_are_refused_cleanly() {
    let source = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(
        Query::parse(&source).map(|_| ()).map_err(|e| e.code),
        Err("S0220".to_string())
    );
    let source = format!("{}1{}", "[".repeat(150), "]".repeat(150));
    assert!(Query::parse(&source).is_ok());
}

#[test]
fn embedded_finds_the_expression() {
    assert_eq!(embedded("{% 1 + 2 %}"), Some(" 1 + 2 "));
    assert_eq!(embedded(" {% 1 %}"), None);
    assert_eq!(embedded("{% 1"), None);
}
