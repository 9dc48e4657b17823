//! RedriveExecution through the SDK: a Map whose one iteration failed runs only that
//! iteration again (an activity worker answers each attempt), a Parallel's successful
//! branch keeps its output, DescribeExecution and ListExecutions show the redrive, a
//! repeated client token answers the same redrive, and AWS's errors for misuse.

use super::*;
use aws_sdk_sfn::types::ExecutionRedriveFilter;
use aws_sdk_sfn::types::ExecutionRedriveStatus;

/// Takes the next activity task: its input and token.
async fn take(c: &Client, activity: &str) -> (Value, String) {
    loop {
        let task = c
            .get_activity_task()
            .activity_arn(activity)
            .send()
            .await
            .unwrap();
        if let Some(token) = task.task_token() {
            return (json_of(task.input()), token.to_string());
        }
    }
}

#[test]
fn sdk_redrive_runs_only_what_failed() {
    let dir = TempDir::new("sdk-redrive");
    let s = Server::start(&dir.0, &[]);
    runtime().block_on(async {
        let c = client(&s);
        let activity = c
            .create_activity()
            .name("work")
            .send()
            .await
            .unwrap()
            .activity_arn;
        let definition = json!({"StartAt": "Both", "States": {"Both": {
            "Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "Kept", "States": {"Kept": {"Type": "Pass",
                    "Parameters": {"count.$": "$$.Execution.RedriveCount"}, "End": true}}},
                {"StartAt": "Items", "States": {"Items": {"Type": "Map", "End": true,
                    "MaxConcurrency": 1,
                    "ItemProcessor": {"StartAt": "Work", "States": {"Work": {
                        "Type": "Task", "Resource": activity, "End": true}}}}}}]}}});
        let machine = create(
            &c,
            "redriven",
            &definition.to_string(),
            StateMachineType::Standard,
        )
        .await;
        let run = c
            .start_execution()
            .state_machine_arn(&machine)
            .input("[1, 2, 3]")
            .send()
            .await
            .unwrap()
            .execution_arn;
        // Item 1 succeeds, item 2 fails; item 3 never starts.
        let (input, token) = take(&c, &activity).await;
        assert_eq!(input, json!(1));
        c.send_task_success()
            .task_token(token)
            .output("\"one\"")
            .send()
            .await
            .unwrap();
        let (input, token) = take(&c, &activity).await;
        assert_eq!(input, json!(2));
        c.send_task_failure()
            .task_token(token)
            .error("Broken")
            .send()
            .await
            .unwrap();
        let failed = wait_done(&c, &run).await;
        assert_eq!(failed.status(), &ExecutionStatus::Failed);
        assert_eq!(failed.redrive_count(), Some(0));
        assert_eq!(
            failed.redrive_status(),
            Some(&ExecutionRedriveStatus::Redrivable)
        );
        assert_eq!(failed.redrive_status_reason(), None);
        assert_eq!(failed.redrive_date(), None);
        let before = c
            .get_execution_history()
            .execution_arn(&run)
            .max_results(1000)
            .send()
            .await
            .unwrap()
            .events
            .len();

        let redriven = c
            .redrive_execution()
            .execution_arn(&run)
            .client_token("first-redrive")
            .send()
            .await
            .unwrap();
        recent(Some(redriven.redrive_date()));
        // The same token again answers the same redrive and changes nothing.
        let again = c
            .redrive_execution()
            .execution_arn(&run)
            .client_token("first-redrive")
            .send()
            .await
            .unwrap();
        assert_eq!(again.redrive_date(), redriven.redrive_date());
        // Another token finds it running.
        let e = fails_with!(
            c.redrive_execution()
                .execution_arn(&run)
                .client_token("second"),
            is_execution_not_redrivable
        );
        assert_eq!(
            e.message(),
            Some("Execution is RUNNING and cannot be redriven")
        );
        let running = c
            .describe_execution()
            .execution_arn(&run)
            .send()
            .await
            .unwrap();
        assert_eq!(running.status(), &ExecutionStatus::Running);
        assert_eq!(running.redrive_count(), Some(1));
        assert_eq!(running.redrive_date(), Some(redriven.redrive_date()));
        assert_eq!(
            running.redrive_status(),
            Some(&ExecutionRedriveStatus::NotRedrivable)
        );
        assert_eq!(running.stop_date(), None);
        assert_eq!(running.error(), None);

        // Only item 2 runs again, then item 3.
        let (input, token) = take(&c, &activity).await;
        assert_eq!(input, json!(2));
        c.send_task_success()
            .task_token(token)
            .output("\"two\"")
            .send()
            .await
            .unwrap();
        let (input, token) = take(&c, &activity).await;
        assert_eq!(input, json!(3));
        c.send_task_success()
            .task_token(token)
            .output("\"three\"")
            .send()
            .await
            .unwrap();
        let done = wait_done(&c, &run).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        // The Parallel's first branch kept its output from the first run.
        assert_eq!(
            json_of(done.output()),
            json!([{"count": 0}, ["one", "two", "three"]])
        );
        assert_eq!(
            done.redrive_status_reason(),
            Some("Execution is SUCCEEDED and cannot be redriven")
        );
        let history = c
            .get_execution_history()
            .execution_arn(&run)
            .max_results(1000)
            .send()
            .await
            .unwrap();
        let redrive = &history.events[before];
        assert_eq!(redrive.r#type(), &HistoryEventType::ExecutionRedriven);
        assert_eq!(redrive.id(), before as i64 + 1);
        assert_eq!(redrive.previous_event_id(), before as i64);
        assert_eq!(
            redrive
                .execution_redriven_event_details()
                .map(|d| d.redrive_count()),
            Some(Some(1))
        );
        let redriven_events = history
            .events
            .iter()
            .filter(|e| e.r#type() == &HistoryEventType::ExecutionRedriven)
            .count();
        assert_eq!(redriven_events, 1, "the repeated token redrove nothing");
        let scheduled_after = history.events[before..]
            .iter()
            .filter(|e| e.r#type() == &HistoryEventType::ActivityScheduled)
            .count();
        assert_eq!(scheduled_after, 2);

        // A succeeded execution is not redriven.
        let e = fails_with!(
            c.redrive_execution().execution_arn(&run),
            is_execution_not_redrivable
        );
        assert_eq!(
            e.message(),
            Some("Execution is SUCCEEDED and cannot be redriven")
        );

        // ListExecutions shows the count and filters on it.
        let plain = c
            .start_execution()
            .state_machine_arn(&machine)
            .input("[]")
            .send()
            .await
            .unwrap()
            .execution_arn;
        wait_done(&c, &plain).await;
        let listed = c
            .list_executions()
            .state_machine_arn(&machine)
            .send()
            .await
            .unwrap();
        let counts: Vec<(String, Option<i32>)> = listed
            .executions()
            .iter()
            .map(|e| (e.execution_arn().to_string(), e.redrive_count()))
            .collect();
        assert!(counts.contains(&(run.clone(), Some(1))), "{counts:?}");
        assert!(counts.contains(&(plain.clone(), Some(0))), "{counts:?}");
        let only = |filter: ExecutionRedriveFilter| {
            let c = c.clone();
            let machine = machine.clone();
            async move {
                c.list_executions()
                    .state_machine_arn(machine)
                    .redrive_filter(filter)
                    .send()
                    .await
                    .unwrap()
                    .executions()
                    .iter()
                    .map(|e| e.execution_arn().to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            only(ExecutionRedriveFilter::Redriven).await,
            vec![run.clone()]
        );
        assert_eq!(
            only(ExecutionRedriveFilter::NotRedriven).await,
            vec![plain.clone()]
        );

        // Misuse, in AWS's words.
        let missing = run.replace(&run[run.rfind(':').unwrap()..], ":nobody");
        let e = fails_with!(
            c.redrive_execution().execution_arn(&missing),
            is_execution_does_not_exist
        );
        assert_eq!(
            e.message(),
            Some(format!("Execution Does Not Exist: '{missing}'").as_str())
        );
        fails_with!(
            c.redrive_execution().execution_arn("garbage"),
            is_invalid_arn
        );
        let e = c
            .redrive_execution()
            .execution_arn(&run)
            .client_token("x".repeat(65))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "ValidationException");
        assert!(e.message().unwrap().contains("'clientToken'"), "{e:?}");
        let e = c
            .list_executions()
            .state_machine_arn(&machine)
            .redrive_filter(ExecutionRedriveFilter::from("SOMETIMES"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "ValidationException");

        // A Catch that leads to a Fail state redrives into the Fail state again, and
        // an aborted execution resumes where it was stopped.
        let caught = json!({"StartAt": "Work", "States": {
            "Work": {"Type": "Task", "Resource": activity, "Next": "Done",
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Bad"}]},
            "Bad": {"Type": "Fail", "Error": "Caught"},
            "Done": {"Type": "Succeed"}}});
        let caught = create(
            &c,
            "caught",
            &caught.to_string(),
            StateMachineType::Standard,
        )
        .await;
        let run = c
            .start_execution()
            .state_machine_arn(&caught)
            .send()
            .await
            .unwrap()
            .execution_arn;
        let (_, token) = take(&c, &activity).await;
        c.send_task_failure()
            .task_token(token)
            .error("Broken")
            .send()
            .await
            .unwrap();
        assert_eq!(wait_done(&c, &run).await.error(), Some("Caught"));
        c.redrive_execution()
            .execution_arn(&run)
            .send()
            .await
            .unwrap();
        let again = wait_done(&c, &run).await;
        assert_eq!(
            (again.status(), again.redrive_count()),
            (&ExecutionStatus::Failed, Some(1))
        );

        let run = c
            .start_execution()
            .state_machine_arn(&caught)
            .send()
            .await
            .unwrap()
            .execution_arn;
        let (_, _abandoned) = take(&c, &activity).await;
        c.stop_execution().execution_arn(&run).send().await.unwrap();
        assert_eq!(
            wait_done(&c, &run).await.status(),
            &ExecutionStatus::Aborted
        );
        c.redrive_execution()
            .execution_arn(&run)
            .send()
            .await
            .unwrap();
        let (_, token) = take(&c, &activity).await;
        c.send_task_success()
            .task_token(token)
            .output("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(
            wait_done(&c, &run).await.status(),
            &ExecutionStatus::Succeeded
        );
    });
}
