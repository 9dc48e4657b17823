//! Activity tasks: `Activity*` events in AWS's shapes, the worker's name, the engine's
//! timers, Retry/Catch on the worker's errors, and a task the runtime could not hand over.

use super::*;

const ACTIVITY: &str = "arn:aws:states:us-east-1:000000000000:activity:approve";

fn details(commands: &[Command], kind: &str) -> Map<String, Value> {
    commands
        .iter()
        .find_map(|c| match c {
            Command::Record(HistoryEvent {
                kind: k,
                details: Details::Fields(d),
                ..
            }) if *k == kind => Some(d.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {kind} in {commands:?}"))
}

fn activity(extra: Value) -> Definition {
    let mut task = json!({"Type": "Task", "Resource": ACTIVITY, "End": true});
    if let (Some(t), Some(e)) = (task.as_object_mut(), extra.as_object()) {
        t.extend(e.clone());
    }
    def(json!({"StartAt": "Work", "States": {"Work": task}}))
}

#[test]
fn an_activity_task_records_activity_events_in_aws_shapes() {
    let d = activity(json!({"TimeoutSeconds": 60, "HeartbeatSeconds": 10}));
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(0, json!({"order": 7}))).unwrap();
    assert_eq!(
        kinds(&out),
        ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled"]
    );
    let scheduled = details(&out, "ActivityScheduled");
    assert_eq!(
        Value::Object(scheduled),
        json!({"resource": ACTIVITY, "input": "{\"order\":7}",
            "inputDetails": {"truncated": false}, "timeoutInSeconds": 60,
            "heartbeatInSeconds": 10})
    );
    let task = tasks(&out)[0].clone();
    assert!(task.task_token.is_some(), "a worker answers with the token");
    assert!(task.activity().is_some());

    let started = EventKind::TaskStarted {
        task: task.id,
        worker: Some("worker-1".into()),
    };
    let out = step(&d, &mut st, &event(5, started)).unwrap();
    assert_eq!(kinds(&out), ["ActivityStarted"]);
    assert_eq!(
        Value::Object(details(&out, "ActivityStarted")),
        json!({"workerName": "worker-1"})
    );
    assert_eq!(timers(&out)[0].1, 10_005, "the heartbeat clock starts");

    let done = EventKind::TaskSucceeded {
        task: task.id,
        output: json!({"ok": true}),
        usage: None,
    };
    let out = step(&d, &mut st, &event(7, done)).unwrap();
    assert_eq!(
        kinds(&out),
        ["ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"]
    );
    assert_eq!(
        Value::Object(details(&out, "ActivitySucceeded")),
        json!({"output": "{\"ok\":true}", "outputDetails": {"truncated": false}})
    );
}

#[test]
fn worker_errors_are_retried_and_caught_and_timeouts_are_activity_timeouts() {
    let d = def(json!({"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": ACTIVITY, "HeartbeatSeconds": 5,
            "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 1}],
            "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Late"}],
            "Next": "Fine"},
        "Fine": {"Type": "Succeed"},
        "Late": {"Type": "Pass", "End": true}}}));
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(0, json!({}))).unwrap();
    let first = tasks(&out)[0].clone();
    let failed = EventKind::TaskFailed {
        task: first.id,
        error: "Busy".into(),
        cause: String::new(),
        usage: None,
    };
    let out = step(&d, &mut st, &event(1, failed)).unwrap();
    assert_eq!(kinds(&out), ["ActivityFailed"]);
    assert_eq!(
        Value::Object(details(&out, "ActivityFailed")),
        json!({"error": "Busy"}),
        "AWS leaves out the cause the worker did not give"
    );
    let (backoff, due) = timers(&out)[0];
    let out = step(
        &d,
        &mut st,
        &event(due, EventKind::TimerFired { timer: backoff }),
    )
    .unwrap();
    assert_eq!(kinds(&out), ["ActivityScheduled"]);
    let second = tasks(&out)[0].clone();
    assert_ne!(
        second.task_token, first.task_token,
        "a retry has a new token"
    );

    let started = EventKind::TaskStarted {
        task: second.id,
        worker: None,
    };
    let out = step(&d, &mut st, &event(2000, started)).unwrap();
    assert_eq!(
        Value::Object(details(&out, "ActivityStarted")),
        json!({}),
        "no worker name, no field"
    );
    let (heartbeat, due) = timers(&out)[0];
    let out = step(
        &d,
        &mut st,
        &event(due, EventKind::TimerFired { timer: heartbeat }),
    )
    .unwrap();
    assert_eq!(
        kinds(&out)[..2],
        ["ActivityTimedOut", "TaskStateExited"],
        "{out:?}"
    );
    assert_eq!(
        details(&out, "ActivityTimedOut")["error"],
        json!("States.HeartbeatTimeout")
    );
    assert!(matches!(finished(&out), Some(Outcome::Succeeded(_))));
}

#[test]
fn a_task_the_runtime_cannot_hand_over_fails_the_execution_uncaught() {
    let d = def(json!({"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": ACTIVITY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
        "Caught": {"Type": "Pass", "End": true}}}));
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(0, json!({}))).unwrap();
    let task = tasks(&out)[0].id;
    let rejected = EventKind::TaskRejected {
        task,
        cause: format!("The activity {ACTIVITY} does not exist."),
    };
    let out = step(&d, &mut st, &event(1, rejected)).unwrap();
    assert_eq!(kinds(&out), ["ExecutionFailed"]);
    let Some(Outcome::Failed { error, cause }) = finished(&out) else {
        panic!("{out:?}")
    };
    assert_eq!(error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        cause.as_deref(),
        Some(
            format!(
                "An error occurred while executing the state 'Work' (entered at the event id #2). The activity {ACTIVITY} does not exist."
            )
            .as_str()
        )
    );
}
