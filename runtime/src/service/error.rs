//! Why a use case refused or failed. The messages are AWS's where AWS has one (they are
//! part of the API's contract); the HTTP layer only picks the error name and status for
//! each variant (`api::error`), in one place.

use crate::scheduler;
use crate::store;

/// Everything a use case can answer instead of a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// An ARN that does not parse, or a role ARN of the wrong form.
    #[error(transparent)]
    InvalidArn(#[from] crate::arn::Error),
    /// An ARN of the wrong kind of resource for the call (`execution`, `stateMachine`).
    #[error("Invalid Arn: 'Resource type not valid in this context: {kind}' ({arn})")]
    WrongResource {
        /// The kind the ARN names.
        kind: &'static str,
        /// The ARN as given.
        arn: String,
    },
    /// A state machine or execution name that breaks AWS's naming rules.
    #[error("Invalid Name: '{0}'")]
    InvalidName(String),
    /// A definition that does not validate or cannot run; the text lists why.
    #[error("Invalid State Machine Definition: '{0}'")]
    InvalidDefinition(String),
    /// An execution input over the payload limit.
    #[error(
        "Invalid execution input: the input is {bytes} bytes, above the limit of {limit} bytes"
    )]
    InputTooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// An execution input that is not JSON; the text is the parser's.
    #[error("Invalid State Machine Execution Input: '{0}'")]
    InputNotJson(String),
    /// A pagination token this server did not make.
    #[error("Invalid Token: '{0}'")]
    InvalidToken(String),
    /// A version or alias change that conflicts with what exists (AWS's
    /// `ConflictException`); the text is AWS's.
    #[error("{0}")]
    VersionConflict(String),
    /// Over a quota of versions or aliases (AWS's `ServiceQuotaExceededException`).
    #[error("{0}")]
    QuotaExceeded(String),
    /// A version or alias request that breaks AWS's rules (a `ValidationException`); the
    /// text is AWS's.
    #[error("{0}")]
    InvalidVersioning(String),
    /// A feature of an action Sandstep does not offer yet (AWS's parameter is known).
    #[error("{0}")]
    Unsupported(String),
    /// No such alias, or a routing entry naming no version (AWS's `ResourceNotFound`).
    #[error("Request references a resource that does not exist.")]
    VersionOrAliasDoesNotExist,
    /// An update that changes nothing.
    #[error("Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified")]
    NothingToUpdate,
    /// No such state machine (or another tenant's or region's).
    #[error("State Machine Does Not Exist: '{0}'")]
    StateMachineDoesNotExist(String),
    /// A state machine of that name exists with another definition, type or role.
    #[error("State Machine Already Exists: '{0}'")]
    StateMachineAlreadyExists(String),
    /// The call is for Express state machines only.
    #[error("This operation is only supported for EXPRESS state machines")]
    ExpressOnly,
    /// The call is not for Express executions (they are not stored).
    #[error("This operation is not supported by EXPRESS state machines")]
    NotForExpress,
    /// No such execution (or another tenant's or region's).
    #[error("Execution Does Not Exist: '{0}'")]
    ExecutionDoesNotExist(String),
    /// A Standard execution of that name exists, with another input or finished.
    #[error("Execution Already Exists: '{0}'")]
    ExecutionAlreadyExists(String),
    /// The tenant has as many open executions as its quota allows.
    #[error("{0}")]
    ExecutionLimitExceeded(String),
    /// No such Map Run (or another tenant's).
    #[error("Map Run does not exist: '{0}'")]
    MapRunDoesNotExist(String),
    /// UpdateMapRun on a run that has ended.
    #[error("Map Run is not in RUNNING state: '{0}'")]
    MapRunNotRunning(String),
    /// The execution cannot be redriven; the text is AWS's reason.
    #[error("{0}")]
    ExecutionNotRedrivable(String),
    /// No such activity (or another tenant's or region's).
    #[error("Activity Does Not Exist: '{0}'")]
    ActivityDoesNotExist(String),
    /// The tenant has as many activities as it may.
    #[error("{0}")]
    ActivityLimitExceeded(String),
    /// As many workers poll the tenant's activities as may.
    #[error("{0}")]
    ActivityWorkerLimitExceeded(String),
    /// The resource a tag call names does not exist (or is another tenant's).
    #[error("Resource not found: '{0}'")]
    ResourceNotFound(String),
    /// A tag out of AWS's bounds.
    #[error("Invalid tag '{0}': keys are 1-128 characters, values at most 256")]
    TagOutOfBounds(String),
    /// A tag key with the prefix AWS keeps for itself.
    #[error("Invalid tag key '{key}': tag keys starting with '{prefix}' are reserved for AWS use")]
    ReservedTagKey {
        /// The key.
        key: String,
        /// The reserved prefix.
        prefix: &'static str,
    },
    /// More tags than a resource may have.
    #[error("A resource can have at most {0} tags")]
    TooManyTags(usize),
    /// A module name outside the grammar.
    #[error("Invalid module name '{0}': 1-128 characters of letters, digits, '-', '_' and '.'")]
    InvalidModuleName(String),
    /// Grants that do not parse; the text says why.
    #[error("{0}")]
    InvalidGrants(String),
    /// An upload over the tenant's module size quota.
    #[error("The module is {bytes} bytes, above the tenant's limit of {limit} bytes")]
    ModuleOverQuota {
        /// Its size.
        bytes: usize,
        /// The tenant's limit.
        limit: u64,
    },
    /// Bytes that are not an acceptable module; the text names the reason.
    #[error("{0}")]
    InvalidModule(String),
    /// A module over a compile limit or budget; the text names the limit.
    #[error("Module refused: {0}")]
    ModuleOverLimit(String),
    /// No such module.
    #[error("Module '{0}' does not exist")]
    ModuleDoesNotExist(String),
    /// No such version of a module.
    #[error("Module '{name}' has no version {version}")]
    ModuleVersionDoesNotExist {
        /// The module.
        name: String,
        /// The version.
        version: u32,
    },
    /// A running execution pins the module a delete would remove.
    #[error("Module '{name}' is pinned by the running execution {execution}")]
    ModuleInUse {
        /// The module.
        name: String,
        /// The pinning execution's ARN.
        execution: String,
    },
    /// A tenant name outside the grammar, or the default tenant's.
    #[error("Invalid tenant name '{0}'")]
    InvalidTenantName(String),
    /// A tenant of that name exists.
    #[error("tenant '{0}' exists")]
    TenantExists(String),
    /// A kv table or key outside the grammar.
    #[error("Invalid table '{0}' or key (tables: 1-128 letters, digits, '-', '_', '.'; keys: 1-1024 bytes)")]
    InvalidItemName(String),
    /// A kv item the table cannot take (a table keyed otherwise).
    #[error("{0}")]
    ItemRefused(String),
    /// A kv item that is not JSON; the text is the parser's.
    #[error("The item is not JSON: {0}")]
    ItemNotJson(String),
    /// No such kv item.
    #[error("No item '{key}' in table '{table}'")]
    ItemDoesNotExist {
        /// The table.
        table: String,
        /// The key.
        key: String,
    },
    /// Text that is not a task token this server makes.
    #[error("Invalid Token: '{0}'")]
    InvalidTaskToken(String),
    /// A token the caller's tenant never had (or whose execution is gone).
    #[error("Task Does Not Exist: 'Provided task does not exist'")]
    TaskDoesNotExist,
    /// The token's task no longer waits: answered, timed out or cancelled.
    #[error("Task Timed Out: 'Provided task does not exist anymore'")]
    TaskTimedOut,
    /// A task output that is not JSON or is too large.
    #[error("Invalid Output: '{0}'")]
    InvalidOutput(String),
    /// No such job queue.
    #[error("Job queue '{0}' does not exist")]
    JobQueueDoesNotExist(String),
    /// A job queue's name or settings out of bounds; the text says which.
    #[error("{0}")]
    InvalidJobQueue(String),
    /// A queue that still has jobs waiting or running cannot be deleted.
    #[error("Job queue '{0}' has jobs waiting or running: cancel them or wait for their end")]
    JobQueueInUse(String),
    /// No such job.
    #[error("Job '{0}' does not exist")]
    JobDoesNotExist(String),
    /// No such role.
    #[error("Role '{0}' does not exist")]
    RoleDoesNotExist(String),
    /// A binding that breaks a rule; the text says which.
    #[error("Invalid binding: {0}")]
    InvalidBinding(String),
    /// No binding has that pattern.
    #[error("No binding of resource '{0}'")]
    BindingDoesNotExist(String),
    /// A connection that breaks a rule; the text says which.
    #[error("Invalid connection: {0}")]
    InvalidConnection(String),
    /// No such connection.
    #[error("Connection '{0}' does not exist")]
    ConnectionDoesNotExist(String),
    /// A route that breaks a rule; the text says which.
    #[error("Invalid route: {0}")]
    InvalidRoute(String),
    /// No such route.
    #[error("Route '{0}' does not exist")]
    RouteDoesNotExist(String),
    /// Another route answers the same method and path.
    #[error("{0}")]
    RouteConflict(String),
    /// A schedule that breaks a rule; the text says which (Scheduler's words where it
    /// has them).
    #[error("{0}")]
    InvalidSchedule(String),
    /// No such schedule.
    #[error("Schedule {0} does not exist.")]
    ScheduleDoesNotExist(String),
    /// A schedule of that name exists in its group.
    #[error("Schedule {0} already exists.")]
    ScheduleExists(String),
    /// No sample project has that name.
    #[error(
        "There is no sample named '{0}'; GET /v1/samples (or `sandstep sample list`) lists them"
    )]
    SampleDoesNotExist(String),
    /// A step of a sample's installation failed; what the earlier steps did stays.
    #[error("Sample {sample}, step {step}: {failure}")]
    SampleStepFailed {
        /// The sample.
        sample: String,
        /// The step, from 1.
        step: usize,
        /// Why.
        failure: Box<super::samples::StepFailure>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// Something else failed on our side (the engine, a lost thread); the text is for logs.
    #[error("{0}")]
    Internal(String),
}

impl From<scheduler::Error> for Error {
    fn from(e: scheduler::Error) -> Error {
        match e {
            scheduler::Error::Store(s) => Error::Store(s),
            scheduler::Error::Definition(m) => Error::InvalidDefinition(m),
            scheduler::Error::AlreadyExists(x) => Error::ExecutionAlreadyExists(x.arn),
            scheduler::Error::NotRunning(which) => Error::ExecutionDoesNotExist(which),
            e @ scheduler::Error::Elsewhere(_) => {
                Error::Store(store::Error::Unavailable(e.to_string()))
            }
            scheduler::Error::OpenLimit(m) => Error::ExecutionLimitExceeded(m),
            scheduler::Error::Engine(e) => Error::Internal(e.to_string()),
            scheduler::Error::Pool(e) => Error::Internal(e.to_string()),
            scheduler::Error::Start(e) => Error::Internal(e),
        }
    }
}

/// The result of a use case.
pub type Result<T> = std::result::Result<T, Error>;
