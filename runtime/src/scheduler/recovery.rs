//! Rebuilding executions from the store: loading one by replaying its steps, and
//! resuming every running execution after a restart, quarantining poison ones first.

use super::*;
use crate::store::Children as _;

impl Scheduler {
    /// Rebuilds a Standard execution from its stored steps: a running one, or with
    /// `finished`, one that ended (for a redrive).
    pub(super) fn load(&self, key: &ExecutionKey, finished: bool) -> Result<Box<Live>, Error> {
        let record = self
            .inner
            .store
            .execution_get(key)?
            .ok_or_else(|| Error::NotRunning(key.name.clone()))?;
        if (record.status != Status::Running && !finished)
            || record.machine_type != MachineType::Standard
        {
            return Err(Error::NotRunning(record.arn));
        }
        let def = self.definition_of(key, &record)?;
        let mut state = ExecutionState::new();
        let mut timers = HashMap::new();
        let mut tasks = HashMap::new();
        for stored in self.inner.store.execution_steps(key)? {
            for command in step(&def, &mut state, &stored.event)? {
                match command {
                    Command::StartTimer { timer, due } => {
                        timers.insert(timer, due);
                    }
                    Command::CancelTimer(timer) => {
                        timers.remove(&timer);
                    }
                    // An activity task waits in its queue, not here (one that was rejected
                    // is answered again by `recover`).
                    Command::RunTask(t) if t.activity().is_none() => {
                        tasks.insert(t.id, Arc::new(AtomicBool::new(false)));
                    }
                    Command::RunTask(_) => {}
                    Command::CancelTask(t) => {
                        tasks.remove(&t);
                    }
                    Command::Record(_) | Command::Finish(_) => {}
                }
            }
            match &stored.event.kind {
                EventKind::TimerFired { timer } => {
                    timers.remove(timer);
                }
                EventKind::TaskSucceeded { task, .. }
                | EventKind::TaskFailed { task, .. }
                | EventKind::TaskSubmitted { task, .. }
                | EventKind::TaskRejected { task, .. } => {
                    tasks.remove(task);
                }
                _ => {}
            }
        }
        let pins = Arc::new(record.pins());
        Ok(Box::new(Live {
            key: key.clone(),
            def,
            state,
            record,
            pins,
            tasks,
            timers,
            waiter: None,
            engine_time: Duration::ZERO,
            terminating: false,
        }))
    }

    /// [`load`](Self::load) on the engine pool: replay is engine work, and the journal
    /// names the execution while it replays.
    pub(super) async fn load_on_pool(
        &self,
        key: &ExecutionKey,
        finished: bool,
    ) -> Result<Box<Live>, Error> {
        let me = self.clone();
        let loaded = key.clone();
        let (live, _) = self
            .inner
            .pool
            .run(&key.tenant, Some(key.clone()), move || {
                engine_pool::inject_fault(&loaded);
                me.load(&loaded, finished)
            })
            .await?;
        live
    }

    /// After a restart: fails the executions due for quarantine, re-arms every stored
    /// timer and runs again the tasks that were in flight at the crash. Returns how many
    /// executions were resumed.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn recover(&self) -> Result<usize, Error> {
        self.recover_tenants(&|_| true, true).await
    }

    /// [`recover`](Self::recover) for the tenants `only` picks: those of the partitions a
    /// server sharing a PostgreSQL store has just claimed, whose previous server stopped.
    /// With `first`, also the store's one-time upkeep at a start (migrating old kv items,
    /// indexing pins).
    ///
    /// # Errors
    /// When the store fails.
    #[tracing::instrument(name = "scheduler.recover", skip_all)]
    pub async fn recover_tenants(
        &self,
        only: &(dyn Fn(&TenantId) -> bool + Send + Sync),
        first: bool,
    ) -> Result<usize, Error> {
        let due = lock(&self.inner.strikes).due();
        for (key, strikes) in due.into_iter().filter(|(key, _)| only(&key.tenant)) {
            match self.quarantine(&key, strikes).await {
                Ok(true) => tracing::error!(tenant = %key.tenant, machine = %key.machine,
                    execution = %key.name, strikes,
                    "quarantined: failed an execution the server died working on"),
                Ok(false) => {}
                Err(e) => tracing::error!(tenant = %key.tenant, execution = %key.name,
                    error = %e, "cannot quarantine this execution"),
            }
        }
        let store = &self.inner.store;
        if first {
            let moved = store.kv_migrate()?;
            if moved > 0 {
                tracing::info!(moved, "moved kv items into DynamoDB tables");
            }
            let indexed = store.pins_index()?;
            if indexed > 0 {
                tracing::info!(indexed, "indexed the module pins of running executions");
            }
        }
        let swept = store.sweep_object_files(only)?;
        if swept > 0 {
            tracing::info!(swept, "removed object files a crash left behind");
        }
        let mut running = store.running_executions()?;
        running.retain(|key| only(&key.tenant));
        for key in &running {
            *lock(&self.inner.open)
                .entry(key.tenant.clone())
                .or_default() += 1;
        }
        for key in &running {
            let tasks = store.execution_tasks(key)?;
            if tasks.is_empty() {
                continue;
            }
            let live = match self.load_on_pool(key, false).await {
                Ok(live) => live,
                Err(e) => {
                    // One execution that cannot be rebuilt (a revision an older version
                    // accepted, a corrupt record) must not keep the server from starting.
                    tracing::error!(tenant = %key.tenant, execution = %key.name, error = %e,
                        "cannot resume this execution; it stays RUNNING in the store");
                    // It cannot run (nor be stopped) here: it must not hold a quota slot.
                    release_open(&self.inner.open, &key.tenant);
                    continue;
                }
            };
            let mut live = live;
            let contexts: Vec<TaskContext> = tasks
                .into_iter()
                .filter_map(|request: TaskRequest| {
                    // An activity task in flight is one that was rejected before the
                    // rejection was stored: it is answered again.
                    if request.activity().is_some() {
                        live.tasks.entry(request.id).or_default();
                    }
                    let cancelled = live.tasks.get(&request.id)?.clone();
                    Some(TaskContext {
                        tenant: key.tenant.clone(),
                        execution_arn: live.record.arn.clone(),
                        pins: Arc::clone(&live.pins),
                        progress: Progress::ignored(request.id),
                        request,
                        cancelled,
                    })
                })
                .collect();
            lock(&self.inner.live)
                .entry(key.clone())
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Slot::Loaded(live))));
            for task in contexts {
                self.spawn_task(key.clone(), task);
            }
        }
        // Answers ended nested executions and jobs still owe their parents.
        for notice in store.notices()? {
            if only(&notice.parent.tenant) {
                self.deliver_notice(notice, true);
            }
        }
        let jobs = self.recover_jobs(only)?;
        if jobs > 0 {
            tracing::info!(jobs, "jobs a stop interrupted wait to run again");
        }
        let runs = self.resume_map_runs(only)?;
        if runs > 0 {
            tracing::info!(runs, "Map Runs a stop interrupted go on");
        }
        // Timers last: a due one fires at once on another worker, and must find the
        // executions with tasks in flight already in the live map, not load a second copy.
        for t in store.timers()? {
            if only(&t.execution.tenant) {
                self.inner.timers.add(t.due, t.execution, t.timer, t.run);
            }
        }
        Ok(running.len())
    }

    /// Fails a running execution with the quarantine error without replaying it (its
    /// replay may be what kills the process): one step, written from its record alone,
    /// that ends its timers and tasks. Returns whether it was running.
    pub(super) async fn quarantine(&self, key: &ExecutionKey, strikes: u32) -> Result<bool, Error> {
        let store = &self.inner.store;
        let Some(mut record) = store.execution_get(key)? else {
            return Ok(false);
        };
        if record.status != Status::Running || record.machine_type != MachineType::Standard {
            return Ok(false);
        }
        let (error, cause) = quarantine::failure(strikes);
        let at = self.now();
        let failed = HistoryEvent {
            id: record.events + 1,
            previous_event_id: record.events,
            timestamp: at,
            kind: "ExecutionFailed",
            details: Details::Fields(serde_json::Map::from_iter([
                (
                    "error".to_string(),
                    serde_json::Value::String(error.clone()),
                ),
                (
                    "cause".to_string(),
                    serde_json::Value::String(cause.clone()),
                ),
            ])),
        };
        let timers_ended = store
            .timers()?
            .into_iter()
            .filter(|t| &t.execution == key)
            .map(|t| (t.timer, t.due))
            .collect();
        let tasks_ended = store.execution_tasks(key)?.iter().map(|t| t.id.0).collect();
        record.status = Status::Failed;
        record.error = Some(error.clone());
        record.cause = Some(cause.clone());
        record.stopped = Some(at);
        record.steps += 1;
        record.events += 1;
        let notice = Scheduler::notice_of(&record);
        let commit = Commit {
            key: key.clone(),
            record,
            step: Step {
                event: Event {
                    at,
                    entropy: self.entropy(),
                    kind: EventKind::Terminated { error, cause },
                },
                history: vec![failed.to_aws_json()],
            },
            timers_started: Vec::new(),
            timers_ended,
            tasks_started: Vec::new(),
            tasks_ended,
            tasks_queued: Vec::new(),
            notice: notice.clone(),
        };
        store.execution_commit(&commit)?.wait().await?;
        if let Some(notice) = notice {
            self.deliver_notice(notice, true);
        }
        let c = &self.inner.counters;
        c.finished(&key.tenant, Status::Failed);
        Ok(true)
    }

    /// Ends an execution that used up its engine budget, as its next event.
    pub(super) fn terminate_later(&self, key: ExecutionKey) {
        let seconds = self.inner.opts.engine_budget.as_secs_f64();
        let me = self.clone();
        tokio::spawn(async move {
            let kind = EventKind::Terminated {
                error: "States.Runtime".into(),
                cause: format!(
                    "The execution used more than {seconds} s of engine time, the server's \
                     limit per execution (engine_budget_seconds)."
                ),
            };
            me.deliver(key, kind).await;
        });
    }
}
