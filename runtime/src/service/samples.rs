//! Installing a sample project into a tenant: the steps of its manifest
//! ([`crate::samples`]), each through the same use case the API runs for it, so a sample
//! installs exactly what a user doing it by hand would get.
//!
//! Installing again brings the tenant back to the sample as shipped: what exists is
//! updated (machines get the shipped definition, schedules and routes are replaced, items
//! and objects are written again), and a module is uploaded again only when its bytes or
//! grants changed. Steps run in order and stop at the first failure, which names the
//! step; what the earlier steps did stays (running the install again finishes it).

use super::machines::{Changes, NewMachine};
use super::schedules::ScheduleSpec;
use super::{DynamoDb, Error, Events, Machines, Modules, Result, Routes, Schedules, Sns, Sqs, S3};
use crate::grants::Grants;
use crate::samples::{self, Place, Sample, Step};
use crate::tenants::Tenant;
use sandstep_engine::validate::MachineType;
use serde_json::Value;
use sha2::Digest as _;

/// The role sample machines are said to run as (kept and shown, not assumed).
const ROLE: &str = "arn:aws:iam::${AWS::AccountId}:role/sandstep-sample";

/// Errors a step may meet that mean "it is there already", which a reinstall expects.
const ALREADY_THERE: &[&str] = &["ResourceInUseException", "BucketAlreadyOwnedByYou"];

/// Why a step failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StepFailure {
    /// A use case's error.
    #[error(transparent)]
    Service(#[from] Error),
    /// An AWS service's error (DynamoDB, SQS, SNS, EventBridge, S3), or the sample's own.
    #[error("{message}")]
    Aws {
        /// Its name (`ValidationException`, ...).
        code: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl StepFailure {
    fn aws(code: &'static str, message: impl Into<String>) -> StepFailure {
        StepFailure::Aws {
            code,
            message: message.into(),
        }
    }
}

impl From<samples::Error> for StepFailure {
    fn from(e: samples::Error) -> StepFailure {
        let code = match e {
            samples::Error::ModuleNotBuilt(_) => "ModuleNotBuilt",
            _ => "ValidationException",
        };
        StepFailure::aws(code, e.to_string())
    }
}

type Outcome = std::result::Result<String, StepFailure>;

/// What an installation did.
#[derive(Debug, Clone, PartialEq)]
pub struct Installed {
    /// The sample.
    pub sample: String,
    /// One line per step, in order (`created table inventory`, ...).
    pub done: Vec<String>,
    /// The main state machine's ARN.
    pub machine_arn: String,
}

/// The sample projects' installer.
#[derive(Debug, Clone)]
pub struct Samples {
    region: String,
    machines: Machines,
    modules: Modules,
    dynamodb: DynamoDb,
    sqs: Sqs,
    sns: Sns,
    events: Events,
    s3: S3,
    data: super::Data,
    schedules: Schedules,
    routes: Routes,
}

/// The services a sample's steps use.
#[derive(Debug, Clone)]
pub struct Uses {
    /// State machines.
    pub machines: Machines,
    /// Modules.
    pub modules: Modules,
    /// DynamoDB.
    pub dynamodb: DynamoDb,
    /// SQS.
    pub sqs: Sqs,
    /// SNS.
    pub sns: Sns,
    /// EventBridge.
    pub events: Events,
    /// S3.
    pub s3: S3,
    /// Key-value items.
    pub data: super::Data,
    /// Schedules.
    pub schedules: Schedules,
    /// HTTP routes.
    pub routes: Routes,
}

impl Samples {
    /// The installer, in `region`, through `uses`.
    pub fn new(region: &str, uses: Uses) -> Samples {
        Samples {
            region: region.to_string(),
            machines: uses.machines,
            modules: uses.modules,
            dynamodb: uses.dynamodb,
            sqs: uses.sqs,
            sns: uses.sns,
            events: uses.events,
            s3: uses.s3,
            data: uses.data,
            schedules: uses.schedules,
            routes: uses.routes,
        }
    }

    /// Every sample in the binary.
    ///
    /// # Errors
    /// [`Error::Internal`] for a manifest that does not read (a build from a broken tree).
    pub fn list(&self) -> Result<Vec<Sample>> {
        samples::all().map_err(|e| Error::Internal(e.to_string()))
    }

    /// The sample `name`.
    ///
    /// # Errors
    /// [`Error::SampleDoesNotExist`].
    pub fn get(&self, name: &str) -> Result<Sample> {
        samples::get(name).map_err(sample_error)
    }

    /// Installs sample `name` into `tenant`; SQS queue URLs start with `endpoint`.
    ///
    /// # Errors
    /// [`Error::SampleDoesNotExist`]; [`Error::SampleStepFailed`] naming the step that
    /// failed and why.
    #[tracing::instrument(level = "debug", name = "service.install_sample", skip_all, fields(tenant = %tenant.id, sample = %name))]
    pub async fn install(&self, tenant: &Tenant, name: &str, endpoint: &str) -> Result<Installed> {
        let sample = self.get(name)?;
        let place = Place {
            region: &self.region,
            account: &tenant.account,
        };
        let mut done = Vec::with_capacity(sample.manifest.steps.len());
        for (index, step) in sample.manifest.steps.iter().enumerate() {
            let line = self
                .run(tenant, &sample.name, &place, step, endpoint)
                .await
                .map_err(|failure| Error::SampleStepFailed {
                    sample: sample.name.clone(),
                    step: index + 1,
                    failure: Box::new(failure),
                })?;
            tracing::debug!(step = index + 1, "{line}");
            done.push(line);
        }
        Ok(Installed {
            machine_arn: place.machine_arn(&sample.manifest.main),
            sample: sample.name,
            done,
        })
    }

    /// Runs one step: what it did, or the error's name and message.
    async fn run(
        &self,
        tenant: &Tenant,
        sample: &str,
        place: &Place<'_>,
        step: &Step,
        endpoint: &str,
    ) -> Outcome {
        match step {
            Step::Module { name, wasm, grants } => {
                let built = wasm.as_deref().unwrap_or(name);
                self.module(tenant, name, built, grants).await
            }
            Step::Dynamodb(call) | Step::Sqs(call) | Step::Sns(call) | Step::Events(call) => {
                let request = place.fill_value(&call.request)?;
                let (service, answer) = self.aws(tenant, endpoint, step, request.clone()).await;
                tolerate(service, &call.action, &request, answer)
            }
            Step::Bucket(bucket) => {
                let made = self.s3.create_bucket(tenant, bucket).await;
                let made = made
                    .map(|()| Value::Null)
                    .map_err(|e| StepFailure::aws(e.code, e.message));
                tolerate(
                    "s3",
                    "CreateBucket",
                    &serde_json::json!({"Name": bucket}),
                    made,
                )
            }
            Step::BucketEvents(bucket) => {
                self.s3
                    .set_event_bridge(tenant, bucket, true)
                    .await
                    .map_err(|e| StepFailure::aws(e.code, e.message))?;
                Ok(format!("bucket {bucket}: EventBridge notifications on"))
            }
            Step::Object { bucket, key, file } => {
                let bytes = samples::file(sample, file)?;
                let (tx, rx) = super::s3::upload_channel();
                // One chunk, then the end; the channel holds it, so this never waits.
                tx.try_send(Ok(axum::body::Bytes::from_static(bytes)))
                    .map_err(|e| StepFailure::aws("InternalError", e.to_string()))?;
                drop(tx);
                let upload = super::s3::Upload {
                    chunks: rx,
                    sha256: None,
                };
                self.s3
                    .put_object(tenant, bucket, key, upload, None, Default::default())
                    .await
                    .map_err(|e| StepFailure::aws(e.code, e.message))?;
                Ok(format!("object s3://{bucket}/{key}"))
            }
            Step::Item { table, key, value } => {
                let value = place.fill_value(value)?;
                self.data
                    .put(tenant, table, key, value.to_string().as_bytes())
                    .await?;
                Ok(format!("item {table}/{key}"))
            }
            Step::Machine {
                name,
                machine_type,
                definition,
            } => self.machine(tenant, sample, place, name, machine_type, definition),
            Step::Schedule {
                name,
                expression,
                timezone,
                machine,
                input,
            } => {
                let spec = ScheduleSpec {
                    expression: expression.clone(),
                    timezone: timezone.clone(),
                    target_arn: place.machine_arn(machine),
                    input: input.as_ref().map(Value::to_string),
                    ..ScheduleSpec::default()
                };
                let exists = self.schedules.get(tenant, None, name).is_ok();
                self.schedules.put(tenant, name, spec, exists).await?;
                Ok(format!("schedule {name} ({expression})"))
            }
            Step::Route { name, spec } => {
                let spec = place.fill_value(spec)?;
                let spec = serde_json::from_value(spec)
                    .map_err(|e| StepFailure::aws("ValidationException", e.to_string()))?;
                let route = self.routes.put(tenant, name, spec).await?;
                Ok(format!(
                    "route {name}: {}",
                    Routes::url_path(tenant, &route)
                ))
            }
        }
    }

    /// An AWS call step sent to its service: the service's name and its answer.
    async fn aws(
        &self,
        tenant: &Tenant,
        endpoint: &str,
        step: &Step,
        request: Value,
    ) -> (&'static str, std::result::Result<Value, StepFailure>) {
        let failed = |code, message| StepFailure::aws(code, message);
        match step {
            Step::Dynamodb(c) => {
                let answer = self.dynamodb.call(tenant, &c.action, request).await;
                (
                    "dynamodb",
                    answer.map_err(|e| failed(e.name(), e.to_string())),
                )
            }
            Step::Sqs(c) => {
                let answer = self.sqs.call(tenant, endpoint, &c.action, request).await;
                ("sqs", answer.map_err(|e| failed(e.code, e.message)))
            }
            Step::Sns(c) => {
                let answer = self.sns.call(tenant, &c.action, request).await;
                ("sns", answer.map_err(|e| failed(e.code, e.message)))
            }
            Step::Events(c) => {
                let answer = self.events.call(tenant, &c.action, request).await;
                ("events", answer.map_err(|e| failed(e.code, e.message)))
            }
            _ => (
                "",
                Err(failed("InternalError", "not an AWS call step".into())),
            ),
        }
    }

    async fn module(&self, tenant: &Tenant, name: &str, built: &str, grants: &[String]) -> Outcome {
        let bytes = samples::module(built)?;
        let wanted = Grants::parse(grants.iter().map(String::as_str))
            .map_err(|e| Error::InvalidGrants(e.to_string()))?;
        let sha256 = crate::store::data::hex(&sha2::Sha256::digest(bytes));
        let current = self
            .modules
            .versions(tenant, name)
            .ok()
            .and_then(|v| v.into_iter().last());
        if let Some(v) = current.filter(|v| v.sha256 == sha256 && v.grants == wanted) {
            return Ok(format!("module {name} version {} (unchanged)", v.version));
        }
        let joined = grants.join(",");
        let grants = (!joined.is_empty()).then_some(joined.as_str());
        let uploaded = self
            .modules
            .upload(tenant, name, bytes.to_vec(), grants)
            .await?;
        Ok(format!("module {name} version {}", uploaded.version))
    }

    fn machine(
        &self,
        tenant: &Tenant,
        sample: &str,
        place: &Place<'_>,
        name: &str,
        machine_type: &str,
        definition: &str,
    ) -> Outcome {
        let definition = place.fill(samples::text(sample, definition)?)?;
        let arn = place.machine_arn(name);
        if self.machines.describe(tenant, &arn).is_ok() {
            let changes = Changes {
                definition: Some(definition),
                ..Changes::default()
            };
            self.machines.update(tenant, &arn, changes)?;
            return Ok(format!("state machine {name} (updated): {arn}"));
        }
        let machine_type = match machine_type {
            "STANDARD" => MachineType::Standard,
            "EXPRESS" => MachineType::Express,
            other => {
                let message = format!("type {other}: STANDARD or EXPRESS");
                return Err(StepFailure::aws("ValidationException", message));
            }
        };
        let new = NewMachine {
            name: name.to_string(),
            definition,
            role_arn: place.fill(ROLE)?,
            machine_type,
            publish: false,
            description: None,
            logging: None,
            tracing: None,
            tags: Some(vec![("sandstep:sample".to_string(), sample.to_string())]),
        };
        self.machines.create(tenant, new)?;
        Ok(format!("state machine {name}: {arn}"))
    }
}

/// An AWS call's answer as a step's line: a create that finds its resource in place
/// is what a second install expects.
fn tolerate(
    service: &str,
    action: &str,
    request: &Value,
    answer: std::result::Result<Value, StepFailure>,
) -> Outcome {
    let what = format!("{service} {action}{}", named(request));
    match answer {
        Ok(_) => Ok(what),
        Err(StepFailure::Aws { code, .. }) if ALREADY_THERE.contains(&code) => {
            Ok(format!("{what} (already there)"))
        }
        Err(e) => Err(e),
    }
}

/// What a request is about, for its step's line: ` inventory`, ` shipments`, ...
fn named(request: &Value) -> String {
    ["TableName", "QueueName", "Name", "TopicArn"]
        .iter()
        .find_map(|field| request[field].as_str())
        .map(|name| format!(" {name}"))
        .unwrap_or_default()
}

fn sample_error(e: samples::Error) -> Error {
    match e {
        samples::Error::NoSuchSample(name) => Error::SampleDoesNotExist(name),
        other => Error::Internal(other.to_string()),
    }
}
