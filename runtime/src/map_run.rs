//! Distributed Map runs, the parts that do no I/O: what the engine's Map Run task asks
//! for ([`Spec`]), reading items (`reader`), grouping them into batches (`batcher`) and
//! the shapes of the results (`results`). The scheduler drives a run
//! (`scheduler/map_runs.rs`), the store keeps it (`store/map_runs.rs`), the services
//! answer DescribeMapRun, ListMapRuns and UpdateMapRun (`service/map_runs.rs`).

pub mod batcher;
pub mod reader;
pub mod results;

use serde::Deserialize;
use serde_json::{Map, Value};

/// What the engine's Map Run task asks for (its input; see
/// `sandstep_engine::execution::MAP_RUN_RESOURCE`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// The run's ARN.
    pub map_run_arn: String,
    /// The children's state machine name: `<machine>/<label>`.
    pub state_machine_name: String,
    /// The Map's label.
    pub label: String,
    /// `STANDARD` or `EXPRESS`.
    pub execution_type: String,
    /// The children's definition.
    pub definition: Value,
    /// The items, when they came from the state input (already selected).
    #[serde(default)]
    pub items: Option<Vec<Value>>,
    /// The reader, otherwise.
    #[serde(default)]
    pub reader: Option<ReaderSpec>,
    /// The ItemSelector for what the reader brings.
    #[serde(default)]
    pub selector: Option<Value>,
    /// The batcher.
    #[serde(default)]
    pub batcher: Option<batcher::Batcher>,
    /// The writer.
    #[serde(default)]
    pub writer: Option<WriterSpec>,
    /// Children running at once at most (0: no limit).
    #[serde(default)]
    pub max_concurrency: u64,
    /// Failed items tolerated.
    #[serde(default)]
    pub tolerated_failure_count: u64,
    /// Failed items tolerated, in percent.
    #[serde(default)]
    pub tolerated_failure_percentage: f64,
}

impl Spec {
    /// Whether the children are Express executions.
    pub fn express(&self) -> bool {
        self.execution_type == "EXPRESS"
    }
}

/// An `ItemReader`, resolved.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReaderSpec {
    /// `s3:getObject` or `s3:listObjectsV2`.
    pub resource: String,
    /// `Bucket`, `Key` or `Prefix`.
    #[serde(default)]
    pub parameters: Map<String, Value>,
    /// `ReaderConfig` without `MaxItems`.
    #[serde(default)]
    pub config: Map<String, Value>,
    /// `MaxItems`, resolved.
    #[serde(default)]
    pub max_items: Option<u64>,
}

/// A `ResultWriter`, resolved.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriterSpec {
    /// `s3:putObject` when results are exported.
    #[serde(default)]
    pub resource: Option<String>,
    /// `Bucket`, `Prefix`.
    #[serde(default)]
    pub parameters: Option<Map<String, Value>>,
    /// `WriterConfig`.
    #[serde(default)]
    pub config: Map<String, Value>,
}

impl WriterSpec {
    /// The bucket and prefix results are exported to, when they are.
    pub fn destination(&self) -> Option<(String, String)> {
        self.resource.as_ref()?;
        let p = self.parameters.as_ref()?;
        let bucket = p.get("Bucket")?.as_str()?.to_string();
        let prefix = p
            .get("Prefix")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        Some((bucket, prefix))
    }

    /// `WriterConfig.Transformation`: `NONE` by default when exporting, `COMPACT`
    /// otherwise.
    pub fn transformation(&self) -> results::Transformation {
        let default = match self.destination() {
            Some(_) => results::Transformation::None,
            None => results::Transformation::Compact,
        };
        match self.config.get("Transformation").and_then(Value::as_str) {
            Some("NONE") => results::Transformation::None,
            Some("COMPACT") => results::Transformation::Compact,
            Some("FLATTEN") => results::Transformation::Flatten,
            _ => default,
        }
    }

    /// `WriterConfig.OutputType` is `JSONL`.
    pub fn json_lines(&self) -> bool {
        self.config.get("OutputType").and_then(Value::as_str) == Some("JSONL")
    }
}

/// The id of a Map Run: the last part of its ARN.
pub fn run_id(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}
