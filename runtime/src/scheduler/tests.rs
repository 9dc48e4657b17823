//! The scheduler against a store whose syncs are slow: what happens while a commit waits.

use super::runner::NoTasks;
use super::*;
use crate::store::backend::{Backend, Guard, Write};
use crate::store::durability::{GroupCommit, Pending};
use crate::store::memory::Memory;

/// The in-memory backend with a group commit whose every sync takes `delay`.
struct SlowSync {
    data: Memory,
    group: Arc<GroupCommit>,
}

impl SlowSync {
    fn new(delay: Duration) -> SlowSync {
        let (group, _) = GroupCommit::start(Duration::ZERO, move || {
            std::thread::sleep(delay);
            Ok(())
        });
        SlowSync {
            data: Memory::new(),
            group,
        }
    }
}

impl Backend for SlowSync {
    fn get(&self, key: &[u8]) -> store::Result<Option<Vec<u8>>> {
        self.data.get(key)
    }
    fn apply(&self, writes: Vec<Write>) -> store::Result<()> {
        self.data.apply(writes)
    }
    fn compare_and_swap(
        &self,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<Vec<u8>>,
    ) -> store::Result<bool> {
        self.data.compare_and_swap(key, old, new)
    }
    fn apply_guarded(&self, guards: &[Guard<'_>], writes: Vec<Write>) -> store::Result<bool> {
        self.data.apply_guarded(guards, writes)
    }
    fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> store::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.data.scan(prefix, after, limit)
    }
    fn durable(&self) -> store::Result<()> {
        self.group
            .wait_durable(|| Ok(()))
            .map_err(store::Error::Backend)
    }
    fn durable_later(&self) -> store::Result<Pending> {
        Ok(self.group.request().unwrap_or_else(Pending::done))
    }
}

fn wait_then_pass(store: &Store) -> StartRequest {
    let definition = r#"{"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
        "P": {"Type": "Pass", "End": true}}}"#;
    let tenant = TenantId("default".into());
    let machine = StateMachine {
        name: "m".into(),
        arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m".into(),
        machine_type: MachineType::Standard,
        role_arn: "arn:aws:iam::000000000000:role/r".into(),
        revision_id: "r1".into(),
        created: 0,
        updated: 0,
        description: None,
        logging: None,
        tracing: None,
        revised: false,
        last_version: 0,
        generation: 0,
    };
    let revision = Revision {
        id: "r1".into(),
        definition: definition.into(),
        sha256: String::new(),
        created: 0,
    };
    store
        .machine_put(&tenant, &machine, Some(&revision))
        .unwrap();
    StartRequest {
        tenant,
        account: "000000000000".into(),
        machine,
        revision,
        name: "e1".into(),
        input: serde_json::json!({"k": 1}),
        input_text: r#"{"k": 1}"#.into(),
        pins: Default::default(),
        parent: None,
        version: None,
        alias: None,
        map_run: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_whose_caller_goes_away_still_runs_its_effects() {
    let store = Store::on(SlowSync::new(Duration::from_millis(100)));
    let scheduler = Scheduler::new(Options::default(), store.clone(), Arc::new(NoTasks)).unwrap();
    let req = wait_then_pass(&store);
    let key = req.key();
    // The caller (an HTTP handler whose client disconnected) drops the start while its
    // first step waits for the 100 ms sync.
    tokio::select! {
        _ = scheduler.start(req, false) => panic!("the sync takes 100 ms"),
        () = tokio::time::sleep(Duration::from_millis(20)) => {}
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        scheduler.timers_armed(),
        2,
        "the Wait's timer (and the execution's one-year limit) are armed although the caller went away"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let record = store.execution_get(&key).unwrap().unwrap();
        if record.status == Status::Succeeded {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{:?}", record.status);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Stores the default tenant with `quotas`.
fn default_tenant_with(store: &Store, quotas: crate::tenants::Quotas) {
    let tenant = crate::tenants::Tenant {
        quotas,
        ..crate::tenants::default_tenant()
    };
    assert!(crate::store::Tenants::tenant_insert(store, &tenant).unwrap());
}

/// `req` running a machine of one Lambda Task state instead, stored.
fn one_task(store: &Store, mut req: StartRequest) -> StartRequest {
    req.revision.definition = r#"{"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f", "End": true}}}"#
        .into();
    store
        .machine_put(&req.tenant, &req.machine, Some(&req.revision))
        .unwrap();
    req
}

/// Answers every task after a while, counting how many run at once.
#[derive(Default)]
struct SlowTasks {
    millis: u64,
    running: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

impl SlowTasks {
    /// Tasks of 300 ms.
    fn new() -> SlowTasks {
        SlowTasks::taking(300)
    }

    fn taking(millis: u64) -> SlowTasks {
        SlowTasks {
            millis,
            ..SlowTasks::default()
        }
    }
}

impl TaskRunner for SlowTasks {
    fn run(&self, task: TaskContext) -> EventKind {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(self.millis));
        self.running.fetch_sub(1, Ordering::SeqCst);
        EventKind::TaskSucceeded {
            task: task.request.id,
            output: serde_json::json!({}),
            usage: None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_skips_an_execution_it_cannot_rebuild() {
    let store = Store::memory();
    let req = one_task(&store, wait_then_pass(&store));
    let first = Scheduler::new(
        Options::default(),
        store.clone(),
        Arc::new(SlowTasks::new()),
    )
    .unwrap();
    first.start(req.clone(), false).await.unwrap();
    // The stored revision no longer compiles (say, written by a more lenient version).
    let mut broken = req.revision.clone();
    broken.definition = r#"{"StartAt": "T", "States": {}}"#.into();
    store
        .machine_put(&req.tenant, &req.machine, Some(&broken))
        .unwrap();
    let second = Scheduler::new(
        Options::default(),
        store.clone(),
        Arc::new(SlowTasks::new()),
    )
    .unwrap();
    assert_eq!(
        second.recover().await.unwrap(),
        1,
        "the server starts; the execution is counted as running"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_timer_does_not_fire_into_a_later_run_of_the_same_name() {
    let store = Store::memory();
    let scheduler = Scheduler::new(Options::default(), store.clone(), Arc::new(NoTasks)).unwrap();
    let first = wait_then_pass(&store);
    let key = first.key();
    // Run 1 waits 1 s; it is stopped and then deleted (as retention would), but its
    // timer stays in the heap until due.
    scheduler.start(first.clone(), false).await.unwrap();
    scheduler.stop(&key, None, None).await.unwrap();
    store.execution_delete(&key).unwrap();
    // Run 2, same name, waits 30 s: its first timer has the same engine id.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut second = first;
    second.revision.definition = r#"{"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 30, "Next": "P"},
        "P": {"Type": "Pass", "End": true}}}"#
        .into();
    second.revision.id = "r2".into();
    second.machine.revision_id = "r2".into();
    store
        .machine_put(&second.tenant, &second.machine, Some(&second.revision))
        .unwrap();
    scheduler.start(second, false).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let record = store.execution_get(&key).unwrap().unwrap();
    assert_eq!(
        record.status,
        Status::Running,
        "run 1's timer must not end run 2's Wait"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_during_a_start_waits_for_it_and_stays_stopped() {
    let store = Store::on(SlowSync::new(Duration::from_millis(100)));
    let scheduler = Scheduler::new(
        Options::default(),
        store.clone(),
        Arc::new(SlowTasks::new()),
    )
    .unwrap();
    let mut req = wait_then_pass(&store);
    req.revision.id = "task".into();
    req.machine.revision_id = "task".into();
    let req = one_task(&store, req);
    let key = req.key();
    let starting = {
        let s = scheduler.clone();
        tokio::spawn(async move { s.start(req, false).await })
    };
    // The first step is written and waits for its 100 ms sync: stop it now.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let stopped = scheduler.stop(&key, None, None).await.unwrap();
    assert_eq!(stopped.status, Status::Aborted);
    starting.await.unwrap().unwrap();
    // The task (300 ms) ends after the stop: its result must not revive the execution.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let record = store.execution_get(&key).unwrap().unwrap();
    assert_eq!(record.status, Status::Aborted);
    assert_eq!(
        lock(&scheduler.inner.open).get(&key.tenant).copied(),
        Some(0),
        "the stopped execution gave its open slot back"
    );
    assert_eq!(scheduler.live_count(), 0, "nothing stays cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_an_express_execution_answers_its_record() {
    let store = Store::memory();
    let scheduler = Scheduler::new(Options::default(), store.clone(), Arc::new(NoTasks)).unwrap();
    let mut req = wait_then_pass(&store);
    req.machine.machine_type = MachineType::Express;
    let key = req.key();
    scheduler.start(req, false).await.unwrap();
    let stopped = scheduler.stop(&key, None, None).await.unwrap();
    assert_eq!(stopped.status, Status::Aborted);
    assert!(stopped.stopped.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_starts_cannot_overshoot_the_open_quota() {
    let store = Store::on(SlowSync::new(Duration::from_millis(100)));
    let scheduler = Scheduler::new(Options::default(), store.clone(), Arc::new(NoTasks)).unwrap();
    let req = wait_then_pass(&store);
    // The tenant's quota comes from the tenants table, wherever the start comes from.
    default_tenant_with(
        &store,
        crate::tenants::Quotas {
            max_open_executions: 2,
            ..crate::tenants::Quotas::default()
        },
    );
    let starts: Vec<_> = (0..5)
        .map(|i| {
            let s = scheduler.clone();
            let mut r = req.clone();
            r.name = format!("e{i}");
            tokio::spawn(async move { s.start(r, false).await })
        })
        .collect();
    let mut admitted = 0;
    for start in starts {
        match start.await.unwrap() {
            Ok(_) => admitted += 1,
            Err(Error::OpenLimit(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(admitted, 2, "the quota is 2 open executions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenants_task_quota_holds_without_anyone_pushing_it() {
    let store = Store::memory();
    default_tenant_with(
        &store,
        crate::tenants::Quotas {
            max_concurrent_tasks: 1,
            ..crate::tenants::Quotas::default()
        },
    );
    let runner = Arc::new(SlowTasks::taking(100));
    let scheduler = Scheduler::new(Options::default(), store.clone(), runner.clone()).unwrap();
    let req = one_task(&store, wait_then_pass(&store));
    let mut keys = Vec::new();
    for i in 0..4 {
        let mut r = req.clone();
        r.name = format!("t{i}");
        keys.push(r.key());
        scheduler.start(r, false).await.unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for key in &keys {
        while store.execution_get(key).unwrap().unwrap().status == Status::Running {
            assert!(std::time::Instant::now() < deadline, "tasks did not finish");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(
        runner.most.load(Ordering::SeqCst),
        1,
        "the tenant's quota is one task"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retention_loop_sweeps_then_ends_on_shutdown() {
    let store = Store::memory();
    let opts = Options {
        retention: Duration::ZERO,
        retention_every: Duration::from_millis(20),
        ..Options::default()
    };
    let (scheduler, service) =
        Scheduler::build(opts, store.clone(), Arc::new(NoTasks), None).unwrap();
    let mut req = wait_then_pass(&store);
    req.revision.definition =
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into();
    store
        .machine_put(&req.tenant, &req.machine, Some(&req.revision))
        .unwrap();
    let key = req.key();
    scheduler.start(req, false).await.unwrap();
    assert!(store.execution_get(&key).unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let looping = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while store.execution_get(&key).unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "not swept");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), looping)
        .await
        .expect("the loop ends on shutdown")
        .unwrap();
}

/// Says the task started, then never answers until the task is cancelled (or `release`
/// is set, which ends a test's stray threads).
#[derive(Default)]
struct Silent {
    runs: std::sync::atomic::AtomicUsize,
    release: Arc<AtomicBool>,
}

impl TaskRunner for Silent {
    fn run(&self, task: TaskContext) -> EventKind {
        self.runs.fetch_add(1, Ordering::SeqCst);
        task.progress.started();
        while !task.cancelled.load(Ordering::SeqCst) && !self.release.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        EventKind::TaskFailed {
            task: task.request.id,
            error: "Silent.Cancelled".into(),
            cause: String::new(),
            usage: None,
        }
    }
}

/// `req` running one Task state with `limits` (`"TimeoutSeconds": 1`, ...), stored.
fn one_silent_task(store: &Store, mut req: StartRequest, limits: &str) -> StartRequest {
    req.revision.definition = format!(
        r#"{{"StartAt": "T", "States": {{"T": {{"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f", {limits}, "End": true}}}}}}"#
    );
    store
        .machine_put(&req.tenant, &req.machine, Some(&req.revision))
        .unwrap();
    req
}

/// Waits until the execution has ended, and answers its record and history kinds.
async fn ended(store: &Store, key: &ExecutionKey) -> (Execution, Vec<String>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let record = store.execution_get(key).unwrap().unwrap();
        if record.status != Status::Running {
            let kinds = history_of(store, key)
                .unwrap()
                .iter()
                .map(|e| e["type"].as_str().unwrap_or_default().to_string())
                .collect();
            return (record, kinds);
        }
        assert!(std::time::Instant::now() < deadline, "still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_never_answers_times_out_on_the_engine_timer() {
    let store = Store::memory();
    let runner = Arc::new(Silent::default());
    let scheduler = Scheduler::new(Options::default(), store.clone(), runner.clone()).unwrap();
    let req = one_silent_task(&store, wait_then_pass(&store), r#""TimeoutSeconds": 1"#);
    let key = req.key();
    scheduler.start(req, false).await.unwrap();
    let (record, kinds) = ended(&store, &key).await;
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.error.as_deref(), Some("States.Timeout"));
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskTimedOut",
            "ExecutionFailed"
        ],
        "TaskStarted is recorded when the runner says the task began"
    );
    assert_eq!(scheduler.timers_armed(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_task_without_heartbeats_fails_with_a_heartbeat_timeout() {
    let store = Store::memory();
    let runner = Arc::new(Silent::default());
    let scheduler = Scheduler::new(Options::default(), store.clone(), runner.clone()).unwrap();
    let req = one_silent_task(
        &store,
        wait_then_pass(&store),
        r#""TimeoutSeconds": 60, "HeartbeatSeconds": 1"#,
    );
    let key = req.key();
    let began = std::time::Instant::now();
    scheduler.start(req, false).await.unwrap();
    let (record, _) = ended(&store, &key).await;
    assert_eq!(record.error.as_deref(), Some("States.HeartbeatTimeout"));
    assert!(began.elapsed() < Duration::from_secs(10));
}

/// A scheduler in a runtime of its own: shutting that runtime down is a crash (its
/// timers and task loops vanish; what it committed stays in the store).
fn crashable(store: &Store, runner: Arc<Silent>) -> (tokio::runtime::Runtime, Scheduler) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let scheduler = rt
        .block_on(async { Scheduler::new(Options::default(), store.clone(), runner) })
        .unwrap();
    (rt, scheduler)
}

#[test]
fn task_timers_are_rearmed_by_recovery_and_fire_when_first_due() {
    let store = Store::memory();
    let first_runner = Arc::new(Silent::default());
    let (first_rt, first) = crashable(&store, first_runner.clone());
    let req = one_silent_task(&store, wait_then_pass(&store), r#""TimeoutSeconds": 2"#);
    let key = req.key();
    let began = std::time::Instant::now();
    first_rt.block_on(async {
        first.start(req, false).await.unwrap();
        while !history_of(&store, &key)
            .unwrap()
            .iter()
            .any(|e| e["type"] == "TaskStarted")
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    first_rt.shutdown_background();

    let second_runner = Arc::new(Silent::default());
    let (second_rt, second) = crashable(&store, second_runner.clone());
    let (record, kinds) = second_rt.block_on(async {
        assert_eq!(second.recover().await.unwrap(), 1);
        ended(&store, &key).await
    });
    let took = began.elapsed();
    first_runner.release.store(true, Ordering::SeqCst);
    assert_eq!(record.error.as_deref(), Some("States.Timeout"));
    assert_eq!(second_runner.runs.load(Ordering::SeqCst), 1, "run again");
    assert_eq!(
        kinds.iter().filter(|k| *k == "TaskStarted").count(),
        1,
        "a task run again is not started twice in the history: {kinds:?}"
    );
    assert!(
        took < Duration::from_secs(4),
        "the timer kept its first due time (2 s after scheduling), took {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_clock_drives_waits_and_task_timeouts_without_waiting() {
    let clock = Arc::new(crate::clock::ManualClock::at(1_700_000_000_000));
    let opts = Options {
        clock: clock.clone(),
        ..Options::default()
    };
    let store = Store::memory();
    let runner = Arc::new(Silent::default());
    let scheduler = Scheduler::new(opts, store.clone(), runner.clone()).unwrap();
    let mut req = wait_then_pass(&store);
    req.revision.definition = r#"{"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 3600, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f",
              "TimeoutSeconds": 86400, "End": true}}}"#
        .into();
    store
        .machine_put(&req.tenant, &req.machine, Some(&req.revision))
        .unwrap();
    let key = req.key();
    let began = std::time::Instant::now();
    scheduler.start(req, false).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(runner.runs.load(Ordering::SeqCst), 0, "still waiting");
    clock.advance(3_600_000);
    while runner.runs.load(Ordering::SeqCst) == 0 {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "the Wait did not end"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    clock.advance(86_400_000);
    let (record, _) = ended(&store, &key).await;
    assert_eq!(record.error.as_deref(), Some("States.Timeout"));
    assert_eq!(
        record.stopped.unwrap() - record.started,
        3_600_000 + 86_400_000,
        "a day and an hour on the test's clock"
    );
    assert!(began.elapsed() < Duration::from_secs(10));
}

/// Other servers as a test plays them: every offer is counted and answered by `answer`.
struct FakePeers {
    offers: std::sync::atomic::AtomicUsize,
    /// How loaded each offer said the offering server is.
    loads: Mutex<Vec<sharing::Load>>,
    answer: Box<Answering>,
}

/// How [`FakePeers`] answer the `n`th offer.
type Answering = dyn Fn(&TaskContext, usize) -> sharing::Offered + Send + Sync;

impl std::fmt::Debug for FakePeers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FakePeers")
    }
}

impl sharing::TaskPeers for FakePeers {
    fn offer(
        &self,
        task: TaskContext,
        load: sharing::Load,
        _offered: sharing::Busy,
    ) -> futures_util::future::BoxFuture<'static, sharing::Offered> {
        lock(&self.loads).push(load);
        let n = self.offers.fetch_add(1, Ordering::SeqCst);
        let answer = (self.answer)(&task, n);
        Box::pin(async move { answer })
    }
}

fn sharing_with(peers: FakePeers, share_above: usize) -> (Options, Arc<FakePeers>) {
    let peers = Arc::new(peers);
    let options = Options {
        peers: Some(Arc::clone(&peers) as Arc<dyn sharing::TaskPeers>),
        share_above,
        ..Options::default()
    };
    (options, peers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_tasks_beyond_a_server_s_share_run_on_its_peers() {
    let store = Store::memory();
    let peers = FakePeers {
        offers: Default::default(),
        loads: Mutex::default(),
        answer: Box::new(|task, _| {
            // The other server reports the start as it runs.
            task.progress.started();
            sharing::Offered::Ran(Box::new(EventKind::TaskSucceeded {
                task: task.request.id,
                output: serde_json::json!({"ranBy": "peer"}),
                usage: None,
            }))
        }),
    };
    let (options, peers) = sharing_with(peers, 1);
    let runner = Arc::new(SlowTasks::taking(1_000));
    let scheduler = Scheduler::new(options, store.clone(), runner.clone()).unwrap();
    let req = one_task(&store, wait_then_pass(&store));
    let mut keys = Vec::new();
    for i in 0..4 {
        let mut r = req.clone();
        r.name = format!("s{i}");
        keys.push(r.key());
        scheduler.start(r, false).await.unwrap();
    }
    let mut by_peer = 0;
    for key in &keys {
        let (record, kinds) = ended(&store, key).await;
        assert_eq!(record.status, Status::Succeeded, "{kinds:?}");
        let peer = record.output.as_deref() == Some(r#"{"ranBy":"peer"}"#);
        // Only the peer reports the start (this runner does not): it arrives here.
        assert_eq!(
            kinds.contains(&"TaskStarted".to_string()),
            peer,
            "{kinds:?}"
        );
        by_peer += usize::from(peer);
    }
    assert_eq!(
        runner.most.load(Ordering::SeqCst),
        1,
        "one task here at a time"
    );
    assert_eq!(by_peer, 3, "the other three ran on a peer");
    assert_eq!(peers.offers.load(Ordering::SeqCst), 3);
    let one = sharing::Load {
        running: 1,
        share: 1,
    };
    assert_eq!(
        *lock(&peers.loads),
        [one; 3],
        "each offer says one task runs here"
    );
    assert_eq!(scheduler.counters().shared.load(Ordering::SeqCst), 3);
    assert_eq!(scheduler.modules_running(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_no_peer_takes_or_a_peer_loses_runs_here() {
    let store = Store::memory();
    let peers = FakePeers {
        offers: Default::default(),
        loads: Mutex::default(),
        answer: Box::new(|_, n| match n % 2 {
            0 => sharing::Offered::Declined,
            _ => sharing::Offered::Lost("the peer died".into()),
        }),
    };
    // No room here for any task: each is offered first.
    let (options, peers) = sharing_with(peers, 0);
    let runner = Arc::new(SlowTasks::taking(10));
    let scheduler = Scheduler::new(options, store.clone(), runner.clone()).unwrap();
    let req = one_task(&store, wait_then_pass(&store));
    let mut keys = Vec::new();
    for i in 0..4 {
        let mut r = req.clone();
        r.name = format!("h{i}");
        keys.push(r.key());
        scheduler.start(r, false).await.unwrap();
    }
    for key in &keys {
        let (record, kinds) = ended(&store, key).await;
        assert_eq!(record.status, Status::Succeeded, "{kinds:?}");
        assert_eq!(record.output.as_deref(), Some("{}"), "ran here");
    }
    assert_eq!(peers.offers.load(Ordering::SeqCst), 4);
    assert_eq!(scheduler.counters().shared.load(Ordering::SeqCst), 0);
    assert_eq!(
        scheduler.counters().rerun.load(Ordering::SeqCst),
        2,
        "the two a peer lost"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_dropped_on_its_peer_is_not_answered_again() {
    let store = Store::memory();
    let peers = FakePeers {
        offers: Default::default(),
        loads: Mutex::default(),
        // As the real ones: dropped once no longer wanted.
        answer: Box::new(|task, _| {
            task.cancelled.store(true, Ordering::SeqCst);
            sharing::Offered::Dropped
        }),
    };
    let (options, _peers) = sharing_with(peers, 0);
    let runner = Arc::new(SlowTasks::taking(10));
    let scheduler = Scheduler::new(options, store.clone(), runner.clone()).unwrap();
    let req = one_silent_task(&store, wait_then_pass(&store), r#""TimeoutSeconds": 1"#);
    let key = req.key();
    scheduler.start(req, false).await.unwrap();
    let (record, _) = ended(&store, &key).await;
    assert_eq!(record.error.as_deref(), Some("States.Timeout"));
    assert_eq!(
        runner.most.load(Ordering::SeqCst),
        0,
        "not run here after its peer stopped it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_takes_other_servers_tasks_only_while_it_is_less_loaded() {
    let load = |running, share| sharing::Load { running, share };
    let store = Store::memory();
    let task = |id| TaskContext {
        tenant: TenantId("default".into()),
        execution_arn: "arn:aws:states:us-east-1:000000000000:execution:m:e".into(),
        pins: Arc::default(),
        request: TaskRequest {
            id: TaskId(id),
            resource: "f".into(),
            input: serde_json::json!({}),
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
            state_name: "T".into(),
            task_token: None,
        },
        cancelled: Arc::default(),
        progress: Progress::ignored(TaskId(id)),
    };
    let alone = Scheduler::new(
        Options::default(),
        store.clone(),
        Arc::new(SlowTasks::taking(10)),
    )
    .unwrap();
    assert!(
        alone.run_for_peer(task(1), load(10, 1)).is_none(),
        "a server alone takes none"
    );

    let peers = FakePeers {
        offers: Default::default(),
        loads: Mutex::default(),
        answer: Box::new(|_, _| sharing::Offered::Declined),
    };
    let (options, _peers) = sharing_with(peers, 1);
    let scheduler =
        Scheduler::new(options, store.clone(), Arc::new(SlowTasks::taking(100))).unwrap();
    let first = scheduler
        .run_for_peer(task(1), load(1, 1))
        .expect("none runs here, one there");
    assert!(
        scheduler.run_for_peer(task(2), load(1, 1)).is_none(),
        "as many here as there"
    );
    assert!(
        scheduler.run_for_peer(task(2), load(4, 16)).is_none(),
        "a bigger server with a smaller part of its share taken"
    );
    assert_eq!(scheduler.modules_running(), 1);
    let second = scheduler
        .run_for_peer(task(2), load(2, 1))
        .expect("one runs here, two there");
    assert_eq!(scheduler.modules_running(), 2);
    assert!(matches!(
        second.await,
        EventKind::TaskSucceeded {
            task: TaskId(2),
            ..
        }
    ));
    assert!(matches!(
        first.await,
        EventKind::TaskSucceeded {
            task: TaskId(1),
            ..
        }
    ));
    assert_eq!(scheduler.modules_running(), 0);
    let again = scheduler
        .run_for_peer(task(3), load(4, 16))
        .expect("none runs here");
    assert!(matches!(
        again.await,
        EventKind::TaskSucceeded {
            task: TaskId(3),
            ..
        }
    ));
    assert_eq!(scheduler.counters().for_peers.load(Ordering::SeqCst), 3);
}
