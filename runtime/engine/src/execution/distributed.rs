//! DISTRIBUTED Map states: the engine resolves the Map's fields against its input, records
//! `MapStateStarted` and `MapRunStarted`, and hands the runtime one task, the Map Run
//! ([`MAP_RUN_RESOURCE`]), whose input says everything the run needs: where the items
//! come from (the state input's, already through the ItemSelector, or an `ItemReader`'s,
//! with the selector and what it may read), the batching, the children's definition and
//! execution type, the tolerances, the concurrency and the `ResultWriter`. The runtime
//! answers the task when the run ends: with the Map's result (an array, or the
//! `ResultWriter`'s answer), or its failure. The children never appear in this history.
//!
//! A redrive of a Map Run that did not succeed asks the runtime for the same run again
//! (`"redrive": true`): the runtime runs only the items that did not succeed.

use super::task::region_of;
use super::*;

/// The resource of a Map Run task: not a Task state's, only the engine makes it.
pub const MAP_RUN_RESOURCE: &str = "arn:aws:states:::sandstep:mapRun";

impl Run<'_, '_> {
    pub(super) fn fan_out_distributed(
        &mut self,
        frame_id: FrameId,
        d: &Distributed,
        effective: Data,
    ) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let Kind::Map {
            tolerated_count,
            tolerated_percentage,
            ..
        } = &state.kind
        else {
            return Ok(());
        };
        let limit = match self.map_concurrency(frame_id, &effective)? {
            Ok(l) => l,
            Err(f) => return self.state_failed(frame_id, f),
        };
        // With a reader, ItemsPath is not read at all (a path that matches nothing is
        // no error), and the runtime applies the ItemSelector to what it reads.
        let items = match d.reader {
            Some(_) => None,
            None => match self.map_items(frame_id, &effective)? {
                Ok(items) => Some(items),
                Err(f) => return self.state_failed(frame_id, f),
            },
        };
        let length = items.as_ref().map_or(0, Vec::len);
        self.record(
            Some(frame_id),
            "MapStateStarted",
            Details::Fields(json_map(&[("length", json!(length))])),
        );
        let spec = match self.map_run_spec(
            frame_id,
            d,
            &effective,
            items,
            state.language == QueryLanguage::Jsonata,
        ) {
            Ok(spec) => spec,
            Err(f) => return self.state_failed(frame_id, f),
        };
        let tolerated = (
            self.amount_any(
                frame_id,
                &effective,
                tolerated_count.as_ref(),
                "ToleratedFailureCountPath",
            ),
            self.amount_any(
                frame_id,
                &effective,
                tolerated_percentage.as_ref(),
                "ToleratedFailurePercentagePath",
            ),
        );
        let (count, percentage) = match tolerated {
            (Ok(c), Ok(p)) => (c, p),
            (Err(f), _) | (_, Err(f)) => return self.state_failed(frame_id, f),
        };
        if percentage.is_some_and(|p| p > 100.0) {
            return self.state_failed(
                frame_id,
                Failure::runtime("ToleratedFailurePercentage must be between 0 and 100."),
            );
        }
        let start = self.start_facts()?;
        let label = d
            .label
            .clone()
            .unwrap_or_else(|| name_uuid(&format!("{}#{}", start.state_machine_arn, state.name)));
        let machine = format!("{}/{label}", start.state_machine_name);
        let arn = format!(
            "arn:aws:states:{}:{}:mapRun:{machine}:{}",
            region_of(&start.state_machine_arn),
            account_of(&start.state_machine_arn),
            self.rng.uuid()
        );
        let mut spec = spec;
        spec.extend([
            ("mapRunArn".to_string(), json!(arn)),
            ("label".into(), json!(label)),
            ("stateMachineName".into(), json!(machine)),
            (
                "executionType".into(),
                json!(if d.express { "EXPRESS" } else { "STANDARD" }),
            ),
            ("definition".into(), d.definition.clone()),
            ("maxConcurrency".into(), json!(limit)),
            (
                "toleratedFailureCount".into(),
                json!(count.unwrap_or(0.0) as u64),
            ),
            (
                "toleratedFailurePercentage".into(),
                json!(percentage.unwrap_or(0.0)),
            ),
        ]);
        self.record(
            Some(frame_id),
            "MapRunStarted",
            Details::Fields(json_map(&[("mapRunArn", json!(arn))])),
        );
        self.run_map_run(frame_id, arn, Value::Object(spec))
    }

    /// Hands the runtime the Map Run task.
    fn run_map_run(&mut self, frame_id: FrameId, arn: String, input: Value) -> Result<(), Error> {
        let task = TaskId(self.id());
        let name = self
            .def
            .state(self.frame(frame_id)?.state)?
            .name
            .to_string();
        self.frame_mut(frame_id)?.pending = Pending::MapRun { task, arn };
        self.st.tasks.insert(task, frame_id);
        self.out.push(Command::RunTask(TaskRequest {
            id: task,
            resource: MAP_RUN_RESOURCE.into(),
            input,
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
            state_name: name,
            task_token: None,
        }));
        Ok(())
    }

    /// What the runtime needs besides the names: the items or the reader, the selector,
    /// the batcher and the writer, resolved against the Map's input.
    fn map_run_spec(
        &mut self,
        frame_id: FrameId,
        d: &Distributed,
        effective: &Data,
        items: Option<Vec<Value>>,
        jsonata: bool,
    ) -> Result<Map<String, Value>, Failure> {
        let mut spec = Map::new();
        let template = |run: &mut Self, t: &Template| {
            run.eval(frame_id, effective, None, |s, rng| s.template(t, rng))
                .map_err(|e| Failure::runtime(e.to_string()))?
        };
        if let Some(items) = items {
            spec.insert("items".into(), Value::Array(items));
        }
        if let Some(reader) = &d.reader {
            let parameters = match &reader.parameters {
                Some(t) => template(self, t)?,
                None => json!({}),
            };
            let max_items = self.amount_any(
                frame_id,
                effective,
                reader.max_items.as_ref(),
                "MaxItemsPath",
            )?;
            if max_items.is_some_and(|n| n.fract() != 0.0) {
                return Err(Failure::runtime(format!(
                    "The MaxItemsPath field refers to value \"{}\" which is not a valid integer",
                    max_items.unwrap_or_default()
                )));
            }
            spec.insert(
                "reader".into(),
                json!({
                    "resource": reader.resource,
                    "parameters": parameters,
                    "config": reader.config,
                    "maxItems": max_items.map(|n| (n as u64).min(100_000_000)),
                }),
            );
            if let Some(selector) = &d.selector {
                let context = self
                    .eval(frame_id, effective, None, |s, _| s.context.to_value())
                    .map_err(|e| Failure::runtime(e.to_string()))?;
                spec.insert(
                    "selector".into(),
                    json!({
                        "template": selector,
                        "jsonata": jsonata,
                        "input": **effective,
                        "context": context,
                        "variables": self.visible_variables(frame_id),
                        "now": self.now,
                    }),
                );
            }
        }
        if let Some(batcher) = &d.batcher {
            let max_items = self.amount_any(
                frame_id,
                effective,
                batcher.max_items.as_ref(),
                "MaxItemsPerBatchPath",
            )?;
            let max_bytes = self.amount_any(
                frame_id,
                effective,
                batcher.max_bytes.as_ref(),
                "MaxInputBytesPerBatchPath",
            )?;
            let batch_input = match &batcher.batch_input {
                Some(t) => Some(template(self, t)?),
                None => None,
            };
            spec.insert(
                "batcher".into(),
                json!({
                    "maxItems": max_items.map(|n| n as u64),
                    "maxBytes": max_bytes.map(|n| (n as u64).min(262_144)),
                    "batchInput": batch_input,
                }),
            );
        }
        if let Some(writer) = &d.writer {
            let parameters = match &writer.parameters {
                Some(t) => Some(template(self, t)?),
                None => None,
            };
            spec.insert(
                "writer".into(),
                json!({
                    "resource": writer.resource,
                    "parameters": parameters,
                    "config": writer.config,
                }),
            );
        }
        Ok(spec)
    }

    /// Every variable a frame sees, innermost first winning.
    fn visible_variables(&self, frame_id: FrameId) -> Map<String, Value> {
        let mut out = Map::new();
        let mut cursor = Some(frame_id);
        while let Some(id) = cursor {
            let Some(frame) = self.st.frames.get(&id) else {
                break;
            };
            for (name, value) in frame.vars.iter() {
                out.entry(name.clone()).or_insert_with(|| value.clone());
            }
            cursor = frame.parent.map(|(parent, _)| parent);
        }
        out
    }

    /// Whether the task is a frame's Map Run.
    pub(super) fn map_run_of(&self, task: TaskId) -> Option<FrameId> {
        let frame = *self.st.tasks.get(&task)?;
        matches!(self.st.frames.get(&frame)?.pending, Pending::MapRun { .. }).then_some(frame)
    }

    /// The Map Run ended well: its answer is the Map's result.
    pub(super) fn map_run_succeeded(
        &mut self,
        task: TaskId,
        frame_id: FrameId,
        output: Value,
    ) -> Result<(), Error> {
        self.st.tasks.remove(&task);
        self.record(Some(frame_id), "MapRunSucceeded", Details::None);
        self.frame_mut(frame_id)?.pending = Pending::Idle;
        self.record(Some(frame_id), "MapStateSucceeded", Details::None);
        self.complete(frame_id, Arc::new(output))
    }

    /// The Map Run failed: so does the Map state (Retry and Catch apply).
    pub(super) fn map_run_failed(
        &mut self,
        task: TaskId,
        frame_id: FrameId,
        failure: Failure,
    ) -> Result<(), Error> {
        self.st.tasks.remove(&task);
        let mut details = Map::new();
        if let Some(e) = &failure.error {
            details.insert("error".into(), json!(e.to_string()));
        }
        if let Some(c) = &failure.cause {
            details.insert("cause".into(), json!(c));
        }
        self.record(Some(frame_id), "MapRunFailed", Details::Fields(details));
        // Kept as the Map Run's, should a redrive ask for it again.
        self.record(Some(frame_id), "MapStateFailed", Details::None);
        self.state_failed(frame_id, failure)?;
        self.drain()
    }

    /// A redrive raises a Map whose Map Run did not succeed: the same run goes on with
    /// the items that did not succeed.
    pub(super) fn redrive_map_run(&mut self, frame_id: FrameId, arn: String) -> Result<(), Error> {
        self.record_entry(frame_id)?;
        self.record(
            Some(frame_id),
            "MapStateStarted",
            Details::Fields(json_map(&[("length", json!(0))])),
        );
        let count = self.st.redrives;
        self.record(
            Some(frame_id),
            "MapRunRedriven",
            Details::Fields(json_map(&[
                ("mapRunArn", json!(arn)),
                ("redriveCount", json!(count)),
            ])),
        );
        let input = json!({"mapRunArn": arn, "redrive": true});
        self.run_map_run(frame_id, arn, input)
    }
}

/// The account of an ARN.
fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or("000000000000").to_string()
}

/// A name-based UUID (version 5, SHA-1, in the URL namespace): the label AWS gives a
/// Distributed Map that has none is a stable UUID too.
fn name_uuid(name: &str) -> String {
    use sha1::{Digest, Sha1};
    const URL_NAMESPACE: [u8; 16] = [
        0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];
    let mut hash = Sha1::new();
    hash.update(URL_NAMESPACE);
    hash.update(name.as_bytes());
    let digest = hash.finalize();
    let hex: String = digest
        .iter()
        .take(16)
        .enumerate()
        .map(|(i, x)| match i {
            6 => (x & 0x0f) | 0x50,
            8 => (x & 0x3f) | 0x80,
            _ => *x,
        })
        .map(|x| format!("{x:02x}"))
        .collect();
    let part = |from: usize, to: usize| hex.get(from..to).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}
