//! The engine's task timers: TimeoutSeconds from scheduling, HeartbeatSeconds from the
//! task's start and each heartbeat, whatever runs the task.

use super::*;

fn cancelled_tasks(commands: &[Command]) -> Vec<TaskId> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::CancelTask(t) => Some(*t),
            _ => None,
        })
        .collect()
}

fn cancelled_timers(commands: &[Command]) -> Vec<TimerId> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::CancelTimer(t) => Some(*t),
            _ => None,
        })
        .collect()
}

/// Steps `kind` at `at`, keeping the event for a replay.
fn feed(d: &Definition, st: &mut ExecutionState, log: &mut Vec<Event>, e: Event) -> Vec<Command> {
    let out = step(d, st, &e).unwrap();
    log.push(e);
    out
}

#[test]
fn a_task_that_never_reports_times_out_on_the_engine_clock() {
    let d = def(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK,
        "TimeoutSeconds": 10, "End": true}}}),
    );
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(1000, json!({}))).unwrap();
    let task = tasks(&out)[0].id;
    let [(timer, due)] = timers(&out)[..] else {
        panic!("one timer: {out:?}")
    };
    assert_eq!(due, 11_000, "TimeoutSeconds counts from TaskScheduled");

    let out = step(&d, &mut st, &event(due, EventKind::TimerFired { timer })).unwrap();
    assert_eq!(cancelled_tasks(&out), [task], "the runner is told to stop");
    assert_eq!(kinds(&out), ["TaskTimedOut", "ExecutionFailed"]);
    let Some(Outcome::Failed { error, cause }) = finished(&out) else {
        panic!("{out:?}")
    };
    assert_eq!(error.as_deref(), Some("States.Timeout"));
    assert!(cause.as_deref().unwrap().contains("TimeoutSeconds (10 s)"));
    // A result that comes after the timeout no longer fits.
    let late = EventKind::TaskSucceeded {
        task,
        output: json!(1),
        usage: None,
    };
    assert!(step(&d, &mut st, &event(due + 5, late)).is_err());
}

#[test]
fn a_started_task_that_stops_beating_fails_with_a_heartbeat_timeout_that_catch_sees() {
    let d = def(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": TASK, "TimeoutSeconds": 100, "HeartbeatSeconds": 3,
              "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Caught"}],
              "End": true},
        "Caught": {"Type": "Pass", "End": true}}}));
    let mut st = ExecutionState::new();
    let mut log = Vec::new();
    let out = feed(&d, &mut st, &mut log, start_event(1000, json!({})));
    let task = tasks(&out)[0].id;
    let [(timeout, _)] = timers(&out)[..] else {
        panic!("only the timeout before the start: {out:?}")
    };

    let out = feed(
        &d,
        &mut st,
        &mut log,
        event(2000, EventKind::TaskStarted { task, worker: None }),
    );
    assert_eq!(kinds(&out), ["TaskStarted"]);
    let [(first_beat, due)] = timers(&out)[..] else {
        panic!("{out:?}")
    };
    assert_eq!(due, 5000, "HeartbeatSeconds counts from TaskStarted");

    let out = feed(
        &d,
        &mut st,
        &mut log,
        event(4000, EventKind::TaskHeartbeat { task }),
    );
    assert!(kinds(&out).is_empty(), "a heartbeat is not in the history");
    assert_eq!(cancelled_timers(&out), [first_beat]);
    let [(beat, due)] = timers(&out)[..] else {
        panic!("{out:?}")
    };
    assert_eq!(due, 7000, "each heartbeat starts the clock again");

    // A second TaskStarted (the task run again after a restart) is not recorded again.
    let out = feed(
        &d,
        &mut st,
        &mut log,
        event(4500, EventKind::TaskStarted { task, worker: None }),
    );
    assert!(kinds(&out).is_empty());
    assert_eq!(cancelled_timers(&out), [beat]);
    let [(beat, due)] = timers(&out)[..] else {
        panic!("{out:?}")
    };
    assert_eq!(due, 7500);

    let out = feed(
        &d,
        &mut st,
        &mut log,
        event(due, EventKind::TimerFired { timer: beat }),
    );
    assert_eq!(cancelled_tasks(&out), [task]);
    assert_eq!(
        cancelled_timers(&out),
        [timeout],
        "the task's other timer goes with it"
    );
    assert_eq!(
        kinds(&out),
        [
            "TaskTimedOut",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    let Some(Outcome::Succeeded(output)) = finished(&out) else {
        panic!("{out:?}")
    };
    assert_eq!(output["Error"], "States.HeartbeatTimeout");
    assert_eq!(
        replay(&d, &log).unwrap(),
        st,
        "the timers replay from the recorded events"
    );
}

#[test]
fn a_task_that_finishes_cancels_its_timers_and_a_retry_arms_new_ones() {
    let d = def(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK,
        "TimeoutSeconds": 5, "HeartbeatSeconds": 2,
        "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 1}],
        "End": true}}}),
    );
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(0, json!({}))).unwrap();
    let task = tasks(&out)[0].id;
    let [(timeout, _)] = timers(&out)[..] else {
        panic!("{out:?}")
    };
    let out = step(
        &d,
        &mut st,
        &event(10, EventKind::TaskStarted { task, worker: None }),
    )
    .unwrap();
    let [(beat, _)] = timers(&out)[..] else {
        panic!("{out:?}")
    };
    // The timeout fires first: the retry waits 1 s, then schedules a second attempt.
    let out = step(
        &d,
        &mut st,
        &event(1000, EventKind::TimerFired { timer: timeout }),
    )
    .unwrap();
    assert_eq!(cancelled_timers(&out), [beat]);
    let [(backoff, due)] = timers(&out)[..] else {
        panic!("only the retry's backoff: {out:?}")
    };
    let out = step(
        &d,
        &mut st,
        &event(due, EventKind::TimerFired { timer: backoff }),
    )
    .unwrap();
    let again = tasks(&out)[0];
    assert_eq!(again.attempt, 1);
    let [(second_timeout, _)] = timers(&out)[..] else {
        panic!("the new attempt has its own timeout: {out:?}")
    };
    let done = EventKind::TaskSucceeded {
        task: again.id,
        output: json!("ok"),
        usage: None,
    };
    let out = step(&d, &mut st, &event(due + 100, done)).unwrap();
    assert_eq!(cancelled_timers(&out), [second_timeout]);
    assert!(matches!(finished(&out), Some(Outcome::Succeeded(_))));
    assert_eq!(st.pending_timers().count(), 0);
}

#[test]
fn a_task_without_timeouts_arms_no_timer() {
    let d = def(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK,
        "End": true}}}),
    );
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(0, json!({}))).unwrap();
    let task = tasks(&out)[0].id;
    assert!(timers(&out).is_empty());
    let out = step(&d, &mut st, &event(5, EventKind::TaskHeartbeat { task })).unwrap();
    assert!(out.is_empty(), "no heartbeat timer to restart: {out:?}");
}

#[test]
fn a_task_cancelled_with_its_branch_takes_its_timers_along() {
    let d = def(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [
            {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK,
                "TimeoutSeconds": 30, "End": true}}},
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "F"},
                "F": {"Type": "Fail", "Error": "Boom"}}}]}}}),
    );
    let mut st = ExecutionState::new();
    let out = step(&d, &mut st, &start_event(0, json!({}))).unwrap();
    let task = tasks(&out)[0].id;
    let armed = timers(&out);
    assert_eq!(armed.len(), 2, "the task's timeout and the Wait: {out:?}");
    let (timeout, _) = armed
        .iter()
        .find(|(_, due)| *due == 30_000)
        .copied()
        .unwrap();
    let (wait, due) = armed
        .iter()
        .find(|(_, due)| *due == 1_000)
        .copied()
        .unwrap();
    let out = step(
        &d,
        &mut st,
        &event(due, EventKind::TimerFired { timer: wait }),
    )
    .unwrap();
    assert_eq!(cancelled_tasks(&out), [task]);
    assert_eq!(cancelled_timers(&out), [timeout]);
    assert_eq!(st.pending_timers().count(), 0);
}
