//! Tasks that wait for their token: tokens derived from the execution's key, and the
//! `TaskSubmitted` that leaves the task waiting.

use super::*;

const WAIT: &str = "arn:aws:states:::lambda:invoke.waitForTaskToken";

fn keyed_start(at: Millis, key: &str) -> Event {
    let mut e = start_event(at, json!({}));
    if let EventKind::Started(start) = &mut e.kind {
        start.token_key = Some(key.into());
    }
    e
}

fn waiting() -> Definition {
    def(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": WAIT,
        "Parameters": {"token.$": "$$.Task.Token"},
        "Retry": [{"ErrorEquals": ["Again"], "IntervalSeconds": 1}],
        "End": true}}}),
    )
}

#[test]
fn tokens_are_derived_from_the_key_differ_per_attempt_and_replay_the_same() {
    let d = waiting();
    let mut st = ExecutionState::new();
    let mut log = vec![keyed_start(0, "00112233445566778899aabbccddeeff")];
    let out = step(&d, &mut st, &log[0]).unwrap();
    let first = tasks(&out)[0].clone();
    let token = first.task_token.clone().unwrap();
    assert_eq!(token.len(), 32, "128 bits in hex: {token}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(first.input["token"], json!(token));

    // Another key, another token for the same task.
    let mut other = ExecutionState::new();
    let out = step(
        &d,
        &mut other,
        &keyed_start(0, "ffeeddccbbaa99887766554433221100"),
    )
    .unwrap();
    assert_ne!(tasks(&out)[0].task_token.as_ref(), Some(&token));

    // The integration answered: the task waits on, recorded as TaskSubmitted.
    let submitted = event(
        10,
        EventKind::TaskSubmitted {
            task: first.id,
            output: json!({"StatusCode": 200}),
            usage: Some(TaskUsage {
                module: "notify".into(),
                version: 2,
                sha256: "ab".into(),
                fuel_consumed: 1234,
                duration_ms: 3,
            }),
        },
    );
    let out = step(&d, &mut st, &submitted).unwrap();
    log.push(submitted);
    assert_eq!(kinds(&out), ["TaskSubmitted"]);
    let Some(Command::Record(HistoryEvent {
        details: Details::Fields(details),
        ..
    })) = out.first()
    else {
        panic!("{out:?}")
    };
    assert_eq!(
        details["sandstepUsage"]["fuelConsumed"], 1234,
        "the module's run is metered where it ran"
    );
    assert!(finished(&out).is_none());
    assert_eq!(st.pending_tasks().collect::<Vec<_>>(), [first.id]);

    // A failure retried: the new attempt has a new token.
    let failed = event(
        20,
        EventKind::TaskFailed {
            task: first.id,
            error: "Again".into(),
            cause: String::new(),
            usage: None,
        },
    );
    let out = step(&d, &mut st, &failed).unwrap();
    log.push(failed);
    let (backoff, due) = timers(&out)[0];
    let fired = event(due, EventKind::TimerFired { timer: backoff });
    let out = step(&d, &mut st, &fired).unwrap();
    log.push(fired);
    let second = tasks(&out)[0];
    assert_ne!(
        second.task_token.as_ref(),
        Some(&token),
        "a retry's token is new"
    );
    assert_eq!(replay(&d, &log).unwrap(), st, "the same tokens on replay");
}
