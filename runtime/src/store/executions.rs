//! State machines, executions and their histories.
//!
//! One execution is stored as: its record (status, input, output, pinned revision), one
//! *step* per engine event (the event, for replay, and the AWS history events it caused,
//! for `GetExecutionHistory`), its pending timers, and its tasks in flight. A step commits
//! in one atomic batch with the record and timer changes it implies: after a crash the
//! store holds every step whose commit returned, and nothing of the others.

use super::backend::{Guard, Write};
use super::codec::{decode, encode};
use super::durability::Pending;
use super::keys::{Key, Reader, Table};
use super::{Error, Millis, Result, Store, TenantId};
use sandstep_engine::{Event, TaskRequest, TimerId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What starting an execution found.
#[derive(Debug)]
#[must_use = "a created execution is not durable until its wait returns"]
pub enum Started {
    /// The execution is new; acknowledge it once this wait returns.
    Created(Pending),
    /// An execution of that name exists already: its record, and a wait for it to be
    /// durable (its creator may still be waiting for its sync; a retry answered from it
    /// must not be acknowledged earlier).
    Existing(Box<Execution>, Pending),
}

use crate::model::{Execution, ExecutionKey, Revision, StateMachine, Status};

/// One applied engine event and the AWS history events it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The event, replayed on recovery.
    pub event: Event,
    /// AWS-shaped history events, as `GetExecutionHistory` returns them.
    pub history: Vec<Value>,
}

/// Where an execution's rows live.
fn execution_key(key: &ExecutionKey, table: Table) -> Key {
    Key::of(table, &key.tenant)
        .text(&key.machine)
        .text(&key.name)
}

/// A timer as stored: due first, so that a scan returns them in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTimer {
    /// When it is due.
    pub due: Millis,
    /// Whose it is.
    pub execution: ExecutionKey,
    /// The engine's id for it.
    pub timer: TimerId,
    /// The run it belongs to: its execution's start time (`None` in older stores).
    pub run: Option<Millis>,
}

/// Everything one step changes, committed atomically.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The execution.
    pub key: ExecutionKey,
    /// The record after the step.
    pub record: Execution,
    /// The step, stored as number `record.steps` (1-based).
    pub step: Step,
    /// Timers started by the step.
    pub timers_started: Vec<(TimerId, Millis)>,
    /// Timers the step fired or cancelled, with their due time.
    pub timers_ended: Vec<(TimerId, Millis)>,
    /// Tasks the step scheduled.
    pub tasks_started: Vec<TaskRequest>,
    /// Tasks the step answered or cancelled.
    pub tasks_ended: Vec<u64>,
    /// Activity tasks the step put in their activity's queue.
    pub tasks_queued: Vec<TaskRequest>,
    /// The answer a nested execution that ended owes its parent's task, kept until the
    /// parent has it (see `store/children.rs`).
    pub notice: Option<super::children::Notice>,
}

fn by_start(key: &ExecutionKey, started: Millis) -> Vec<u8> {
    Key::of(Table::ByStart, &key.tenant)
        .text(&key.machine)
        .time(-started)
        .text(&key.name)
        .into_bytes()
}

/// The row saying that the running execution `key` pins `module` at `version`.
fn pin_key(key: &ExecutionKey, module: &str, version: u32) -> Vec<u8> {
    Key::of(Table::Pin, &key.tenant)
        .text(module)
        .number(u64::from(version))
        .text(&key.machine)
        .text(&key.name)
        .into_bytes()
}

/// Writes (or, with `pinned` false, removes) the pin rows of an execution's modules,
/// named in its definition or playing a resource it binds.
fn pin_writes(key: &ExecutionKey, record: &Execution, pinned: bool) -> Result<Vec<Write>> {
    let mut writes = Vec::with_capacity(record.modules.len() + record.bindings.len());
    for (module, version) in record.pinned_modules() {
        let row = pin_key(key, module, version);
        writes.push(match pinned {
            true => Write::Put(row, encode(key)?),
            false => Write::Delete(row),
        });
    }
    Ok(writes)
}

fn timer_key(due: Millis, key: &ExecutionKey, timer: TimerId) -> Vec<u8> {
    Key::table(Table::Timer)
        .time(due)
        .text(&key.tenant.0)
        .text(&key.machine)
        .text(&key.name)
        .number(timer.0)
        .into_bytes()
}

/// The state machines table and their revisions (definitions by revision id).
///
/// # Contract
/// A revision, once written, never changes: executions are pinned to it.
pub trait StateMachines: Send + Sync {
    /// Creates or replaces a state machine record, with a new revision when given.
    ///
    /// # Errors
    /// When the store fails.
    fn machine_put(
        &self,
        tenant: &TenantId,
        machine: &StateMachine,
        revision: Option<&Revision>,
    ) -> Result<()>;

    /// Replaces a machine's record, with a new revision when given, only if the stored
    /// record still equals `read` (what the update was decided on); returns whether it did.
    ///
    /// # Errors
    /// When the store fails.
    fn machine_update(
        &self,
        tenant: &TenantId,
        read: &StateMachine,
        machine: &StateMachine,
        revision: Option<&Revision>,
    ) -> Result<bool>;

    /// Creates a state machine only if no machine has its name; returns whether it did.
    ///
    /// # Errors
    /// When the store fails.
    fn machine_create(
        &self,
        tenant: &TenantId,
        machine: &StateMachine,
        revision: &Revision,
    ) -> Result<bool>;

    /// A state machine.
    ///
    /// # Errors
    /// When the store fails.
    fn machine_get(&self, tenant: &TenantId, name: &str) -> Result<Option<StateMachine>>;

    /// State machines in name order, after `after`, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn machine_list(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StateMachine>>;

    /// Deletes a state machine record (its revisions stay while executions need them).
    ///
    /// # Errors
    /// When the store fails.
    fn machine_delete(&self, tenant: &TenantId, name: &str) -> Result<()>;

    /// A definition revision.
    ///
    /// # Errors
    /// When the store fails.
    fn revision_get(&self, tenant: &TenantId, machine: &str, id: &str) -> Result<Option<Revision>>;

    /// Writes a revision of a state machine that has no record of its own (a
    /// Distributed Map's children run one), so that its executions load like any other.
    ///
    /// # Errors
    /// When the store fails.
    fn revision_put(&self, tenant: &TenantId, machine: &str, revision: &Revision) -> Result<()>;
}

/// The write that stores a machine's revision.
fn revision_write(tenant: &TenantId, machine: &str, revision: &Revision) -> Result<Write> {
    Ok(Write::Put(
        Key::of(Table::Revision, tenant)
            .text(machine)
            .text(&revision.id)
            .into_bytes(),
        encode(revision)?,
    ))
}

impl StateMachines for Store {
    fn revision_put(&self, tenant: &TenantId, machine: &str, revision: &Revision) -> Result<()> {
        self.backend
            .apply(vec![revision_write(tenant, machine, revision)?])
    }

    fn machine_put(
        &self,
        tenant: &TenantId,
        machine: &StateMachine,
        revision: Option<&Revision>,
    ) -> Result<()> {
        let mut writes = vec![Write::Put(
            Key::of(Table::StateMachine, tenant)
                .text(&machine.name)
                .into_bytes(),
            encode(machine)?,
        )];
        if let Some(r) = revision {
            writes.push(revision_write(tenant, &machine.name, r)?);
        }
        self.backend.apply(writes)?;
        self.backend.durable()
    }

    fn machine_update(
        &self,
        tenant: &TenantId,
        read: &StateMachine,
        machine: &StateMachine,
        revision: Option<&Revision>,
    ) -> Result<bool> {
        let writes = match revision {
            Some(r) => vec![revision_write(tenant, &machine.name, r)?],
            None => Vec::new(),
        };
        self.machine_swap(tenant, read, machine, writes)
    }

    fn machine_create(
        &self,
        tenant: &TenantId,
        machine: &StateMachine,
        revision: &Revision,
    ) -> Result<bool> {
        let key = Key::of(Table::StateMachine, tenant)
            .text(&machine.name)
            .into_bytes();
        if !self
            .backend
            .compare_and_swap(&key, None, Some(encode(machine)?))?
        {
            return Ok(false);
        }
        self.backend
            .apply(vec![revision_write(tenant, &machine.name, revision)?])?;
        self.backend.durable()?;
        Ok(true)
    }

    fn machine_get(&self, tenant: &TenantId, name: &str) -> Result<Option<StateMachine>> {
        self.backend
            .get(&Key::of(Table::StateMachine, tenant).text(name).into_bytes())?
            .map(|b| decode(&b))
            .transpose()
    }

    fn machine_list(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StateMachine>> {
        let prefix = Key::of(Table::StateMachine, tenant).into_bytes();
        let after = after.map(|a| Key::of(Table::StateMachine, tenant).text(a).into_bytes());
        self.backend
            .scan(&prefix, after.as_deref(), limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    fn machine_delete(&self, tenant: &TenantId, name: &str) -> Result<()> {
        self.backend.apply(vec![Write::Delete(
            Key::of(Table::StateMachine, tenant).text(name).into_bytes(),
        )])?;
        self.backend.durable()
    }

    fn revision_get(&self, tenant: &TenantId, machine: &str, id: &str) -> Result<Option<Revision>> {
        self.backend
            .get(
                &Key::of(Table::Revision, tenant)
                    .text(machine)
                    .text(id)
                    .into_bytes(),
            )?
            .map(|b| decode(&b))
            .transpose()
    }
}

/// Executions: records, steps (engine event + AWS history), timers and tasks in flight,
/// and the indexes over them (running, by start time, finished, due timers).
///
/// # Contract
/// A commit is atomic: after a crash the store holds every step whose commit was applied,
/// and nothing of the others. Commits may be acknowledged only after their
/// [`Pending`] wait returns. Nothing here assumes one process: recovery reads the running
/// index and the timers, not memory.
pub trait Executions: Send + Sync {
    /// Stores a new execution with its first step, unless one of that name exists.
    /// The new execution is acknowledged once [`Started::Created`]'s wait returns; the
    /// existing record comes back instead when the name is taken.
    ///
    /// # Errors
    /// When the store fails; then nothing is stored.
    fn execution_start(&self, commit: &Commit) -> Result<Started>;

    /// Commits one step: the record, the step, timer and task changes, atomically. The
    /// step is durable (and may be acted on) once the returned wait returns; many steps
    /// of many executions share one sync that way.
    ///
    /// The commit is fenced: it is applied only if its step (`record.steps`) is the next
    /// one of the execution, that is step `n - 1` is stored and step `n` is not. Two
    /// writers that computed the same step from the same history (two processes after a
    /// takeover, or a stale cache) cannot both commit it, and no step can be skipped.
    ///
    /// # Errors
    /// [`Error::ConditionFailed`] when the step is not the next one; otherwise when the
    /// store fails. Either way nothing of the step is stored.
    fn execution_commit(&self, commit: &Commit) -> Result<Pending>;

    /// An execution's record.
    ///
    /// # Errors
    /// When the store fails.
    fn execution_get(&self, key: &ExecutionKey) -> Result<Option<Execution>>;

    /// Executions of a state machine in name order, after `after`, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn execution_list(
        &self,
        tenant: &TenantId,
        machine: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Execution>>;

    /// Executions of a state machine, newest first, after the position `after` (as
    /// returned with each execution), at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn execution_list_newest(
        &self,
        tenant: &TenantId,
        machine: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Execution)>>;

    /// Every step of an execution, in order.
    ///
    /// # Errors
    /// When the store fails.
    fn execution_steps(&self, key: &ExecutionKey) -> Result<Vec<Step>>;

    /// The tasks an execution has in flight.
    ///
    /// # Errors
    /// When the store fails.
    fn execution_tasks(&self, key: &ExecutionKey) -> Result<Vec<TaskRequest>>;

    /// Every running execution (for recovery after a restart), across tenants.
    ///
    /// # Errors
    /// When the store fails.
    fn running_executions(&self) -> Result<Vec<ExecutionKey>>;

    /// Every stored timer, in due order.
    ///
    /// # Errors
    /// When the store fails.
    fn timers(&self) -> Result<Vec<DueTimer>>;

    /// Finished executions, across tenants, that stopped before `cutoff`.
    ///
    /// # Errors
    /// When the store fails.
    fn finished_before(&self, cutoff: Millis) -> Result<Vec<ExecutionKey>>;

    /// A running execution of `tenant` that pins `module` (at `version`, or at any
    /// version), if there is one: what a module delete must not pull from under it.
    ///
    /// # Errors
    /// When the store fails.
    fn pinned_by(
        &self,
        tenant: &TenantId,
        module: &str,
        version: Option<u32>,
    ) -> Result<Option<ExecutionKey>>;

    /// Writes the pin rows of every running execution once, for stores written before
    /// there were pin rows (a marker makes later calls free); returns how many
    /// executions it indexed.
    ///
    /// # Errors
    /// When the store fails; a later call starts over.
    fn pins_index(&self) -> Result<usize>;

    /// Deletes a finished execution and everything stored with it (retention).
    ///
    /// # Errors
    /// When the store fails.
    fn execution_delete(&self, key: &ExecutionKey) -> Result<()>;
}

impl Executions for Store {
    fn execution_start(&self, commit: &Commit) -> Result<Started> {
        let key = execution_key(&commit.key, Table::Execution).into_bytes();
        if !self
            .backend
            .apply_if_absent(&key, self.commit_writes(commit)?)?
        {
            return match self.backend.get(&key)? {
                Some(b) => Ok(Started::Existing(
                    Box::new(decode(&b)?),
                    self.backend.durable_later()?,
                )),
                None => Err(Error::Backend("execution vanished during start".into())),
            };
        }
        Ok(Started::Created(self.backend.durable_later()?))
    }

    fn execution_commit(&self, commit: &Commit) -> Result<Pending> {
        let step = commit.record.steps;
        let steps = execution_key(&commit.key, Table::Step);
        let (this, previous) = (
            steps.clone().number(step).into_bytes(),
            steps.number(step.saturating_sub(1)).into_bytes(),
        );
        let fence = [Guard::Absent(&this), Guard::Present(&previous)];
        if step < 2
            || !self
                .backend
                .apply_guarded(&fence, self.commit_writes(commit)?)?
        {
            return Err(Error::ConditionFailed(format!(
                "step {step} of execution '{}' is not the next one to commit",
                commit.key.name
            )));
        }
        self.backend.durable_later()
    }

    fn execution_get(&self, key: &ExecutionKey) -> Result<Option<Execution>> {
        self.backend
            .get(&execution_key(key, Table::Execution).into_bytes())?
            .map(|b| decode(&b))
            .transpose()
    }

    fn execution_list(
        &self,
        tenant: &TenantId,
        machine: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Execution>> {
        let prefix = Key::of(Table::Execution, tenant).text(machine).into_bytes();
        let after = after.map(|a| {
            Key::of(Table::Execution, tenant)
                .text(machine)
                .text(a)
                .into_bytes()
        });
        self.backend
            .scan(&prefix, after.as_deref(), limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    fn execution_list_newest(
        &self,
        tenant: &TenantId,
        machine: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Execution)>> {
        let prefix = Key::of(Table::ByStart, tenant).text(machine).into_bytes();
        let after = match after.and_then(|a| a.split_once('|')) {
            Some((started, name)) => {
                let started: Millis = started
                    .parse()
                    .map_err(|_| Error::Corrupt("position".into()))?;
                let key = ExecutionKey {
                    tenant: tenant.clone(),
                    machine: machine.to_string(),
                    name: name.to_string(),
                };
                Some(by_start(&key, started))
            }
            None => None,
        };
        let mut out = Vec::new();
        for (k, _) in self.backend.scan(&prefix, after.as_deref(), limit)? {
            let mut r = Reader::new(&k);
            let (_, _, negated, name) = (r.text(), r.text(), r.time(), r.text());
            let (Some(negated), Some(name)) = (negated, name) else {
                return Err(Error::Corrupt("execution index".into()));
            };
            let key = ExecutionKey {
                tenant: tenant.clone(),
                machine: machine.to_string(),
                name: name.clone(),
            };
            if let Some(e) = self.execution_get(&key)? {
                out.push((format!("{}|{name}", -negated), e));
            }
        }
        Ok(out)
    }

    fn execution_steps(&self, key: &ExecutionKey) -> Result<Vec<Step>> {
        let prefix = execution_key(key, Table::Step).into_bytes();
        self.backend
            .scan(&prefix, None, usize::MAX)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    fn execution_tasks(&self, key: &ExecutionKey) -> Result<Vec<TaskRequest>> {
        let prefix = execution_key(key, Table::InFlight).into_bytes();
        self.backend
            .scan(&prefix, None, usize::MAX)?
            .iter()
            .map(|(_, v)| decode::<TaskRequest>(v))
            .collect()
    }

    fn running_executions(&self) -> Result<Vec<ExecutionKey>> {
        let prefix = Key::table(Table::Running).into_bytes();
        let mut out = Vec::new();
        for (k, _) in self.backend.scan(&prefix, None, usize::MAX)? {
            let mut r = Reader::new(&k);
            match (r.text(), r.text(), r.text()) {
                (Some(tenant), Some(machine), Some(name)) => out.push(ExecutionKey {
                    tenant: TenantId(tenant),
                    machine,
                    name,
                }),
                _ => return Err(Error::Corrupt("running execution key".into())),
            }
        }
        Ok(out)
    }

    fn timers(&self) -> Result<Vec<DueTimer>> {
        let prefix = Key::table(Table::Timer).into_bytes();
        let mut out = Vec::new();
        for (k, v) in self.backend.scan(&prefix, None, usize::MAX)? {
            let mut r = Reader::new(&k);
            let run = <[u8; 8]>::try_from(v.as_slice())
                .ok()
                .map(Millis::from_be_bytes);
            let parsed = (|| {
                let due = r.time()?;
                let execution = ExecutionKey {
                    tenant: TenantId(r.text()?),
                    machine: r.text()?,
                    name: r.text()?,
                };
                Some(DueTimer {
                    due,
                    execution,
                    timer: TimerId(r.number()?),
                    run,
                })
            })();
            out.push(parsed.ok_or_else(|| Error::Corrupt("timer key".into()))?);
        }
        Ok(out)
    }

    fn finished_before(&self, cutoff: Millis) -> Result<Vec<ExecutionKey>> {
        let prefix = Key::table(Table::Execution).into_bytes();
        let mut out = Vec::new();
        for (k, v) in self.backend.scan(&prefix, None, usize::MAX)? {
            let e: Execution = decode(&v)?;
            if e.status != Status::Running && e.stopped.is_some_and(|s| s < cutoff) {
                let mut r = Reader::new(&k);
                if let (Some(tenant), Some(machine), Some(name)) = (r.text(), r.text(), r.text()) {
                    out.push(ExecutionKey {
                        tenant: TenantId(tenant),
                        machine,
                        name,
                    });
                }
            }
        }
        Ok(out)
    }

    fn pinned_by(
        &self,
        tenant: &TenantId,
        module: &str,
        version: Option<u32>,
    ) -> Result<Option<ExecutionKey>> {
        let prefix = Key::of(Table::Pin, tenant).text(module);
        let prefix = match version {
            Some(v) => prefix.number(u64::from(v)),
            None => prefix,
        };
        match self.backend.scan(&prefix.into_bytes(), None, 1)?.first() {
            Some((_, value)) => Ok(Some(decode(value)?)),
            None => Ok(None),
        }
    }

    fn pins_index(&self) -> Result<usize> {
        let marker = Key::table(Table::Meta).text("pins-indexed").into_bytes();
        if self.backend.get(&marker)?.is_some() {
            return Ok(0);
        }
        let mut indexed = 0;
        for key in self.running_executions()? {
            if let Some(record) = self.execution_get(&key)? {
                if record.status == Status::Running && record.pinned_modules().next().is_some() {
                    self.backend.apply(pin_writes(&key, &record, true)?)?;
                    indexed += 1;
                }
            }
        }
        self.backend.apply(vec![Write::Put(marker, Vec::new())])?;
        self.backend.durable()?;
        Ok(indexed)
    }

    fn execution_delete(&self, key: &ExecutionKey) -> Result<()> {
        let mut writes = vec![
            Write::Delete(execution_key(key, Table::Execution).into_bytes()),
            Write::Delete(execution_key(key, Table::Running).into_bytes()),
        ];
        if let Some(e) = self.execution_get(key)? {
            writes.push(Write::Delete(by_start(key, e.started)));
            writes.extend(pin_writes(key, &e, false)?);
        }
        writes.extend(self.token_deletes(key)?);
        writes.extend(self.child_deletes(key)?);
        writes.extend(self.map_run_deletes(key)?);
        for table in [Table::Step, Table::InFlight, Table::TaskEffect] {
            for (k, _) in
                self.backend
                    .scan(&execution_key(key, table).into_bytes(), None, usize::MAX)?
            {
                writes.push(Write::Delete(k));
            }
        }
        self.backend.apply(writes)?;
        self.backend.durable()
    }
}

impl Store {
    fn commit_writes(&self, commit: &Commit) -> Result<Vec<Write>> {
        let k = &commit.key;
        let mut writes =
            Vec::with_capacity(4 + commit.timers_started.len() + commit.tasks_started.len());
        writes.push(Write::Put(
            execution_key(k, Table::Execution).into_bytes(),
            encode(&commit.record)?,
        ));
        writes.push(Write::Put(
            execution_key(k, Table::Step)
                .number(commit.record.steps)
                .into_bytes(),
            encode(&commit.step)?,
        ));
        if commit.record.steps == 1 {
            writes.push(Write::Put(by_start(k, commit.record.started), Vec::new()));
        }
        let running = execution_key(k, Table::Running).into_bytes();
        // A redrive opens a finished execution again.
        let reopens = matches!(
            commit.step.event.kind,
            sandstep_engine::EventKind::Redriven { .. }
        );
        if commit.record.status == Status::Running {
            if commit.record.steps == 1 || reopens {
                writes.push(Write::Put(running, Vec::new()));
                writes.extend(pin_writes(k, &commit.record, true)?);
            }
        } else if commit.record.steps > 1 {
            writes.push(Write::Delete(running));
            writes.extend(pin_writes(k, &commit.record, false)?);
        }
        for (timer, due) in &commit.timers_started {
            // The value is the run (the start time): see `DueTimer::run`.
            writes.push(Write::Put(
                timer_key(*due, k, *timer),
                commit.record.started.to_be_bytes().to_vec(),
            ));
        }
        for (timer, due) in &commit.timers_ended {
            writes.push(Write::Delete(timer_key(*due, k, *timer)));
        }
        for task in &commit.tasks_started {
            writes.push(Write::Put(
                execution_key(k, Table::InFlight)
                    .number(task.id.0)
                    .into_bytes(),
                encode(task)?,
            ));
            writes.extend(super::tokens::token_writes(k, task)?);
        }
        if let Some(notice) = &commit.notice {
            writes.push(super::children::notice_write(notice)?);
        }
        for task in &commit.tasks_queued {
            writes.extend(super::tokens::token_writes(k, task)?);
            writes.extend(super::activities::queue_writes(
                k,
                task,
                commit.step.event.at,
            )?);
        }
        for task in &commit.tasks_ended {
            writes.push(Write::Delete(
                execution_key(k, Table::InFlight).number(*task).into_bytes(),
            ));
        }
        Ok(writes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandstep_engine::EventKind;

    fn record(steps: u64) -> Execution {
        Execution {
            name: "run".into(),
            arn: "arn:aws:states:us-east-1:123456789012:execution:m:run".into(),
            machine: "m".into(),
            revision_id: "r1".into(),
            modules: std::collections::BTreeMap::new(),
            bindings: std::collections::BTreeMap::new(),
            machine_type: crate::model::MachineType::Standard,
            status: Status::Running,
            input: "{}".into(),
            output: None,
            error: None,
            cause: None,
            started: 1,
            stopped: None,
            steps,
            events: steps,
            version: None,
            alias: None,
            parent: None,
            map_run: None,
            redrive_count: 0,
            redrive_date: None,
            redrive_tokens: Vec::new(),
        }
    }

    fn commit(steps: u64) -> Commit {
        Commit {
            key: ExecutionKey {
                tenant: TenantId("t".into()),
                machine: "m".into(),
                name: "run".into(),
            },
            record: record(steps),
            step: Step {
                event: Event {
                    at: steps as Millis,
                    entropy: steps,
                    kind: EventKind::TimerFired {
                        timer: TimerId(steps),
                    },
                },
                history: Vec::new(),
            },
            timers_started: Vec::new(),
            timers_ended: Vec::new(),
            tasks_started: Vec::new(),
            tasks_ended: Vec::new(),
            tasks_queued: Vec::new(),
            notice: None,
        }
    }

    fn stale_steps_are_refused(store: &Store) {
        assert!(matches!(
            store.execution_start(&commit(1)).unwrap(),
            Started::Created(_)
        ));
        // Step 3 before step 2: a gap.
        assert!(matches!(
            store.execution_commit(&commit(3)),
            Err(Error::ConditionFailed(_))
        ));
        let _durable = store.execution_commit(&commit(2)).unwrap();
        // Step 2 again: a second writer that computed it from the same history.
        let again = store.execution_commit(&commit(2));
        assert!(matches!(again, Err(Error::ConditionFailed(ref m)) if m.contains("step 2")));
        // Step 1 through commit (only `execution_start` creates an execution).
        assert!(matches!(
            store.execution_commit(&commit(1)),
            Err(Error::ConditionFailed(_))
        ));
        let _durable = store.execution_commit(&commit(3)).unwrap();
        let key = commit(1).key;
        assert_eq!(store.execution_get(&key).unwrap().unwrap().steps, 3);
        let steps = store.execution_steps(&key).unwrap();
        let entropies: Vec<u64> = steps.iter().map(|s| s.event.entropy).collect();
        assert_eq!(entropies, [1, 2, 3], "the refused commits stored nothing");
    }

    #[test]
    fn running_executions_pin_their_modules_until_they_end_and_again_when_redriven() {
        for store in crate::store::testing::stores() {
            let tenant = TenantId("t".into());
            let mut first = commit(1);
            first
                .record
                .modules
                .insert("echo".into(), (3, "sha".into()));
            assert!(matches!(
                store.execution_start(&first).unwrap(),
                Started::Created(_)
            ));
            let pinned = store.pinned_by(&tenant, "echo", None).unwrap();
            assert_eq!(pinned.as_ref().map(|k| k.name.as_str()), Some("run"));
            assert!(store.pinned_by(&tenant, "echo", Some(3)).unwrap().is_some());
            assert!(store.pinned_by(&tenant, "echo", Some(2)).unwrap().is_none());
            assert!(store.pinned_by(&tenant, "ech", None).unwrap().is_none());
            assert!(store
                .pinned_by(&TenantId("other".into()), "echo", None)
                .unwrap()
                .is_none());
            let mut end = commit(2);
            end.record.modules = first.record.modules.clone();
            end.record.status = Status::Succeeded;
            let _durable = store.execution_commit(&end).unwrap();
            assert!(store.pinned_by(&tenant, "echo", None).unwrap().is_none());
            assert!(store.running_executions().unwrap().is_empty());
            // A redrive opens it again: running, and pinning its modules.
            let mut redrive = commit(3);
            redrive.record.modules = first.record.modules.clone();
            redrive.step.event.kind = EventKind::Redriven { client_token: None };
            let _durable = store.execution_commit(&redrive).unwrap();
            assert!(store.pinned_by(&tenant, "echo", Some(3)).unwrap().is_some());
            assert_eq!(store.running_executions().unwrap(), [first.key.clone()]);
        }
    }

    #[test]
    fn a_module_that_plays_a_bound_resource_is_pinned_too() {
        for store in crate::store::testing::stores() {
            let tenant = TenantId("t".into());
            let mut first = commit(1);
            first.record.bindings.insert(
                "arn:aws:states:::aws-sdk:translate:translateText".into(),
                crate::model::Bound {
                    binding: "arn:aws:states:::aws-sdk:translate:*".into(),
                    module: "translate".into(),
                    version: 2,
                    sha256: "sha".into(),
                },
            );
            let _created = store.execution_start(&first).unwrap();
            assert!(store
                .pinned_by(&tenant, "translate", Some(2))
                .unwrap()
                .is_some());
            let mut end = commit(2);
            end.record.bindings = first.record.bindings.clone();
            end.record.status = Status::Failed;
            let _durable = store.execution_commit(&end).unwrap();
            assert!(store
                .pinned_by(&tenant, "translate", None)
                .unwrap()
                .is_none());
        }
    }

    #[test]
    fn stores_from_before_the_pin_index_are_indexed_once() {
        for store in crate::store::testing::stores() {
            let mut first = commit(1);
            first
                .record
                .modules
                .insert("echo".into(), (1, "sha".into()));
            let _durable = store.execution_start(&first).unwrap();
            // As an older version stored it: no pin rows.
            let row = pin_key(&first.key, "echo", 1);
            store.backend.apply(vec![Write::Delete(row)]).unwrap();
            let tenant = TenantId("t".into());
            assert!(store.pinned_by(&tenant, "echo", None).unwrap().is_none());
            assert_eq!(store.pins_index().unwrap(), 1);
            assert!(store.pinned_by(&tenant, "echo", None).unwrap().is_some());
            assert_eq!(store.pins_index().unwrap(), 0, "once");
        }
    }

    #[test]
    fn a_commit_that_is_not_the_next_step_is_refused_in_memory() {
        for s in crate::store::testing::stores() {
            stale_steps_are_refused(&s);
        }
    }

    #[test]
    fn a_commit_that_is_not_the_next_step_is_refused_on_sled() {
        let dir = std::env::temp_dir().join(format!("sandstep-fence-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sled =
            crate::store::sled::Sled::open(&dir, crate::store::durability::Durability::default())
                .unwrap();
        stale_steps_are_refused(&Store::on(sled));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
