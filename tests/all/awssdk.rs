//! The real AWS SDK for Rust (`aws-sdk-sfn`) against the real binary: every action, the
//! SDK's paginators, typed errors, a `lambda:invoke` Task and SigV4-signed tenants.
//! Whatever the SDK cannot deserialize (timestamps, enums, shapes) fails here.

use crate::support::{module, Server, TempDir};
use aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_sfn::config::retry::RetryConfig;
use aws_sdk_sfn::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_sfn::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_sfn::primitives::DateTime;
use aws_sdk_sfn::types::{
    ExecutionStatus, HistoryEventType, StateMachineStatus, StateMachineType, SyncExecutionStatus,
    Tag, ValidateStateMachineDefinitionResultCode, ValidateStateMachineDefinitionSeverity,
};
use aws_sdk_sfn::Client;
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime};

/// A client of the AWS SDK crate `$sdk` for `$server`: plain HTTP to loopback, the given
/// credentials (any work on the default tenant), no retries (an error surfaces on the
/// first answer); `$tune` adjusts the config builder (S3's path-style addressing).
macro_rules! sdk_client {
    ($sdk:ident, $server:expr) => {
        sdk_client!($sdk, $server, "AKIDANYTHING", "any-secret", |b| b)
    };
    ($sdk:ident, $server:expr, $key:expr, $secret:expr, $tune:expr) => {{
        let http = aws_smithy_http_client::Builder::new().build_http();
        let builder = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new("us-east-1"))
            .endpoint_url(&$server.url)
            .credentials_provider($sdk::config::Credentials::new(
                $key, $secret, None, None, "test",
            ))
            .http_client(http)
            .retry_config($sdk::config::retry::RetryConfig::disabled());
        let tune: fn($sdk::config::Builder) -> $sdk::config::Builder = $tune;
        $sdk::Client::from_conf(tune(builder).build())
    }};
}

const ROLE: &str = "arn:aws:iam::000000000000:role/test";
const PASS: &str = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#;

/// `StartSyncExecution` (and `TestState`) carry the endpoint prefix `sync-`: the SDK
/// would send them to `sync-127.0.0.1:<port>`. The Rust SDK has no switch to turn host
/// prefixes off, so this interceptor takes the prefix off again before the request is
/// signed (a self-hosted endpoint serves both on one host).
#[derive(Debug)]
struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        if let Some(rest) = request.uri().strip_prefix("http://sync-") {
            let uri = format!("http://{rest}");
            request.set_uri(uri)?;
        }
        Ok(())
    }
}

/// An SDK client for `url` with the given credentials: plain HTTP to loopback, no retries
/// (an error surfaces on the first answer).
/// Sends a request builder, asserts that it fails with the modelled service error that
/// `$is` (the SDK's `is_…` method) recognises, and returns the error.
macro_rules! fails_with {
    ($request:expr, $is:ident) => {{
        let e = $request.send().await.unwrap_err();
        assert!(e.as_service_error().is_some_and(|e| e.$is()), "{e:?}");
        e
    }};
}

pub(crate) fn client_with(url: &str, key: &str, secret: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .interceptor(NoHostPrefix)
        .build();
    Client::from_conf(config)
}

/// A client for a server without tenants: any credentials work from loopback.
fn client(s: &Server) -> Client {
    client_with(&s.url, "AKIDANYTHING", "any-secret")
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The AWS error name (`__type`) of a failed call.
fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    e.code()
        .unwrap_or_else(|| panic!("no error code in {:?}", e.message()))
        .to_string()
}

fn json_of(text: Option<&str>) -> Value {
    serde_json::from_str(text.expect("a JSON document")).unwrap()
}

/// Within a minute of now: the SDK read epoch seconds as a timestamp.
fn recent(t: Option<&DateTime>) {
    let t = t.expect("a timestamp");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - t.as_secs_f64()).abs() < 60.0, "{t:?} is not recent");
}

async fn create(c: &Client, name: &str, definition: &str, kind: StateMachineType) -> String {
    c.create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(ROLE)
        .r#type(kind)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStateMachine {name}: {e:?}"))
        .state_machine_arn
}

async fn wait_done(
    c: &Client,
    arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    wait_done_within(c, arn, 20).await
}

/// Polls DescribeExecution until the execution has ended, at most `seconds`.
async fn wait_done_within(
    c: &Client,
    arn: &str,
    seconds: u64,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    let began = Instant::now();
    loop {
        let d = c
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .unwrap();
        if d.status != ExecutionStatus::Running {
            return d;
        }
        assert!(
            began.elapsed() < Duration::from_secs(seconds),
            "{arn} still running"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn sdk_state_machines_tags_and_errors() {
    let dir = TempDir::new("sdk-machines");
    let s = Server::start(&dir.0, &[]);
    runtime().block_on(async {
        let c = client(&s);
        let created = c
            .create_state_machine()
            .name("orders")
            .definition(PASS)
            .role_arn(ROLE)
            .r#type(StateMachineType::Standard)
            .tags(Tag::builder().key("team").value("a").build())
            .tags(Tag::builder().key("env").value("dev").build())
            .send()
            .await
            .unwrap();
        let arn = created.state_machine_arn().to_string();
        assert_eq!(
            arn,
            "arn:aws:states:us-east-1:000000000000:stateMachine:orders"
        );
        recent(Some(created.creation_date()));
        let express = create(&c, "fast", PASS, StateMachineType::Express).await;

        let d = c
            .describe_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(d.name(), "orders");
        assert_eq!(d.r#type(), &StateMachineType::Standard);
        assert_eq!(d.status(), Some(&StateMachineStatus::Active));
        assert_eq!(d.role_arn(), ROLE);
        assert_eq!(json_of(Some(d.definition())), json_of(Some(PASS)));
        recent(Some(d.creation_date()));
        let first_revision = d.revision_id().unwrap().to_string();
        let d = c
            .describe_state_machine()
            .state_machine_arn(&express)
            .send()
            .await
            .unwrap();
        assert_eq!(d.r#type(), &StateMachineType::Express);

        let tags = c
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        let mut pairs: Vec<(String, String)> = tags
            .tags()
            .iter()
            .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
            .collect();
        pairs.sort();
        assert_eq!(
            pairs,
            [("env".into(), "dev".into()), ("team".into(), "a".into())]
        );
        c.tag_resource()
            .resource_arn(&arn)
            .tags(Tag::builder().key("owner").value("ops").build())
            .send()
            .await
            .unwrap();
        c.untag_resource()
            .resource_arn(&arn)
            .tag_keys("env")
            .tag_keys("team")
            .send()
            .await
            .unwrap();
        let tags = c
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            tags.tags(),
            [Tag::builder().key("owner").value("ops").build()]
        );

        // UpdateStateMachine: a new revision; DescribeStateMachine shows it.
        let other = r#"{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}"#;
        let u = c
            .update_state_machine()
            .state_machine_arn(&arn)
            .definition(other)
            .send()
            .await
            .unwrap();
        recent(Some(u.update_date()));
        assert!(u.revision_id().is_some_and(|r| r != first_revision));
        let d = c
            .describe_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(json_of(Some(d.definition())), json_of(Some(other)));
        assert_eq!(d.revision_id(), u.revision_id());

        // ValidateStateMachineDefinition.
        let ok = c
            .validate_state_machine_definition()
            .definition(PASS)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.result(), &ValidateStateMachineDefinitionResultCode::Ok);
        assert!(ok.diagnostics().is_empty());
        let bad = r#"{"StartAt": "Nope", "States": {"A": {"Type": "Pass", "End": true}}}"#;
        let v = c
            .validate_state_machine_definition()
            .definition(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(v.result(), &ValidateStateMachineDefinitionResultCode::Fail);
        let first = v.diagnostics().first().unwrap();
        assert_eq!(
            first.severity(),
            &ValidateStateMachineDefinitionSeverity::Error
        );
        assert_eq!(first.code(), "MISSING_TRANSITION_TARGET");

        // Typed errors.
        fails_with!(
            c.create_state_machine()
                .name("orders")
                .definition(PASS)
                .role_arn(ROLE),
            is_state_machine_already_exists
        );
        let e = c
            .create_state_machine()
            .name("bad")
            .definition(bad)
            .role_arn(ROLE)
            .send()
            .await
            .unwrap_err();
        let service = e.as_service_error().unwrap();
        assert!(service.is_invalid_definition(), "{e:?}");
        assert!(
            service
                .message()
                .unwrap()
                .contains("MISSING_TRANSITION_TARGET"),
            "{service:?}"
        );
        fails_with!(
            c.create_state_machine()
                .name("bad name")
                .definition(PASS)
                .role_arn(ROLE),
            is_invalid_name
        );
        fails_with!(
            c.create_state_machine()
                .name("x")
                .definition(PASS)
                .role_arn("not-an-arn"),
            is_invalid_arn
        );
        fails_with!(
            c.describe_state_machine().state_machine_arn("garbage"),
            is_invalid_arn
        );
        let e = fails_with!(
            c.describe_state_machine()
                .state_machine_arn("arn:aws:states:us-east-1:000000000000:stateMachine:missing"),
            is_state_machine_does_not_exist
        );
        assert_eq!(code(&e), "StateMachineDoesNotExist");
        fails_with!(
            c.update_state_machine().state_machine_arn(&arn),
            is_missing_required_parameter
        );
        fails_with!(
            c.list_tags_for_resource()
                .resource_arn("arn:aws:states:us-east-1:000000000000:stateMachine:missing"),
            is_resource_not_found
        );

        // DeleteStateMachine, then the machine is gone.
        c.delete_state_machine()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap();
        fails_with!(
            c.describe_state_machine().state_machine_arn(&arn),
            is_state_machine_does_not_exist
        );
        let listed = c.list_state_machines().send().await.unwrap();
        let names: Vec<&str> = listed.state_machines().iter().map(|m| m.name()).collect();
        assert_eq!(names, ["fast"]);
        assert_eq!(
            listed.state_machines()[0].r#type(),
            &StateMachineType::Express
        );
    });
}

#[test]
fn sdk_list_state_machines_paginates() {
    let dir = TempDir::new("sdk-pages");
    let s = Server::start(&dir.0, &[]);
    runtime().block_on(async {
        let c = client(&s);
        for i in 0..7 {
            create(&c, &format!("m{i}"), PASS, StateMachineType::Standard).await;
        }
        let pages: Vec<_> = c
            .list_state_machines()
            .max_results(3)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        let sizes: Vec<usize> = pages
            .iter()
            .map(|p| p.as_ref().unwrap().state_machines().len())
            .collect();
        assert_eq!(sizes, [3, 3, 1]);
        let items = c
            .list_state_machines()
            .max_results(2)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap();
        let names: Vec<&str> = items.iter().map(|m| m.name()).collect();
        assert_eq!(names, ["m0", "m1", "m2", "m3", "m4", "m5", "m6"]);
        for m in &items {
            recent(Some(m.creation_date()));
            assert_eq!(m.r#type(), &StateMachineType::Standard);
        }
        fails_with!(c.list_state_machines().next_token("zz"), is_invalid_token);
    });
}

#[test]
fn sdk_executions_history_and_errors() {
    let dir = TempDir::new("sdk-executions");
    let s = Server::start(&dir.0, &[]);
    runtime().block_on(async {
        let c = client(&s);
        let wait = r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "P"}, "P": {"Type": "Pass", "End": true}}}"#;
        let m = create(&c, "w", wait, StateMachineType::Standard).await;
        let started = c
            .start_execution()
            .state_machine_arn(&m)
            .name("once")
            .input(r#"{"k": 1}"#)
            .send()
            .await
            .unwrap();
        let arn = started.execution_arn().to_string();
        assert_eq!(arn, "arn:aws:states:us-east-1:000000000000:execution:w:once");
        recent(Some(started.start_date()));
        fails_with!(
            c.start_execution().state_machine_arn(&m).name("once").input(r#"{"k": 2}"#),
            is_execution_already_exists
        );
        fails_with!(c.start_execution().state_machine_arn(&m).name("bad name"), is_invalid_name);
        fails_with!(
            c.start_execution().state_machine_arn(&m).input("not json"),
            is_invalid_execution_input
        );

        let running = c
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(running.status(), &ExecutionStatus::Running);
        assert!(running.stop_date().is_none());

        // Another execution, stopped while it waits.
        let victim = c
            .start_execution()
            .state_machine_arn(&m)
            .name("victim")
            .send()
            .await
            .unwrap()
            .execution_arn;
        let stopped = c
            .stop_execution()
            .execution_arn(&victim)
            .error("Halt")
            .cause("test")
            .send()
            .await
            .unwrap();
        recent(Some(stopped.stop_date()));
        let d = c
            .describe_execution()
            .execution_arn(&victim)
            .send()
            .await
            .unwrap();
        assert_eq!(d.status(), &ExecutionStatus::Aborted);
        assert_eq!((d.error(), d.cause()), (Some("Halt"), Some("test")));

        let done = wait_done(&c, &arn).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded);
        assert_eq!(json_of(done.output()), json!({"k": 1}));
        assert_eq!(done.state_machine_arn(), m);
        assert_eq!(done.name(), Some("once"));
        assert!(done.stop_date().unwrap() >= done.start_date());
        recent(done.stop_date());

        let sm = c
            .describe_state_machine_for_execution()
            .execution_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!((sm.name(), sm.state_machine_arn()), ("w", m.as_str()));
        assert_eq!(json_of(Some(sm.definition())), json_of(Some(wait)));
        recent(Some(sm.update_date()));

        // ListExecutions with statusFilter and the paginator.
        for i in 0..4 {
            c.start_execution()
                .state_machine_arn(&m)
                .name(format!("r{i}"))
                .send()
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        let running = c
            .list_executions()
            .state_machine_arn(&m)
            .status_filter(ExecutionStatus::Running)
            .max_results(1)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap();
        let names: Vec<&str> = running.iter().map(|e| e.name()).collect();
        assert_eq!(names, ["r3", "r2", "r1", "r0"], "newest first");
        for e in &running {
            assert_eq!(e.status(), &ExecutionStatus::Running);
            recent(Some(e.start_date()));
        }
        let aborted = c
            .list_executions()
            .state_machine_arn(&m)
            .status_filter(ExecutionStatus::Aborted)
            .send()
            .await
            .unwrap();
        let names: Vec<&str> = aborted.executions().iter().map(|e| e.name()).collect();
        assert_eq!(names, ["victim"]);
        recent(aborted.executions()[0].stop_date());
        let pages: Vec<_> = c
            .list_executions()
            .state_machine_arn(&m)
            .max_results(2)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        let sizes: Vec<usize> = pages
            .iter()
            .map(|p| p.as_ref().unwrap().executions().len())
            .collect();
        assert_eq!(sizes, [2, 2, 2], "six executions in pages of two");

        // GetExecutionHistory: whole, paginated, reversed, without data.
        let history = c
            .get_execution_history()
            .execution_arn(&arn)
            .send()
            .await
            .unwrap();
        let kinds: Vec<HistoryEventType> = history
            .events()
            .iter()
            .map(|e| e.r#type().clone())
            .collect();
        assert_eq!(
            kinds,
            [
                HistoryEventType::ExecutionStarted,
                HistoryEventType::WaitStateEntered,
                HistoryEventType::WaitStateExited,
                HistoryEventType::PassStateEntered,
                HistoryEventType::PassStateExited,
                HistoryEventType::ExecutionSucceeded,
            ]
        );
        let ids: Vec<i64> = history.events().iter().map(|e| e.id()).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
        for e in history.events() {
            recent(Some(e.timestamp()));
        }
        let started_details = history.events()[0]
            .execution_started_event_details()
            .unwrap();
        assert_eq!(json_of(started_details.input()), json!({"k": 1}));
        let entered = history.events()[1].state_entered_event_details().unwrap();
        assert_eq!(entered.name(), "W");
        let paged = c
            .get_execution_history()
            .execution_arn(&arn)
            .max_results(2)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(paged, history.events(), "pages of two add up to the whole");
        let reversed = c
            .get_execution_history()
            .execution_arn(&arn)
            .reverse_order(true)
            .include_execution_data(false)
            .max_results(2)
            .send()
            .await
            .unwrap();
        assert!(reversed.next_token().is_some());
        let last = &reversed.events()[0];
        assert_eq!(
            (last.r#type(), last.id()),
            (&HistoryEventType::ExecutionSucceeded, 6)
        );
        assert!(last
            .execution_succeeded_event_details()
            .unwrap()
            .output()
            .is_none());
        let reversed_all = c
            .get_execution_history()
            .execution_arn(&arn)
            .reverse_order(true)
            .max_results(4)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap();
        let ids: Vec<i64> = reversed_all.iter().map(|e| e.id()).collect();
        assert_eq!(ids, [6, 5, 4, 3, 2, 1]);
        assert_eq!(
            json_of(
                reversed_all[0]
                    .execution_succeeded_event_details()
                    .unwrap()
                    .output()
            ),
            json!({"k": 1})
        );

        // Missing executions and wrong ARN kinds.
        let missing = "arn:aws:states:us-east-1:000000000000:execution:w:missing";
        let e = fails_with!(
            c.describe_execution().execution_arn(missing),
            is_execution_does_not_exist
        );
        assert_eq!(code(&e), "ExecutionDoesNotExist");
        fails_with!(c.get_execution_history().execution_arn(missing), is_execution_does_not_exist);
        fails_with!(c.stop_execution().execution_arn(missing), is_execution_does_not_exist);
        fails_with!(
            c.describe_state_machine_for_execution().execution_arn(missing),
            is_execution_does_not_exist
        );
        fails_with!(c.describe_execution().execution_arn(&m), is_invalid_arn);
        fails_with!(
            c.list_executions().state_machine_arn("arn:aws:states:us-east-1:000000000000:stateMachine:missing"),
            is_state_machine_does_not_exist
        );
        let e = c
            .start_sync_execution()
            .state_machine_arn(&m)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "StateMachineTypeNotSupported", "{e:?}");
    });
}

#[test]
fn sdk_express_and_lambda_invoke_task() {
    let dir = TempDir::new("sdk-express");
    let s = Server::start(&dir.0, &[]);
    // The module goes up over HTTP, as users upload it.
    let uploaded = s.upload("echo", &module("echo"), "").unwrap();
    assert_eq!(uploaded["version"], 1);
    runtime().block_on(async {
        let c = client(&s);
        let invoke = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "echo", "Payload": {"order.$": "$.order", "fixed": true}},
            "End": true}}})
        .to_string();
        let express = create(&c, "invoke-fast", &invoke, StateMachineType::Express).await;
        let r = c
            .start_sync_execution()
            .state_machine_arn(&express)
            .name("sync-1")
            .input(r#"{"order": 42}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), &SyncExecutionStatus::Succeeded, "{r:?}");
        assert!(r.execution_arn().contains(":express:invoke-fast:sync-1"));
        assert_eq!(r.state_machine_arn(), Some(express.as_str()));
        assert_eq!(r.name(), Some("sync-1"));
        assert!(r.stop_date() >= r.start_date());
        recent(Some(r.start_date()));
        assert_eq!(
            json_of(r.output()),
            json!({"ExecutedVersion": "1", "Payload": {"order": 42, "fixed": true}, "StatusCode": 200})
        );
        assert_eq!(json_of(r.input()), json!({"order": 42}));
        assert!(r.billing_details().is_some());

        // A failing Express run answers FAILED with the error, not an API error.
        let failing = r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}}}"#;
        let f = create(&c, "fails-fast", failing, StateMachineType::Express).await;
        let r = c
            .start_sync_execution()
            .state_machine_arn(&f)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), &SyncExecutionStatus::Failed);
        assert_eq!((r.error(), r.cause()), (Some("Boom"), Some("on purpose")));
        assert!(r.output().is_none());

        // The same Task in a Standard machine, with its history.
        let standard = create(&c, "invoke", &invoke, StateMachineType::Standard).await;
        let arn = c
            .start_execution()
            .state_machine_arn(&standard)
            .input(r#"{"order": 7}"#)
            .send()
            .await
            .unwrap()
            .execution_arn;
        let done = wait_done(&c, &arn).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        assert_eq!(
            json_of(done.output()),
            json!({"ExecutedVersion": "1", "Payload": {"order": 7, "fixed": true}, "StatusCode": 200})
        );
        let events = c
            .get_execution_history()
            .execution_arn(&arn)
            .send()
            .await
            .unwrap()
            .events;
        let kinds: Vec<&HistoryEventType> = events.iter().map(|e| e.r#type()).collect();
        let at = |kind: HistoryEventType| kinds.iter().position(|k| **k == kind);
        let order = [
            at(HistoryEventType::TaskScheduled),
            at(HistoryEventType::TaskStarted),
            at(HistoryEventType::TaskSucceeded),
        ];
        assert!(
            order.iter().all(Option::is_some) && order.is_sorted(),
            "TaskStarted is recorded between the two, as on AWS: {kinds:?}"
        );
        let scheduled = events
            .iter()
            .find_map(|e| e.task_scheduled_event_details())
            .unwrap();
        assert_eq!(
            (scheduled.resource_type(), scheduled.resource()),
            ("lambda", "invoke")
        );
        let succeeded = events
            .iter()
            .find_map(|e| e.task_succeeded_event_details())
            .unwrap();
        assert_eq!(json_of(succeeded.output())["StatusCode"], 200);

        // Express executions have no DescribeExecution or history.
        let e = c
            .get_execution_history()
            .execution_arn(format!("{}:sync-1", express.replace(":stateMachine:", ":express:")))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "StateMachineTypeNotSupported", "{e:?}");
    });
}

#[test]
fn sdk_tenants_are_isolated_and_signed() {
    let dir = TempDir::new("sdk-tenants");
    let s = Server::start(&dir.0, &["--admin-token", "root-token"]);
    let a = s.create_tenant("root-token", "acme");
    let b = s.create_tenant("root-token", "globex");
    let key = |t: &Value, f: &str| t[f].as_str().unwrap().to_string();
    runtime().block_on(async {
        let ca = client_with(&s.url, &key(&a, "accessKeyId"), &key(&a, "secretAccessKey"));
        let cb = client_with(&s.url, &key(&b, "accessKeyId"), &key(&b, "secretAccessKey"));
        // Signed by the SDK, accepted by the server.
        let a_arn = create(&ca, "shared-name", PASS, StateMachineType::Standard).await;
        assert!(a_arn.contains(&key(&a, "account")), "{a_arn}");
        let a_fast = create(&ca, "fast", PASS, StateMachineType::Express).await;
        // StartSyncExecution is signed after the host prefix came off.
        let r = ca
            .start_sync_execution()
            .state_machine_arn(&a_fast)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), &SyncExecutionStatus::Succeeded);

        // B sees nothing of A's, even by ARN, and may use the same name.
        assert!(cb
            .list_state_machines()
            .send()
            .await
            .unwrap()
            .state_machines()
            .is_empty());
        fails_with!(
            cb.describe_state_machine().state_machine_arn(&a_arn),
            is_state_machine_does_not_exist
        );
        fails_with!(
            cb.start_execution().state_machine_arn(&a_arn),
            is_state_machine_does_not_exist
        );
        fails_with!(
            cb.list_executions().state_machine_arn(&a_arn),
            is_state_machine_does_not_exist
        );
        let b_arn = create(&cb, "shared-name", PASS, StateMachineType::Standard).await;
        assert_ne!(a_arn, b_arn);

        let ex = ca
            .start_execution()
            .state_machine_arn(&a_arn)
            .name("a1")
            .send()
            .await
            .unwrap()
            .execution_arn;
        assert_eq!(
            wait_done(&ca, &ex).await.status(),
            &ExecutionStatus::Succeeded
        );
        fails_with!(
            cb.describe_execution().execution_arn(&ex),
            is_execution_does_not_exist
        );
        fails_with!(
            cb.get_execution_history().execution_arn(&ex),
            is_execution_does_not_exist
        );
        fails_with!(
            cb.stop_execution().execution_arn(&ex),
            is_execution_does_not_exist
        );
        fails_with!(
            cb.describe_state_machine_for_execution().execution_arn(&ex),
            is_execution_does_not_exist
        );
        let listed = ca
            .list_executions()
            .state_machine_arn(&a_arn)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.executions().len(), 1);
        assert!(cb
            .list_executions()
            .state_machine_arn(&b_arn)
            .send()
            .await
            .unwrap()
            .executions()
            .is_empty());
        fails_with!(
            cb.tag_resource()
                .resource_arn(&a_arn)
                .tags(Tag::builder().key("k").value("v").build()),
            is_resource_not_found
        );
        // B deleting A's ARN deletes nothing of A's.
        let _ = cb
            .delete_state_machine()
            .state_machine_arn(&a_arn)
            .send()
            .await;
        ca.describe_state_machine()
            .state_machine_arn(&a_arn)
            .send()
            .await
            .unwrap();

        // Wrong secret and unknown key: AWS's error codes through the SDK.
        let wrong = client_with(&s.url, &key(&a, "accessKeyId"), "wrong-secret");
        let e = wrong.list_state_machines().send().await.unwrap_err();
        assert_eq!(code(&e), "InvalidSignatureException", "{e:?}");
        assert!(e.meta().message().is_some());
        let unknown = client_with(&s.url, "AKIDUNKNOWN", &key(&a, "secretAccessKey"));
        let e = unknown.list_state_machines().send().await.unwrap_err();
        assert_eq!(code(&e), "UnrecognizedClientException", "{e:?}");
        let e = unknown
            .start_sync_execution()
            .state_machine_arn(&a_fast)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "UnrecognizedClientException", "{e:?}");
    });
}

mod activities;
mod batch;
mod callbacks;
mod dynamodb;
mod events;
mod map_runs;
mod nested;
mod redrive;
pub(crate) mod s3;
mod sns;
mod sqs;
mod test_state;
mod versions;

#[test]
fn sdk_jsonata_machines_validate_and_run() {
    let dir = TempDir::new("sdk-jsonata");
    let s = Server::start(&dir.0, &[]);
    let uploaded = s.upload("echo", &module("echo"), "").unwrap();
    assert_eq!(uploaded["version"], 1);
    runtime().block_on(async {
        let c = client(&s);
        // A syntax error is reported where it is, with AWS's code.
        let bad = r#"{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Output": {"x": "{% 1 + %}"}, "End": true}}}"#;
        let v = c
            .validate_state_machine_definition()
            .definition(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(v.result(), &ValidateStateMachineDefinitionResultCode::Fail);
        let first = v.diagnostics().first().unwrap();
        assert_eq!(first.code(), "INVALID_JSONATA_EXPRESSION");
        assert_eq!(first.location(), Some("/States/A/Output/x"));

        // JSONata states in a JSONPath machine: a task gets its Arguments, Output and
        // Assign see $states.result, and a JSONPath state reads the variable they set.
        let definition = json!({"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "QueryLanguage": "JSONata", "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "echo", "Payload": {"n": "{% $states.input.n * 2 %}"}},
                "Assign": {"doubled": "{% $states.result.Payload.n %}"},
                "Output": "{% $states.result.Payload %}", "Next": "Check"},
            "Check": {"Type": "Choice", "QueryLanguage": "JSONata", "Choices": [
                {"Condition": "{% $doubled > 10 %}", "Next": "Big", "Output": {"size": "big", "n": "{% $doubled %}"}}],
                "Default": "Small"},
            "Big": {"Type": "Pass", "Parameters": {"size.$": "$.size", "seen.$": "$doubled"}, "End": true},
            "Small": {"Type": "Fail", "QueryLanguage": "JSONata", "Error": "{% 'TooSmall' %}", "Cause": "{% 'n was ' & $string($doubled) %}"}
        }})
        .to_string();
        let express = create(&c, "jsonata", &definition, StateMachineType::Express).await;
        let run = |n: i64| {
            c.start_sync_execution()
                .state_machine_arn(&express)
                .input(json!({"n": n}).to_string())
                .send()
        };
        let big = run(7).await.unwrap();
        assert_eq!(big.status(), &SyncExecutionStatus::Succeeded, "{big:?}");
        assert_eq!(json_of(big.output()), json!({"size": "big", "seen": 14}));
        let small = run(2).await.unwrap();
        assert_eq!(small.status(), &SyncExecutionStatus::Failed);
        assert_eq!(small.error(), Some("TooSmall"));
        assert_eq!(small.cause(), Some("n was 4"));
    });
}
