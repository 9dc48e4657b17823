//! Host calls without a module: grants, tenant scoping, bounds and error mapping.

use super::sandstep::host::{blob, heartbeat, kv, queue, topic};
use super::*;
use crate::grants::Grants;
use crate::sandbox::watch::CancelHandle;
use crate::store::modules::ModuleKind;
use std::time::{Duration, Instant};

fn state(store: &Store, tenant: &str, grants: &[&str]) -> HostState {
    HostState {
        caller: Caller {
            tenant: TenantId(tenant.into()),
            execution_arn: "arn:aws:states:us-east-1:000000000000:execution:m:e".into(),
            state_name: "S".into(),
            module: "m".into(),
        },
        module: Arc::new(ModuleVersion {
            name: "m".into(),
            version: 1,
            sha256: "00".into(),
            kind: ModuleKind::Component,
            imports: vec![],
            exports: vec!["run".into()],
            grants: Grants::parse(grants.iter().copied()).unwrap(),
            size: 0,
            created: 0,
        }),
        store: store.clone(),
        watch: Watch::new(
            Instant::now(),
            Duration::from_secs(60),
            None,
            CancelHandle::new(),
        ),
        limiter: Limiter::new(1 << 20, 100, 4),
        logs: Logs::default(),
        answers: None,
        outbound: None,
    }
}

fn denied(what: &str) -> HostError {
    HostError::AccessDenied(what.into())
}

#[test]
fn every_call_checks_its_grant_first() {
    let store = Store::memory();
    let mut s = state(&store, "a", &["kv:orders:read", "queue:jobs:write"]);
    assert_eq!(
        kv::Host::get(&mut s, "secrets".into(), "k".into()).unwrap(),
        Err(denied("kv:secrets read"))
    );
    assert_eq!(
        kv::Host::put(&mut s, "orders".into(), "k".into(), "{}".into()).unwrap(),
        Err(denied("kv:orders write"))
    );
    assert_eq!(
        kv::Host::get(&mut s, "orders".into(), "k".into()).unwrap(),
        Ok(None)
    );
    assert_eq!(
        queue::Host::receive(&mut s, "jobs".into(), 1, 30).unwrap(),
        Err(denied("queue:jobs read"))
    );
    assert!(queue::Host::send(&mut s, "jobs".into(), "hi".into())
        .unwrap()
        .is_ok());
    assert_eq!(
        blob::Host::get(&mut s, "raw".into(), "k".into()).unwrap(),
        Err(denied("blob:raw read"))
    );
    assert_eq!(
        topic::Host::publish(&mut s, "news".into(), "m".into(), None).unwrap(),
        Err(denied("topic:news write"))
    );
    assert_eq!(heartbeat::Host::beat(&mut s).unwrap(), Ok(()));
}

#[test]
fn data_stays_inside_the_tenant() {
    let store = Store::memory();
    let (mut a, mut b) = (state(&store, "a", &["kv:t"]), state(&store, "b", &["kv:t"]));
    assert_eq!(
        kv::Host::put(&mut a, "t".into(), "k".into(), "1".into()).unwrap(),
        Ok(1)
    );
    assert_eq!(
        kv::Host::get(&mut b, "t".into(), "k".into()).unwrap(),
        Ok(None)
    );
    assert_eq!(
        kv::Host::get(&mut a, "t".into(), "k".into())
            .unwrap()
            .map(|i| i.map(|i| i.value)),
        Ok(Some("1".to_string()))
    );
}

#[test]
fn bounds_and_store_errors_are_answers() {
    let store = Store::memory();
    let mut s = state(&store, "a", &["kv:t", "queue:q", "blob:b"]);
    let big = format!("\"{}\"", "x".repeat(crate::host::kv::MAX_VALUE_BYTES));
    assert!(matches!(
        kv::Host::put(&mut s, "t".into(), "k".into(), big).unwrap(),
        Err(HostError::InvalidInput(_))
    ));
    assert!(matches!(
        kv::Host::put(&mut s, "t".into(), "k".into(), "not json".into()).unwrap(),
        Err(HostError::InvalidInput(_))
    ));
    assert!(matches!(
        kv::Host::put(&mut s, "t".into(), String::new(), "1".into()).unwrap(),
        Err(HostError::InvalidInput(_))
    ));
    assert!(matches!(
        kv::Host::query(&mut s, "t".into(), String::new(), 1001).unwrap(),
        Err(HostError::InvalidInput(_))
    ));
    assert!(matches!(
        queue::Host::receive(&mut s, "q".into(), 11, 30).unwrap(),
        Err(HostError::InvalidInput(_))
    ));
    assert!(matches!(
        blob::Host::put(
            &mut s,
            "b".into(),
            "k".into(),
            vec![0; crate::host::blob::MAX_OBJECT_BYTES + 1],
            None
        )
        .unwrap(),
        Err(HostError::LimitExceeded(_))
    ));
    assert_eq!(
        kv::Host::put_if(&mut s, "t".into(), "k".into(), "1".into(), None).unwrap(),
        Ok(1)
    );
    assert!(matches!(
        kv::Host::put_if(&mut s, "t".into(), "k".into(), "2".into(), Some(7)).unwrap(),
        Err(HostError::ConditionFailed(_))
    ));
    assert!(matches!(
        kv::Host::put_if(&mut s, "t".into(), "k".into(), "2".into(), None).unwrap(),
        Err(HostError::ConditionFailed(_))
    ));
}

#[test]
fn a_heartbeat_is_heard_beyond_the_sandbox() {
    let store = Store::memory();
    let heard = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut s = state(&store, "a", &[]);
    let counter = Arc::clone(&heard);
    s.watch = s.watch.heard_by(crate::sandbox::BeatListener::new(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }));
    heartbeat::Host::beat(&mut s).unwrap().unwrap();
    heartbeat::Host::beat(&mut s).unwrap().unwrap();
    assert_eq!(
        heard.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the scheduler's engine timer hears every beat (and paces them itself)"
    );
}
