//! The sample projects built into the binary: each a folder under `modules/samples/` with a
//! manifest (`sample.json`), its definitions, inputs and data files, and the modules it
//! uploads (built by `modules/build.sh`, embedded by `build.rs`).
//!
//! This is the catalogue only: reading and checking manifests, and filling a definition's
//! placeholders. Installing a sample into a tenant is a use case
//! ([`crate::service::samples`]).
//!
//! A manifest is a list of steps run in order, each one thing a user would otherwise do by
//! hand: upload a module, call DynamoDB, SQS, SNS or EventBridge with the request AWS's API
//! takes, create a bucket or an object, put a key-value item, create a state machine, a
//! schedule or an HTTP route. Strings anywhere in a step or definition may hold
//! `${AWS::Region}`, `${AWS::AccountId}` and `${StateMachine:<name>}` (that machine's ARN),
//! the way AWS SAM's `DefinitionSubstitutions` fill the samples AWS publishes.

use serde::Deserialize;
use serde_json::Value;

include!(concat!(env!("OUT_DIR"), "/samples.rs"));

/// A sample's manifest, `sample.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// The title shown in lists.
    pub title: String,
    /// Its family: E-commerce, Data processing, ...
    pub category: String,
    /// What it does, in a paragraph.
    pub summary: String,
    /// The state machine a user starts (and the console opens).
    pub main: String,
    /// What installing it does, in order.
    pub steps: Vec<Step>,
    /// Example inputs for the main machine: label, file in the sample's folder.
    #[serde(default)]
    pub inputs: std::collections::BTreeMap<String, String>,
}

/// One step of an installation.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Step {
    /// Uploads a module (a new version when its bytes or grants changed).
    Module {
        /// Its name.
        name: String,
        /// The built module it uploads (`modules/dist/<wasm>.wasm`), when not `name`: one
        /// build uploaded under several names, each with its own grants.
        #[serde(default)]
        wasm: Option<String>,
        /// Its grants (`kv:orders`, `queue:shipments:write`, ...).
        #[serde(default)]
        grants: Vec<String>,
    },
    /// A DynamoDB action with the request AWS's API takes.
    Dynamodb(Call),
    /// An SQS action.
    Sqs(Call),
    /// An SNS action.
    Sns(Call),
    /// An EventBridge action.
    Events(Call),
    /// Creates an S3 bucket.
    Bucket(String),
    /// Turns on a bucket's EventBridge notifications: its objects' changes become events
    /// on the default bus.
    BucketEvents(String),
    /// Puts an S3 object with a file of the sample's as its body.
    Object {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The file in the sample's folder.
        file: String,
    },
    /// Puts a key-value item (the tables modules are granted with `kv:`).
    Item {
        /// The table.
        table: String,
        /// The key.
        key: String,
        /// The value.
        value: Value,
    },
    /// Creates, or updates, a state machine.
    Machine {
        /// Its name.
        name: String,
        /// `STANDARD` (default) or `EXPRESS`.
        #[serde(rename = "type", default = "standard")]
        machine_type: String,
        /// The definition's file in the sample's folder.
        definition: String,
    },
    /// Creates, or replaces, a schedule that starts a machine.
    Schedule {
        /// Its name.
        name: String,
        /// `rate(...)`, `cron(...)` or `at(...)`.
        expression: String,
        /// Its IANA zone (UTC).
        #[serde(default)]
        timezone: Option<String>,
        /// The machine it starts (by name).
        machine: String,
        /// The execution input.
        #[serde(default)]
        input: Option<Value>,
    },
    /// Creates, or replaces, an HTTP route; its body is `PUT /v1/routes/{name}`'s.
    Route {
        /// Its name.
        name: String,
        /// The route, as `PUT /v1/routes/{name}` takes it.
        spec: Value,
    },
}

fn standard() -> String {
    "STANDARD".to_string()
}

/// An AWS API call: the action and its request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Call {
    /// The action (`CreateTable`, ...).
    pub action: String,
    /// Its request, as AWS's JSON API takes it.
    #[serde(default)]
    pub request: Value,
}

/// A sample: its name (its folder) and manifest.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The folder's name, which `sandstep sample install` takes.
    pub name: String,
    /// The manifest.
    pub manifest: Manifest,
}

/// Why a sample cannot be read or installed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// No sample has this name.
    #[error("There is no sample named {0:?}; `sandstep sample list` lists them.")]
    NoSuchSample(String),
    /// The manifest is not what this module reads (a mistake in the repository).
    #[error("Sample {sample}'s sample.json is invalid: {message}")]
    BadManifest {
        /// The sample.
        sample: String,
        /// What is wrong.
        message: String,
    },
    /// A file the manifest names is not in the sample's folder.
    #[error("Sample {sample} has no file {file}.")]
    NoSuchFile {
        /// The sample.
        sample: String,
        /// The file.
        file: String,
    },
    /// A module the sample uploads was not built when this binary was.
    #[error("Module {0} was not built into this binary: run `bash modules/build.sh`, then build Sandstep again.")]
    ModuleNotBuilt(String),
    /// A placeholder no installation can fill.
    #[error("Unknown placeholder ${{{0}}}: use ${{AWS::Region}}, ${{AWS::AccountId}} or ${{StateMachine:<name>}}.")]
    UnknownPlaceholder(String),
}

/// Every sample, by name.
///
/// # Errors
/// [`Error::BadManifest`] for a manifest that does not parse.
pub fn all() -> Result<Vec<Sample>, Error> {
    let mut names: Vec<&str> = SAMPLE_FILES.iter().map(|(s, _, _)| *s).collect();
    names.dedup();
    names.into_iter().map(get).collect()
}

/// The sample named `name`.
///
/// # Errors
/// [`Error::NoSuchSample`], [`Error::BadManifest`].
pub fn get(name: &str) -> Result<Sample, Error> {
    let text = file(name, "sample.json").map_err(|_| Error::NoSuchSample(name.to_string()))?;
    let manifest = serde_json::from_slice(text).map_err(|e| Error::BadManifest {
        sample: name.to_string(),
        message: e.to_string(),
    })?;
    Ok(Sample {
        name: name.to_string(),
        manifest,
    })
}

/// The bytes of `path` in sample `sample`'s folder.
///
/// # Errors
/// [`Error::NoSuchFile`].
pub fn file(sample: &str, path: &str) -> Result<&'static [u8], Error> {
    SAMPLE_FILES
        .iter()
        .find(|(s, p, _)| *s == sample && *p == path)
        .map(|(_, _, bytes)| *bytes)
        .ok_or_else(|| Error::NoSuchFile {
            sample: sample.to_string(),
            file: path.to_string(),
        })
}

/// A file of a sample's as text.
///
/// # Errors
/// [`Error::NoSuchFile`], or [`Error::BadManifest`] when it is not UTF-8.
pub fn text(sample: &str, path: &str) -> Result<&'static str, Error> {
    std::str::from_utf8(file(sample, path)?).map_err(|_| Error::BadManifest {
        sample: sample.to_string(),
        message: format!("{path} is not UTF-8 text"),
    })
}

/// The compiled module `name`.
///
/// # Errors
/// [`Error::ModuleNotBuilt`].
pub fn module(name: &str) -> Result<&'static [u8], Error> {
    SAMPLE_MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, bytes)| *bytes)
        .ok_or_else(|| Error::ModuleNotBuilt(name.to_string()))
}

/// Where an installation puts things: what fills the placeholders.
#[derive(Debug, Clone)]
pub struct Place<'a> {
    /// The server's region.
    pub region: &'a str,
    /// The tenant's account.
    pub account: &'a str,
}

impl Place<'_> {
    /// The ARN state machine `name` has here.
    pub fn machine_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:stateMachine:{name}",
            self.region, self.account
        )
    }

    /// `text` with its placeholders filled.
    ///
    /// # Errors
    /// [`Error::UnknownPlaceholder`] for `${AWS::...}` or `${StateMachine...}` it does not
    /// know; other `${...}` are left as they are (they are not ours).
    pub fn fill(&self, text: &str) -> Result<String, Error> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let key = &after[..end];
            match key {
                "AWS::Region" => out.push_str(self.region),
                "AWS::AccountId" => out.push_str(self.account),
                _ => {
                    if let Some(machine) = key.strip_prefix("StateMachine:") {
                        out.push_str(&self.machine_arn(machine));
                    } else if key.starts_with("AWS::") || key.starts_with("StateMachine") {
                        return Err(Error::UnknownPlaceholder(key.to_string()));
                    } else {
                        out.push_str(&rest[start..start + 2 + end + 1]);
                    }
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A step with its placeholders filled (in every string of it).
    ///
    /// # Errors
    /// [`Error::UnknownPlaceholder`].
    pub fn fill_value(&self, value: &Value) -> Result<Value, Error> {
        Ok(match value {
            Value::String(s) => Value::String(self.fill(s)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.fill_value(v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.fill_value(v)?)))
                    .collect::<Result<_, Error>>()?,
            ),
            other => other.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandstep_engine::validate::MachineType;

    const HERE: Place<'static> = Place {
        region: "eu-west-1",
        account: "123456789012",
    };

    #[test]
    fn placeholders_are_filled_and_others_kept() {
        let text = r#"{"a": "${AWS::Region}/${AWS::AccountId}", "b": "${StateMachine:child}", "c": "${Other} and ${"}"#;
        assert_eq!(
            HERE.fill(text).unwrap(),
            r#"{"a": "eu-west-1/123456789012", "b": "arn:aws:states:eu-west-1:123456789012:stateMachine:child", "c": "${Other} and ${"}"#
        );
        assert_eq!(
            HERE.fill("${AWS::Partition}"),
            Err(Error::UnknownPlaceholder("AWS::Partition".into()))
        );
    }

    #[test]
    fn every_sample_reads_and_names_only_files_and_modules_it_has() {
        let samples = all().unwrap();
        assert!(samples.len() >= 2, "{samples:?}");
        for sample in samples {
            let m = &sample.manifest;
            let machines: Vec<&str> = m
                .steps
                .iter()
                .filter_map(|s| match s {
                    Step::Machine { name, .. } => Some(name.as_str()),
                    _ => None,
                })
                .collect();
            assert!(machines.contains(&m.main.as_str()), "{}: main", sample.name);
            for step in &m.steps {
                match step {
                    Step::Machine {
                        definition,
                        machine_type,
                        ..
                    } => {
                        let filled = HERE.fill(text(&sample.name, definition).unwrap()).unwrap();
                        let kind = match machine_type.as_str() {
                            "EXPRESS" => MachineType::Express,
                            _ => MachineType::Standard,
                        };
                        let found = crate::service::machines::diagnostics(&filled, kind);
                        let errors: Vec<_> = found
                            .iter()
                            .filter(|d| d.severity == sandstep_engine::validate::Severity::Error)
                            .collect();
                        assert!(
                            errors.is_empty(),
                            "{}/{definition}: {errors:?}",
                            sample.name
                        );
                    }
                    Step::Object { file: f, .. } => {
                        file(&sample.name, f).unwrap();
                    }
                    Step::Module { name, wasm, .. } => {
                        let built = wasm.as_deref().unwrap_or(name);
                        assert!(
                            SAMPLE_MODULES.iter().any(|(n, _)| *n == built),
                            "{}: {built}",
                            sample.name
                        );
                    }
                    _ => {}
                }
            }
            for input in m.inputs.values() {
                serde_json::from_str::<Value>(text(&sample.name, input).unwrap()).unwrap();
            }
        }
    }
}
