//! Running tasks: per-tenant and global slots, and delivering each task's result back as
//! an event.

use super::*;
use tracing::Instrument;

impl Scheduler {
    /// The tenant's task slots: its quota of concurrent tasks, within the server's own
    /// limit per tenant. Sized from the quota policy when first needed, by a start or a
    /// recovery alike.
    pub(super) fn tenant_slots(&self, tenant: &TenantId) -> Arc<Semaphore> {
        let mut slots = lock(&self.inner.tenant_slots);
        Arc::clone(slots.entry(tenant.clone()).or_insert_with(|| {
            let quota = self.inner.quotas.of(tenant).max_concurrent_tasks;
            let size = usize::try_from(quota)
                .unwrap_or(usize::MAX)
                .clamp(1, self.inner.opts.max_tasks_per_tenant);
            Arc::new(Semaphore::new(size))
        }))
    }

    /// Runs a task once a slot is free, passing on its progress reports and then its
    /// result, in that order.
    pub(super) fn spawn_task(&self, key: ExecutionKey, mut task: TaskContext) {
        let me = self.clone();
        let span = tracing::debug_span!(
            "scheduler.task",
            tenant = %key.tenant,
            execution = %key.name,
            state = %task.request.state_name
        );
        tokio::spawn(
            async move {
                if task.request.activity().is_some() {
                    // Activity tasks come here only to be rejected (see `activities`).
                    me.deliver(key, Scheduler::reject(&task)).await;
                    return;
                }
                // A binding plays its resource, whatever integration would run it
                // otherwise: the module runs in a task slot like any.
                let bound = task.pins.bindings.contains_key(&task.request.resource);
                if let Some(mode) = nested::mode_of(&task.request.resource).filter(|_| !bound) {
                    // Starting a child is a store write and an engine step, not a
                    // sandbox run: no task slot.
                    let answer = me.run_nested(&key, &task, mode).await;
                    me.deliver(key.clone(), answer).await;
                    me.open_gate(&key, task.request.id);
                    return;
                }
                if task.request.resource == sandstep_engine::execution::MAP_RUN_RESOURCE {
                    // A Map Run's children run on their own; its end answers the task.
                    let answer = me.submit_map_run(&key, &task).await;
                    me.deliver(key.clone(), answer).await;
                    me.open_gate(&key, task.request.id);
                    return;
                }
                if let Some(waits) =
                    crate::tasks::batch::mode_of(&task.request.resource).filter(|_| !bound)
                {
                    // Submitting a job is a store write: no task slot. The job runs in
                    // its queue's own slots.
                    let answer = me.submit_job(&key, &task, waits);
                    me.deliver(key.clone(), answer).await;
                    me.open_gate(&key, task.request.id);
                    return;
                }
                if let Some(call) = crate::tasks::stores::StoreTask::resolve(&task.request.resource)
                    .filter(|_| !bound)
                {
                    // A call on the tenant's tables, queues or topics is store reads and
                    // writes: no task slot, but off the runtime's threads (a Scan reads a
                    // whole table).
                    let answer = me.run_store_task(&key, &task, call, None).await;
                    me.deliver(key, answer).await;
                    return;
                }
                if !bound && crate::tasks::http::is_invoke(&task.request.resource) {
                    // An HTTP Task waits on the network, not a core: no task slot, a
                    // blocking thread, and the outbound client's cap per tenant.
                    let answer = me.run_http_task(&task).await;
                    me.deliver(key, answer).await;
                    return;
                }
                let tenant_slots = me.tenant_slots(&task.tenant);
                let Ok(_tenant_permit) = tenant_slots.acquire_owned().await else {
                    return;
                };
                if task.cancelled.load(Ordering::SeqCst) {
                    return;
                }
                // The tenant's slot is taken here, wherever the module runs: its quota of
                // concurrent tasks holds across servers.
                let (progress, mut reports) = Progress::channel(&task.request);
                task.progress = progress;
                let running = me.run_module(task);
                tokio::pin!(running);
                let result = loop {
                    tokio::select! {
                        biased;
                        Some(report) = reports.recv() => me.deliver(key.clone(), report).await,
                        done = &mut running => break done,
                    }
                };
                while let Ok(report) = reports.try_recv() {
                    me.deliver(key.clone(), report).await;
                }
                if let Some(kind) = result {
                    me.deliver(key, kind).await;
                }
            }
            .instrument(span),
        );
    }
}

/// Where a store integration's task runs: its tenant's region and account (from the
/// execution's ARN), and, for a Standard execution, the task its write is stored with.
struct StoreCall {
    region: String,
    account: String,
    effect: Option<crate::store::tables::EffectOf>,
}

impl Scheduler {
    /// `None` when the execution's ARN does not parse (it always does).
    fn store_call(key: &ExecutionKey, task: &TaskContext) -> Option<StoreCall> {
        let Ok(crate::arn::Arn::Execution {
            region,
            account,
            express,
            ..
        }) = crate::arn::Arn::parse(&task.execution_arn)
        else {
            return None;
        };
        // A Standard execution's write is stored with its answer: run again after a
        // crash, the task answers that instead of writing twice. Express executions are
        // not run again, and keep nothing.
        let effect = (!express).then(|| crate::store::tables::EffectOf {
            execution: key.clone(),
            task: task.request.id.0,
        });
        Some(StoreCall {
            region,
            account,
            effect,
        })
    }

    /// The event a store integration's outcome makes.
    fn store_answer(
        task: sandstep_engine::TaskId,
        ran: Result<Result<serde_json::Value, (String, String)>, tokio::task::JoinError>,
        waits: bool,
    ) -> EventKind {
        match ran {
            Ok(Ok(output)) if waits => EventKind::TaskSubmitted {
                task,
                output,
                usage: None,
            },
            Ok(Ok(output)) => EventKind::TaskSucceeded {
                task,
                output,
                usage: None,
            },
            Ok(Err((error, cause))) => nested::task_failed(task, &error, cause),
            Err(e) => nested::task_failed(task, "States.Runtime", format!("the call failed: {e}")),
        }
    }

    /// Runs an HTTP Task; its answer. The request's time is the task's `TimeoutSeconds`
    /// at most (and the outbound client's own limit).
    async fn run_http_task(&self, task: &TaskContext) -> EventKind {
        let (http, store, tenant, request) = (
            self.inner.opts.http.clone(),
            self.inner.store.clone(),
            task.tenant.clone(),
            task.request.clone(),
        );
        let budget = request.timeout_seconds.map(Duration::from_secs);
        let permit = http.admit(&tenant).await;
        let ran = tokio::task::spawn_blocking(move || {
            let answer = http.run(&store, &tenant, &request.input, budget);
            drop(permit);
            answer
        })
        .await;
        Scheduler::store_answer(task.request.id, ran, false)
    }

    /// Runs a store integration's task as the state machine's role (or `role_arn`); its
    /// answer (`TaskSubmitted` when the task then waits for its token).
    async fn run_store_task(
        &self,
        key: &ExecutionKey,
        task: &TaskContext,
        call: crate::tasks::stores::StoreTask,
        role_arn: Option<String>,
    ) -> EventKind {
        let StoreCall {
            region,
            account,
            effect,
        } = match Scheduler::store_call(key, task) {
            Some(c) => c,
            None => {
                return nested::task_failed(
                    task.request.id,
                    "States.Runtime",
                    "the execution's ARN does not parse".into(),
                )
            }
        };
        let (store, tenant, request, now) = (
            self.inner.store.clone(),
            key.tenant.clone(),
            task.request.clone(),
            self.now(),
        );
        let endpoint = self.inner.opts.endpoint.clone();
        let waits = call.waits();
        let machine = key.machine.clone();
        let ran = tokio::task::spawn_blocking(move || {
            // The call runs as the state machine's role: its grants are checked first.
            let role_arn = match role_arn {
                Some(given) => Ok(given),
                None => crate::store::StateMachines::machine_get(&store, &tenant, &machine)
                    .map(|m| m.map(|m| m.role_arn).unwrap_or_default()),
            };
            let role = role_arn
                .clone()
                .and_then(|arn| store.role_grants(&tenant, &arn))
                .map_err(|e| {
                    (
                        "States.Runtime".to_string(),
                        format!("reading the state machine's role failed: {e}"),
                    )
                })?;
            let role_arn = role_arn.unwrap_or_default();
            crate::tasks::access::check(&call, &request.input, &role_arn, role.as_ref())?;
            let place = crate::tasks::stores::Place {
                tenant: &tenant,
                region: &region,
                account: &account,
                endpoint: &endpoint,
                now,
                effect: effect.as_ref(),
            };
            call.run(&store, &place, &request)
        })
        .await;
        Scheduler::store_answer(task.request.id, ran, waits)
    }
}

impl Scheduler {
    /// Runs one task for TestState, as `role_arn`: a store integration's call, or a module
    /// task in the tenant's task slots. No execution waits on it; its ARN is an Express
    /// execution's, so nothing is stored with it.
    pub async fn run_for_test(&self, task: TaskContext, role_arn: &str) -> EventKind {
        let bound = task.pins.bindings.contains_key(&task.request.resource);
        if let Some(call) =
            crate::tasks::stores::StoreTask::resolve(&task.request.resource).filter(|_| !bound)
        {
            let key = ExecutionKey {
                tenant: task.tenant.clone(),
                machine: String::new(),
                name: String::new(),
            };
            return self
                .run_store_task(&key, &task, call, Some(role_arn.to_string()))
                .await;
        }
        self.run_detached(task).await
    }

    /// Runs a module task no execution waits on (an SNS delivery to a module) in the
    /// tenant's task slots and the server's, like an execution's task; its answer.
    pub async fn run_detached(&self, task: TaskContext) -> EventKind {
        let id = task.request.id;
        let tenant_slots = self.tenant_slots(&task.tenant);
        let (Ok(_tenant_permit), Ok(_permit)) = (
            tenant_slots.acquire_owned().await,
            Arc::clone(&self.inner.task_slots).acquire_owned().await,
        ) else {
            return nested::task_failed(id, "States.Runtime", "the server is stopping".into());
        };
        // Counted with the executions' module tasks, so other servers' are declined.
        let _running = self.running_here();
        let runner = Arc::clone(&self.inner.runner);
        tokio::task::spawn_blocking(move || runner.run(task))
            .await
            .unwrap_or_else(|e| {
                nested::task_failed(
                    id,
                    "States.TaskFailed",
                    format!("the task runner failed: {e}"),
                )
            })
    }
}
