// The bodies of the engine's fuzz targets: definition, jsonpath and intrinsics.
//
// `runtime/engine/src/fuzz_regressions.rs` pulls this file in with `include!` to replay the
// regression inputs through exactly these functions, so it has no inner attributes or `//!`
// docs, and it names the engine `sandstep_engine` (the engine aliases itself to that name).
// Every function takes arbitrary bytes and must return without panicking, overflowing its stack
// or running away, whatever the bytes are.

use sandstep_engine::intrinsics::{Call, Env, Failure};
use sandstep_engine::jsonpath::{Reference, Root};
use sandstep_engine::validate::{validate, MachineType};
use sandstep_engine::Definition;
use serde_json::{json, Value};

/// A definition as `CreateStateMachine` and `ValidateStateMachineDefinition` read it: validated
/// for both machine types, then parsed for execution.
pub fn definition(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = validate(text, MachineType::Standard);
    let _ = validate(text, MachineType::Express);
    let _ = Definition::parse(text);
}

/// A reference path (`$.a`, `$$.Execution.Id`, `$var[0]`) parsed, then selected from a fixed
/// document and, when it is writable, written to a copy of it.
pub fn jsonpath(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = sandstep_engine::jsonpath::is_reference_path(text);
    let Ok(reference) = Reference::parse(text) else {
        return;
    };
    let documents = Documents::new();
    let root = documents.root(&reference.root);
    let _ = reference.path.select(root);
    let _ = reference.path.not_found_detail(root);
    if reference.path.is_reference() {
        let mut copy = root.clone();
        let _ = reference.path.set(&mut copy, json!({"written": true}));
    }
}

/// A JSONata expression (the body of a `{% %}`) parsed, checked for top-level references as
/// the validator does, then evaluated against the fixed documents (`$states.input`,
/// `$states.context`, a variable `$v`) with a small step budget, as a state evaluates it.
pub fn jsonata(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(query) = sandstep_engine::jsonata::Query::parse(text) else {
        return;
    };
    let _ = query.top_level_references();
    let documents = Documents::new();
    let states = json!({"input": documents.input, "context": documents.context});
    let lookup = |name: &str| match name {
        "states" => Some(sandstep_engine::jsonata::convert::to_jvalue(&states)),
        "v" => Some(sandstep_engine::jsonata::convert::to_jvalue(&documents.variable)),
        _ => None,
    };
    let env = sandstep_engine::jsonata::Env {
        input: Some(&documents.input),
        variables: &lookup,
        now_millis: 1_705_314_600_000,
        entropy: 7,
        steps: 20_000,
    };
    let _ = query.evaluate(&env);
}

/// An intrinsic call (`States.Format('{}', $.a)`) parsed, then evaluated with its paths resolved
/// against the same fixed documents as [`jsonpath`].
pub fn intrinsics(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = sandstep_engine::intrinsics::looks_like_call(text);
    let Ok(call) = Call::parse(text) else {
        return;
    };
    let _ = (call.text(), call.function().name());
    let mut env = Documents::new();
    let _ = call.evaluate(&mut env);
}

/// The state input, context object and variables paths are evaluated against: small, but with
/// every JSON type, nesting, arrays of objects for filters, and keys that need quoting.
#[derive(Debug)]
struct Documents {
    input: Value,
    context: Value,
    variable: Value,
    random: u64,
}

impl Documents {
    fn new() -> Documents {
        let input = json!({
            "a": 1,
            "b": "two",
            "c": [1, 2.5, -3, "4", null, true, {"d": "e"}, [5, 6]],
            "items": [
                {"id": 1, "name": "x", "price": 10.5, "tags": ["t1", "t2"], "ok": true},
                {"id": 2, "name": "y", "price": 0, "tags": [], "ok": false},
                {"id": 3, "name": "z", "nested": {"deep": {"deeper": [{"v": 7}]}}}
            ],
            "n": null,
            "t": true,
            "f": false,
            "big": 9_007_199_254_740_993_i64,
            "neg": -0.0,
            "text": "{\"json\": [1, 2]}",
            "b64": "aGVsbG8=",
            "empty": {},
            "none": [],
            "weird key": {"with.dot": 1, "with'quote": 2, "ünïcödé": 3, "": 4},
            "m": {"x": {"x": {"x": {"x": "bottom"}}}}
        });
        let context = json!({
            "Execution": {
                "Id": "arn:aws:states:us-east-1:000000000000:execution:m:e",
                "Input": input.clone(),
                "Name": "e",
                "RoleArn": "arn:aws:iam::000000000000:role/r",
                "StartTime": "2024-01-15T10:30:00.000Z",
                "RedriveCount": 0
            },
            "State": {"EnteredTime": "2024-01-15T10:30:00.000Z", "Name": "S", "RetryCount": 0},
            "StateMachine": {"Id": "arn:aws:states:us-east-1:000000000000:stateMachine:m", "Name": "m"},
            "Map": {"Item": {"Index": 1, "Value": {"k": "v"}}}
        });
        let variable = json!({"field": [1, {"x": "y"}], "s": "str", "n": 42});
        Documents {
            input,
            context,
            variable,
            random: 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn root(&self, root: &Root) -> &Value {
        match root {
            Root::Input => &self.input,
            Root::Context => &self.context,
            Root::Variable(_) => &self.variable,
        }
    }
}

impl Env for Documents {
    fn resolve(&self, path: &str) -> Result<Value, Failure> {
        let reference = Reference::parse(path).map_err(|e| Failure(e.to_string()))?;
        reference
            .path
            .select(self.root(&reference.root))
            .ok_or_else(|| Failure(format!("no value at {path}")))
    }

    fn random_u64(&mut self) -> u64 {
        // splitmix64: deterministic, so a crash replays.
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
