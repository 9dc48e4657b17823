//! Versions and aliases through the SDK: publishing (on create, on update, on its own),
//! listing and deleting versions, aliases that route by weight, executions started on a
//! version or an alias and found by it, and AWS's errors for misuse.

use super::*;
use aws_sdk_sfn::types::RoutingConfigurationListItem;

fn route(version_arn: &str, weight: i32) -> RoutingConfigurationListItem {
    RoutingConfigurationListItem::builder()
        .state_machine_version_arn(version_arn)
        .weight(weight)
        .build()
        .unwrap()
}

fn definition(result: &str) -> String {
    json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": result, "End": true}}})
        .to_string()
}

#[test]
fn sdk_versions_and_aliases() {
    let dir = TempDir::new("sdk-versions");
    let s = Server::start(&dir.0, &[]);
    runtime().block_on(async {
        let c = client(&s);
        // Published with the machine: version 1.
        let created = c
            .create_state_machine()
            .name("orders")
            .definition(definition("one"))
            .role_arn(ROLE)
            .publish(true)
            .version_description("first")
            .send()
            .await
            .unwrap();
        let arn = created.state_machine_arn().to_string();
        let v1 = created.state_machine_version_arn().unwrap().to_string();
        assert_eq!(v1, format!("{arn}:1"));
        let described = c
            .describe_state_machine()
            .state_machine_arn(&v1)
            .send()
            .await
            .unwrap();
        assert_eq!(described.state_machine_arn(), v1);
        assert_eq!(described.description(), Some("first"));
        let first_revision = described.revision_id().unwrap().to_string();

        // An update published as version 2; publishing again answers it again.
        let updated = c
            .update_state_machine()
            .state_machine_arn(&arn)
            .definition(definition("two"))
            .publish(true)
            .version_description("second")
            .send()
            .await
            .unwrap();
        let v2 = updated.state_machine_version_arn().unwrap().to_string();
        assert_eq!(v2, format!("{arn}:2"));
        let again = c
            .publish_state_machine_version()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(again.state_machine_version_arn(), v2);
        recent(Some(again.creation_date()));
        let e = fails_with!(
            c.publish_state_machine_version()
                .state_machine_arn(&arn)
                .revision_id(&first_revision),
            is_conflict_exception
        );
        assert!(
            e.message()
                .unwrap()
                .starts_with("Failed to publish the State Machine version for revision"),
            "{e:?}"
        );
        let e = fails_with!(
            c.update_state_machine()
                .state_machine_arn(&v1)
                .definition(PASS),
            is_state_machine_does_not_exist
        );
        assert!(e.message().unwrap().contains(":orders:1"), "{e:?}");

        // Versions newest first, a page at a time (the SDK has no paginator for them).
        let mut listed = Vec::new();
        let mut token = None;
        loop {
            let page = c
                .list_state_machine_versions()
                .state_machine_arn(&arn)
                .max_results(1)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            listed.extend(
                page.state_machine_versions()
                    .iter()
                    .map(|v| v.state_machine_version_arn().to_string()),
            );
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        assert_eq!(listed, [v2.clone(), v1.clone()]);

        // An alias: all of version 1, then a 50/50 canary.
        let alias = c
            .create_state_machine_alias()
            .name("live")
            .description("what users get")
            .routing_configuration(route(&v1, 100))
            .send()
            .await
            .unwrap()
            .state_machine_alias_arn()
            .to_string();
        assert_eq!(alias, format!("{arn}:live"));
        let e = fails_with!(
            c.create_state_machine_alias()
                .name("live")
                .routing_configuration(route(&v2, 100)),
            is_conflict_exception
        );
        assert!(e.message().unwrap().contains("different routing"), "{e:?}");
        let e = fails_with!(
            c.create_state_machine_alias()
                .name("odd")
                .routing_configuration(route(&v1, 70))
                .routing_configuration(route(&v2, 29)),
            is_validation_exception
        );
        assert_eq!(
            e.message(),
            Some("Sum of routing configuration weights must equal 100. Received: [70, 29]")
        );
        fails_with!(
            c.create_state_machine_alias()
                .name("ghost")
                .routing_configuration(route(&format!("{arn}:9"), 100)),
            is_resource_not_found
        );
        fails_with!(
            c.delete_state_machine_version()
                .state_machine_version_arn(&v1),
            is_conflict_exception
        );

        // Starts on the alias and on a version say so; each listing finds its own.
        let on_alias = c
            .start_execution()
            .state_machine_arn(&alias)
            .send()
            .await
            .unwrap()
            .execution_arn;
        assert!(on_alias.starts_with("arn:aws:states:us-east-1:000000000000:execution:orders:"));
        let done = wait_done(&c, &on_alias).await;
        assert_eq!(done.output(), Some("\"one\""));
        assert_eq!(done.state_machine_arn(), arn);
        assert_eq!(done.state_machine_version_arn(), Some(v1.as_str()));
        assert_eq!(done.state_machine_alias_arn(), Some(alias.as_str()));
        let on_v2 = c
            .start_execution()
            .state_machine_arn(&v2)
            .send()
            .await
            .unwrap()
            .execution_arn;
        let done = wait_done(&c, &on_v2).await;
        assert_eq!(done.output(), Some("\"two\""));
        assert_eq!(done.state_machine_version_arn(), Some(v2.as_str()));
        assert_eq!(done.state_machine_alias_arn(), None);
        let plain = c
            .start_execution()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap()
            .execution_arn;
        wait_done(&c, &plain).await;
        let names = |arns: &[&str]| -> Vec<String> { arns.iter().map(|a| a.to_string()).collect() };
        for (filter, expected) in [
            (&arn, names(&[&plain, &on_v2, &on_alias])),
            (&v2, names(&[&on_v2])),
            (&v1, names(&[&on_alias])),
            (&alias, names(&[&on_alias])),
        ] {
            let mut found: Vec<String> = c
                .list_executions()
                .state_machine_arn(filter)
                .send()
                .await
                .unwrap()
                .executions()
                .iter()
                .map(|e| e.execution_arn().to_string())
                .collect();
            found.sort();
            let mut expected = expected;
            expected.sort();
            assert_eq!(found, expected, "executions of {filter}");
        }
        let history = c
            .get_execution_history()
            .execution_arn(&on_alias)
            .send()
            .await
            .unwrap();
        let started = history.events()[0]
            .execution_started_event_details()
            .unwrap();
        assert_eq!(started.state_machine_alias_arn(), Some(alias.as_str()));
        assert_eq!(started.state_machine_version_arn(), Some(v1.as_str()));

        // The alias moves to a canary split; version 1 may go once nothing routes to it.
        c.update_state_machine_alias()
            .state_machine_alias_arn(&alias)
            .routing_configuration(route(&v2, 50))
            .routing_configuration(route(&v1, 50))
            .send()
            .await
            .unwrap();
        let d = c
            .describe_state_machine_alias()
            .state_machine_alias_arn(&alias)
            .send()
            .await
            .unwrap();
        assert_eq!(d.name(), Some("live"));
        assert_eq!(d.description(), Some("what users get"));
        let weights: Vec<(String, i32)> = d
            .routing_configuration()
            .iter()
            .map(|r| (r.state_machine_version_arn().to_string(), r.weight()))
            .collect();
        assert_eq!(weights, [(v2.clone(), 50), (v1.clone(), 50)]);
        let mut picked = std::collections::BTreeSet::new();
        for _ in 0..40 {
            let run = c
                .start_execution()
                .state_machine_arn(&alias)
                .send()
                .await
                .unwrap()
                .execution_arn;
            let d = wait_done(&c, &run).await;
            picked.insert(d.state_machine_version_arn().unwrap().to_string());
        }
        assert_eq!(picked.len(), 2, "both versions ran: {picked:?}");
        c.update_state_machine_alias()
            .state_machine_alias_arn(&alias)
            .routing_configuration(route(&v2, 100))
            .send()
            .await
            .unwrap();
        c.delete_state_machine_version()
            .state_machine_version_arn(&v1)
            .send()
            .await
            .unwrap();
        fails_with!(
            c.start_execution().state_machine_arn(&v1),
            is_state_machine_does_not_exist
        );
        let aliases = c
            .list_state_machine_aliases()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(aliases.state_machine_aliases().len(), 1);
        c.delete_state_machine_alias()
            .state_machine_alias_arn(&alias)
            .send()
            .await
            .unwrap();
        fails_with!(
            c.describe_state_machine_alias()
                .state_machine_alias_arn(&alias),
            is_resource_not_found
        );

        // An Express version runs synchronously; deleting the machine takes its versions.
        let fast = c
            .create_state_machine()
            .name("fast")
            .definition(definition("quick"))
            .role_arn(ROLE)
            .r#type(StateMachineType::Express)
            .publish(true)
            .send()
            .await
            .unwrap();
        let fast_v1 = fast.state_machine_version_arn().unwrap().to_string();
        let sync = c
            .start_sync_execution()
            .state_machine_arn(&fast_v1)
            .send()
            .await
            .unwrap();
        assert_eq!(sync.status(), &SyncExecutionStatus::Succeeded);
        assert_eq!(sync.output(), Some("\"quick\""));
        c.delete_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap();
        fails_with!(
            c.describe_state_machine().state_machine_arn(&v2),
            is_state_machine_does_not_exist
        );
    });
}
