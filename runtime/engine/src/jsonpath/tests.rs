use serde_json::{json, Value};

use super::*;

fn store() -> Value {
    json!({
        "store": {
            "book": [
                {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
                {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
                {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553", "price": 8.99},
                {"category": "fiction", "author": "J. R. R. Tolkien", "title": "LOTR", "isbn": "0-395", "price": 22.99}
            ],
            "bicycle": {"color": "red", "price": 19.95}
        },
        "expensive": 10
    })
}

fn sel(path: &str, doc: &Value) -> Option<Value> {
    Path::parse(path).unwrap().select(doc)
}

#[test]
fn root_returns_whole_document() {
    assert_eq!(sel("$", &store()), Some(store()));
    assert_eq!(sel("$", &json!("x")), Some(json!("x")));
}

#[test]
fn definite_names_and_indices() {
    let doc = store();
    assert_eq!(sel("$.expensive", &doc), Some(json!(10)));
    assert_eq!(sel("$.store.bicycle.color", &doc), Some(json!("red")));
    assert_eq!(
        sel("$['store']['bicycle']['color']", &doc),
        Some(json!("red"))
    );
    assert_eq!(
        sel("$[\"store\"].bicycle[\"price\"]", &doc),
        Some(json!(19.95))
    );
    assert_eq!(
        sel("$.store.book[0].author", &doc),
        Some(json!("Nigel Rees"))
    );
    assert_eq!(sel("$.store.book[-1].title", &doc), Some(json!("LOTR")));
}

#[test]
fn definite_missing_is_none() {
    let doc = store();
    assert_eq!(sel("$.nope", &doc), None);
    assert_eq!(sel("$.store.book[4]", &doc), None);
    assert_eq!(sel("$.store.book[-5]", &doc), None);
    assert_eq!(sel("$.expensive.x", &doc), None);
    assert_eq!(sel("$.store[0]", &doc), None);
    assert_eq!(sel("$.a", &json!("text")), None);
    assert_eq!(sel("$.a", &json!({"a": null})), Some(Value::Null));
    assert_eq!(sel("$.a.b", &json!({"a": null})), None);
}

#[test]
fn wildcards() {
    let doc = store();
    assert_eq!(
        sel("$.store.book[*].author", &doc),
        Some(json!([
            "Nigel Rees",
            "Evelyn Waugh",
            "Herman Melville",
            "J. R. R. Tolkien"
        ]))
    );
    assert_eq!(sel("$.store.bicycle.*", &doc), Some(json!(["red", 19.95])));
    assert_eq!(
        sel("$.store.book.*.price", &doc),
        Some(json!([8.95, 12.99, 8.99, 22.99]))
    );
    // Missing members are skipped in indefinite paths, even where nothing matches at all.
    assert_eq!(
        sel("$.store.book[*].isbn", &doc),
        Some(json!(["0-553", "0-395"]))
    );
    assert_eq!(sel("$.items[*].itemValue", &json!({})), Some(json!([])));
    assert_eq!(sel("$.x[*]", &json!({"x": 3})), Some(json!([])));
}

#[test]
fn deep_scan() {
    let doc = store();
    assert_eq!(
        sel("$..author", &doc),
        Some(json!([
            "Nigel Rees",
            "Evelyn Waugh",
            "Herman Melville",
            "J. R. R. Tolkien"
        ]))
    );
    assert_eq!(
        sel("$.store..price", &doc),
        Some(json!([8.95, 12.99, 8.99, 22.99, 19.95]))
    );
    assert_eq!(sel("$..book[2].title", &doc), Some(json!(["Moby Dick"])));
    assert_eq!(
        sel("$..*", &json!({"a": {"b": 1}, "c": [2]})),
        Some(json!([{"b": 1}, [2], 1, 2]))
    );
    assert_eq!(sel("$..['color']", &doc), Some(json!(["red"])));
}

#[test]
fn unions_and_slices() {
    let doc = json!({"a": [0, 1, 2, 3, 4], "o": {"x": 1, "y": 2, "z": 3}});
    assert_eq!(sel("$.a[0,2]", &doc), Some(json!([0, 2])));
    assert_eq!(sel("$.a[0, -1]", &doc), Some(json!([0, 4])));
    assert_eq!(sel("$.a[1:3]", &doc), Some(json!([1, 2])));
    assert_eq!(sel("$.a[:2]", &doc), Some(json!([0, 1])));
    assert_eq!(sel("$.a[-2:]", &doc), Some(json!([3, 4])));
    assert_eq!(sel("$.a[3:]", &doc), Some(json!([3, 4])));
    assert_eq!(sel("$.a[3:10]", &doc), Some(json!([3, 4])));
    assert_eq!(sel("$.a[4:1]", &doc), Some(json!([])));
    assert_eq!(sel("$.items[1:]", &json!({})), Some(json!([])));
    // Jayway merges a trailing union of names into one object.
    assert_eq!(sel("$.o['x','z']", &doc), Some(json!({"x": 1, "z": 3})));
    assert_eq!(sel("$.o['x','nope']", &doc), Some(json!({"x": 1})));
    assert_eq!(sel("$['o','a'][0]", &doc), Some(json!([0])));
}

#[test]
fn filters() {
    let doc = store();
    assert_eq!(
        sel("$.store.book[?(@.price < 10)].title", &doc),
        Some(json!(["Sayings", "Moby Dick"]))
    );
    assert_eq!(
        sel("$.store.book[?(@.isbn)].title", &doc),
        Some(json!(["Moby Dick", "LOTR"]))
    );
    assert_eq!(
        sel("$.store.book[?(!@.isbn)].title", &doc),
        Some(json!(["Sayings", "Sword"]))
    );
    assert_eq!(
        sel(
            "$.store.book[?(@.category == 'fiction' && @.price > 12)].title",
            &doc
        ),
        Some(json!(["Sword", "LOTR"]))
    );
    assert_eq!(
        sel(
            "$.store.book[?(@.price < 9 || @.author == \"Evelyn Waugh\")].title",
            &doc
        ),
        Some(json!(["Sayings", "Sword", "Moby Dick"]))
    );
    assert_eq!(
        sel("$.store.book[?(@.price > $.expensive)].title", &doc),
        Some(json!(["Sword", "LOTR"]))
    );
    assert_eq!(
        sel("$.store.book[?(@.price >= 22.99)].title", &doc),
        Some(json!(["LOTR"]))
    );
    assert_eq!(
        sel("$.store.book[?(@.price <= 8.95)].title", &doc),
        Some(json!(["Sayings"]))
    );
    assert_eq!(
        sel("$.store.book[?(@.category != 'fiction')].title", &doc),
        Some(json!(["Sayings"]))
    );
    assert_eq!(
        sel("$..book[?(@.author == @.author)].price", &doc),
        Some(json!([8.95, 12.99, 8.99, 22.99]))
    );
    assert_eq!(
        sel(
            "$.xs[?(@.ok == true)].n",
            &json!({"xs": [{"ok": true, "n": 1}, {"ok": false, "n": 2}, {"ok": null, "n": 3}]})
        ),
        Some(json!([1]))
    );
    assert_eq!(
        sel(
            "$.xs[?(@.ok == null)].n",
            &json!({"xs": [{"ok": null, "n": 3}, {"n": 4}]})
        ),
        Some(json!([3]))
    );
    assert_eq!(
        sel("$.xs[?(@ > 1)]", &json!({"xs": [1, 2, 3]})),
        Some(json!([2, 3]))
    );
    assert_eq!(
        sel(
            "$.xs[?(@.a.length() > 1)].a",
            &json!({"xs": [{"a": [1]}, {"a": [1, 2]}]})
        ),
        Some(json!([[1, 2]]))
    );
    // Filters over an object test the object itself; a deep scan tests each object once.
    assert_eq!(
        sel("$.store.bicycle[?(@.color == 'red')].price", &doc),
        Some(json!([19.95]))
    );
    assert_eq!(
        sel("$..[?(@.price > 20)].price", &doc),
        Some(json!([22.99]))
    );
    // Mixed types never order; numbers compare by value.
    assert_eq!(
        sel("$.xs[?(@ < 'b')]", &json!({"xs": [1, "a", "c"]})),
        Some(json!(["a"]))
    );
    // Jayway's `==` also takes a string that spells the number.
    assert_eq!(
        sel("$.xs[?(@ == 1)]", &json!({"xs": [1.0, 1, "1", "01"]})),
        Some(json!([1.0, 1, "1"]))
    );
}

#[test]
fn length_function() {
    let doc = json!({"a": [1, 2, 3], "s": "héllo"});
    assert_eq!(sel("$.a.length()", &doc), Some(json!(3)));
    assert_eq!(sel("$.s.length()", &doc), Some(json!(5)));
    assert_eq!(sel("$.nope.length()", &doc), None);
    assert!(Path::parse("$.a.length().x").is_err());
}

#[test]
fn names_with_special_characters() {
    let doc = json!({"delivery-partner": 1, "a$b": 2, "ünï": 3, "with space": 4, "q'uote": 5});
    assert_eq!(sel("$.delivery-partner", &doc), Some(json!(1)));
    assert_eq!(sel("$.a$b", &doc), Some(json!(2)));
    assert_eq!(sel("$.ünï", &doc), Some(json!(3)));
    assert_eq!(sel("$['with space']", &doc), Some(json!(4)));
    assert_eq!(sel("$['q\\'uote']", &doc), Some(json!(5)));
    // AWS keeps a backslash that does not escape the quote (recorded conformance case).
    let doc = json!({"Test\\\"\"Name\"": "v"});
    assert_eq!(sel("$['Test\\\"\"Name\"']", &doc), Some(json!("v")));
}

#[test]
fn malformed_paths_are_rejected() {
    for bad in [
        "",
        "a.b",
        "$.",
        "$..",
        "$.a.",
        "$[",
        "$[0",
        "$['a'",
        "$['a]",
        "$[a]",
        "$.a b",
        "$a",
        "$$",
        "$.a[?(@.b <)]",
        "$.a[?(@.b = 1)]",
        "$.a[:]",
        "$.a[::]",
        "$.a[99999999999]",
        "$[?@.a]",
        "$[?(@.a =! 1)]",
        "$.a[-]",
        "$.nope()",
        "$[?(1)]",
        "$.a]",
    ] {
        let err = Path::parse(bad);
        assert!(err.is_err(), "{bad:?} parsed: {err:?}");
    }
    let err = Path::parse("$.a b").unwrap_err();
    assert_eq!(err.path, "$.a b");
    assert!(err.to_string().contains("not allowed"), "{err}");
}

#[test]
fn definiteness() {
    for (path, definite) in [
        ("$", true),
        ("$.a[0]['b']", true),
        ("$.a[-1]", true),
        ("$.a.length()", true),
        ("$.a[*]", false),
        ("$.*", false),
        ("$..a", false),
        ("$.a[0,1]", false),
        ("$['a','b']", false),
        ("$.a[1:]", false),
        ("$.a[?(@.b)]", false),
    ] {
        assert_eq!(Path::parse(path).unwrap().is_definite(), definite, "{path}");
    }
    assert!(is_reference_path("$.a[0].b"));
    assert!(is_reference_path("$"));
    assert!(!is_reference_path("$.a.length()"));
    assert!(!is_reference_path("$.a[*]"));
    assert!(!is_reference_path("nope"));
    assert_eq!(Path::parse("$.a").unwrap().text(), "$.a");
}

fn set(path: &str, mut doc: Value, value: Value) -> Result<Value, SetError> {
    Path::parse(path).unwrap().set(&mut doc, value)?;
    Ok(doc)
}

#[test]
fn set_writes_and_creates() {
    assert_eq!(set("$", json!({"a": 1}), json!(2)), Ok(json!(2)));
    assert_eq!(
        set("$.b", json!({"a": 1}), json!(2)),
        Ok(json!({"a": 1, "b": 2}))
    );
    assert_eq!(
        set("$.a", json!({"a": 1}), json!({"x": 1})),
        Ok(json!({"a": {"x": 1}}))
    );
    assert_eq!(
        set("$.x.y.z", json!({}), json!(1)),
        Ok(json!({"x": {"y": {"z": 1}}}))
    );
    assert_eq!(
        set("$.x['y z']", json!({"x": {"k": 0}}), json!(1)),
        Ok(json!({"x": {"k": 0, "y z": 1}}))
    );
    assert_eq!(
        set("$.a[1]", json!({"a": [1, 2]}), json!(9)),
        Ok(json!({"a": [1, 9]}))
    );
    assert_eq!(
        set("$.a[-1].b", json!({"a": [{}, {}]}), json!(9)),
        Ok(json!({"a": [{}, {"b": 9}]}))
    );
    assert_eq!(set("$[0]", json!([1]), json!(2)), Ok(json!([2])));
}

#[test]
fn set_conflicts() {
    let conflict = |p: &str| Err(SetError::Conflict(p.to_string()));
    assert_eq!(set("$.a", json!("str"), json!(1)), conflict("$.a"));
    assert_eq!(set("$.a", json!(3), json!(1)), conflict("$.a"));
    assert_eq!(set("$.a.b", json!({"a": 1}), json!(1)), conflict("$.a.b"));
    assert_eq!(set("$.a.b", json!({"a": [1]}), json!(1)), conflict("$.a.b"));
    assert_eq!(
        set("$.a[2]", json!({"a": [1]}), json!(1)),
        conflict("$.a[2]")
    );
    assert_eq!(set("$.a[0]", json!({}), json!(1)), conflict("$.a[0]"));
    assert_eq!(
        set("$.a[0]", json!({"a": {}}), json!(1)),
        conflict("$.a[0]")
    );
    assert_eq!(
        set("$.a[*]", json!({}), json!(1)),
        Err(SetError::NotReference("$.a[*]".to_string()))
    );
    assert_eq!(
        set("$..a", json!({}), json!(1)),
        Err(SetError::NotReference("$..a".to_string()))
    );
}

fn reference(text: &str) -> (Root, String) {
    let r = Reference::parse(text).unwrap();
    (r.root, r.path.text().to_string())
}

#[test]
fn references() {
    assert_eq!(reference("$"), (Root::Input, "$".into()));
    assert_eq!(reference("$.a[0]"), (Root::Input, "$.a[0]".into()));
    assert_eq!(reference("$['x']"), (Root::Input, "$['x']".into()));
    assert_eq!(reference("$$"), (Root::Context, "$".into()));
    assert_eq!(
        reference("$$.Execution.Id"),
        (Root::Context, "$.Execution.Id".into())
    );
    assert_eq!(reference("$$['Map']"), (Root::Context, "$['Map']".into()));
    assert_eq!(reference("$x"), (Root::Variable("x".into()), "$".into()));
    assert_eq!(
        reference("$my_var1.a.b"),
        (Root::Variable("my_var1".into()), "$.a.b".into())
    );
    assert_eq!(
        reference("$items[0]"),
        (Root::Variable("items".into()), "$[0]".into())
    );
    assert_eq!(
        reference("$_v..x"),
        (Root::Variable("_v".into()), "$..x".into())
    );
    for bad in ["", "a", "$1x", "$x-y", "$$$", "$$x", "$.a b", "$x."] {
        assert!(Reference::parse(bad).is_err(), "{bad:?}");
    }
    let err = Reference::parse("$$.a b").unwrap_err();
    assert_eq!(err.path, "$$.a b");
}

// Limits. Every test runs on the ordinary 2 MiB test thread, so a parser, evaluator or drop
// that recursed once per character again would crash the test binary, not just fail.

/// `$[?(` + `!` × n + `@.a)]`: a filter, its parentheses and n `!`, n + 2 levels.
fn bangs(n: usize) -> String {
    format!("$[?({}@.a)]", "!".repeat(n))
}

/// A filter, its parentheses and n more around its expression, n + 2 levels.
fn parens(n: usize) -> String {
    format!("$[?({}@.a{})]", "(".repeat(n), ")".repeat(n))
}

/// n filters with their parentheses, each inside the previous one's `@`, 2n levels.
fn nested_filters(n: usize) -> String {
    format!("${}.a{}", "[?(@".repeat(n), ")]".repeat(n))
}

fn refusal(text: &str) -> Error {
    match Path::parse(text) {
        Ok(_) => panic!("{} characters parsed", text.len()),
        Err(err) => err,
    }
}

#[test]
fn four_thousand_bangs_are_refused_without_overflowing() {
    // Issue 11, finding 1: this path in an InputPath crashed the server.
    let err = refusal(&bangs(4000));
    assert!(err.limit);
    assert!(
        err.reason
            .contains(&format!("the limit of {MAX_NESTING} levels")),
        "{}",
        err.reason
    );
    for hostile in [parens(4000), nested_filters(4000), "$[?(!(".repeat(2000)] {
        let err = refusal(&hostile);
        assert!(err.limit, "{}", err.reason);
    }
}

#[test]
fn nesting_up_to_the_limit_parses_evaluates_and_drops() {
    let doc = json!([{"a": 1}, {"b": 2}]);
    // 62 `!` (even): 64 levels, the same as none.
    let path = Path::parse(&bangs(MAX_NESTING - 2)).unwrap();
    assert_eq!(path.select(&doc), Some(json!([{"a": 1}])));
    let path = Path::parse(&parens(MAX_NESTING - 2)).unwrap();
    assert_eq!(path.select(&doc), Some(json!([{"a": 1}])));
    let nested = json!([[[1]]]);
    // An existence test of an indefinite path holds when nothing on the way is missing.
    let path = Path::parse(&nested_filters(MAX_NESTING / 2)).unwrap();
    assert_eq!(path.select(&nested), Some(json!([[[1]]])));
    let copy = path.clone();
    assert_eq!(copy, path);
    drop((path, copy));

    assert!(refusal(&bangs(MAX_NESTING - 1)).limit);
    assert!(refusal(&parens(MAX_NESTING - 1)).limit);
    assert!(refusal(&nested_filters(MAX_NESTING / 2 + 1)).limit);
}

#[test]
fn long_or_and_chains_stay_flat() {
    // `||` and `&&` do not nest, so 100,000 terms are as deep as one.
    let terms = vec!["@.a == 2"; 100_000];
    let or = format!("$[?({} || @.a == 1)]", terms.join(" || "));
    let doc = json!([{"a": 1}, {"a": 3}]);
    assert_eq!(sel(&or, &doc), Some(json!([{"a": 1}])));
    let and = format!("$[?({} && @.a == 1)]", vec!["@.a"; 100_000].join(" && "));
    assert_eq!(sel(&and, &doc), Some(json!([{"a": 1}])));
}

#[test]
fn steps_are_limited() {
    let at_limit = format!("${}", ".a".repeat(MAX_STEPS));
    let path = Path::parse(&at_limit).unwrap();
    assert!(path.is_reference());
    let mut doc = json!({});
    path.set(&mut doc, json!(1)).unwrap();
    assert!(Path::parse(&format!("{at_limit}.length()")).is_ok());

    let over = format!("${}", ".a".repeat(MAX_STEPS + 1));
    let err = refusal(&over);
    assert!(err.limit);
    assert!(
        err.reason
            .contains(&format!("the limit of {MAX_STEPS} steps")),
        "{}",
        err.reason
    );
    // A ResultPath that would build data 100,000 levels deep.
    assert!(refusal(&format!("${}", ".a".repeat(100_000))).limit);
    assert!(refusal(&format!("$[?(@{})]", "[0]".repeat(MAX_STEPS + 1))).limit);
    // Syntax errors are not limits.
    assert!(!refusal("$.a b").limit);
}

#[test]
fn work_is_limited_where_nesting_multiplies_it() {
    // Each filter level walks all of `$.a` again: 200^4 tests, far past the budget.
    let doc = json!({"a": vec![json!({"x": 1}); 200]});
    let bomb = Path::parse("$.a[?($.a[?($.a[?($.a[?(@.x)])])])]").unwrap();
    assert_eq!(
        bomb.try_select(&doc),
        Err(SelectError {
            path: bomb.text().to_string()
        })
    );
    assert_eq!(bomb.select(&doc), None);
    // Repeated deep scans over a deep comb: the matches multiply by the depth per `..`.
    let mut comb = json!(vec![0; 1000]);
    for _ in 0..100 {
        comb = json!({"a": comb, "b": 0});
    }
    let scans = Path::parse("$..*..*..*").unwrap();
    assert!(scans.try_select(&comb).is_err());
    drop(comb);

    // One level of the same shapes is well inside the budget.
    let once = Path::parse("$.a[?($.a[0].x == @.x)]").unwrap();
    assert_eq!(
        once.try_select(&doc)
            .unwrap()
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        200
    );
    let items: Vec<Value> = (0..20_000).map(|i| json!({"i": i, "t": [i]})).collect();
    let big = json!({"items": items});
    let filter = Path::parse("$.items[?(@.i >= 10000 && @.t[0] > 0)].i").unwrap();
    assert_eq!(
        filter
            .try_select(&big)
            .unwrap()
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        10_000
    );
    assert!(Path::parse("$..t").unwrap().try_select(&big).is_ok());
}

#[test]
fn a_budget_can_be_shared_between_evaluations() {
    let doc = json!({"a": [1, 2, 3]});
    let path = Path::parse("$.a[*]").unwrap();
    let mut budget = Budget::new(20);
    assert_eq!(
        path.select_within(&doc, &mut budget),
        Ok(Some(json!([1, 2, 3])))
    );
    let left = budget.remaining();
    assert!(left < 20);
    while !budget.exhausted() {
        let _ = path.select_within(&doc, &mut budget);
    }
    // Once spent, it stays spent, even for a path that needs almost nothing.
    let err = Path::parse("$").unwrap().select_within(&doc, &mut budget);
    assert_eq!(err, Err(SelectError { path: "$".into() }));
}

#[test]
fn jayway_slices() {
    let six = json!([2, "a", 4, 5, 100, "nice"]);
    for (path, expected) in [
        ("$[-4:1]", json!([4, 5, 100, "nice", 2])),
        ("$[3:-2]", json!([])),
        ("$[-2:]", json!([100, "nice"])),
        ("$[:-4]", json!([2, "a"])),
        ("$[0:3:2]", json!([2, "a", 4])),
        ("$[3::-1]", json!([5, 100, "nice"])),
        ("$[010:024]", json!([])),
    ] {
        assert_eq!(sel(path, &six), Some(expected), "{path}");
    }
    assert_eq!(
        sel("$[1:3]", &json!({"a": 1})),
        Some(json!([])),
        "AWS suppresses Jayway's not-found"
    );
}

#[test]
fn jayway_names() {
    let doc = json!({"key": "value", "'key'": 42, "a": {"b": 1}});
    assert_eq!(
        sel("$.'key'", &doc),
        Some(json!(42)),
        "quotes are part of a dot name"
    );
    assert_eq!(
        sel("$.['key']", &doc),
        Some(json!("value")),
        "a dot before a bracket"
    );
    assert_eq!(sel("$.a.[\"b\"]", &doc), Some(json!(1)));
    let union = json!([{"c": 1, "d": 2}, {"c": 3, "child": {"d": 4}}]);
    assert_eq!(
        sel("$..['c','d']", &union),
        Some(json!([{"c": 1, "d": 2}])),
        "after .. only objects with every name"
    );
}

#[test]
fn jayway_filter_operators() {
    let doc = json!([
        {"d": 2, "s": "hello world", "l": [1, 2]},
        {"d": 3, "s": "bye", "l": [3]},
        {"d": "2", "s": "", "l": []}
    ]);
    let ds = |path: &str| -> Value {
        let found = sel(path, &doc).unwrap_or_else(|| panic!("{path}"));
        Value::Array(
            found
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["d"].clone())
                .collect(),
        )
    };
    assert_eq!(ds("$[?(@.d in [2, 4])]"), json!([2, "2"]));
    assert_eq!(ds("$[?(@.d nin [2, 4])]"), json!([3]));
    assert_eq!(ds("$[?(@.d === 2)]"), json!([2]));
    assert_eq!(ds("$[?(@.d !== 2)]"), json!([3, "2"]));
    assert_eq!(ds("$[?(@.s =~ /hello.*/)]"), json!([2]));
    assert_eq!(ds("$[?(@.s =~ /BYE/i)]"), json!([3]));
    assert_eq!(ds("$[?(@.l subsetof [1, 2, 3])]"), json!([2, 3, "2"]));
    assert_eq!(ds("$[?(@.l anyof [2, 3])]"), json!([2, 3]));
    assert_eq!(ds("$[?(@.l noneof [2, 3])]"), json!(["2"]));
    assert_eq!(ds("$[?(@.l size 1)]"), json!([3]));
    assert_eq!(ds("$[?(@.s empty true)]"), json!(["2"]));
    assert_eq!(ds("$[?(@.s contains 'wor')]"), json!([2]));
    assert_eq!(ds("$[?(@.l contains 3)]"), json!([3]));
    assert_eq!(ds("$[?(@.l all [1, 2])]"), json!([2]));
    assert_eq!(ds("$[?(@.l == [1,2])]"), json!([2]));
    assert_eq!(ds("$[?(@.l == ['x'] || @.d == 3)]"), json!([3]));
    assert_eq!(
        sel(
            "$[?(@.k == \"Mot\\u00f6rhead\")]",
            &json!([{"k": "Motörhead"}])
        ),
        Some(json!([{"k": "Motörhead"}]))
    );
}

#[test]
fn jayway_functions() {
    let doc = json!({"n": [1, 2, 3, 4], "o": {"a": 1, "b": 2}, "mixed": [1, "x", 2.5]});
    for (path, expected) in [
        ("$.n.sum()", json!(10)),
        ("$.n.min()", json!(1)),
        ("$.n.max()", json!(4)),
        ("$.n.avg()", json!(2.5)),
        ("$.n.stddev()", json!(1.118033988749895)),
        ("$.n.length()", json!(4)),
        ("$.n.first()", json!(1)),
        ("$.n.last()", json!(4)),
        ("$.o.keys()", json!(["a", "b"])),
        ("$.mixed.sum()", json!(3.5)),
    ] {
        assert_eq!(sel(path, &doc), Some(expected), "{path}");
    }
    assert_eq!(sel("$.o.sum()", &doc), None, "no numbers to aggregate");
    assert_eq!(
        sel("$[?(@.length() > 2)]", &json!([[1], [1, 2, 3]])),
        Some(json!([[1, 2, 3]]))
    );
}
