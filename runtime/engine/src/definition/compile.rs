//! Compiling ASL JSON into a [`Definition`]: each state's fields read once, into the
//! typed form the executor runs.

use super::jsonata_fields as jsonata;
use super::*;

/// Compiles a definition's JSON (see [`Definition::from_value`]).
pub(super) fn compile(value: &Value) -> Result<Definition, Error> {
    let mut compiler = Compiler {
        machines: Vec::new(),
        states: Vec::new(),
    };
    let root = obj(value, "")?;
    let language = query_language(root, "", QueryLanguage::JsonPath)?;
    let timeout_seconds = match root.get("TimeoutSeconds") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| bad("/TimeoutSeconds", "must be a positive integer"))?,
        ),
    };
    compiler.machine(root, "", language)?;
    Ok(Definition {
        machines: compiler.machines,
        states: compiler.states,
        timeout_seconds,
    })
}

pub(super) fn bad(location: &str, message: impl Into<String>) -> Error {
    let location = if location.is_empty() {
        "/".to_string()
    } else {
        location.to_string()
    };
    Error::Definition {
        location,
        message: message.into(),
    }
}

pub(super) fn obj<'a>(value: &'a Value, at: &str) -> Result<&'a Map<String, Value>, Error> {
    value
        .as_object()
        .ok_or_else(|| bad(at, "must be a JSON object"))
}

/// The `QueryLanguage` an object chose, else `inherited`.
fn query_language(
    fields: &Map<String, Value>,
    at: &str,
    inherited: QueryLanguage,
) -> Result<QueryLanguage, Error> {
    match fields.get("QueryLanguage") {
        None => Ok(inherited),
        Some(v) => match v.as_str() {
            Some("JSONPath") => Ok(QueryLanguage::JsonPath),
            Some("JSONata") => Ok(QueryLanguage::Jsonata),
            _ => Err(bad(
                &format!("{at}/QueryLanguage"),
                "must be JSONPath or JSONata",
            )),
        },
    }
}

struct Compiler {
    machines: Vec<Machine>,
    states: Vec<State>,
}

impl Compiler {
    /// Compiles `{StartAt, States}` at JSON location `at`; returns its id.
    fn machine(
        &mut self,
        fields: &Map<String, Value>,
        at: &str,
        inherited: QueryLanguage,
    ) -> Result<MachineId, Error> {
        let language = query_language(fields, at, inherited)?;
        let id = MachineId(self.machines.len() as u32);
        self.machines.push(Machine { start: StateId(0) });
        let states = obj(
            fields.get("States").unwrap_or(&Value::Null),
            &format!("{at}/States"),
        )?;
        // Ids are assigned before compiling so that `Next` can point forward.
        let first = self.states.len() as u32;
        let ids: BTreeMap<&str, StateId> = states
            .keys()
            .enumerate()
            .map(|(i, name)| (name.as_str(), StateId(first + i as u32)))
            .collect();
        for name in states.keys() {
            self.states.push(placeholder(name));
        }
        let start_name = fields.get("StartAt").and_then(Value::as_str).unwrap_or("");
        let start = *ids.get(start_name).ok_or_else(|| {
            bad(
                &format!("{at}/StartAt"),
                format!("StartAt '{start_name}' is not a state"),
            )
        })?;
        if let Some(m) = self.machines.get_mut(id.0 as usize) {
            m.start = start;
        }
        for (name, body) in states {
            let here = format!("{at}/States/{name}");
            let state = self.state(name, obj(body, &here)?, &ids, &here, language)?;
            let slot = ids
                .get(name.as_str())
                .map(|s| s.0 as usize)
                .unwrap_or(usize::MAX);
            if let Some(s) = self.states.get_mut(slot) {
                *s = state;
            }
        }
        Ok(id)
    }

    fn state(
        &mut self,
        name: &str,
        f: &Map<String, Value>,
        ids: &BTreeMap<&str, StateId>,
        at: &str,
        inherited: QueryLanguage,
    ) -> Result<State, Error> {
        let language = query_language(f, at, inherited)?;
        let jsonata = language == QueryLanguage::Jsonata;
        let target = |field: &str, v: Option<&Value>| -> Result<Option<StateId>, Error> {
            match v {
                None => Ok(None),
                Some(v) => {
                    let n = v
                        .as_str()
                        .ok_or_else(|| bad(&format!("{at}/{field}"), "must be a string"))?;
                    ids.get(n).copied().map(Some).ok_or_else(|| {
                        bad(
                            &format!("{at}/{field}"),
                            format!("missing transition target '{n}'"),
                        )
                    })
                }
            }
        };
        let type_name = f.get("Type").and_then(Value::as_str).unwrap_or("");
        let kind = match type_name {
            "Pass" => Kind::Pass {
                result: f.get("Result").cloned().map(Arc::new),
            },
            "Task" => Kind::Task {
                resource: f
                    .get("Resource")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                timeout: if jsonata {
                    jsonata::amount(f, "TimeoutSeconds", at)?
                } else {
                    amount(f, "TimeoutSeconds", at)?
                },
                heartbeat: if jsonata {
                    jsonata::amount(f, "HeartbeatSeconds", at)?
                } else {
                    amount(f, "HeartbeatSeconds", at)?
                },
            },
            "Choice" => {
                let mut rules = Vec::new();
                let choices = f
                    .get("Choices")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for (i, rule) in choices.iter().enumerate() {
                    let here = format!("{at}/Choices/{i}");
                    let condition = if jsonata {
                        jsonata::condition(rule, &here)?
                    } else {
                        Test::Rule(Condition::parse(rule).map_err(|e| bad(&here, e.to_string()))?)
                    };
                    let next = target(&format!("Choices/{i}/Next"), rule.get("Next"))?
                        .ok_or_else(|| bad(&here, "a Choice rule needs Next"))?;
                    let (assign, output) = match (jsonata, rule.as_object()) {
                        (true, Some(fields)) => {
                            let prefix = format!("Choices[{i}]/");
                            (
                                jsonata::located_field(fields, "Assign", &prefix, &here)?,
                                jsonata::located_field(fields, "Output", &prefix, &here)?,
                            )
                        }
                        _ => (
                            rule.get("Assign")
                                .map(|a| template(a, &format!("{here}/Assign")))
                                .transpose()?,
                            None,
                        ),
                    };
                    rules.push(ChoiceRule {
                        condition,
                        next,
                        assign,
                        output,
                    });
                }
                Kind::Choice {
                    rules,
                    default: target("Default", f.get("Default"))?,
                }
            }
            "Wait" if jsonata => Kind::Wait(jsonata::wait_for(f, at)?),
            "Wait" => Kind::Wait(wait_for(f, at)?),
            "Succeed" => Kind::Succeed,
            "Fail" if jsonata => Kind::Fail {
                error: jsonata::text(f, "Error", at)?,
                cause: jsonata::text(f, "Cause", at)?,
            },
            "Fail" => Kind::Fail {
                error: text(f, "Error", at)?,
                cause: text(f, "Cause", at)?,
            },
            "Parallel" => {
                let mut branches = Vec::new();
                let list = f
                    .get(crate::tree::BRANCHES)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for (i, branch) in list.iter().enumerate() {
                    let here = format!("{at}/Branches/{i}");
                    branches.push(self.machine(obj(branch, &here)?, &here, inherited)?);
                }
                Kind::Parallel { branches }
            }
            "Map" => self.map(f, at, inherited, jsonata)?,
            other => {
                return Err(bad(
                    &format!("{at}/Type"),
                    format!("unknown state type '{other}'"),
                ))
            }
        };
        if jsonata {
            return self.jsonata_state(name, f, ids, at, kind);
        }
        let parameters = match (&kind, f.get("ItemSelector"), f.get("Parameters")) {
            (Kind::Map { .. }, Some(sel), _) => Some(template(sel, &format!("{at}/ItemSelector"))?),
            (_, _, Some(p)) => Some(template(p, &format!("{at}/Parameters"))?),
            _ => None,
        };
        let retry = retriers(f, at)?;
        let mut catch = Vec::new();
        for (i, c) in f
            .get("Catch")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let here = format!("{at}/Catch/{i}");
            let fields = obj(c, &here)?;
            catch.push(Catcher {
                error_equals: error_equals(fields, &here)?,
                next: target(&format!("Catch/{i}/Next"), fields.get("Next"))?
                    .ok_or_else(|| bad(&here, "a Catcher needs Next"))?,
                result_path: result_path(fields.get("ResultPath"), &format!("{here}/ResultPath"))?,
                assign: fields
                    .get("Assign")
                    .map(|a| template(a, &format!("{here}/Assign")))
                    .transpose()?,
                output: None,
            });
        }
        Ok(State {
            name: name.into(),
            language: QueryLanguage::JsonPath,
            output: None,
            input_path: path_field(f.get("InputPath"), &format!("{at}/InputPath"))?,
            output_path: path_field(f.get("OutputPath"), &format!("{at}/OutputPath"))?,
            parameters,
            result_selector: f
                .get("ResultSelector")
                .map(|t| template(t, &format!("{at}/ResultSelector")))
                .transpose()?,
            result_path: result_path(f.get("ResultPath"), &format!("{at}/ResultPath"))?,
            assign: f
                .get("Assign")
                .map(|a| template(a, &format!("{at}/Assign")))
                .transpose()?,
            retry,
            catch,
            next: target("Next", f.get("Next"))?,
            kind,
        })
    }

    /// The common fields of a JSONata state: `Arguments` (`ItemSelector` on Map),
    /// `Output`, `Assign`, `Retry` and `Catch` with their own `Output` and `Assign`.
    fn jsonata_state(
        &mut self,
        name: &str,
        f: &Map<String, Value>,
        ids: &BTreeMap<&str, StateId>,
        at: &str,
        kind: Kind,
    ) -> Result<State, Error> {
        let parameters = match &kind {
            Kind::Map { .. } => jsonata::field(f, "ItemSelector", at)?,
            _ => jsonata::field(f, "Arguments", at)?,
        };
        let mut catch = Vec::new();
        for (i, c) in f
            .get("Catch")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let here = format!("{at}/Catch/{i}");
            let fields = obj(c, &here)?;
            let next = fields
                .get("Next")
                .and_then(Value::as_str)
                .and_then(|n| ids.get(n).copied())
                .ok_or_else(|| bad(&format!("{here}/Next"), "missing transition target"))?;
            catch.push(Catcher {
                error_equals: error_equals(fields, &here)?,
                next,
                result_path: ResultPath::Replace,
                assign: jsonata::located_field(fields, "Assign", &format!("Catch[{i}]/"), &here)?,
                output: jsonata::located_field(fields, "Output", &format!("Catch[{i}]/"), &here)?,
            });
        }
        let next = match f.get("Next") {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(|n| ids.get(n).copied())
                    .ok_or_else(|| bad(&format!("{at}/Next"), "missing transition target"))?,
            ),
        };
        Ok(State {
            name: name.into(),
            language: QueryLanguage::Jsonata,
            input_path: PathField::Whole,
            output_path: PathField::Whole,
            parameters,
            output: jsonata::field(f, "Output", at)?,
            result_selector: None,
            result_path: ResultPath::Replace,
            assign: jsonata::field(f, "Assign", at)?,
            retry: retriers(f, at)?,
            catch,
            next,
            kind,
        })
    }

    fn map(
        &mut self,
        f: &Map<String, Value>,
        at: &str,
        inherited: QueryLanguage,
        jsonata: bool,
    ) -> Result<Kind, Error> {
        let Some((field, processor)) = crate::tree::PROCESSOR_FIELDS
            .into_iter()
            .find_map(|field| Some((field, f.get(field)?)))
        else {
            return Err(bad(at, "a Map state needs ItemProcessor"));
        };
        let here = format!("{at}/{field}");
        let fields = obj(processor, &here)?;
        let distributed = distributed(f, fields, at, inherited, jsonata)?;
        let processor = self.machine(fields, &here, inherited)?;
        if jsonata {
            return Ok(Kind::Map {
                distributed,
                processor,
                items_path: None,
                items: jsonata::field(f, "Items", at)?,
                concurrency: jsonata::concurrency(f, at)?,
                tolerated_count: jsonata::amount(f, "ToleratedFailureCount", at)?,
                tolerated_percentage: jsonata::amount(f, "ToleratedFailurePercentage", at)?,
            });
        }
        let concurrency = match (f.get("MaxConcurrency"), f.get("MaxConcurrencyPath")) {
            (_, Some(p)) => Concurrency::Path(reference(p, &format!("{at}/MaxConcurrencyPath"))?),
            (Some(n), None) => Concurrency::Fixed(n.as_u64().ok_or_else(|| {
                bad(
                    &format!("{at}/MaxConcurrency"),
                    "must be a non-negative integer",
                )
            })?),
            (None, None) => Concurrency::Fixed(0),
        };
        Ok(Kind::Map {
            distributed,
            processor,
            items_path: f
                .get("ItemsPath")
                .map(|p| reference(p, &format!("{at}/ItemsPath")))
                .transpose()?,
            items: None,
            concurrency,
            tolerated_count: amount(f, "ToleratedFailureCount", at)?,
            tolerated_percentage: amount(f, "ToleratedFailurePercentage", at)?,
        })
    }
}

fn placeholder(name: &str) -> State {
    State {
        name: name.into(),
        language: QueryLanguage::JsonPath,
        output: None,
        kind: Kind::Succeed,
        input_path: PathField::Whole,
        output_path: PathField::Whole,
        parameters: None,
        result_selector: None,
        result_path: ResultPath::Replace,
        assign: None,
        retry: Vec::new(),
        catch: Vec::new(),
        next: None,
    }
}

fn reference(v: &Value, at: &str) -> Result<Reference, Error> {
    let s = v.as_str().ok_or_else(|| bad(at, "must be a path string"))?;
    Reference::parse(s).map_err(|e| bad(at, e.to_string()))
}

fn path_field(v: Option<&Value>, at: &str) -> Result<PathField, Error> {
    match v {
        None => Ok(PathField::Whole),
        Some(Value::Null) => Ok(PathField::Discard),
        Some(Value::String(s)) if s == "$" => Ok(PathField::Whole),
        Some(v) => Ok(PathField::Path(reference(v, at)?)),
    }
}

fn result_path(v: Option<&Value>, at: &str) -> Result<ResultPath, Error> {
    match v {
        None => Ok(ResultPath::Replace),
        Some(Value::Null) => Ok(ResultPath::Discard),
        Some(Value::String(s)) if s == "$" => Ok(ResultPath::Replace),
        Some(Value::String(s)) => Ok(ResultPath::Path(
            Path::parse(s).map_err(|e| bad(at, e.to_string()))?,
        )),
        Some(_) => Err(bad(at, "must be a path string or null")),
    }
}

/// Parses `NAME` / `NAMEPath` pairs such as `TimeoutSeconds` / `TimeoutSecondsPath`.
fn amount(f: &Map<String, Value>, name: &str, at: &str) -> Result<Option<Amount>, Error> {
    let path_name = format!("{name}Path");
    match (f.get(name), f.get(&path_name)) {
        (Some(v), _) => {
            Ok(Some(Amount::Fixed(v.as_f64().ok_or_else(|| {
                bad(&format!("{at}/{name}"), "must be a number")
            })?)))
        }
        (None, Some(p)) => Ok(Some(Amount::Path(reference(
            p,
            &format!("{at}/{path_name}"),
        )?))),
        (None, None) => Ok(None),
    }
}

fn text(f: &Map<String, Value>, name: &str, at: &str) -> Result<Option<Text>, Error> {
    let path_name = format!("{name}Path");
    match (f.get(name), f.get(&path_name)) {
        (Some(v), _) => Ok(Some(Text::Fixed(
            v.as_str()
                .ok_or_else(|| bad(&format!("{at}/{name}"), "must be a string"))?
                .to_string(),
        ))),
        (None, Some(p)) => {
            let here = format!("{at}/{path_name}");
            let s = p.as_str().ok_or_else(|| bad(&here, "must be a string"))?;
            Ok(Some(Text::Dynamic(expr(s, &here)?)))
        }
        (None, None) => Ok(None),
    }
}

fn wait_for(f: &Map<String, Value>, at: &str) -> Result<WaitFor, Error> {
    if let Some(v) = f.get("Seconds") {
        return v
            .as_u64()
            .map(WaitFor::Seconds)
            .ok_or_else(|| bad(&format!("{at}/Seconds"), "must be a non-negative integer"));
    }
    if let Some(v) = f.get("SecondsPath") {
        return Ok(WaitFor::SecondsPath(reference(
            v,
            &format!("{at}/SecondsPath"),
        )?));
    }
    if let Some(v) = f.get("Timestamp") {
        let here = format!("{at}/Timestamp");
        let s = v.as_str().ok_or_else(|| bad(&here, "must be a string"))?;
        return crate::timestamp::parse_nanos(s)
            .map(WaitFor::Timestamp)
            .ok_or_else(|| bad(&here, "not an ISO-8601 timestamp"));
    }
    if let Some(v) = f.get("TimestampPath") {
        return Ok(WaitFor::TimestampPath(reference(
            v,
            &format!("{at}/TimestampPath"),
        )?));
    }
    Err(bad(
        at,
        "a Wait state needs Seconds, SecondsPath, Timestamp or TimestampPath",
    ))
}

fn error_equals(f: &Map<String, Value>, at: &str) -> Result<Vec<ErrorName>, Error> {
    let list = f
        .get("ErrorEquals")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            bad(
                &format!("{at}/ErrorEquals"),
                "must be a list of error names",
            )
        })?;
    list.iter()
        .map(|v| {
            v.as_str()
                .map(ErrorName::parse)
                .ok_or_else(|| bad(&format!("{at}/ErrorEquals"), "must hold strings"))
        })
        .collect()
}

fn retriers(f: &Map<String, Value>, at: &str) -> Result<Vec<Retrier>, Error> {
    f.get("Retry")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, r)| retrier(r, &format!("{at}/Retry/{i}")))
        .collect()
}

fn retrier(v: &Value, at: &str) -> Result<Retrier, Error> {
    let f = obj(v, at)?;
    let num = |name: &str, default: f64| -> Result<f64, Error> {
        match f.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| bad(&format!("{at}/{name}"), "must be a number")),
        }
    };
    Ok(Retrier {
        error_equals: error_equals(f, at)?,
        interval_seconds: num("IntervalSeconds", 1.0)?,
        max_attempts: num("MaxAttempts", 3.0)?.max(0.0) as u32,
        backoff_rate: num("BackoffRate", 2.0)?,
        max_delay_seconds: f.get("MaxDelaySeconds").and_then(Value::as_f64),
        full_jitter: f.get("JitterStrategy").and_then(Value::as_str) == Some("FULL"),
    })
}

/// Compiles a dynamic value: an intrinsic call or a path.
fn expr(s: &str, at: &str) -> Result<Expr, Error> {
    if intrinsics::looks_like_call(s) {
        return Call::parse(s)
            .map(Expr::Call)
            .map_err(|e| bad(at, e.to_string()));
    }
    Reference::parse(s)
        .map(Expr::Path)
        .map_err(|e| bad(at, e.to_string()))
}

/// Compiles a payload template; values under keys ending in `.$` become expressions.
pub fn template(v: &Value, at: &str) -> Result<Template, Error> {
    let compiled = match v {
        Value::Object(fields) => {
            let mut out = Vec::with_capacity(fields.len());
            for (key, value) in fields {
                let here = format!("{at}/{key}");
                match key.strip_suffix(".$") {
                    Some(name) => {
                        let s = value.as_str().ok_or_else(|| {
                            bad(&here, format!("the value of '{key}' must be a path string"))
                        })?;
                        let expr = expr(s, &here)?;
                        out.push((
                            name.to_string(),
                            Template::Dynamic {
                                field: key.clone(),
                                expr,
                            },
                        ));
                    }
                    None => out.push((key.clone(), template(value, &here)?)),
                }
            }
            Template::object_or_literal(out, v)
        }
        Value::Array(items) => {
            let out: Vec<Template> = items
                .iter()
                .enumerate()
                .map(|(i, x)| template(x, &format!("{at}/{i}")))
                .collect::<Result<_, _>>()?;
            Template::array_or_literal(out, v)
        }
        other => Template::Literal(other.clone()),
    };
    Ok(compiled)
}

/// A DISTRIBUTED Map's fields (`None` for an inline Map, which may have none of them).
fn distributed(
    f: &Map<String, Value>,
    processor: &Map<String, Value>,
    at: &str,
    inherited: QueryLanguage,
    jsonata: bool,
) -> Result<Option<Box<Distributed>>, Error> {
    let config = processor.get("ProcessorConfig").and_then(Value::as_object);
    let mode = config.and_then(|c| c.get("Mode")).and_then(Value::as_str);
    if mode != Some("DISTRIBUTED") {
        for field in ["ItemReader", "ResultWriter", "ItemBatcher"] {
            if f.contains_key(field) {
                return Err(bad(
                    &format!("{at}/{field}"),
                    format!("{field} is only supported in DISTRIBUTED mode"),
                ));
            }
        }
        return Ok(None);
    }
    let express = config
        .and_then(|c| c.get("ExecutionType"))
        .and_then(Value::as_str)
        == Some("EXPRESS");
    let mut definition = processor.clone();
    definition.remove("ProcessorConfig");
    if inherited == QueryLanguage::Jsonata && !definition.contains_key("QueryLanguage") {
        definition.insert("QueryLanguage".into(), Value::String("JSONata".into()));
    }
    let arguments = |o: &Map<String, Value>, here: &str| -> Result<Option<Template>, Error> {
        match jsonata {
            true => jsonata::field(o, "Arguments", here),
            false => o
                .get("Parameters")
                .map(|p| template(p, &format!("{here}/Parameters")))
                .transpose(),
        }
    };
    let count = |o: &Map<String, Value>, name: &str, here: &str| match jsonata {
        true => jsonata::amount(o, name, here),
        false => amount(o, name, here),
    };
    let reader = match f.get("ItemReader") {
        None => None,
        Some(r) => {
            let here = format!("{at}/ItemReader");
            let r = obj(r, &here)?;
            let resource = r
                .get("Resource")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&here, "an ItemReader needs a Resource"))?;
            let mut config = r
                .get("ReaderConfig")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let max_items = count(&config, "MaxItems", &format!("{here}/ReaderConfig"))?;
            config.remove("MaxItems");
            config.remove("MaxItemsPath");
            Some(ItemReader {
                resource: resource.to_string(),
                parameters: arguments(r, &here)?,
                config,
                max_items,
            })
        }
    };
    let batcher = match f.get("ItemBatcher") {
        None => None,
        Some(b) => {
            let here = format!("{at}/ItemBatcher");
            let b = obj(b, &here)?;
            let batch_input = match jsonata {
                true => jsonata::field(b, "BatchInput", &here)?,
                false => b
                    .get("BatchInput")
                    .map(|t| template(t, &format!("{here}/BatchInput")))
                    .transpose()?,
            };
            let batcher = ItemBatcher {
                max_items: count(b, "MaxItemsPerBatch", &here)?,
                max_bytes: count(b, "MaxInputBytesPerBatch", &here)?,
                batch_input,
            };
            if batcher.max_items.is_none() && batcher.max_bytes.is_none() {
                return Err(bad(
                    &here,
                    "an ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch",
                ));
            }
            Some(batcher)
        }
    };
    let writer = match f.get("ResultWriter") {
        None => None,
        Some(w) => {
            let here = format!("{at}/ResultWriter");
            let w = obj(w, &here)?;
            let writer = ResultWriter {
                resource: w
                    .get("Resource")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                parameters: arguments(w, &here)?,
                config: w
                    .get("WriterConfig")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
            };
            if writer.resource.is_none() && writer.config.is_empty() {
                return Err(bad(
                    &here,
                    "a ResultWriter needs a WriterConfig, or a Resource with its Parameters",
                ));
            }
            Some(writer)
        }
    };
    Ok(Some(Box::new(Distributed {
        express,
        label: f.get("Label").and_then(Value::as_str).map(str::to_string),
        definition: Value::Object(definition),
        reader,
        batcher,
        writer,
        selector: f
            .get("ItemSelector")
            .or_else(|| f.get("Parameters"))
            .cloned(),
    })))
}
