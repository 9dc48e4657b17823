//! The functions Step Functions adds to JSONata, the built-ins it replaces so that
//! evaluation replays exactly, and the one it refuses.
//!
//! - `$partition(array, size)`, `$range(start, end, step)` and `$hash(text, algorithm)`
//!   are the intrinsics `States.ArrayPartition`, `States.ArrayRange` and `States.Hash`.
//! - `$random()` is a number in [0, 1) drawn from the event's entropy; `$random(seed)`
//!   is the same number for the same seed, as `java.util.Random(seed).nextDouble()`.
//! - `$uuid()` is a version 4 UUID from the event's entropy; `$parse(text)` reads JSON.
//! - `$shuffle(array)` shuffles with the event's entropy (jsonata-core's draws from the
//!   system), so a replay shuffles the same way.
//! - `$now([picture [, zone]])` formats the event's time (jsonata-core's takes no
//!   picture); `$millis()` and `$toMillis` read it through the vendored crate's fixed
//!   clock ([`super::Query::evaluate`]).
//! - `$eval` is not a function, as on AWS: calling it fails with `T1006` at run time
//!   (a definition that mentions it is accepted, as AWS accepts it).

use super::{convert, Env};
use crate::intrinsics::{self, Function};
use crate::rng::Rng;
use jsonata_core::evaluator::{Evaluator, EvaluatorError, HostFnResult};
use jsonata_core::value::JValue;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// Built-ins that Step Functions disables: calling one fails as calling a non-function.
const DISABLED: &[&str] = &["eval"];

/// Registers the added and replaced functions on an evaluator for one evaluation.
///
/// # Errors
/// Only if jsonata-core refuses a registration (a name clash, a bug).
///
/// Only the functions `names` (what follows a `$` in the expression) mentions are
/// registered: most expressions call none of them, and registering costs allocations.
pub(super) fn register(
    evaluator: &mut Evaluator,
    env: &Env<'_>,
    names: &BTreeSet<String>,
) -> Result<(), EvaluatorError> {
    const OURS: &[&str] = &[
        "partition",
        "range",
        "hash",
        "parse",
        "uuid",
        "random",
        "shuffle",
        "now",
        "eval",
    ];
    if !OURS.iter().any(|name| names.contains(*name)) {
        return Ok(());
    }
    let rng = Rc::new(RefCell::new(Rng::new(env.entropy)));
    evaluator.register_fn("partition", |args: &[JValue]| {
        intrinsic(Function::ArrayPartition, "$partition", args)
    })?;
    // AWS gives `$range(1, 9, 9)` as `1`: the result is a sequence, whose singleton
    // collapses.
    evaluator.register_fn("range", |args: &[JValue]| {
        match intrinsic(Function::ArrayRange, "$range", args)? {
            JValue::Array(items) if !items.is_empty() => Ok(JValue::sequence(items.to_vec())),
            other => Ok(other),
        }
    })?;
    evaluator.register_fn("hash", |args: &[JValue]| {
        intrinsic(Function::Hash, "$hash", args)
    })?;
    evaluator.register_fn("parse", parse)?;
    let draws = Rc::clone(&rng);
    evaluator.register_fn("uuid", move |args: &[JValue]| {
        arity("$uuid", args, 0, 0)?;
        Ok(JValue::string(draws.borrow_mut().uuid()))
    })?;
    let draws = Rc::clone(&rng);
    evaluator.register_fn_override("random", move |args: &[JValue]| {
        arity("$random", args, 0, 1)?;
        Ok(JValue::Number(match args.first() {
            None => draws.borrow_mut().next_f64(),
            Some(seed) => seeded(seed)?,
        }))
    })?;
    // jsonata-core's `$now` takes no picture; this one does, as jsonata-js's.
    let millis = env.now_millis;
    evaluator.register_fn_override("now", move |args: &[JValue]| now(millis, args))?;
    let draws = Rc::clone(&rng);
    evaluator.register_fn_override("shuffle", move |args: &[JValue]| {
        arity("$shuffle", args, 1, 1)?;
        Ok(shuffle(args.first(), &mut draws.borrow_mut()))
    })?;
    for name in DISABLED {
        evaluator.register_fn_override(*name, |_: &[JValue]| {
            Err(error("T1006", "Attempted to invoke a non-function"))
        })?;
    }
    Ok(())
}

fn error(code: &str, message: impl std::fmt::Display) -> EvaluatorError {
    EvaluatorError::EvaluationError(format!("{code}: {message}"))
}

fn arity(name: &str, args: &[JValue], min: usize, max: usize) -> Result<(), EvaluatorError> {
    if args.len() < min || args.len() > max {
        return Err(error(
            "T0410",
            format!(
                "Argument {} of function {name} does not match function signature",
                args.len().min(max) + 1
            ),
        ));
    }
    Ok(())
}

/// Calls an intrinsic with JSONata values; its failures become `D3050`-style errors
/// that keep the intrinsic's explanation.
fn intrinsic(function: Function, name: &str, args: &[JValue]) -> HostFnResult {
    struct NoPaths;
    impl intrinsics::Env for NoPaths {
        fn resolve(&self, path: &str) -> Result<Value, intrinsics::Failure> {
            Err(intrinsics::Failure(format!("no path here: {path}")))
        }
        fn random_u64(&mut self) -> u64 {
            0
        }
    }
    let values = args
        .iter()
        .map(|a| convert::from_jvalue(a).unwrap_or(Value::Null))
        .collect();
    let result = intrinsics::apply(function, values, &mut NoPaths).map_err(|f| {
        let reason = f.0.split_once(": ").map_or(f.0.as_str(), |(_, r)| r);
        error("D3050", format!("{name}: {reason}"))
    })?;
    Ok(convert::to_jvalue(&result))
}

/// `$parse(text)`: the JSON value `text` holds.
fn parse(args: &[JValue]) -> HostFnResult {
    arity("$parse", args, 1, 1)?;
    let Some(text) = args.first().and_then(JValue::as_str) else {
        return Err(error(
            "T0410",
            "Argument 1 of function $parse does not match function signature",
        ));
    };
    let value: Value = serde_json::from_str(text).map_err(|e| {
        error(
            "D3051",
            format!("$parse: the argument is not valid JSON: {e}"),
        )
    })?;
    Ok(convert::to_jvalue(&value))
}

/// `new java.util.Random(seed).nextDouble()`.
fn seeded(seed: &JValue) -> Result<f64, EvaluatorError> {
    let Some(seed) = seed.as_f64().filter(|s| s.is_finite()) else {
        return Err(error(
            "T0410",
            "Argument 1 of function $random does not match function signature",
        ));
    };
    const MULTIPLIER: i64 = 0x5DEE_CE66D;
    const MASK: i64 = (1 << 48) - 1;
    let mut state = ((seed.trunc() as i64) ^ MULTIPLIER) & MASK;
    let mut next = |bits: u32| {
        state = state.wrapping_mul(MULTIPLIER).wrapping_add(0xB) & MASK;
        state >> (48 - bits)
    };
    let high = next(26);
    let low = next(27);
    Ok(((high << 27) + low) as f64 / (1u64 << 53) as f64)
}

/// `$shuffle(array)`: a Fisher-Yates shuffle drawing from `rng`; a value that is not an
/// array is one (as the function's signature `<a:a>` makes it), undefined stays undefined.
fn shuffle(value: Option<&JValue>, rng: &mut Rng) -> JValue {
    let mut items = match value {
        None | Some(JValue::Undefined) => return JValue::Undefined,
        Some(JValue::Array(items)) => items.to_vec(),
        Some(other) => vec![other.clone()],
    };
    for i in (1..items.len()).rev() {
        let bound = u64::try_from(i + 1).unwrap_or(u64::MAX);
        let j = usize::try_from(rng.next_u64() % bound).unwrap_or(0);
        items.swap(i, j);
    }
    JValue::array(items)
}

/// `$now([picture [, timezone]])`: the event's time, formatted as `$fromMillis` would.
fn now(millis: i64, args: &[JValue]) -> HostFnResult {
    arity("$now", args, 0, 2)?;
    let format =
        jsonata_core::parser::parse("$fromMillis($m, $p, $z)").map_err(|e| error("D1001", e))?;
    let mut context = jsonata_core::evaluator::Context::new();
    context.bind("m".into(), JValue::Number(millis as f64));
    if let Some(picture) = args.first() {
        context.bind("p".into(), picture.clone());
    }
    if let Some(zone) = args.get(1) {
        context.bind("z".into(), zone.clone());
    }
    Evaluator::with_context(context).evaluate(&format, &JValue::Undefined)
}
