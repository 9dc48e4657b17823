//! Starting executions: the definition cache, the open-execution quota, and the first
//! step of a Standard or Express execution.

use super::*;

impl Scheduler {
    pub(super) fn definition(
        &self,
        tenant: &TenantId,
        machine: &str,
        revision: &Revision,
    ) -> Result<Arc<Definition>, Error> {
        let key = (tenant.clone(), machine.to_string(), revision.id.clone());
        if let Some(d) = lock(&self.inner.definitions).get(&key) {
            return Ok(Arc::clone(d));
        }
        let def = Arc::new(
            Definition::parse(&revision.definition)
                .map_err(|e| Error::Definition(e.to_string()))?,
        );
        lock(&self.inner.definitions).insert(key, Arc::clone(&def));
        Ok(def)
    }

    /// Starts an execution within its tenant's quota of open executions. Standard:
    /// committed durably before this returns. Express: runs in memory. With `wait`,
    /// returns once the execution has finished (sync Express).
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] for a Standard execution name in use,
    /// [`Error::OpenLimit`] over the quota, store failures.
    #[tracing::instrument(name = "scheduler.start", level = "debug", skip_all,
        fields(tenant = %req.tenant, execution = %req.name))]
    pub async fn start(&self, req: StartRequest, wait: bool) -> Result<Execution, Error> {
        if req.machine.machine_type == MachineType::Express {
            // No await point between the first step and its effects: nothing to detach.
            return self.start_now(req, wait).await;
        }
        self.detached(move |this| async move { this.start_now(req, wait).await })
            .await
    }

    pub(super) async fn start_now(
        &self,
        req: StartRequest,
        wait: bool,
    ) -> Result<Execution, Error> {
        let def = self.definition(&req.tenant, &req.machine.name, &req.revision)?;
        let express = req.machine.machine_type == MachineType::Express;
        let arn = crate::arn::execution(
            &self.inner.opts.region,
            &req.account,
            &req.machine.name,
            &req.name,
            express,
        );
        let key = req.key();
        let at = self.now();
        let start = Start {
            input: req.input,
            execution_arn: arn.clone(),
            name: req.name.clone(),
            role_arn: req.machine.role_arn.clone(),
            state_machine_arn: req.machine.arn.clone(),
            state_machine_name: req.machine.name.clone(),
            redrive_count: 0,
            // The runtime's limit; a definition's TimeoutSeconds may end it sooner.
            timeout_seconds: Some(if express {
                self.inner.opts.express_limit_seconds
            } else {
                self.inner.opts.standard_limit_seconds
            }),
            limits: if express {
                Limits::express()
            } else {
                Limits::standard()
            },
            // Only Standard executions wait for tokens (AWS allows no callbacks in Express).
            token_key: (!express).then(crate::clock::secret),
            state_machine_version_arn: req
                .version
                .map(|n| crate::arn::version(&req.machine.arn, n)),
            state_machine_alias_arn: req
                .alias
                .as_ref()
                .map(|a| crate::arn::alias(&req.machine.arn, a)),
        };
        let record = Execution {
            name: req.name,
            arn,
            machine: req.machine.name.clone(),
            revision_id: req.revision.id.clone(),
            modules: req.pins.modules.clone(),
            bindings: req.pins.bindings.clone(),
            machine_type: req.machine.machine_type,
            status: Status::Running,
            input: req.input_text,
            output: None,
            error: None,
            cause: None,
            started: at,
            stopped: None,
            steps: 0,
            events: 0,
            version: req.version,
            alias: req.alias,
            parent: req.parent,
            map_run: req.map_run,
            redrive_count: 0,
            redrive_date: None,
            redrive_tokens: Vec::new(),
        };
        let mut live = Box::new(Live {
            key: key.clone(),
            def,
            state: ExecutionState::new(),
            record,
            pins: Arc::new(req.pins),
            tasks: HashMap::new(),
            timers: HashMap::new(),
            waiter: None,
            engine_time: Duration::ZERO,
            terminating: false,
        });
        let event = Event {
            at,
            entropy: self.entropy(),
            kind: EventKind::Started(start),
        };
        let journaled = (!express).then(|| key.clone());
        let ((mut live, event, commands), took) = self
            .inner
            .pool
            .run(&key.tenant, journaled, move || {
                let commands = step(&live.def, &mut live.state, &event);
                (live, event, commands)
            })
            .await?;
        let commands = commands?;
        live.engine_time = took;
        let stays_open = !commands.iter().any(|c| matches!(c, Command::Finish(_)));
        let open_limit = self.inner.quotas.of(&key.tenant).max_open_executions;
        let mut reservation =
            OpenReservation::take(&self.inner.open, &key.tenant, open_limit, stays_open)?;
        let (commit, effects) = self.absorb(&mut live, event, commands);
        // An execution that stays open holds its slot from before its first step is
        // written until its effects run: an event for it meanwhile (StopExecution) waits,
        // then finds it. One that ended in its first step needs none: an event for it
        // finds it finished in the store.
        let mut held = match effects.finished {
            true => None,
            false => Some(self.claim(&key).await?),
        };
        if !express {
            let started = match self.inner.store.execution_start(&commit) {
                Ok(Started::Created(durable)) => durable.wait().await.map_err(Error::from),
                Ok(Started::Existing(existing, durable)) => match durable.wait().await {
                    Ok(()) => Err(Error::AlreadyExists(existing)),
                    Err(e) => Err(e.into()),
                },
                Err(e) => Err(e.into()),
            };
            if let Err(e) = started {
                if let Some((slot, guard)) = &mut held {
                    self.forget(&key, slot, guard);
                }
                return Err(e);
            }
        }
        self.inner.counters.started(&req.tenant);
        let record = live.record.clone();
        if !express {
            self.status_changed(&key.tenant, &Scheduler::as_started(&record));
        }
        let Some((slot, mut guard)) = held else {
            if let Some(ended) = &effects.ended {
                self.status_changed(&key.tenant, ended);
            }
            return Ok(record); // ended in its first step
        };
        reservation.keep();
        let receiver = if wait {
            let (tx, rx) = oneshot::channel();
            live.waiter = Some(tx);
            Some(rx)
        } else {
            None
        };
        let keep = express || !effects.tasks.is_empty();
        if keep {
            *guard = Slot::Loaded(live);
        } else {
            // Waiting only: nothing in memory until its timer fires.
            self.forget(&key, &slot, &mut guard);
        }
        drop(guard);
        self.run_effects(&key, effects);
        match receiver {
            Some(rx) => rx.await.map_err(|_| Error::NotRunning(record.arn.clone())),
            None => Ok(record),
        }
    }

    /// The definition revision `record` runs (pinned at its start).
    pub(super) fn definition_of(
        &self,
        key: &ExecutionKey,
        record: &Execution,
    ) -> Result<Arc<Definition>, Error> {
        let revision = self
            .inner
            .store
            .revision_get(&key.tenant, &key.machine, &record.revision_id)?
            .ok_or_else(|| {
                Error::Definition(format!("revision {} is missing", record.revision_id))
            })?;
        self.definition(&key.tenant, &key.machine, &revision)
    }
}
