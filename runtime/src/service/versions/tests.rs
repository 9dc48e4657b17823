use super::*;
use crate::clock::ManualClock;
use crate::model::MachineType;
use crate::service::machines::{Changes, NewMachine};
use crate::service::Tags;
use crate::store::Store;
use crate::tenants::default_tenant;
use std::sync::Arc;

const PASS: &str = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#;
const ARN: &str = "arn:aws:states:us-east-1:000000000000:stateMachine:orders";

fn machines() -> Machines {
    let store = Store::memory();
    Machines::new(
        store.clone(),
        "us-east-1",
        Tags::new(store, "us-east-1"),
        Arc::new(ManualClock::at(1_000)),
    )
}

fn created(m: &Machines, publish: bool) {
    let new = NewMachine {
        name: "orders".into(),
        definition: PASS.into(),
        role_arn: "arn:aws:iam::000000000000:role/r".into(),
        machine_type: MachineType::Standard,
        publish,
        description: None,
        logging: None,
        tracing: None,
        tags: None,
    };
    m.create(&default_tenant(), new).unwrap();
}

/// Changes the definition (a new revision) and answers the new revision id.
fn changed(m: &Machines, state: &str) -> String {
    let changes = Changes {
        definition: Some(PASS.replace("\"A\"", &format!("\"{state}\""))),
        ..Changes::default()
    };
    m.update(&default_tenant(), ARN, changes)
        .unwrap()
        .machine
        .revision_id
}

fn version(n: u64) -> String {
    arn::version(ARN, n)
}

fn listed(page: Page<Listed>) -> Vec<String> {
    page.items.into_iter().map(|l| l.arn).collect()
}

#[test]
fn publishing_is_idempotent_per_revision_and_numbers_are_never_reused() {
    let m = machines();
    let me = default_tenant();
    created(&m, true);
    assert_eq!(m.publish(&me, ARN, None, None).unwrap().0, version(1));
    // An update that changes nothing is no new revision: still version 1.
    let same = Changes {
        definition: Some(PASS.into()),
        publish: true,
        ..Changes::default()
    };
    let saved = m.update(&me, ARN, same).unwrap();
    assert_eq!(saved.version_arn, Some(version(1)));

    let second = changed(&m, "B");
    let (v2, _) = m
        .publish(&me, ARN, Some(&second), Some("two".into()))
        .unwrap();
    assert_eq!(v2, version(2));
    let (described, revision, v) = m.describe(&me, &v2).unwrap();
    assert_eq!(revision.id, second);
    assert_eq!(described.description.as_deref(), Some("two"));
    assert_eq!(v.map(|v| v.number), Some(2));

    m.delete_version(&me, &v2).unwrap();
    m.delete_version(&me, &v2).unwrap();
    assert!(matches!(
        m.describe(&me, &v2),
        Err(Error::StateMachineDoesNotExist(_))
    ));
    assert_eq!(
        m.publish(&me, ARN, None, None).unwrap().0,
        version(3),
        "a deleted version's number is not given again"
    );

    // A stale revision id is a conflict; INITIAL names only a machine never changed.
    let third = changed(&m, "C");
    let stale = m.publish(&me, ARN, Some(&second), None).unwrap_err();
    assert_eq!(
        stale,
        Error::VersionConflict(format!("Failed to publish the State Machine version for revision {second}. The current State Machine revision is {third}."))
    );
    assert!(matches!(
        m.publish(&me, ARN, Some("INITIAL"), None),
        Err(Error::VersionConflict(_))
    ));
    assert_eq!(
        listed(m.versions(&me, ARN, 100, None).unwrap()),
        [version(3), version(1)],
        "newest first"
    );
}

#[test]
fn versions_page_newest_first() {
    let m = machines();
    let me = default_tenant();
    created(&m, true);
    for i in 0..4 {
        changed(&m, &format!("S{i}"));
        m.publish(&me, ARN, None, None).unwrap();
    }
    let first = m.versions(&me, ARN, 3, None).unwrap();
    let token = first.next_token.clone().unwrap();
    assert_eq!(listed(first), [version(5), version(4), version(3)]);
    let rest = m.versions(&me, ARN, 3, Some(&token)).unwrap();
    assert_eq!(rest.next_token, None);
    assert_eq!(listed(rest), [version(2), version(1)]);
    assert_eq!(
        m.versions(&me, ARN, 3, Some("zz")).unwrap_err(),
        Error::InvalidToken("Invalid token".into())
    );
}

#[test]
fn aliases_check_their_routing_by_aws_rules() {
    let m = machines();
    let me = default_tenant();
    created(&m, true);
    changed(&m, "B");
    m.publish(&me, ARN, None, None).unwrap();
    let route = |pairs: &[(&str, i64)]| -> Vec<(String, i64)> {
        pairs.iter().map(|(a, w)| (a.to_string(), *w)).collect()
    };
    let refused =
        |name: &str, routing: Vec<(String, i64)>| match m.create_alias(&me, name, None, &routing) {
            Err(Error::InvalidVersioning(message)) => message,
            other => panic!("{name}: {other:?}"),
        };
    let (v1, v2) = (version(1), version(2));
    assert!(refused("123", route(&[(&v1, 100)])).contains("regular expression pattern"));
    assert!(refused(&"a".repeat(81), route(&[(&v1, 100)])).contains("less than or equal to 80"));
    assert!(refused("prod", route(&[(&v1, 50), (&v2, 30), (&v1, 20)]))
        .contains("Member must have length less than or equal to 2"));
    assert_eq!(
        refused("prod", route(&[(&v1, 101)])),
        "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' failed to satisfy constraint: Member must have value less than or equal to 100"
    );
    assert_eq!(
        refused("prod", route(&[(&v1, 50), (&v1, 50)])),
        format!("Routing configuration must contain distinct state machine version ARNs. Received: [{v1}, {v1}]")
    );
    assert_eq!(
        refused("prod", route(&[(&v1, 70), (&v2, 29)])),
        "Sum of routing configuration weights must equal 100. Received: [70, 29]"
    );
    assert_eq!(
        refused("prod", route(&[(ARN, 70), (&v2, 30)])),
        format!("Routing configuration must contain state machine version ARNs. Received: [{ARN}, {v2}]")
    );
    let other = "arn:aws:states:us-east-1:000000000000:stateMachine:other:1";
    assert!(refused("prod", route(&[(&v1, 50), (other, 50)])).contains("same state machine"));
    assert_eq!(
        m.create_alias(&me, "prod", None, &route(&[(&version(9), 100)])),
        Err(Error::VersionOrAliasDoesNotExist)
    );

    // Created once; again the same is the same alias; otherwise a conflict.
    let (alias, at) = m
        .create_alias(&me, "prod", Some("live".into()), &route(&[(&v1, 100)]))
        .unwrap();
    assert_eq!(alias, arn::alias(ARN, "prod"));
    assert_eq!(
        m.create_alias(&me, "prod", Some("live".into()), &route(&[(&v1, 100)])),
        Ok((alias.clone(), at))
    );
    assert!(matches!(
        m.create_alias(&me, "prod", None, &route(&[(&v1, 100)])),
        Err(Error::VersionConflict(_))
    ));
    // A version an alias routes to cannot go until the alias routes elsewhere.
    assert_eq!(
        m.delete_version(&me, &v1),
        Err(Error::VersionConflict("Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [prod]".into()))
    );
    m.update_alias(&me, &alias, None, Some(&route(&[(&v2, 100)])))
        .unwrap();
    let described = m.describe_alias(&me, &alias).unwrap();
    assert_eq!(described.routing, vec![(v2.clone(), 100)]);
    assert_eq!(described.alias.description.as_deref(), Some("live"), "kept");
    m.delete_version(&me, &v1).unwrap();

    assert_eq!(
        m.update_alias(&me, &alias, None, None),
        Err(Error::InvalidVersioning(
            "Either the description or the RoutingConfiguration must be specified".into()
        ))
    );
    m.delete_alias(&me, &alias).unwrap();
    m.delete_alias(&me, &alias).unwrap();
    assert_eq!(
        m.describe_alias(&me, &alias),
        Err(Error::VersionOrAliasDoesNotExist)
    );
    assert_eq!(
        m.update_alias(&me, &alias, Some("x".into()), None),
        Err(Error::VersionOrAliasDoesNotExist)
    );
}

#[test]
fn an_alias_splits_starts_by_weight_and_a_version_runs_its_own_snapshot() {
    let m = machines();
    let me = default_tenant();
    created(&m, true);
    let second = changed(&m, "B");
    m.publish(&me, ARN, None, None).unwrap();
    changed(&m, "C");
    let (alias, _) = m
        .create_alias(&me, "canary", None, &[(version(1), 90), (version(2), 10)])
        .unwrap();
    let mut counts = [0usize; 3];
    for _ in 0..100 {
        let r = m.resolve_for(&me.id, &me.account, &alias).unwrap();
        assert_eq!(r.alias.as_deref(), Some("canary"));
        counts[r.version.unwrap() as usize] += 1;
        assert_eq!(r.machine.arn, ARN, "the execution's machine is the machine");
    }
    assert_eq!(counts, [0, 90, 10], "the test clock's entropy counts up");

    let pinned = m.resolve_for(&me.id, &me.account, &version(2)).unwrap();
    assert_eq!(
        (pinned.revision.id.as_str(), pinned.version, pinned.alias),
        (second.as_str(), Some(2), None)
    );
    let latest = m.resolve_for(&me.id, &me.account, ARN).unwrap();
    assert_ne!(latest.revision.id, second);
    assert_eq!(latest.version, None);
    for gone in [version(7), arn::alias(ARN, "nope")] {
        assert_eq!(
            m.resolve_for(&me.id, &me.account, &gone),
            Err(Error::StateMachineDoesNotExist(gone.clone()))
        );
    }
    // A version's or alias's ARN names no machine to update or delete.
    assert_eq!(
        m.update(
            &me,
            &version(1),
            Changes {
                definition: Some(PASS.into()),
                ..Changes::default()
            }
        ),
        Err(Error::StateMachineDoesNotExist(version(1)))
    );
    assert!(matches!(
        m.delete(&me, &alias),
        Err(Error::InvalidVersioning(_))
    ));

    // Deleting the machine takes its versions and aliases with it.
    m.delete(&me, ARN).unwrap();
    created(&m, false);
    assert!(listed(m.versions(&me, ARN, 100, None).unwrap()).is_empty());
    assert!(listed(m.aliases(&me, ARN, 100, None).unwrap()).is_empty());
}

#[test]
fn aliases_list_in_creation_order_and_by_version() {
    let m = machines();
    let me = default_tenant();
    created(&m, true);
    changed(&m, "B");
    m.publish(&me, ARN, None, None).unwrap();
    for (name, v) in [("zeta", 1), ("alpha", 2), ("mid", 1)] {
        m.create_alias(&me, name, None, &[(version(v), 100)])
            .unwrap();
    }
    // The test clock stands still: equal dates list by name.
    let all = listed(m.aliases(&me, ARN, 100, None).unwrap());
    let names = ["alpha", "mid", "zeta"].map(|n| arn::alias(ARN, n));
    assert_eq!(all, names);
    assert_eq!(
        listed(m.aliases(&me, &version(1), 100, None).unwrap()),
        [names[1].clone(), names[2].clone()]
    );
    let page = m.aliases(&me, ARN, 1, None).unwrap();
    let token = page.next_token.clone().unwrap();
    assert_eq!(listed(page), [names[0].clone()]);
    assert_eq!(
        listed(m.aliases(&me, ARN, 5, Some(&token)).unwrap()),
        names[1..]
    );
    assert_eq!(
        m.aliases(&me, &version(5), 100, None),
        Err(Error::VersionOrAliasDoesNotExist)
    );
    let versionless = "arn:aws:states:us-east-1:000000000000:stateMachine:none";
    assert!(matches!(
        m.aliases(&me, versionless, 100, None),
        Err(Error::StateMachineDoesNotExist(_))
    ));
}
