//! StartExecution, StartSyncExecution, StopExecution, DescribeExecution,
//! DescribeStateMachineForExecution, ListExecutions, and the console's data-flow trace.
//!
//! A start pins what the execution will run: the machine's current revision and the
//! module versions its Task states name, so that later updates and uploads do not change
//! an execution under way (and a module delete can ask the store's pin index whether a
//! running execution still needs it).

use super::{arns, paging, Error, Machines, Page, Result};
use crate::arn::{self, Qualifier};
use crate::model::{Execution, MachineType, Revision, StateMachine, Status};
use crate::pins::modules_in;
use crate::scheduler::{Counters, Scheduler, StartRequest};
use crate::store::{
    Executions as _, MachineVersions as _, Modules as _, StateMachines as _, Store, TenantId,
};
use crate::tenants::Tenant;
use sandstep_engine::execution::PAYLOAD_LIMIT_BYTES;
use sandstep_engine::Trace;
use serde_json::Value;
use std::collections::BTreeMap;

/// An execution to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExecution {
    /// The state machine to run.
    pub state_machine_arn: String,
    /// Its name; a fresh UUID when `None`.
    pub name: Option<String>,
    /// The input as JSON text; `{}` when `None`.
    pub input: Option<String>,
}

/// An execution's record with its state machine's ARN.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    /// The record.
    pub execution: Execution,
    /// The ARN of the state machine it runs.
    pub machine_arn: String,
    /// Whether it can be redriven now, or AWS's reason why not.
    pub redrivable: std::result::Result<(), String>,
}

/// The state machine an execution runs: the revision it pinned, and the machine's current
/// record unless the machine was deleted since.
#[derive(Debug, Clone, PartialEq)]
pub struct PinnedMachine {
    /// The machine's name.
    pub name: String,
    /// The machine's ARN.
    pub arn: String,
    /// The revision the execution pinned.
    pub revision: Revision,
    /// The machine as it is now, if it still exists.
    pub machine: Option<StateMachine>,
    /// The Map Run that started the execution, for a Distributed Map's child.
    pub map_run: Option<String>,
}

/// Which page of an execution's history to read.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryQuery {
    /// The most events to return.
    pub limit: usize,
    /// Newest first.
    pub reverse: bool,
    /// Keep inputs and outputs in the events' details.
    pub include_data: bool,
    /// Where to continue, from a previous page.
    pub next_token: Option<String>,
}

/// A ListExecutions position: `<start millis>|<name>` (see `execution_list_newest`).
/// Checked here so that a crafted token is `InvalidToken`, never a store error.
fn newest_first_position(token: &str) -> Result<String> {
    let position = paging::decode_token(token)?;
    match position.split_once('|') {
        Some((started, name))
            if !name.is_empty() && started.parse::<i64>().is_ok_and(|ms| ms >= 0) =>
        {
            Ok(position)
        }
        _ => Err(Error::InvalidToken(token.to_string())),
    }
}

/// The tenant's executions.
#[derive(Debug, Clone)]
pub struct Executions {
    pub(super) store: Store,
    scheduler: Scheduler,
    pub(super) region: String,
    machines: Machines,
    /// What a start pins of the tenant's resource bindings.
    pub(super) bindings: super::Bindings,
}

impl Executions {
    /// The executions `scheduler` runs over `store`, with ARNs in `region`; `machines`
    /// are what they start.
    pub fn new(store: Store, scheduler: Scheduler, region: &str, machines: Machines) -> Executions {
        Executions {
            bindings: super::Bindings::new(store.clone(), scheduler.clock()),
            store,
            scheduler,
            region: region.to_string(),
            machines,
        }
    }

    /// What the scheduler has counted (for `/metrics`).
    pub fn counters(&self) -> &Counters {
        self.scheduler.counters()
    }

    /// Executions held in memory right now (for `/metrics`).
    pub fn live_count(&self) -> usize {
        self.scheduler.live_count()
    }

    /// Module tasks running in this process now, its own and other servers' (for
    /// `/metrics`).
    pub fn modules_running(&self) -> usize {
        self.scheduler.modules_running()
    }

    /// Runs another server's module task here if this server is less loaded than that
    /// one (`scheduler/sharing.rs`); `None` when it is not.
    pub fn run_for_peer(
        &self,
        task: crate::scheduler::runner::TaskContext,
        theirs: crate::scheduler::sharing::Load,
    ) -> Option<impl std::future::Future<Output = sandstep_engine::EventKind> + Send + 'static>
    {
        self.scheduler.run_for_peer(task, theirs)
    }

    /// The start request for `new`: the machine and its revision, a valid name, JSON
    /// input within the payload limit, and the module versions and bindings pinned now.
    fn prepare(&self, tenant: &Tenant, new: NewExecution) -> Result<StartRequest> {
        self.prepare_for(&tenant.id, &tenant.account, new)
    }

    /// [`prepare`](Self::prepare) for the tenant `id` with `account`.
    pub(super) fn prepare_for(
        &self,
        id: &TenantId,
        account: &str,
        new: NewExecution,
    ) -> Result<StartRequest> {
        let resolved = self
            .machines
            .resolve_for(id, account, &new.state_machine_arn)?;
        let (machine, revision) = (resolved.machine, resolved.revision);
        let name = match new.name {
            Some(n) if arn::valid_name(&n) => n,
            Some(n) => return Err(Error::InvalidName(n)),
            None => sandstep_engine::rng::Rng::new(self.scheduler.entropy()).uuid(),
        };
        tracing::Span::current().record("execution", name.as_str());
        let input_text = new.input.unwrap_or_else(|| "{}".to_string());
        if input_text.len() > PAYLOAD_LIMIT_BYTES {
            return Err(Error::InputTooLarge {
                bytes: input_text.len(),
                limit: PAYLOAD_LIMIT_BYTES,
            });
        }
        let input: Value =
            serde_json::from_str(&input_text).map_err(|e| Error::InputNotJson(e.to_string()))?;
        let definition: Value = serde_json::from_str(&revision.definition).unwrap_or(Value::Null);
        let mut pins = crate::pins::Pins {
            modules: BTreeMap::new(),
            bindings: self.bindings.pins(id, &definition)?,
        };
        for m in modules_in(&definition) {
            if let Some(v) = self.store.module_version(id, &m.name, m.version)? {
                pins.modules.insert(m.name, (v.version, v.sha256));
            }
        }
        Ok(StartRequest {
            tenant: id.clone(),
            account: account.to_string(),
            parent: None,
            machine,
            revision,
            name,
            input,
            input_text,
            pins,
            version: resolved.version,
            alias: resolved.alias,
            map_run: None,
        })
    }

    /// The scheduler the executions run on.
    pub(super) fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// The region execution ARNs are in.
    pub(super) fn region(&self) -> &str {
        &self.region
    }

    /// The state machines the executions run.
    pub(super) fn machines(&self) -> &Machines {
        &self.machines
    }

    /// Starts an execution. Starting a running Standard execution again with the same
    /// name and input answers that execution (StartExecution is idempotent by name).
    ///
    /// # Errors
    /// [`Error::StateMachineDoesNotExist`], [`Error::InvalidName`], the input errors,
    /// [`Error::ExecutionAlreadyExists`], [`Error::ExecutionLimitExceeded`], failures.
    #[tracing::instrument(level = "debug", name = "service.start_execution", skip_all, fields(tenant = %tenant.id, machine = %new.state_machine_arn, execution = tracing::field::Empty))]
    pub async fn start(&self, tenant: &Tenant, new: NewExecution) -> Result<Execution> {
        let request = self.prepare(tenant, new)?;
        let input_text = request.input_text.clone();
        match self.scheduler.start(request, false).await {
            Ok(e) => Ok(e),
            Err(crate::scheduler::Error::AlreadyExists(existing))
                if existing.status == Status::Running && existing.input == input_text =>
            {
                Ok(*existing)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Starts an execution for a delivery that may be repeated (an SNS message to a state
    /// machine): an execution of that name with the same input, in any status, is the
    /// one this delivery started before.
    ///
    /// # Errors
    /// As [`start`](Self::start), but never for an execution the delivery started.
    pub async fn start_once(&self, id: &TenantId, account: &str, new: NewExecution) -> Result<()> {
        let request = self.prepare_for(id, account, new)?;
        let input_text = request.input_text.clone();
        match self.scheduler.start(request, false).await {
            Ok(_) => Ok(()),
            Err(crate::scheduler::Error::AlreadyExists(existing))
                if existing.input == input_text =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Runs an Express execution to its end and answers it.
    ///
    /// # Errors
    /// As [`start`](Self::start), and [`Error::ExpressOnly`] for a Standard machine.
    #[tracing::instrument(level = "debug", name = "service.start_sync_execution", skip_all, fields(tenant = %tenant.id, machine = %new.state_machine_arn, execution = tracing::field::Empty))]
    pub async fn start_sync(&self, tenant: &Tenant, new: NewExecution) -> Result<Described> {
        let request = self.prepare(tenant, new)?;
        if request.machine.machine_type != MachineType::Express {
            return Err(Error::ExpressOnly);
        }
        let machine_arn = request.machine.arn.clone();
        let execution = self.scheduler.start(request, true).await?;
        Ok(Described {
            redrivable: execution.redrivable(self.scheduler.now()),
            execution,
            machine_arn,
        })
    }

    /// A stored (Standard) execution's record.
    fn load(&self, tenant: &Tenant, arn: &str) -> Result<Execution> {
        let (key, express) = arns::execution_key(&self.region, tenant, arn)?;
        if express {
            return Err(Error::NotForExpress);
        }
        self.store
            .execution_get(&key)?
            .ok_or_else(|| Error::ExecutionDoesNotExist(arn.to_string()))
    }

    /// Stops an execution and answers when it stopped; one that has already finished is
    /// left as it is, and answers when it finished.
    ///
    /// # Errors
    /// [`Error::ExecutionDoesNotExist`], failures.
    #[tracing::instrument(level = "debug", name = "service.stop_execution", skip_all, fields(tenant = %tenant.id, execution = %arn))]
    pub async fn stop(
        &self,
        tenant: &Tenant,
        arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<i64> {
        let (key, express) = arns::execution_key(&self.region, tenant, arn)?;
        if express {
            // Express executions live in memory only: not running is not there.
            return match self.scheduler.stop(&key, error, cause).await {
                Ok(e) => Ok(e.stopped.unwrap_or_else(|| self.scheduler.now())),
                Err(_) => Err(Error::ExecutionDoesNotExist(arn.to_string())),
            };
        }
        let existing = self.load(tenant, arn)?;
        if existing.status != Status::Running {
            return Ok(existing.stopped.unwrap_or(existing.started));
        }
        let e = self.scheduler.stop(&key, error, cause).await?;
        Ok(e.stopped.unwrap_or_else(|| self.scheduler.now()))
    }

    /// A Standard execution's record.
    ///
    /// # Errors
    /// [`Error::ExecutionDoesNotExist`], [`Error::NotForExpress`], failures.
    #[tracing::instrument(level = "debug", name = "service.describe_execution", skip_all, fields(tenant = %tenant.id, execution = %arn))]
    pub fn describe(&self, tenant: &Tenant, arn: &str) -> Result<Described> {
        let execution = self.load(tenant, arn)?;
        let machine_arn = arn::state_machine(&self.region, &tenant.account, &execution.machine);
        Ok(Described {
            redrivable: execution.redrivable(self.scheduler.now()),
            execution,
            machine_arn,
        })
    }

    /// The state machine revision a Standard execution runs.
    ///
    /// # Errors
    /// [`Error::ExecutionDoesNotExist`], [`Error::NotForExpress`], failures.
    #[tracing::instrument(level = "debug", name = "service.describe_state_machine_for_execution", skip_all, fields(tenant = %tenant.id, execution = %arn))]
    pub fn machine_of(&self, tenant: &Tenant, arn: &str) -> Result<PinnedMachine> {
        let e = self.load(tenant, arn)?;
        let revision = self
            .store
            .revision_get(&tenant.id, &e.machine, &e.revision_id)?
            .ok_or_else(|| Error::ExecutionDoesNotExist(arn.to_string()))?;
        let machine = self.store.machine_get(&tenant.id, &e.machine)?;
        Ok(PinnedMachine {
            arn: arn::state_machine(&self.region, &tenant.account, &e.machine),
            name: e.machine,
            revision,
            machine,
            map_run: e.map_run,
        })
    }

    /// A state machine's Standard executions, newest first, optionally of one status and
    /// only redriven ones (`redriven: Some(true)`) or only others; for
    /// a version's or an alias's ARN, those started on it (an alias's start counts for the
    /// version it picked too).
    ///
    /// # Errors
    /// [`Error::StateMachineDoesNotExist`] (also for a version or alias that does not
    /// exist), [`Error::InvalidToken`], failures.
    #[tracing::instrument(level = "debug", name = "service.list_executions", skip_all, fields(tenant = %tenant.id, machine = %machine_arn))]
    pub fn list(
        &self,
        tenant: &Tenant,
        machine_arn: &str,
        status: Option<Status>,
        redriven: Option<bool>,
        limit: usize,
        next_token: Option<&str>,
    ) -> Result<Page<Execution>> {
        let (name, qualifier) =
            arns::machine_target_in(&self.region, &tenant.account, machine_arn)?;
        let missing = || Error::StateMachineDoesNotExist(machine_arn.to_string());
        if self.store.machine_get(&tenant.id, &name)?.is_none() {
            return Err(missing());
        }
        let exists = match &qualifier {
            None => true,
            Some(Qualifier::Version(n)) => self.store.version_get(&tenant.id, &name, *n)?.is_some(),
            Some(Qualifier::Alias(a)) => self.store.alias_get(&tenant.id, &name, a)?.is_some(),
        };
        if !exists {
            return Err(missing());
        }
        let started_on = |e: &Execution| match &qualifier {
            None => true,
            Some(Qualifier::Version(n)) => e.version == Some(*n),
            Some(Qualifier::Alias(a)) => e.alias.as_ref() == Some(a),
        };
        let mut cursor = next_token.map(newest_first_position).transpose()?;
        let mut items: Vec<(String, Execution)> = Vec::new();
        let mut more = false;
        // Newest first, filtered; scan pages until the page is full.
        'scan: loop {
            let page =
                self.store
                    .execution_list_newest(&tenant.id, &name, cursor.as_deref(), 256)?;
            if page.is_empty() {
                break;
            }
            for (position, e) in page {
                cursor = Some(position.clone());
                if status.is_some_and(|s| s != e.status)
                    || redriven.is_some_and(|r| r != (e.redrive_count > 0))
                    || !started_on(&e)
                {
                    continue;
                }
                if items.len() == limit {
                    more = true;
                    break 'scan;
                }
                items.push((position, e));
            }
        }
        // The token marks the last item returned, so the next page starts after it.
        let next_token = items
            .last()
            .filter(|_| more)
            .map(|(position, _)| paging::encode_token(position));
        Ok(Page {
            items: items.into_iter().map(|(_, e)| e).collect(),
            next_token,
        })
    }

    /// A Standard execution's data-flow trace, replayed from its history (the console's
    /// inspector).
    ///
    /// # Errors
    /// [`Error::ExecutionDoesNotExist`], [`Error::NotForExpress`], failures.
    #[tracing::instrument(level = "debug", name = "service.trace_execution", skip_all, fields(tenant = %tenant.id, execution = %arn))]
    pub async fn trace(&self, tenant: &Tenant, arn: &str) -> Result<(Execution, Trace)> {
        let (key, express) = arns::execution_key(&self.region, tenant, arn)?;
        if express {
            return Err(Error::NotForExpress);
        }
        self.scheduler
            .trace(&key)
            .await?
            .ok_or_else(|| Error::ExecutionDoesNotExist(arn.to_string()))
    }
}
