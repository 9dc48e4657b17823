//! The executor, driven event by event: what each event produces.

use super::*;
use serde_json::json;

fn def(value: Value) -> Definition {
    Definition::from_value(&value).unwrap()
}

fn start_event(at: Millis, input: Value) -> Event {
    Event {
        at,
        entropy: 7,
        kind: EventKind::Started(Start {
            input,
            execution_arn: "arn:aws:states:us-east-1:000000000000:execution:m:e".into(),
            name: "e".into(),
            role_arn: "arn:aws:iam::000000000000:role/r".into(),
            state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m".into(),
            state_machine_name: "m".into(),
            redrive_count: 0,
            timeout_seconds: None,
            limits: crate::Limits::default(),
            token_key: None,
            state_machine_version_arn: None,
            state_machine_alias_arn: None,
        }),
    }
}

fn event(at: Millis, kind: EventKind) -> Event {
    Event {
        at,
        entropy: 11,
        kind,
    }
}

fn tasks(commands: &[Command]) -> Vec<&TaskRequest> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::RunTask(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn timers(commands: &[Command]) -> Vec<(TimerId, Millis)> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::StartTimer { timer, due } => Some((*timer, *due)),
            _ => None,
        })
        .collect()
}

fn kinds(commands: &[Command]) -> Vec<&'static str> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Record(e) => Some(e.kind),
            _ => None,
        })
        .collect()
}

fn finished(commands: &[Command]) -> Option<&Outcome> {
    commands.iter().find_map(|c| match c {
        Command::Finish(o) => Some(o),
        _ => None,
    })
}

const TASK: &str = "arn:aws:lambda:us-east-1:000000000000:function:f";

#[test]
fn a_task_state_schedules_its_task_with_resolved_limits() {
    let d = def(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK,
        "Parameters": {"x.$": "$.a"}, "TimeoutSecondsPath": "$.t", "HeartbeatSeconds": 5, "End": true}}}),
    );
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(1000, json!({"a": 1, "t": 30}))).unwrap();
    let t = tasks(&out);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].input, json!({"x": 1}));
    assert_eq!(
        (t[0].timeout_seconds, t[0].heartbeat_seconds, t[0].attempt),
        (Some(30), Some(5), 0)
    );
    assert_eq!(
        kinds(&out),
        ["ExecutionStarted", "TaskStateEntered", "TaskScheduled"]
    );
    assert!(finished(&out).is_none());

    let id = t[0].id;
    let out = step(
        &d,
        &mut st,
        &event(
            2000,
            EventKind::TaskStarted {
                task: id,
                worker: None,
            },
        ),
    )
    .unwrap();
    assert_eq!(kinds(&out), ["TaskStarted"]);
    let out = step(
        &d,
        &mut st,
        &event(
            3000,
            EventKind::TaskSucceeded {
                task: id,
                output: json!("ok"),
                usage: None,
            },
        ),
    )
    .unwrap();
    assert_eq!(
        kinds(&out),
        ["TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    );
    assert_eq!(
        finished(&out),
        Some(&Outcome::Succeeded(Arc::new(json!("ok"))))
    );
}

#[test]
fn retries_back_off_exponentially_and_count_attempts() {
    let d = def(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK,
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "BackoffRate": 3.0, "MaxAttempts": 2}],
        "End": true}}}),
    );
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(0, json!({}))).unwrap();
    let first = tasks(&out)[0].id;
    let fail = |task| EventKind::TaskFailed {
        task,
        error: "Flaky".into(),
        cause: "c".into(),
        usage: None,
    };

    let out = step(&d, &mut st, &event(1000, fail(first))).unwrap();
    let (timer, due) = timers(&out)[0];
    assert_eq!(due, 1000 + 2000);
    let out = step(&d, &mut st, &event(3000, EventKind::TimerFired { timer })).unwrap();
    let second = tasks(&out)[0];
    assert_eq!(second.attempt, 1);

    let out = step(&d, &mut st, &event(4000, fail(second.id))).unwrap();
    let (timer, due) = timers(&out)[0];
    assert_eq!(due, 4000 + 6000, "2 s x 3.0");
    let out = step(&d, &mut st, &event(10_000, EventKind::TimerFired { timer })).unwrap();
    let third = tasks(&out)[0].id;

    let out = step(&d, &mut st, &event(11_000, fail(third))).unwrap();
    assert!(matches!(finished(&out), Some(Outcome::Failed { error: Some(e), .. }) if e == "Flaky"));
}

#[test]
fn full_jitter_comes_from_the_event_entropy() {
    let d = def(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "JitterStrategy": "FULL"}], "End": true}}}),
    );
    let delay = |entropy: u64| {
        let mut st = ExecutionState::new();
        let out = step(&d, &mut st, &start_event(0, json!({}))).unwrap();
        let task = tasks(&out)[0].id;
        let failed = EventKind::TaskFailed {
            task,
            error: "E".into(),
            cause: "c".into(),
            usage: None,
        };
        let out = step(
            &d,
            &mut st,
            &Event {
                at: 0,
                entropy,
                kind: failed,
            },
        )
        .unwrap();
        timers(&out)[0].1
    };
    assert_eq!(delay(1), delay(1), "same entropy, same delay");
    assert_ne!(delay(1), delay(2));
    assert!((0..=10_000).contains(&delay(3)));
}

#[test]
fn stopping_cancels_running_tasks_and_timers() {
    let d = def(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}},
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}]}}}),
    );
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(0, json!({}))).unwrap();
    let task = tasks(&out)[0].id;
    let (timer, _) = timers(&out)[0];
    let out = step(
        &d,
        &mut st,
        &event(
            5,
            EventKind::Stopped {
                error: Some("E".into()),
                cause: None,
            },
        ),
    )
    .unwrap();
    assert!(out.contains(&Command::CancelTask(task)));
    assert!(out.contains(&Command::CancelTimer(timer)));
    assert_eq!(kinds(&out), ["ExecutionAborted"]);
    assert_eq!(st.outcome().map(Outcome::status), Some("ABORTED"));
    assert!(step(&d, &mut st, &event(6, EventKind::TimerFired { timer })).is_err());
}

#[test]
fn a_failed_branch_cancels_its_siblings() {
    let d = def(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}},
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope"}}}]}}}),
    );
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(0, json!({}))).unwrap();
    let task = tasks(&out)[0].id;
    assert!(out.contains(&Command::CancelTask(task)));
    assert!(kinds(&out).contains(&"ParallelStateFailed"));
    assert!(matches!(finished(&out), Some(Outcome::Failed { error: Some(e), .. }) if e == "Nope"));
}

#[test]
fn the_execution_timeout_is_a_timer() {
    let d = def(
        json!({"TimeoutSeconds": 5, "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}}),
    );
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(100, json!({}))).unwrap();
    let (timer, due) = timers(&out)[0];
    assert_eq!(due, 5100);
    let task = tasks(&out)[0].id;
    let out = step(&d, &mut st, &event(5100, EventKind::TimerFired { timer })).unwrap();
    assert!(out.contains(&Command::CancelTask(task)));
    assert_eq!(kinds(&out), ["ExecutionTimedOut"]);
    assert_eq!(finished(&out).map(Outcome::status), Some("TIMED_OUT"));
}

#[test]
fn events_that_do_not_fit_are_errors_not_failures() {
    let d = def(json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    let mut st = ExecutionState::new();
    let stray = event(
        0,
        EventKind::TaskSucceeded {
            task: TaskId(99),
            output: json!(1),
            usage: None,
        },
    );
    assert!(matches!(
        step(&d, &mut st, &stray),
        Err(Error::UnexpectedEvent(_))
    ));
    step(&d, &mut st, &start_event(0, json!({}))).unwrap();
    assert!(
        step(&d, &mut st, &start_event(0, json!({}))).is_err(),
        "finished executions take no more events"
    );
}

#[test]
fn wait_until_a_timestamp_uses_the_event_clock() {
    let d = def(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2030-01-01T00:00:00Z", "End": true}}}),
    );
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(0, json!({}))).unwrap();
    assert_eq!(timers(&out)[0].1, 1_893_456_000_000);
    let mut late = ExecutionState::new();
    let out = step(&d, &mut late, &start_event(1_893_456_000_001, json!({}))).unwrap();
    assert!(
        timers(&out).is_empty(),
        "a timestamp in the past does not wait"
    );
    assert!(finished(&out).is_some());
}

#[test]
fn waitfortasktoken_puts_a_token_in_the_context() {
    let d = def(json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"token.$": "$$.Task.Token"}, "End": true}}}));
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(0, json!({}))).unwrap();
    let t = tasks(&out)[0];
    assert_eq!(
        Some(&t.input["token"]),
        t.task_token.as_ref().map(|s| json!(s)).as_ref()
    );
}

#[test]
fn replay_rebuilds_the_same_state() {
    let d = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": TASK, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 10, "Next": "R"},
        "R": {"Type": "Pass", "Parameters": {"n.$": "States.MathRandom(1, 1000)", "u.$": "States.UUID()"}, "End": true}}}));
    let mut st = ExecutionState::new();
    let mut log = vec![start_event(0, json!({}))];
    let out = step(&d, &mut st, &log[0]).unwrap();
    log.push(event(
        5,
        EventKind::TaskSucceeded {
            task: tasks(&out)[0].id,
            output: json!({}),
            usage: None,
        },
    ));
    let out = step(&d, &mut st, &log[1]).unwrap();
    log.push(event(
        10_005,
        EventKind::TimerFired {
            timer: timers(&out)[0].0,
        },
    ));
    let out = step(&d, &mut st, &log[2]).unwrap();
    let rebuilt = replay(&d, &log).unwrap();
    assert_eq!(rebuilt, st);
    assert_eq!(rebuilt.outcome(), finished(&out));
    // Halfway through, too: the state a crash would leave.
    let mut halfway = ExecutionState::new();
    step(&d, &mut halfway, &log[0]).unwrap();
    step(&d, &mut halfway, &log[1]).unwrap();
    assert_eq!(replay(&d, &log[..2]).unwrap(), halfway);
}

/// The visits of a traced replay, as JSON (what the console's inspector receives).
fn traced_visits(d: &Definition, events: &[Event]) -> Vec<Value> {
    let mut st = ExecutionState::traced();
    for e in events {
        step(d, &mut st, e).unwrap();
    }
    st.trace()
        .unwrap()
        .visits()
        .map(|v| serde_json::to_value(v).unwrap())
        .collect()
}

#[test]
fn a_trace_shows_every_stage_of_a_pass_state() {
    let d = def(json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
        "InputPath": "$.in", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"},
        "ResultPath": "$.r", "OutputPath": "$.r", "Assign": {"seen": true}, "End": true}}}));
    let visits = traced_visits(&d, &[start_event(5, json!({"in": {"n": 2}, "other": 1}))]);
    assert_eq!(visits.len(), 1);
    let v = &visits[0];
    assert_eq!(v["state"], "P");
    assert_eq!(v["kind"], "Pass");
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["enteredEventId"], 2);
    assert_eq!(v["exitedEventId"], 3);
    assert_eq!(
        v["stages"],
        json!({
            "input": {"in": {"n": 2}, "other": 1},
            "afterInputPath": {"n": 2},
            "afterParameters": {"doubled": 4},
            "result": {"doubled": 4},
            "afterResultPath": {"in": {"n": 2}, "other": 1, "r": {"doubled": 4}},
            "output": {"doubled": 4},
            "variables": {"seen": true}
        })
    );
}

#[test]
fn a_trace_shows_task_results_retries_catches_and_scopes() {
    let d = def(json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemsPath": "$.items", "Next": "Done",
              "ItemSelector": {"i.$": "$$.Map.Item.Value.i"},
              "ItemProcessor": {"StartAt": "T", "States": {
                  "T": {"Type": "Task", "Resource": TASK, "ResultSelector": {"v.$": "$.v"},
                        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Recover"}],
                        "End": true},
                  "Recover": {"Type": "Pass", "End": true}}}},
        "Done": {"Type": "Succeed"}}}));
    let mut st = ExecutionState::traced();
    let first = step(
        &d,
        &mut st,
        &start_event(0, json!({"items": [{"i": 1}, {"i": 2}]})),
    )
    .unwrap();
    let ids: Vec<TaskId> = tasks(&first).iter().map(|t| t.id).collect();
    assert_eq!(ids.len(), 2);
    let mut events = vec![start_event(0, json!({"items": [{"i": 1}, {"i": 2}]}))];
    events.push(event(
        10,
        EventKind::TaskSucceeded {
            task: ids[0],
            output: json!({"v": 7, "noise": 0}),
            usage: None,
        },
    ));
    events.push(event(
        11,
        EventKind::TaskFailed {
            task: ids[1],
            error: "Flaky".into(),
            cause: "once".into(),
            usage: None,
        },
    ));
    let mut replayed = ExecutionState::traced();
    let mut last = Vec::new();
    for e in &events {
        last = step(&d, &mut replayed, e).unwrap();
    }
    let (retry_timer, _) = timers(&last)[0];
    events.push(event(1011, EventKind::TimerFired { timer: retry_timer }));
    let rerun = step(&d, &mut replayed, events.last().unwrap()).unwrap();
    let retried = tasks(&rerun)[0].id;
    events.push(event(
        1020,
        EventKind::TaskFailed {
            task: retried,
            error: "Boom".into(),
            cause: "twice".into(),
            usage: None,
        },
    ));
    // Tracing changes nothing else: the same commands, history included, step by step.
    let (mut plain, mut traced) = (ExecutionState::new(), ExecutionState::traced());
    for e in &events {
        assert_eq!(
            step(&d, &mut plain, e).unwrap(),
            step(&d, &mut traced, e).unwrap()
        );
    }
    let visits = traced_visits(&d, &events);
    let find = |state: &str, scope: &str| {
        visits
            .iter()
            .find(|v| v["state"] == state && v["scope"] == scope)
            .unwrap_or_else(|| panic!("no visit of {state} in {scope:?}: {visits:#?}"))
            .clone()
    };
    let t0 = find("T", "M[0]");
    assert_eq!(t0["status"], "succeeded");
    assert_eq!(t0["stages"]["result"], json!({"v": 7, "noise": 0}));
    assert_eq!(t0["stages"]["afterResultSelector"], json!({"v": 7}));
    assert_eq!(t0["stages"]["output"], json!({"v": 7}));
    let t1 = find("T", "M[1]");
    assert_eq!(t1["status"], "caught");
    assert_eq!(t1["retries"], 1);
    assert_eq!(
        t1["stages"]["error"],
        json!({"Error": "Boom", "Cause": "twice"})
    );
    assert_eq!(
        t1["stages"]["output"],
        json!({"i": 2, "err": {"Error": "Boom", "Cause": "twice"}})
    );
    assert_eq!(find("Recover", "M[1]")["status"], "succeeded");
    let m = find("M", "");
    assert_eq!(m["status"], "succeeded");
    assert_eq!(m["stages"]["afterParameters"], json!([{"i": 1}, {"i": 2}]));
    assert_eq!(
        m["stages"]["result"],
        json!([{"v": 7}, {"i": 2, "err": {"Error": "Boom", "Cause": "twice"}}])
    );
    assert_eq!(find("Done", "")["exitedAt"], 1020);
}

#[test]
fn a_trace_marks_the_visits_an_execution_failure_cut_short() {
    let d = def(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [
            {"StartAt": "Waits", "States": {"Waits": {"Type": "Wait", "Seconds": 60, "End": true}}},
            {"StartAt": "Fails", "States": {"Fails": {"Type": "Fail", "Error": "E", "Cause": "c"}}}]}}}),
    );
    let visits = traced_visits(&d, &[start_event(0, json!({}))]);
    let status = |name: &str| visits.iter().find(|v| v["state"] == name).unwrap()["status"].clone();
    assert_eq!(status("Fails"), "failed");
    assert_eq!(status("Waits"), "cancelled");
    assert_eq!(status("P"), "failed");
    let plain = {
        let mut st = ExecutionState::new();
        step(&d, &mut st, &start_event(0, json!({}))).unwrap();
        st
    };
    assert!(plain.trace().is_none(), "tracing is off unless asked for");
}

#[test]
fn a_retry_starts_the_trace_of_its_visit_over() {
    let d = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": TASK, "ResultSelector": {"v.$": "$.v"},
              "Retry": [{"ErrorEquals": ["States.DataLimitExceeded"], "IntervalSeconds": 1, "MaxAttempts": 1}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}], "End": true},
        "Recover": {"Type": "Pass", "End": true}}}));
    let mut st = ExecutionState::traced();
    let mut events = vec![start_event(0, json!({}))];
    let first = step(&d, &mut st, &events[0]).unwrap();
    // Attempt 1 returns a result over the payload limit: retried.
    events.push(event(
        5,
        EventKind::TaskSucceeded {
            task: tasks(&first)[0].id,
            output: json!({"v": "x".repeat(PAYLOAD_LIMIT_BYTES)}),
            usage: None,
        },
    ));
    let retry = step(&d, &mut st, events.last().unwrap()).unwrap();
    events.push(event(
        1005,
        EventKind::TimerFired {
            timer: timers(&retry)[0].0,
        },
    ));
    let second = step(&d, &mut st, events.last().unwrap()).unwrap();
    events.push(event(
        1010,
        EventKind::TaskFailed {
            task: tasks(&second)[0].id,
            error: "Boom".into(),
            cause: "c".into(),
            usage: None,
        },
    ));
    let visits = traced_visits(&d, &events);
    let t = &visits[0];
    assert_eq!(
        (t["status"].as_str(), t["retries"].as_u64()),
        (Some("caught"), Some(1))
    );
    assert_eq!(t["stages"]["error"]["Error"], "Boom");
    assert!(
        t["stages"].get("result").is_none(),
        "attempt 1's result is gone: {t}"
    );
    assert_eq!(
        t["stages"]["afterParameters"],
        json!({}),
        "attempt 2's task input"
    );
}

/// The loop of finding 3 of the hardening issue: each turn wraps the data one level deeper.
fn wrapping_loop(turns: u64) -> Definition {
    def(json!({"StartAt": "Wrap", "States": {
        "Wrap": {"Type": "Pass",
            "Parameters": {"n.$": "States.MathAdd($.n, 1)", "v": {"a.$": "$.v"}},
            "Next": "Again"},
        "Again": {"Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericLessThan": turns, "Next": "Wrap"}],
            "Default": "Done"},
        "Done": {"Type": "Succeed"}}}))
}

/// Runs an execution to its end, firing every timer it asks for in due order (resume
/// timers included); returns the outcome and how many steps it took.
fn run_to_end(d: &Definition, first: Event) -> (Outcome, usize) {
    let mut state = ExecutionState::new();
    let mut commands = step(d, &mut state, &first).unwrap();
    let mut pending: Vec<(TimerId, Millis)> = Vec::new();
    let mut steps = 1;
    loop {
        if let Some(o) = finished(&commands) {
            return (o.clone(), steps);
        }
        for c in &commands {
            match c {
                Command::StartTimer { timer, due } => pending.push((*timer, *due)),
                Command::CancelTimer(t) => pending.retain(|(p, _)| p != t),
                _ => {}
            }
        }
        pending.sort_by_key(|(t, due)| (*due, t.0));
        assert!(!pending.is_empty(), "stuck without a timer");
        let (timer, due) = pending.remove(0);
        commands = step(d, &mut state, &event(due, EventKind::TimerFired { timer })).unwrap();
        steps += 1;
    }
}

#[test]
fn data_nested_deeper_than_the_limit_fails_the_state_instead_of_the_process() {
    // Runs on the test thread's small stack: 6,000 levels used to abort the server.
    let d = wrapping_loop(6_000);
    let (outcome, _) = run_to_end(&d, start_event(0, json!({"n": 0, "v": 1})));
    match outcome {
        Outcome::Failed { error, cause } => {
            assert_eq!(error.as_deref(), Some("States.DataLimitExceeded"));
            assert!(cause.unwrap().contains("nested deeper"));
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn data_at_the_nesting_limit_still_runs() {
    let turns = limits::MAX_DATA_NESTING as u64 - 2; // {"n","v"} wraps v once per turn
    let (outcome, _) = run_to_end(
        &wrapping_loop(turns),
        start_event(0, json!({"n": 0, "v": 1})),
    );
    assert!(matches!(outcome, Outcome::Succeeded(_)), "{outcome:?}");
}

fn counting_loop(turns: u64) -> Definition {
    def(json!({"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "Again"},
        "Again": {"Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericLessThan": turns, "Next": "Count"}],
            "Default": "Done"},
        "Done": {"Type": "Succeed"}}}))
}

#[test]
fn a_long_step_yields_behind_a_timer_due_at_once_and_goes_on() {
    let d = counting_loop(2_000);
    let mut state = ExecutionState::new();
    let commands = step(&d, &mut state, &start_event(5, json!({"n": 0}))).unwrap();
    assert!(finished(&commands).is_none());
    let entered = kinds(&commands)
        .iter()
        .filter(|k| k.ends_with("StateEntered"))
        .count();
    // One unit per state entered, and one per 1,024 path nodes (a few per state here).
    let entered = entered as u32;
    assert!(
        (limits::STEP_WORK * 9 / 10..limits::STEP_WORK).contains(&entered),
        "{entered} states entered"
    );
    assert_eq!(timers(&commands).len(), 1);
    assert_eq!(timers(&commands)[0].1, 5, "due at once");
    let (outcome, steps) = run_to_end(&d, start_event(5, json!({"n": 0})));
    assert_eq!(*outcome_output(&outcome), json!({"n": 2000}));
    assert_eq!(steps, 5, "4,001 states, under 1,000 a step");
}

fn outcome_output(o: &Outcome) -> &Value {
    match o {
        Outcome::Succeeded(v) => v,
        other => panic!("not a success: {other:?}"),
    }
}

#[test]
fn replay_yields_at_the_same_points() {
    let d = counting_loop(1_500);
    let mut live = ExecutionState::new();
    let first = start_event(0, json!({"n": 0}));
    let c1 = step(&d, &mut live, &first).unwrap();
    let (timer, due) = timers(&c1)[0];
    let second = event(due, EventKind::TimerFired { timer });
    step(&d, &mut live, &second).unwrap();
    let replayed = replay(&d, [&first, &second]).unwrap();
    assert_eq!(replayed, live);
}

#[test]
fn executions_recorded_without_a_budget_replay_in_one_step() {
    let d = counting_loop(1_500);
    let mut first = start_event(0, json!({"n": 0}));
    if let EventKind::Started(s) = &mut first.kind {
        s.limits = crate::Limits::recorded();
    }
    let mut state = ExecutionState::new();
    let commands = step(&d, &mut state, &first).unwrap();
    assert!(finished(&commands).is_some());
}

#[test]
fn a_stop_while_yielded_cancels_the_resume_timer() {
    let d = counting_loop(5_000);
    let mut state = ExecutionState::new();
    let c = step(&d, &mut state, &start_event(0, json!({"n": 0}))).unwrap();
    let (timer, _) = timers(&c)[0];
    let stop = EventKind::Stopped {
        error: None,
        cause: None,
    };
    let c = step(&d, &mut state, &event(1, stop)).unwrap();
    assert!(c.contains(&Command::CancelTimer(timer)));
    assert!(matches!(finished(&c), Some(Outcome::Aborted { .. })));
}

#[test]
fn express_limits_have_no_history_limit() {
    let d = counting_loop(13_000); // 26,001 states: over the Standard limit
    let mut first = start_event(0, json!({"n": 0}));
    let (standard, _) = run_to_end(&d, first.clone());
    assert!(
        matches!(&standard, Outcome::Failed { error, .. } if error.as_deref() == Some("States.Runtime"))
    );
    if let EventKind::Started(s) = &mut first.kind {
        s.limits = crate::Limits::express();
    }
    let (express, _) = run_to_end(&d, first);
    assert_eq!(*outcome_output(&express), json!({"n": 13000}));
}

#[test]
fn a_terminated_execution_fails_with_the_given_error() {
    let d = counting_loop(5_000);
    let mut state = ExecutionState::new();
    let c = step(&d, &mut state, &start_event(0, json!({"n": 0}))).unwrap();
    let (timer, _) = timers(&c)[0];
    let kind = EventKind::Terminated {
        error: "States.Runtime".into(),
        cause: "quarantined".into(),
    };
    let c = step(&d, &mut state, &event(1, kind)).unwrap();
    assert!(c.contains(&Command::CancelTimer(timer)));
    assert_eq!(kinds(&c), ["ExecutionFailed"]);
    assert_eq!(
        finished(&c),
        Some(&Outcome::Failed {
            error: Some("States.Runtime".into()),
            cause: Some("quarantined".into())
        })
    );
}

#[test]
fn a_task_input_nested_too_deep_fails_the_task_state() {
    let d = def(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK,
        "Parameters": {"w": {"x": {"y.$": "$"}}}, "End": true}}}),
    );
    let mut input = json!(1);
    for _ in 0..limits::MAX_DATA_NESTING - 1 {
        input = json!([input]);
    }
    let mut state = ExecutionState::new();
    let c = step(&d, &mut state, &start_event(0, input)).unwrap();
    assert!(tasks(&c).is_empty());
    assert!(
        matches!(finished(&c), Some(Outcome::Failed { error, .. }) if error.as_deref() == Some("States.DataLimitExceeded"))
    );
}

/// A Pass whose Parameters evaluate `$..*` over `items` (about 2 nodes each) `fields`
/// times, then a Succeed.
fn heavy_paths(fields: usize) -> Definition {
    let params: Map<String, Value> = (0..fields)
        .map(|i| (format!("f{i}.$"), json!("$..*.length()")))
        .collect();
    def(json!({"StartAt": "Heavy", "States": {
        "Heavy": {"Type": "Pass", "Parameters": params, "Next": "Done"},
        "Done": {"Type": "Succeed"}}}))
}

fn items(n: usize) -> Value {
    json!({"items": (0..n).collect::<Vec<_>>()})
}

/// The nodes one `$..*.length()` over `input` costs.
fn heavy_path_cost(input: &Value) -> usize {
    let mut budget = jsonpath::Budget::new(jsonpath::MAX_WORK);
    jsonpath::Path::parse("$..*.length()")
        .unwrap()
        .select_within(input, &mut budget)
        .unwrap();
    jsonpath::MAX_WORK - budget.remaining()
}

#[test]
fn paths_of_one_step_share_a_work_budget_and_a_state_over_it_fails() {
    // Paths of ~100,000 nodes each, together over the 8M of a step, though each alone is
    // far under the 2M of one evaluation.
    let input = items(20_000);
    let cost = heavy_path_cost(&input);
    assert!((20_000..400_000).contains(&cost), "{cost}");
    let d = heavy_paths(limits::PATH_WORK / cost + 1);
    let (outcome, _) = run_to_end(&d, start_event(0, input.clone()));
    match &outcome {
        Outcome::Failed { error, cause } => {
            assert_eq!(error.as_deref(), Some("States.Runtime"));
            let cause = cause.as_deref().unwrap_or_default();
            assert!(cause.contains("evaluation work"), "{cause}");
            assert!(cause.contains("$..*.length()"), "{cause}");
        }
        other => panic!("{other:?}"),
    }
    // Fewer fit, and the work they did makes the step yield before `Done`.
    let d = heavy_paths(limits::PATH_WORK / cost / 2);
    let mut state = ExecutionState::new();
    let c = step(&d, &mut state, &start_event(0, input.clone())).unwrap();
    assert!(finished(&c).is_none(), "{:?}", kinds(&c));
    assert_eq!(timers(&c).len(), 1, "yielded behind a resume timer");
    let (outcome, steps) = run_to_end(&d, start_event(0, input));
    assert!(matches!(outcome, Outcome::Succeeded(_)), "{outcome:?}");
    assert_eq!(steps, 2);
}

#[test]
fn executions_recorded_before_paths_were_metered_replay_unmetered() {
    let input = items(20_000);
    let d = heavy_paths(limits::PATH_WORK / heavy_path_cost(&input) + 1);
    let mut first = start_event(0, input);
    if let EventKind::Started(s) = &mut first.kind {
        s.limits = crate::Limits {
            path_work: None,
            ..crate::Limits::standard()
        };
    }
    let (outcome, steps) = run_to_end(&d, first);
    assert!(matches!(outcome, Outcome::Succeeded(_)), "{outcome:?}");
    assert_eq!(steps, 1);
}

#[test]
fn a_path_over_its_own_budget_in_a_choice_fails_the_state() {
    // Each `..` multiplies the work by the data's size: one evaluation is over 2M nodes.
    let d = def(json!({"StartAt": "Pick", "States": {
        "Pick": {"Type": "Choice", "Choices": [
            {"Variable": "$.items[?(@ > $..*.length())]", "IsPresent": true, "Next": "Done"}],
            "Default": "Done"},
        "Done": {"Type": "Succeed"}}}));
    let (outcome, _) = run_to_end(&d, start_event(0, items(5_000)));
    match &outcome {
        Outcome::Failed { error, cause } => {
            assert_eq!(error.as_deref(), Some("States.Runtime"), "{cause:?}");
            assert!(
                cause
                    .as_deref()
                    .unwrap_or_default()
                    .contains("evaluation work"),
                "{cause:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

mod redrive;

mod distributed;
mod task_timers;

mod activities;
mod callbacks;

mod jsonata {
    use super::*;

    fn run_to_end(d: &Definition, input: Value) -> Option<Outcome> {
        let mut st = ExecutionState::new();
        let commands = step(d, &mut st, &start_event(0, input)).unwrap();
        finished(&commands).cloned()
    }

    fn succeeded(outcome: Option<Outcome>) -> Value {
        match outcome {
            Some(Outcome::Succeeded(v)) => (*v).clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn output_and_assign_see_the_variables_from_before_the_state() {
        let d = def(
            json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
                "A": {"Type": "Pass", "Assign": {"x": 1, "y": 2}, "Next": "B"},
                "B": {"Type": "Pass", "Assign": {"x": "{% $y %}", "y": "{% $x %}"},
                      "Output": {"x": "{% $x %}", "y": "{% $y %}"}, "Next": "C"},
                "C": {"Type": "Pass", "Output": {"before": "{% $states.input %}", "x": "{% $x %}", "y": "{% $y %}"}, "End": true}
            }}),
        );
        let out = succeeded(run_to_end(&d, json!({})));
        assert_eq!(out, json!({"before": {"x": 1, "y": 2}, "x": 2, "y": 1}));
    }

    #[test]
    fn a_task_gets_its_arguments_and_its_result_is_the_default_output() {
        let d = def(
            json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
                "T": {"Type": "Task", "Resource": TASK, "Arguments": {"id": "{% $states.input.id %}"},
                      "TimeoutSeconds": "{% 5 * 2 %}", "Assign": {"got": "{% $states.result.v %}"}, "Next": "U"},
                "U": {"Type": "Pass", "Output": {"result": "{% $states.input %}", "got": "{% $got %}"}, "End": true}
            }}),
        );
        let mut st = ExecutionState::new();
        let commands = step(&d, &mut st, &start_event(0, json!({"id": 7}))).unwrap();
        let task = tasks(&commands)[0].clone();
        assert_eq!(task.input, json!({"id": 7}));
        assert_eq!(task.timeout_seconds, Some(10));
        let done = step(
            &d,
            &mut st,
            &event(
                5,
                EventKind::TaskSucceeded {
                    task: task.id,
                    output: json!({"v": "ok"}),
                    usage: None,
                },
            ),
        )
        .unwrap();
        assert_eq!(
            succeeded(finished(&done).cloned()),
            json!({"result": {"v": "ok"}, "got": "ok"})
        );
    }

    #[test]
    fn an_undefined_field_fails_with_aws_cause_and_can_be_caught() {
        let d = def(
            json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
                "P": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": true}
            }}),
        );
        let Some(Outcome::Failed { error, cause }) = run_to_end(&d, json!({})) else {
            panic!()
        };
        assert_eq!(error.as_deref(), Some("States.QueryEvaluationError"));
        assert_eq!(cause.as_deref(), Some("An error occurred while executing the state 'P' (entered at the event id #2). The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined)."));

        let caught = def(
            json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
                "M": {"Type": "Map", "Items": "{% 'x' + 1 %}", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}},
                      "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "F",
                                 "Assign": {"err": "{% $states.errorOutput.Error %}"}}], "End": true},
                "F": {"Type": "Pass", "Output": {"err": "{% $err %}", "cause": "{% $states.input.Cause %}"}, "End": true}
            }}),
        );
        let out = succeeded(run_to_end(&caught, json!({})));
        assert_eq!(out["err"], "States.QueryEvaluationError");
        let cause = out["cause"].as_str().unwrap();
        assert!(
            cause.contains(
                "specified for the field 'Items' threw an error during evaluation. T2001:"
            ),
            "{cause}"
        );
    }

    #[test]
    fn choice_conditions_and_rule_outputs() {
        let d = def(
            json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [
                        {"Condition": "{% $states.input.n > 10 %}", "Next": "Big", "Output": {"size": "big"}},
                        {"Condition": "{% $states.input.n %}", "Next": "Big"}],
                      "Default": "Big", "Output": {"size": "default"}},
                "Big": {"Type": "Succeed"}
            }}),
        );
        assert_eq!(
            succeeded(run_to_end(&d, json!({"n": 11}))),
            json!({"size": "big"})
        );
        let Some(Outcome::Failed { error, cause }) = run_to_end(&d, json!({"n": 3})) else {
            panic!()
        };
        assert_eq!(error.as_deref(), Some("States.QueryEvaluationError"));
        assert!(cause.unwrap().ends_with("The JSONata expression '$states.input.n' specified for the field 'Choices[1]/Condition' returned an unexpected result type. Expected 'boolean', but was 'number' for value: 3"));
    }

    #[test]
    fn random_and_uuid_replay_from_the_event_entropy() {
        let d = def(
            json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
                "P": {"Type": "Pass", "Output": ["{% $random() %}", "{% $uuid() %}", "{% $now() %}"], "End": true}
            }}),
        );
        let a = succeeded(run_to_end(&d, json!({})));
        assert_eq!(a, succeeded(run_to_end(&d, json!({}))));
        assert_eq!(a[2], "1970-01-01T00:00:00.000Z", "the event's time");
    }

    #[test]
    fn a_runaway_expression_fails_the_state_instead_of_hanging() {
        let d = def(
            json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
                "P": {"Type": "Pass", "Output": "{% ($f := function($n) { $n = 0 ? 0 : $f($n - 1) + $f($n - 1) }; $f(60)) %}", "End": true}
            }}),
        );
        let mut st = ExecutionState::new();
        let mut e = start_event(0, json!({}));
        if let EventKind::Started(s) = &mut e.kind {
            s.limits = crate::Limits::standard();
        }
        let commands = step(&d, &mut st, &e).unwrap();
        let Some(Outcome::Failed { error, cause }) = finished(&commands) else {
            panic!("{commands:?}")
        };
        assert_eq!(error.as_deref(), Some("States.Runtime"));
        assert!(
            cause
                .as_deref()
                .unwrap()
                .contains("needs more evaluation work than is left"),
            "{cause:?}"
        );
    }
}

#[test]
fn paths_that_match_nothing_fail_with_aws_causes() {
    let cause = |state: Value, input: Value| -> String {
        let d = def(json!({"StartAt": "S", "States": {"S": state}}));
        let mut st = ExecutionState::new();
        let commands = step(&d, &mut st, &start_event(0, input)).unwrap();
        match finished(&commands) {
            Some(Outcome::Failed { cause: Some(c), .. }) => c.clone(),
            other => panic!("{other:?}"),
        }
    };
    let prefix = "An error occurred while executing the state 'S' (entered at the event id #2). ";
    assert_eq!(
        cause(
            json!({"Type": "Pass", "InputPath": "$.NoSuchInputPath", "End": true}),
            json!({"a": 0})
        ),
        format!(
            "{prefix}Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
        )
    );
    assert_eq!(
        cause(
            json!({"Type": "Pass", "OutputPath": "$.no.such.path", "End": true}),
            json!({})
        ),
        format!("{prefix}Invalid path '$.no.such.path' : Missing property in path $['no']")
    );
    assert_eq!(
        cause(json!({"Type": "Wait", "SecondsPath": "$.input.waitSeconds", "End": true}), json!({})),
        format!("{prefix}The SecondsPath parameter does not reference an input value: $.input.waitSeconds")
    );
    assert_eq!(
        cause(
            json!({"Type": "Task", "Resource": TASK, "TimeoutSecondsPath": "$.t", "End": true}),
            json!({})
        ),
        format!("{prefix}Invalid path '$.t' : No results for path: $['t']")
    );
}

#[test]
fn states_task_failed_catches_a_tasks_own_errors_but_not_its_timeout_nor_a_branchs() {
    let caught_by_task_failed = |error: &str, kind: &str| {
        let work = match kind {
            "Task" => json!({"Type": "Task", "Resource": TASK, "Next": "Done",
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]}),
            _ => json!({"Type": "Parallel", "Next": "Done",
                "Branches": [{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}}],
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]}),
        };
        let d = def(json!({"StartAt": "Work", "States": {"Work": work,
            "Caught": {"Type": "Pass", "Result": "caught", "End": true},
            "Done": {"Type": "Succeed"}}}));
        let mut st = ExecutionState::new();
        let out = step(&d, &mut st, &start_event(1000, json!({}))).unwrap();
        let task = tasks(&out)[0].id;
        let out = step(
            &d,
            &mut st,
            &event(
                2000,
                EventKind::TaskFailed {
                    task,
                    error: error.into(),
                    cause: "c".into(),
                    usage: None,
                },
            ),
        )
        .unwrap();
        matches!(finished(&out), Some(Outcome::Succeeded(_)))
    };
    assert!(caught_by_task_failed("PaymentDeclined", "Task"));
    assert!(caught_by_task_failed("Lambda.ServiceException", "Task"));
    assert!(caught_by_task_failed("States.HeartbeatTimeout", "Task"));
    assert!(!caught_by_task_failed("States.Timeout", "Task"));
    assert!(!caught_by_task_failed("PaymentDeclined", "Parallel"));
}
