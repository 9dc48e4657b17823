//! Pattern semantics, table-driven over every operator: the cases are EventBridge's
//! documented and recorded behaviour (AWS's user guide, and answers recorded on AWS).

use super::*;
use serde_json::json;

/// (pattern, event, matches)
fn cases() -> Vec<(Value, Value, bool)> {
    vec![
        // Exact values, arrays as OR, AND across fields.
        (
            json!({"source": ["order"], "detail-type": ["Test"]}),
            json!({"source": "order", "detail-type": "Test"}),
            true,
        ),
        (
            json!({"source": ["order", "invoice"]}),
            json!({"source": "invoice"}),
            true,
        ),
        (
            json!({"source": ["order"], "detail-type": ["Test"]}),
            json!({"source": "order", "detail-type": "Other"}),
            false,
        ),
        (json!({"MY_KEY": ["v"]}), json!({"my_key": "v"}), false),
        (
            json!({"detail": {"my-key": ["v"]}}),
            json!({"detail": "{\"my-key\": \"v\"}"}),
            false,
        ),
        (json!({"a": [null]}), json!({"a": null}), true),
        (json!({"a": [null]}), json!({"a": "null"}), false),
        (json!({"a": [""]}), json!({"a": ""}), true),
        (json!({"a": [""]}), json!({"a": null}), false),
        (json!({"a": [false]}), json!({"a": false}), true),
        (json!({"a": [true]}), json!({"a": "true"}), false),
        (json!({"n": [300]}), json!({"n": 300.0}), true),
        (json!({"n": [300]}), json!({"n": 3.0e2}), true),
        (json!({"n": [300]}), json!({"n": "300"}), false),
        (json!({"a": ["x"]}), json!({}), false),
        (
            json!({"s": ["emoji 🚀 and trailing "]}),
            json!({"s": "emoji 🚀 and trailing "}),
            true,
        ),
        // Event arrays: any element; empty arrays have no value.
        (
            json!({"resources": ["arn:1", "arn:2"]}),
            json!({"resources": ["arn:0", "arn:2"]}),
            true,
        ),
        (
            json!({"resources": ["arn:1"]}),
            json!({"resources": ["arn:0"]}),
            false,
        ),
        (
            json!({"resources": [null]}),
            json!({"resources": []}),
            false,
        ),
        (
            json!({"resources": [{"exists": true}]}),
            json!({"resources": []}),
            false,
        ),
        (
            json!({"d": {"auto": {"id": [{"exists": true}]}}}),
            json!({"d": {"auto": [{"k": 1}, {"id": "x"}]}}),
            true,
        ),
        (json!({"a": ["1"]}), json!({"a": [["0"], ["1"]]}), true),
        // One element of an array must meet every field under it.
        (
            json!({"items": {"a": ["1"], "b": ["2"]}}),
            json!({"items": [{"a": "1", "b": "3"}, {"a": "3", "b": "2"}]}),
            false,
        ),
        (
            json!({"items": {"a": ["1"], "b": ["2"]}}),
            json!({"items": [{"a": "1", "b": "3"}, {"a": "1", "b": "2"}]}),
            true,
        ),
        (
            json!({"items": {"a": ["1"], "b": [{"exists": false}]}}),
            json!({"items": [{"b": "x"}, {"a": "1"}]}),
            true,
        ),
        (
            json!({"items": {"a": ["1"], "b": [{"exists": false}]}}),
            json!({"items": [{"a": "1", "b": "x"}]}),
            false,
        ),
        // Dotted names are paths.
        (json!({"a.b": ["1"]}), json!({"a": {"b": "1"}}), true),
        (json!({"a": {"b": ["1"]}}), json!({"a.b": "1"}), true),
        // Duplicate keys: the last wins.
        (
            serde_json::from_str(
                r#"{"loc": [{"prefix": "us-"}], "loc": [{"anything-but": "us-east"}]}"#,
            )
            .unwrap(),
            json!({"loc": "eu-central-1"}),
            true,
        ),
        // prefix and suffix, with and without case.
        (
            json!({"time": [{"prefix": "2022-07-13"}]}),
            json!({"time": "2022-07-13T13:48:01Z"}),
            true,
        ),
        (
            json!({"time": [{"prefix": "2022-07-99"}]}),
            json!({"time": "2022-07-13T13:48:01Z"}),
            false,
        ),
        (
            json!({"s": [{"prefix": ""}]}),
            json!({"s": "anything"}),
            true,
        ),
        (json!({"n": [{"prefix": "1"}]}), json!({"n": 12}), false),
        (
            json!({"s": [{"prefix": {"equals-ignore-case": "EventB"}}]}),
            json!({"s": "EvEnTbridge"}),
            true,
        ),
        (
            json!({"f": [{"suffix": ".png"}]}),
            json!({"f": "image.png"}),
            true,
        ),
        (
            json!({"f": [{"suffix": ".PNG"}]}),
            json!({"f": "image.png"}),
            false,
        ),
        (
            json!({"f": [{"suffix": {"equals-ignore-case": ".png"}}]}),
            json!({"f": "image.PNG"}),
            true,
        ),
        (
            json!({"f": [{"suffix": {"equals-ignore-case": ".png"}}]}),
            json!({"f": "image.jpg"}),
            false,
        ),
        // equals-ignore-case.
        (
            json!({"t": [{"equals-ignore-case": "ec2 instance state-change"}]}),
            json!({"t": ["EC2 Instance State-change"]}),
            true,
        ),
        (
            json!({"t": [{"equals-ignore-case": ""}]}),
            json!({"t": ""}),
            true,
        ),
        (
            json!({"t": [{"equals-ignore-case": ""}]}),
            json!({"t": "x"}),
            false,
        ),
        (
            json!({"t": [{"equals-ignore-case": "äbc"}]}),
            json!({"t": "ÄBC"}),
            true,
        ),
        // wildcard.
        (
            json!({"arn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}),
            json!({"arn": "arn:aws:events:us-east-1:123456789012:event-bus/b"}),
            true,
        ),
        (
            json!({"f": [{"wildcard": "/Users/*/doc.txt"}]}),
            json!({"f": "/Users/me/dir/dir/doc.txt"}),
            true,
        ),
        (
            json!({"f": [{"wildcard": "/Users/*/doc.txt"}]}),
            json!({"f": "/Users/me/dir/notdoc.txt.bak"}),
            false,
        ),
        (
            json!({"f": [{"wildcard": "xy*"}]}),
            json!({"f": "xy"}),
            true,
        ),
        (json!({"f": [{"wildcard": ""}]}), json!({"f": "x"}), false),
        (
            json!({"f": [{"wildcard": "a\\*b"}]}),
            json!({"f": "a*b"}),
            true,
        ),
        (
            json!({"f": [{"wildcard": "a\\*b"}]}),
            json!({"f": "axb"}),
            false,
        ),
        (json!({"f": [{"wildcard": "*"}]}), json!({"f": 1}), false),
        // anything-but: the field must be there; null passes.
        (
            json!({"n": [{"anything-but": 123}]}),
            json!({"n": 789}),
            true,
        ),
        (
            json!({"n": [{"anything-but": 123}]}),
            json!({"n": 123}),
            false,
        ),
        (
            json!({"n": [{"anything-but": [100, 200]}]}),
            json!({"n": 100}),
            false,
        ),
        (
            json!({"n": [{"anything-but": [100, 200]}]}),
            json!({"n": "100"}),
            true,
        ),
        (
            json!({"s": [{"anything-but": "init"}]}),
            json!({"s": "pending"}),
            true,
        ),
        (
            json!({"s": [{"anything-but": "init"}]}),
            json!({"s": "init"}),
            false,
        ),
        (
            json!({"s": [{"anything-but": ["stopped", "overloaded"]}]}),
            json!({"s": "stopped"}),
            false,
        ),
        (
            json!({"s": [{"anything-but": ["stopped", "overloaded"]}]}),
            json!({}),
            false,
        ),
        (
            json!({"s": [{"anything-but": ["stopped", "overloaded"]}]}),
            json!({"s": null}),
            true,
        ),
        (
            json!({"s": [{"anything-but": "init"}]}),
            json!({"s": ["init", "other"]}),
            true,
        ),
        (
            json!({"s": [{"anything-but": {"equals-ignore-case": "init"}}]}),
            json!({"s": "INIT"}),
            false,
        ),
        (
            json!({"s": [{"anything-but": {"equals-ignore-case": ["init", "stopped"]}}]}),
            json!({"s": "pending"}),
            true,
        ),
        (
            json!({"s": [{"anything-but": {"prefix": "init"}}]}),
            json!({"s": "post-init"}),
            true,
        ),
        (
            json!({"s": [{"anything-but": {"prefix": "init"}}]}),
            json!({"s": "init-x"}),
            false,
        ),
        (
            json!({"s": [{"anything-but": {"prefix": "init"}}]}),
            json!({"s": 12}),
            true,
        ),
        (
            json!({"s": [{"anything-but": {"prefix": ["init", "post"]}}]}),
            json!({"s": "post-init"}),
            false,
        ),
        (
            json!({"s": [{"anything-but": {"prefix": "init"}}]}),
            json!({}),
            false,
        ),
        (
            json!({"f": [{"anything-but": {"suffix": ".txt"}}]}),
            json!({"f": "a.txt.bak"}),
            true,
        ),
        (
            json!({"f": [{"anything-but": {"suffix": [".txt", ".jpg"]}}]}),
            json!({"f": "a.jpg"}),
            false,
        ),
        (
            json!({"f": [{"anything-but": {"wildcard": "*/dir/*"}}]}),
            json!({"f": "dir/init/file"}),
            true,
        ),
        (
            json!({"f": [{"anything-but": {"wildcard": "*/init/*"}}]}),
            json!({"f": "dir/init/file"}),
            false,
        ),
        (
            json!({"f": [{"anything-but": {"wildcard": ""}}]}),
            json!({"f": "x"}),
            true,
        ),
        (
            json!({"f": [{"anything-but": {"wildcard": "*/dir/*"}}]}),
            json!({"f": 123}),
            true,
        ),
        (
            json!({"f": [{"anything-but": {"wildcard": "*/dir/*"}}]}),
            json!({"f": null}),
            true,
        ),
        // numeric: numbers only.
        (
            json!({"c": [{"numeric": [">", 0, "<=", 5]}], "d": [{"numeric": ["<", 10]}], "x": [{"numeric": ["=", 301.8]}]}),
            json!({"c": 3, "d": 9, "x": 301.8}),
            true,
        ),
        (
            json!({"c": [{"numeric": [">", 0, "<=", 5]}]}),
            json!({"c": 42}),
            false,
        ),
        (
            json!({"c": [{"numeric": [">", 0, "<=", 5]}]}),
            json!({"c": 5}),
            true,
        ),
        (
            json!({"c": [{"numeric": [">", 0, "<", 5]}]}),
            json!({"c": 5}),
            false,
        ),
        (
            json!({"c": [{"numeric": [">=", 0]}]}),
            json!({"c": 0}),
            true,
        ),
        (
            json!({"c": [{"numeric": [">", 100]}]}),
            json!({"c": 101.0}),
            true,
        ),
        (
            json!({"c": [{"numeric": [">", 100]}]}),
            json!({"c": "300"}),
            false,
        ),
        (
            json!({"c": [{"numeric": [">", 100]}]}),
            json!({"c": null}),
            false,
        ),
        (
            json!({"x": [{"numeric": ["=", 3.018e2]}]}),
            json!({"x": 301.8}),
            true,
        ),
        // exists: leaves only.
        (
            json!({"d": {"state": [{"exists": true}]}}),
            json!({"d": {"state": "pending"}}),
            true,
        ),
        (
            json!({"d": {"state": [{"exists": true}]}}),
            json!({"d": {"c": {"c1": 100}}}),
            false,
        ),
        (
            json!({"d": {"state": [{"exists": true}]}}),
            json!({"d": {"state": null}}),
            true,
        ),
        (
            json!({"d": {"l1": {"l2": {"l3": [{"exists": false}]}}}}),
            json!({"d": {"l1": {"l2": "v"}}}),
            true,
        ),
        (
            json!({"d": {"l1": {"l2": [{"exists": false}]}}}),
            json!({"d": {"l1": {"l2": "v"}}}),
            false,
        ),
        (
            json!({"d": {"l1": {"l2": [{"exists": false}]}}}),
            json!({"d": {"l1": {"l2": null}}}),
            false,
        ),
        (
            json!({"ddb": {"key": [{"exists": true}]}}),
            json!({"ddb": {"key": {"S": "x"}}}),
            false,
        ),
        (
            json!({"ddb": {"key": {"S": [{"exists": true}]}}}),
            json!({"ddb": {"key": {"S": "x"}}}),
            true,
        ),
        (json!({"a": ["x", {"exists": false}]}), json!({}), true),
        (
            json!({"a": ["x", {"exists": false}]}),
            json!({"a": "y"}),
            false,
        ),
        (
            json!({"a": [{"exists": true}, {"prefix": "IGNORED"}]}),
            json!({"a": "v"}),
            true,
        ),
        // cidr, IPv4 and IPv6 in any spelling.
        (
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": "10.0.0.255"}),
            true,
        ),
        (
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": "10.0.1.0"}),
            false,
        ),
        (
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": "10.0.0.256"}),
            false,
        ),
        (
            json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
            json!({"ip": 123}),
            false,
        ),
        (
            json!({"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]}),
            json!({"ip": "2001:0db8:1234:1a00:0000:0000:0000:0000"}),
            true,
        ),
        (
            json!({"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]}),
            json!({"ip": "2001:DB8:1234:1A00::1"}),
            true,
        ),
        (
            json!({"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]}),
            json!({"ip": "2001:0db8:123f:1a01::"}),
            false,
        ),
        (
            json!({"ip": ["2001:db8::1"]}),
            json!({"ip": "2001:0DB8:0:0::1"}),
            true,
        ),
        // $or at any level, joined with its siblings.
        (
            json!({"d": {"$or": [{"c": [{"numeric": [">", 0, "<=", 5]}]}, {"d": [{"numeric": ["<", 10]}]}, {"x": [{"numeric": ["=", 301.8]}]}]}}),
            json!({"d": {"c": 0, "d": 0, "x": 901.8}}),
            true,
        ),
        (
            json!({"d": {"$or": [{"c": [{"numeric": [">", 0, "<=", 5]}]}, {"d": [{"numeric": ["<", 10]}]}]}}),
            json!({"d": {"c": 0, "d": 10}}),
            false,
        ),
        (
            json!({"source": ["a"], "$or": [{"x": ["1"]}, {"y": ["2"]}]}),
            json!({"source": "a", "y": "2"}),
            true,
        ),
        (
            json!({"source": ["a"], "$or": [{"x": ["1"]}, {"y": ["2"]}]}),
            json!({"source": "b", "y": "2"}),
            false,
        ),
        (
            json!({"$or": [{"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"c": ["3"]}]}),
            json!({"b": "2"}),
            true,
        ),
    ]
}

#[test]
fn every_operator_matches_as_eventbridge_does() {
    let mut failures = Vec::new();
    for (pattern, event, expected) in cases() {
        let compiled = Pattern::of_value(&pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        if compiled.matches(&event) != expected {
            failures.push(format!("{pattern} on {event}: expected {expected}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn bad_patterns_get_rulers_reasons() {
    let cases = [
        (r#"["a"]"#, "Filter is not an object"),
        (r#"{"int": 42}"#, "\"int\" must be an object or an array"),
        (r#"{"r": []}"#, "Empty arrays are not allowed"),
        (r#"{"r": {}}"#, "Empty objects are not allowed"),
        (r#"{"r": [["x"]]}"#, "Match value must be String, number, true, false, or null"),
        (r#"{"r": [{}]}"#, "Match expression name not found"),
        (r#"{"r": [{"prefix": "a", "suffix": "b"}]}"#, "Only one key allowed in match expression"),
        (r#"{"r": [{"NUMERIC": ["=", 5]}]}"#, "Unrecognized match type NUMERIC"),
        (r#"{"r": [{"EXISTS": true}]}"#, "Unrecognized match type EXISTS"),
        (r#"{"r": [{"prefix": 123}]}"#, "prefix match pattern must be a string"),
        (r#"{"r": [{"prefix": ["a"]}]}"#, "prefix match pattern must be a string"),
        (r#"{"r": [{"suffix": 123}]}"#, "suffix match pattern must be a string"),
        (r#"{"r": [{"prefix": {"other": "a"}}]}"#, "Unsupported prefix pattern: other"),
        (r#"{"r": [{"equals-ignore-case": ["a"]}]}"#, "equals-ignore-case match pattern must be a string"),
        (r#"{"r": [{"equals-ignore-case": {"prefix": "a"}}]}"#, "equals-ignore-case match pattern must be a string"),
        (r#"{"r": [{"wildcard": 123}]}"#, "wildcard match pattern must be a string"),
        (r#"{"r": [{"wildcard": ["a*"]}]}"#, "wildcard match pattern must be a string"),
        (r#"{"r": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}"#, "Consecutive wildcard characters at pos 26"),
        (r#"{"r": [{"wildcard": "a\\b"}]}"#, "Invalid escape character at pos 2"),
        (r#"{"r": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}"#, "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character"),
        (r#"{"r": [{"exists": "yes"}]}"#, "exists match pattern must be either true or false."),
        (r#"{"r": [{"numeric": 10}]}"#, "Value of numeric must be an array."),
        (r#"{"r": [{"numeric": [">", 0, ">", 0]}]}"#, "Bad numeric range operator: >"),
        (r#"{"r": [{"numeric": [">", 0, "<"]}]}"#, "Value of < must be numeric"),
        (r#"{"r": [{"numeric": []}]}"#, "Invalid member in numeric match: ]"),
        (r#"{"r": [{"numeric": ["!=", 5]}]}"#, "Unrecognized numeric range operator: !="),
        (r#"{"r": [{"numeric": ["<=", 10, ">", 5]}]}"#, "Too many elements in numeric expression"),
        (r#"{"r": [{"numeric": [">", 10, "<", 5]}]}"#, "Bottom must be less than top"),
        (r#"{"r": [{"numeric": [">", "a"]}]}"#, "Value of > must be numeric"),
        (r#"{"r": [{"anything-but": null}]}"#, "Value of anything-but must be an array or single string/number value."),
        (r#"{"r": [{"anything-but": {"prefix": {"equals-ignore-case": "a"}}}]}"#, "Value of anything-but must be an array or single string/number value."),
        (r#"{"r": [{"anything-but": ["a", null]}]}"#, "Inside anything but list, start|null|boolean is not supported."),
        (r#"{"r": [{"anything-but": ["a", 1]}]}"#, "Inside anything but list, either all values are number or string, mixed type is not supported"),
        (r#"{"r": [{"anything-but": {"prefix": ""}}]}"#, "Null prefix/suffix not allowed"),
        (r#"{"r": [{"anything-but": {"suffix": [1, ".txt"]}}]}"#, "prefix/suffix match pattern must be a string"),
        (r#"{"r": [{"anything-but": {"wildcard": 1}}]}"#, "wildcard match pattern must be a string"),
        (r#"{"r": [{"anything-but": {"equals-ignore-case": [1]}}]}"#, "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."),
        (r#"{"r": [{"anything-but": {"regex": "a"}}]}"#, "Unsupported anything-but pattern: regex"),
        (r#"{"r": [{"cidr": "bad-filter"}]}"#, "Malformed CIDR, one '/' required"),
        (r#"{"r": [{"cidr": "bad-/64filter"}]}"#, "Malformed CIDR, mask bits must be an integer"),
        (r#"{"r": [{"cidr": "xx.11.xx/8"}]}"#, "Nonstandard IP address: xx.11.xx"),
        (r#"{"r": [{"cidr": "10.0.0.0/-1"}]}"#, "Malformed CIDR, mask bits must not be negative"),
        (r#"{"r": [{"cidr": "10.0.0.1/32"}]}"#, "IPv4 mask bits must be < 32"),
        (r#"{"r": [{"cidr": "::1/128"}]}"#, "IPv6 mask bits must be < 128"),
        (r#"{"r": [{"cidr": ["10.0.0.0/8"]}]}"#, "prefix match pattern must be a string"),
        (r#"{"$or": [{"a": ["1"]}]}"#, "There must have at least 2 Objects in $or relationship."),
        (r#"{"$or": {"a": ["1"]}}"#, "It must be an Array followed with $or."),
        (r#"{"$or": [{"a": ["1"]}, "b"]}"#, "Only JSON object is allowed in array of $or relationship."),
        (r#"{"$or": [{"numeric": [1]}, {"b": ["2"]}]}"#, "numeric is Ruler reserved fieldName which cannot be used inside $or."),
    ];
    for (pattern, reason) in cases {
        match Pattern::parse(pattern) {
            Err(Invalid(got)) => assert_eq!(got, reason, "{pattern}"),
            Ok(_) => panic!("{pattern} was accepted; expected {reason}"),
        }
    }
    assert!(Pattern::parse("{nope").is_err());
    assert!(Pattern::parse(&format!(
        r#"{{"a": ["{}"]}}"#,
        "x".repeat(MAX_PATTERN_BYTES)
    ))
    .is_err());
}

#[test]
fn or_expansion_and_searches_are_bounded() {
    // 2^11 alternatives: refused as too complex rather than expanded.
    let mut pattern = serde_json::Map::new();
    for i in 0..11 {
        pattern.insert(
            format!("k{i}"),
            json!({"$or": [{"a": ["1"]}, {"b": ["2"]}]}),
        );
    }
    let e = Pattern::of_value(&Value::Object(pattern)).unwrap_err();
    assert!(e.0.starts_with("Rule is too complex"), "{e}");
    // Every element offers `a` and none lacks `c`: a quadratic search, cut off by the
    // budget (answered as no match, which is also the right answer here; the fuzz target
    // watches the time).
    let wide: Vec<Value> = (0..5000).map(|_| json!({"a": 1, "c": 1})).collect();
    let p = Pattern::of_value(&json!({"x": {"a": [1], "c": [{"exists": false}]}})).unwrap();
    assert!(!p.matches(&json!({"x": wide})));
}
