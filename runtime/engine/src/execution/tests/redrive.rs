//! Redrive: the states that did not succeed run again, from the input they were entered
//! with; what succeeded keeps its output.

use super::*;

fn task_failed(at: Millis, task: TaskId) -> Event {
    event(
        at,
        EventKind::TaskFailed {
            task,
            error: "Boom".into(),
            cause: "it broke".into(),
            usage: None,
        },
    )
}

fn task_succeeded(at: Millis, task: TaskId, output: Value) -> Event {
    event(
        at,
        EventKind::TaskSucceeded {
            task,
            output,
            usage: None,
        },
    )
}

fn redriven(at: Millis) -> Event {
    event(at, EventKind::Redriven { client_token: None })
}

fn records(commands: &[Command]) -> Vec<&HistoryEvent> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Record(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// Steps every event, and checks that replaying them all rebuilds the same state.
struct Driver {
    def: Definition,
    state: ExecutionState,
    events: Vec<Event>,
}

impl Driver {
    fn start(def: Definition, input: Value) -> (Driver, Vec<Command>) {
        let mut driver = Driver {
            def,
            state: ExecutionState::new(),
            events: Vec::new(),
        };
        let out = driver.step(start_event(1_000, input));
        (driver, out)
    }

    fn step(&mut self, event: Event) -> Vec<Command> {
        let out = step(&self.def, &mut self.state, &event).unwrap();
        self.events.push(event);
        out
    }

    fn replays(&self) {
        assert_eq!(replay(&self.def, &self.events).unwrap(), self.state);
    }
}

#[test]
fn a_failed_task_runs_again_with_its_input_after_the_states_that_succeeded() {
    let d = def(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {"n": 1}, "Next": "T"},
        "T": {"Type": "Task", "Resource": TASK, "Parameters": {
            "n.$": "$.n", "count.$": "$$.Execution.RedriveCount"}, "End": true}}}));
    let (mut run, out) = Driver::start(d, json!({}));
    let first = tasks(&out)[0].clone();
    assert_eq!(first.input, json!({"n": 1, "count": 0}));
    let out = run.step(task_failed(2_000, first.id));
    assert!(matches!(finished(&out), Some(Outcome::Failed { .. })));
    let last = run.state.last_event_id();

    let out = run.step(redriven(10_000));
    let recorded = records(&out);
    assert_eq!(
        kinds(&out),
        ["ExecutionRedriven", "TaskStateEntered", "TaskScheduled"]
    );
    assert_eq!(recorded[0].id, last + 1);
    assert_eq!(recorded[0].previous_event_id, last);
    assert_eq!(
        recorded[0].details.to_json(),
        Some(json!({"redriveCount": 1}))
    );
    assert_eq!(
        recorded[1].details.to_json().unwrap()["input"],
        json!("{\"n\":1}")
    );
    let again = tasks(&out)[0].clone();
    assert_ne!(again.id, first.id);
    assert_eq!(again.input, json!({"n": 1, "count": 1}));
    assert_eq!(run.state.redrive_count(), 1);
    let out = run.step(task_succeeded(11_000, again.id, json!("done")));
    assert_eq!(
        finished(&out),
        Some(&Outcome::Succeeded(Arc::new(json!("done"))))
    );
    run.replays();
    // A succeeded execution is not redriven; neither is a running one.
    assert!(step(&run.def, &mut run.state.clone(), &redriven(12_000)).is_err());
    let (mut running, _) = Driver::start(
        def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": TASK, "End": true}}})),
        json!({}),
    );
    assert!(step(&running.def, &mut running.state, &redriven(2_000)).is_err());
}

#[test]
fn the_context_shows_the_redrive_time_only_after_a_redrive() {
    let d = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": TASK, "Parameters": {"c.$": "$$.Execution"}, "End": true}}}));
    let (mut run, out) = Driver::start(d, json!({}));
    let first = tasks(&out)[0].clone();
    assert!(first.input["c"].get("RedriveTime").is_none());
    run.step(task_failed(2_000, first.id));
    let out = run.step(redriven(3_000));
    let context = &tasks(&out)[0].input["c"];
    assert_eq!(context["RedriveCount"], json!(1));
    assert_eq!(context["RedriveTime"], json!("1970-01-01T00:00:03.000Z"));
}

#[test]
fn retries_count_from_zero_again() {
    let d = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": TASK, "Parameters": {"r.$": "$$.State.RetryCount"},
              "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1, "IntervalSeconds": 1}],
              "End": true}}}));
    let (mut run, out) = Driver::start(d, json!({}));
    let out = run.step(task_failed(2_000, tasks(&out)[0].id));
    let (retry, _) = timers(&out)[0];
    let out = run.step(event(3_000, EventKind::TimerFired { timer: retry }));
    assert_eq!(tasks(&out)[0].input, json!({"r": 1}));
    let out = run.step(task_failed(4_000, tasks(&out)[0].id));
    assert!(matches!(finished(&out), Some(Outcome::Failed { .. })));
    let out = run.step(redriven(5_000));
    let again = tasks(&out)[0].clone();
    assert_eq!((again.input.clone(), again.attempt), (json!({"r": 0}), 0));
    // The Retrier has its attempt again.
    let out = run.step(task_failed(6_000, again.id));
    assert_eq!(timers(&out).len(), 1);
    assert!(finished(&out).is_none());
    run.replays();
}

#[test]
fn a_parallel_runs_only_its_branches_that_failed() {
    let d = def(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": TASK, "End": true}}},
            {"StartAt": "B0", "States": {
                "B0": {"Type": "Pass", "Result": "b0", "Next": "B"},
                "B": {"Type": "Task", "Resource": TASK, "End": true}}}]}}}),
    );
    let (mut run, out) = Driver::start(d, json!({}));
    let started = tasks(&out).iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(started.len(), 2);
    run.step(task_succeeded(2_000, started[0], json!("a")));
    let out = run.step(task_failed(3_000, started[1]));
    assert!(matches!(finished(&out), Some(Outcome::Failed { .. })));

    let out = run.step(redriven(4_000));
    assert_eq!(
        kinds(&out),
        [
            "ExecutionRedriven",
            "ParallelStateEntered",
            "ParallelStateStarted",
            "TaskStateEntered",
            "TaskScheduled"
        ]
    );
    let again = tasks(&out);
    assert_eq!((again.len(), again[0].input.clone()), (1, json!("b0")));
    let id = again[0].id;
    let out = run.step(task_succeeded(5_000, id, json!("b")));
    assert_eq!(
        finished(&out),
        Some(&Outcome::Succeeded(Arc::new(json!(["a", "b"]))))
    );
    run.replays();
}

#[test]
fn a_map_runs_its_failed_and_cancelled_iterations_then_those_never_started() {
    let d = def(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "MaxConcurrency": 2,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}}}}}),
    );
    let (mut run, out) = Driver::start(d, json!([0, 1, 2, 3]));
    let first = tasks(&out)
        .iter()
        .map(|t| (t.id, t.input.clone()))
        .collect::<Vec<_>>();
    assert_eq!(
        first.iter().map(|t| t.1.clone()).collect::<Vec<_>>(),
        [json!(0), json!(1)]
    );
    let out = run.step(task_succeeded(2_000, first[0].0, json!("r0")));
    let third = tasks(&out)[0].clone();
    assert_eq!(third.input, json!(2));
    // Item 1 fails: item 2 is cancelled and item 3 never starts.
    let out = run.step(task_failed(3_000, first[1].0));
    assert!(matches!(finished(&out), Some(Outcome::Failed { .. })));

    let out = run.step(redriven(4_000));
    let iterations: Vec<Value> = records(&out)
        .iter()
        .filter(|e| e.kind == "MapIterationStarted")
        .map(|e| e.details.to_json().unwrap()["index"].clone())
        .collect();
    assert_eq!(iterations, [json!(1), json!(2)]);
    let again: Vec<(TaskId, Value)> = tasks(&out)
        .iter()
        .map(|t| (t.id, t.input.clone()))
        .collect();
    assert_eq!(
        again.iter().map(|t| t.1.clone()).collect::<Vec<_>>(),
        [json!(1), json!(2)]
    );
    let out = run.step(task_succeeded(5_000, again[0].0, json!("r1")));
    let fourth = tasks(&out)[0].clone();
    assert_eq!(fourth.input, json!(3));
    run.step(task_succeeded(6_000, again[1].0, json!("r2")));
    let out = run.step(task_succeeded(7_000, fourth.id, json!("r3")));
    assert_eq!(
        finished(&out),
        Some(&Outcome::Succeeded(Arc::new(json!([
            "r0", "r1", "r2", "r3"
        ]))))
    );
    run.replays();
}

#[test]
fn a_caught_failure_redrives_from_the_fail_state_it_led_to() {
    let d = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": TASK, "Next": "Done",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Bad"}]},
        "Bad": {"Type": "Fail", "Error": "Caught", "Cause": "it was caught"},
        "Done": {"Type": "Succeed"}}}));
    let (mut run, out) = Driver::start(d, json!({}));
    run.step(task_failed(2_000, tasks(&out)[0].id));
    let out = run.step(redriven(3_000));
    assert_eq!(
        kinds(&out),
        ["ExecutionRedriven", "FailStateEntered", "ExecutionFailed"]
    );
    assert!(tasks(&out).is_empty());
    let again = run.step(redriven(4_000));
    assert_eq!(
        records(&again)[0].details.to_json(),
        Some(json!({"redriveCount": 2}))
    );
    run.replays();
}

#[test]
fn a_timed_out_execution_gets_its_whole_time_again() {
    let d = def(json!({"TimeoutSeconds": 5, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 10, "End": true}}}));
    let (mut run, out) = Driver::start(d, json!({}));
    let limit = timers(&out)
        .into_iter()
        .find(|(_, due)| *due == 6_000)
        .unwrap()
        .0;
    let out = run.step(event(6_000, EventKind::TimerFired { timer: limit }));
    assert!(matches!(finished(&out), Some(Outcome::TimedOut { .. })));
    let out = run.step(redriven(20_000));
    let mut dues: Vec<Millis> = timers(&out).into_iter().map(|(_, due)| due).collect();
    dues.sort();
    // The limit counts from the redrive; the Wait waits its ten seconds again.
    assert_eq!(dues, [25_000, 30_000]);
    run.replays();
}

#[test]
fn an_aborted_execution_resumes_every_state_it_was_in() {
    let d = def(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": TASK, "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": TASK, "End": true}}}]}}}),
    );
    let (mut run, out) = Driver::start(d, json!({}));
    let started = tasks(&out).iter().map(|t| t.id).collect::<Vec<_>>();
    run.step(task_succeeded(2_000, started[0], json!("a")));
    let out = run.step(event(
        3_000,
        EventKind::Stopped {
            error: None,
            cause: None,
        },
    ));
    assert!(matches!(finished(&out), Some(Outcome::Aborted { .. })));
    let out = run.step(redriven(4_000));
    let again = tasks(&out);
    assert_eq!(again.len(), 1);
    let id = again[0].id;
    let out = run.step(task_succeeded(5_000, id, json!("b")));
    assert_eq!(
        finished(&out),
        Some(&Outcome::Succeeded(Arc::new(json!(["a", "b"]))))
    );
    run.replays();
}

#[test]
fn iterations_a_redrive_had_yet_to_run_are_kept_by_the_next_one() {
    let d = def(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "MaxConcurrency": 1, "ToleratedFailureCount": 2,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}}}}}),
    );
    let (mut run, mut out) = Driver::start(d, json!([0, 1, 2]));
    // All three fail: the third is one too many.
    for at in [2_000, 3_000, 4_000] {
        let task = tasks(&out)[0].id;
        out = run.step(task_failed(at, task));
    }
    assert!(matches!(finished(&out), Some(Outcome::Failed { .. })));
    // The first redrive runs item 0 and queues 1 and 2; the execution is stopped then.
    let out = run.step(redriven(5_000));
    assert_eq!(tasks(&out)[0].input, json!(0));
    run.step(event(
        6_000,
        EventKind::Stopped {
            error: None,
            cause: None,
        },
    ));
    // The second redrive still runs all three, in order.
    let mut out = run.step(redriven(7_000));
    let mut inputs = Vec::new();
    for at in [8_000, 9_000, 10_000] {
        let task = tasks(&out)[0].clone();
        inputs.push(task.input.clone());
        out = run.step(task_succeeded(
            at,
            task.id,
            json!(format!("r{}", task.input)),
        ));
    }
    assert_eq!(inputs, [json!(0), json!(1), json!(2)]);
    assert_eq!(
        finished(&out),
        Some(&Outcome::Succeeded(Arc::new(json!(["r0", "r1", "r2"]))))
    );
    run.replays();
}
