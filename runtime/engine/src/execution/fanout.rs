//! Parallel and Map states: starting branches and iterations as child frames, bounded
//! concurrency and tolerated failures, and collecting the children's results.

use super::*;

impl Run<'_, '_> {
    pub(super) fn fan_out_parallel(
        &mut self,
        frame_id: FrameId,
        branches: &[crate::definition::MachineId],
        input: Data,
    ) -> Result<(), Error> {
        self.record(Some(frame_id), "ParallelStateStarted", Details::None);
        let mut children = BTreeMap::new();
        for (index, branch) in branches.iter().enumerate() {
            let start = self.def.machine(*branch)?.start;
            let child = self.new_frame(Some((frame_id, index)), start, input.clone());
            children.insert(child, index);
            self.queue.push_back(child);
        }
        let fan = Fanout {
            results: vec![None; branches.len()],
            children,
            items: Vec::new(),
            next_item: 0,
            limit: 0,
            failures: 0,
            tolerated: None,
            is_map: false,
            redo: VecDeque::new(),
        };
        if branches.is_empty() {
            self.frame_mut(frame_id)?.pending = Pending::Fanout(Box::new(fan));
            return self.fan_in(frame_id);
        }
        self.frame_mut(frame_id)?.pending = Pending::Fanout(Box::new(fan));
        Ok(())
    }

    pub(super) fn fan_out_map(&mut self, frame_id: FrameId, effective: Data) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let Kind::Map {
            tolerated_count,
            tolerated_percentage,
            distributed,
            ..
        } = &state.kind
        else {
            return Ok(());
        };
        if let Some(distributed) = distributed {
            return self.fan_out_distributed(frame_id, distributed, effective);
        }
        let inputs = match self.map_items(frame_id, &effective)? {
            Ok(items) => items,
            Err(f) => return self.state_failed(frame_id, f),
        };
        let limit = match self.map_concurrency(frame_id, &effective)? {
            Ok(l) => l,
            Err(f) => return self.state_failed(frame_id, f),
        };
        let tolerated = match self.tolerance(
            frame_id,
            &effective,
            tolerated_count.as_ref(),
            tolerated_percentage.as_ref(),
            inputs.len(),
        ) {
            Ok(t) => t,
            Err(f) => return self.state_failed(frame_id, f),
        };
        self.record(
            Some(frame_id),
            "MapStateStarted",
            Details::Fields(json_map(&[("length", json!(inputs.len()))])),
        );
        let fan = Fanout {
            results: vec![None; inputs.len()],
            children: BTreeMap::new(),
            items: inputs,
            next_item: 0,
            limit,
            failures: 0,
            tolerated,
            is_map: true,
            redo: VecDeque::new(),
        };
        self.frame_mut(frame_id)?.pending = Pending::Fanout(Box::new(fan));
        self.start_iterations(frame_id)?;
        if self.fan_done(frame_id)? {
            return self.fan_in(frame_id);
        }
        Ok(())
    }

    /// A Map's iteration inputs: its items (ItemsPath, or JSONata's `Items`), each through
    /// the ItemSelector (or legacy Parameters).
    pub(super) fn map_items(
        &mut self,
        frame_id: FrameId,
        effective: &Data,
    ) -> Result<Result<Vec<Value>, Failure>, Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let Kind::Map {
            items_path, items, ..
        } = &state.kind
        else {
            return Ok(Ok(Vec::new()));
        };
        let items = match (state.language, items_path) {
            (QueryLanguage::Jsonata, _) => {
                match self.query_items(frame_id, items.as_ref(), effective)? {
                    Ok(items) => Some(items),
                    Err(f) => return Ok(Err(f)),
                }
            }
            (_, None) => Some(effective.clone()),
            (_, Some(r)) => match self.eval(frame_id, effective, None, |s, _| s.resolve(r))? {
                Ok(v) => v.map(Arc::new),
                Err(f) => return Ok(Err(f)),
            },
        };
        let items = match items.as_deref() {
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Ok(Err(Failure::runtime(format!(
                    "Invalid path '{}': The Map state's items must be an array, not {}",
                    items_path.as_ref().map(|r| r.path.text()).unwrap_or("$"),
                    compact(other)
                ))))
            }
            None => {
                return Ok(Err(match items_path {
                    Some(r) => self.eval(frame_id, effective, None, |s, _| s.invalid_path(r))?,
                    None => Failure::runtime("Invalid path '$' : No results for path: $"),
                }))
            }
        };
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let input = match &state.parameters {
                Some(t) => {
                    match self.eval(frame_id, effective, Some((index, item)), |s, rng| {
                        s.template(t, rng)
                    })? {
                        Ok(v) => v,
                        Err(f) => return Ok(Err(f)),
                    }
                }
                None => item.clone(),
            };
            inputs.push(input);
        }
        if state.parameters.is_some() {
            self.note(frame_id, |s| {
                s.after_parameters = Some(Value::Array(inputs.clone()))
            });
        }
        Ok(Ok(inputs))
    }

    /// A Map's `MaxConcurrency`, resolved (0: no limit).
    pub(super) fn map_concurrency(
        &mut self,
        frame_id: FrameId,
        effective: &Data,
    ) -> Result<Result<usize, Failure>, Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let Kind::Map { concurrency, .. } = &state.kind else {
            return Ok(Ok(0));
        };
        Ok(match concurrency {
            Concurrency::Fixed(n) => Ok(*n as usize),
            Concurrency::Query(query) => self
                .query_number(frame_id, query, "MaxConcurrency", true, 0.0)?
                .map(|n| n as usize),
            Concurrency::Path(r) => {
                let v = match self.eval(frame_id, effective, None, |s, _| s.resolve(r))? {
                    Ok(v) => v,
                    Err(f) => return Ok(Err(f)),
                };
                let n = v.as_ref().and_then(|v| match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.parse::<u64>().ok(),
                    _ => None,
                });
                match n {
                    Some(n) => Ok(n as usize),
                    None => Err(Failure::runtime(format!(
                        "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer: {}",
                        v.map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| compact(&v))).unwrap_or_else(|| "null".into()),
                        r.path.text()
                    ))),
                }
            }
        })
    }

    pub(super) fn tolerance(
        &mut self,
        frame_id: FrameId,
        effective: &Value,
        count: Option<&Amount>,
        percentage: Option<&Amount>,
        total: usize,
    ) -> Result<Option<usize>, Failure> {
        let count = self.amount_any(frame_id, effective, count, "ToleratedFailureCountPath")?;
        let pct = self.amount_any(
            frame_id,
            effective,
            percentage,
            "ToleratedFailurePercentagePath",
        )?;
        Ok(match (count, pct) {
            (None, None) => None,
            (c, p) => {
                let from_pct = p.map(|p| ((p / 100.0) * total as f64).floor() as usize);
                let from_count = c.map(|c| c as usize);
                Some(from_count.into_iter().chain(from_pct).max().unwrap_or(0))
            }
        })
    }

    pub(super) fn amount_any(
        &mut self,
        frame_id: FrameId,
        effective: &Value,
        amount: Option<&Amount>,
        field: &str,
    ) -> Result<Option<f64>, Failure> {
        match amount {
            None => Ok(None),
            Some(Amount::Fixed(n)) => Ok(Some(*n)),
            Some(Amount::Path(r)) => {
                let v = self
                    .eval(frame_id, effective, None, |s, _| s.resolve(r))
                    .map_err(|e| Failure::runtime(e.to_string()))??;
                match v.as_ref().and_then(Value::as_f64) {
                    Some(n) if n >= 0.0 => Ok(Some(n)),
                    _ => Err(Failure::runtime(format!(
                        "The {field} field refers to value {} which is not a valid number: {}",
                        v.map(|v| compact(&v)).unwrap_or_else(|| "null".into()),
                        r.path.text()
                    ))),
                }
            }
            Some(Amount::Query(query)) => {
                let field = field.trim_end_matches("Path");
                match self.query_number(frame_id, query, field, false, 0.0) {
                    Ok(n) => n.map(Some),
                    Err(e) => Err(Failure::runtime(e.to_string())),
                }
            }
        }
    }

    /// Starts Map iterations up to the concurrency limit.
    pub(super) fn start_iterations(&mut self, frame_id: FrameId) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let Kind::Map { processor, .. } = &state.kind else {
            return Ok(());
        };
        let start = def.machine(*processor)?.start;
        loop {
            let next = {
                let Pending::Fanout(fan) = &mut self.frame_mut(frame_id)?.pending else {
                    return Ok(());
                };
                let room = fan.limit == 0 || fan.children.len() < fan.limit;
                if !room {
                    return Ok(());
                }
                if let Some(again) = fan.redo.pop_front() {
                    self.rerun_iteration(frame_id, &state.name, again)?;
                    continue;
                }
                if fan.next_item >= fan.items.len() {
                    return Ok(());
                }
                let index = fan.next_item;
                fan.next_item += 1;
                let input = fan
                    .items
                    .get_mut(index)
                    .map(std::mem::take)
                    .unwrap_or(Value::Null);
                (index, input)
            };
            let (index, input) = next;
            self.record(
                Some(frame_id),
                "MapIterationStarted",
                Details::MapIteration {
                    name: state.name.clone(),
                    index,
                },
            );
            let child = self.new_frame(Some((frame_id, index)), start, Arc::new(input));
            if let Pending::Fanout(fan) = &mut self.frame_mut(frame_id)?.pending {
                fan.children.insert(child, index);
            }
            self.queue.push_back(child);
        }
    }

    pub(super) fn fan_done(&self, frame_id: FrameId) -> Result<bool, Error> {
        Ok(match &self.frame(frame_id)?.pending {
            Pending::Fanout(fan) => {
                fan.children.is_empty() && fan.redo.is_empty() && fan.next_item >= fan.items.len()
            }
            _ => false,
        })
    }

    /// All branches or iterations are done: the Parallel/Map state produces its result.
    pub(super) fn fan_in(&mut self, frame_id: FrameId) -> Result<(), Error> {
        let fr = self.frame_mut(frame_id)?;
        let Pending::Fanout(fan) = std::mem::replace(&mut fr.pending, Pending::Idle) else {
            return Ok(());
        };
        let result = Value::Array(
            fan.results
                .into_iter()
                .map(|r| r.unwrap_or(Value::Null))
                .collect(),
        );
        self.record(
            Some(frame_id),
            if fan.is_map {
                "MapStateSucceeded"
            } else {
                "ParallelStateSucceeded"
            },
            Details::None,
        );
        self.complete(frame_id, Arc::new(result))
    }

    /// A child frame (branch or iteration) finished.
    pub(super) fn child_done(
        &mut self,
        parent: FrameId,
        child: FrameId,
        index: usize,
        result: Result<Data, Failure>,
    ) -> Result<(), Error> {
        let def = self.def;
        let name = def.state(self.frame(parent)?.state)?.name.clone();
        let is_map = match &mut self.frame_mut(parent)?.pending {
            Pending::Fanout(fan) => {
                fan.children.remove(&child);
                fan.is_map
            }
            _ => return Ok(()),
        };
        match result {
            Ok(output) => {
                if is_map {
                    self.record(
                        Some(parent),
                        "MapIterationSucceeded",
                        Details::MapIteration {
                            name: name.clone(),
                            index,
                        },
                    );
                }
                if let Pending::Fanout(fan) = &mut self.frame_mut(parent)?.pending {
                    if let Some(slot) = fan.results.get_mut(index) {
                        *slot = Some(Arc::unwrap_or_clone(output));
                    }
                }
            }
            Err(failure) => {
                let within_tolerance = if is_map {
                    self.record(
                        Some(parent),
                        "MapIterationFailed",
                        Details::MapIteration {
                            name: name.clone(),
                            index,
                        },
                    );
                    match &mut self.frame_mut(parent)?.pending {
                        Pending::Fanout(fan) => {
                            fan.failures += 1;
                            let ok = fan.tolerated.is_some_and(|t| fan.failures <= t)
                                && failure.error != Some(ErrorName::Runtime);
                            if ok {
                                if let Some(slot) = fan.results.get_mut(index) {
                                    *slot = Some(failure_object(&failure));
                                }
                            }
                            ok
                        }
                        _ => false,
                    }
                } else {
                    false
                };
                if !within_tolerance {
                    let tolerated_set = match &self.frame(parent)?.pending {
                        Pending::Fanout(fan) => fan.tolerated.is_some(),
                        _ => false,
                    };
                    let failure = if tolerated_set && failure.error != Some(ErrorName::Runtime) {
                        Failure::new(
                            ErrorName::ExceedToleratedFailureThreshold,
                            "The specified tolerated failure threshold was exceeded",
                        )
                    } else {
                        failure
                    };
                    return self.fan_failed(parent, is_map, failure);
                }
            }
        }
        if is_map {
            self.start_iterations(parent)?;
        }
        if self.fan_done(parent)? {
            self.fan_in(parent)?;
        }
        Ok(())
    }

    pub(super) fn fan_failed(
        &mut self,
        frame_id: FrameId,
        is_map: bool,
        failure: Failure,
    ) -> Result<(), Error> {
        let fr = self.frame_mut(frame_id)?;
        let pending = std::mem::replace(&mut fr.pending, Pending::Idle);
        if let Pending::Fanout(fan) = pending {
            for child in fan.children.keys() {
                self.cancel_frame(*child);
            }
            // Kept for a redrive, should the failure not be retried or caught: the
            // results of the children that succeeded, and the items never started.
            self.frame_mut(frame_id)?.pending = Pending::Fanout(fan);
        }
        self.record(
            Some(frame_id),
            if is_map {
                "MapStateFailed"
            } else {
                "ParallelStateFailed"
            },
            Details::None,
        );
        self.state_failed(frame_id, failure)
    }
}
