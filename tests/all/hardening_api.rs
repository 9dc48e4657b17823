//! Issue 11, findings 7–9, against the real binary: SigV4 credential scope, AWS's limits on
//! definitions, tags and trace headers, and AWS-shaped JSON for every error the server
//! answers. After each, the server still answers `/healthz` at once.

use crate::support::{call_at, Server, TempDir};
use aws_sdk_sfn::config::retry::RetryConfig;
use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::error::ProvideErrorMetadata;
use sandstep::api::sigv4;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ROLE: &str = "arn:aws:iam::000000000000:role/test";
const PASS: &str = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#;
const WRONG_REGION: &str = "Credential should be scoped to a valid region. ";
const WRONG_SERVICE: &str = "Credential should be scoped to correct service: 'states'. ";

/// The server is up and quick: `/healthz` answers `ok` within 100 ms (best of three, so a
/// busy test machine's scheduling hiccup is not a failure).
pub(crate) fn healthy(s: &Server) {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let began = Instant::now();
        let body = ureq::get(&format!("{}/healthz", s.url))
            .timeout(Duration::from_secs(5))
            .call()
            .expect("the server answers /healthz")
            .into_string()
            .unwrap();
        assert_eq!(body, "ok\n");
        best = best.min(began.elapsed());
    }
    assert!(best < Duration::from_millis(100), "/healthz took {best:?}");
}

/// An AWS call signed with `key`/`secret` for `region` and `service`.
fn signed_for(
    s: &Server,
    action: &str,
    body: &Value,
    tenant: &Value,
    region: &str,
    service: &str,
) -> Result<Value, (u16, String, String)> {
    let text = body.to_string();
    let headers = vec![
        (
            "host".to_string(),
            s.url.trim_start_matches("http://").to_string(),
        ),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.0".to_string(),
        ),
        (
            "x-amz-target".to_string(),
            format!("AWSStepFunctions.{action}"),
        ),
    ];
    let req = sigv4::Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: text.as_bytes(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let extra = sigv4::sign(
        &req,
        tenant["accessKeyId"].as_str().unwrap(),
        tenant["secretAccessKey"].as_str().unwrap(),
        region,
        service,
        now,
    );
    let extra: Vec<(&str, &str)> = extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    call_at(&s.url, action, body.clone(), &extra)
}

/// An AWS SDK client for `region` with the given keys.
fn sdk(url: &str, region: &'static str, key: &str, secret: &str) -> aws_sdk_sfn::Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_sfn::Client::from_conf(config)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Finding 7: a signature for another region or service was accepted.
#[test]
fn sigv4_credentials_are_scoped_to_the_servers_region_and_service() {
    let dir = TempDir::new("scope");
    let s = Server::start(&dir.0, &["--admin-token", "root"]);
    let tenant = s.create_tenant("root", "acme");
    let list = |region: &str, service: &str| {
        signed_for(
            &s,
            "ListStateMachines",
            &json!({}),
            &tenant,
            region,
            service,
        )
    };
    assert!(list("us-east-1", "states").is_ok());
    let refused = |message: String| (400, "InvalidSignatureException".to_string(), message);
    for region in ["eu-west-1", "zz-nowhere-9"] {
        assert_eq!(
            list(region, "states").unwrap_err(),
            refused(WRONG_REGION.into()),
            "{region}"
        );
    }
    for service in ["lambda", "s3"] {
        assert_eq!(
            list("us-east-1", service).unwrap_err(),
            refused(WRONG_SERVICE.into()),
            "{service}"
        );
    }
    assert_eq!(
        list("eu-west-1", "lambda").unwrap_err(),
        refused(format!("{WRONG_REGION}{WRONG_SERVICE}"))
    );

    // The AWS SDK configured for another region than the server's gets AWS's error.
    let key = tenant["accessKeyId"].as_str().unwrap();
    let secret = tenant["secretAccessKey"].as_str().unwrap();
    runtime().block_on(async {
        let e = sdk(&s.url, "eu-west-1", key, secret)
            .list_state_machines()
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("InvalidSignatureException"), "{e:?}");
        assert_eq!(e.message(), Some(WRONG_REGION));
        sdk(&s.url, "us-east-1", key, secret)
            .list_state_machines()
            .send()
            .await
            .unwrap();
    });
    healthy(&s);
    drop(s);

    // The server's region comes from its configuration.
    let config = dir.0.join("sandstep.toml");
    std::fs::write(&config, "region = \"eu-west-1\"\n").unwrap();
    let data = TempDir::new("scope-eu");
    let s = Server::start(
        &data.0,
        &[
            "--admin-token",
            "root",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let tenant = s.create_tenant("root", "acme");
    let list = |region: &str| {
        signed_for(
            &s,
            "ListStateMachines",
            &json!({}),
            &tenant,
            region,
            "states",
        )
    };
    assert!(list("eu-west-1").is_ok());
    assert_eq!(list("us-east-1").unwrap_err(), refused(WRONG_REGION.into()));
    healthy(&s);
    drop(s);

    // A server without tenants checks no credentials: the CLI or an SDK configured for any
    // region works from loopback, as the README's tour promises.
    let open = TempDir::new("scope-open");
    let s = Server::start(&open.0, &[]);
    runtime().block_on(async {
        sdk(&s.url, "eu-west-1", "AKIDANY", "any")
            .list_state_machines()
            .send()
            .await
            .unwrap();
    });
    healthy(&s);
}

/// A definition of exactly `chars` characters, padded with a comment of `pad` repeated.
fn definition_of(chars: usize, pad: char) -> String {
    let frame = |comment: &str| {
        format!(
            r#"{{"Comment": "{comment}", "StartAt": "A", "States": {{"A": {{"Type": "Pass", "End": true}}}}}}"#
        )
    };
    let fixed = frame("").chars().count();
    let text = frame(&pad.to_string().repeat(chars - fixed));
    assert_eq!(text.chars().count(), chars);
    text
}

/// Finding 8: a 2 MB definition, tag keys with AWS's reserved prefix and a 100,000-character
/// trace header were accepted.
#[test]
fn aws_limits_on_definitions_tags_and_trace_headers() {
    let dir = TempDir::new("limits");
    let s = Server::start(&dir.0, &[]);
    let too_long = (
        400,
        "ValidationException".to_string(),
        "1 validation error detected: Value at 'definition' failed to satisfy constraint: \
         Member must have length less than or equal to 1048576"
            .to_string(),
    );
    let huge = definition_of(2_000_000, 'x');
    let create = |name: &str, definition: &str| {
        s.call(
            "CreateStateMachine",
            json!({"name": name, "definition": definition, "roleArn": ROLE}),
        )
    };
    assert_eq!(create("huge", &huge).unwrap_err(), too_long);
    assert_eq!(
        s.call(
            "DescribeStateMachine",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:huge"})
        )
        .unwrap_err()
        .1,
        "StateMachineDoesNotExist",
        "nothing was created"
    );
    let arn = s.create_machine("small", &serde_json::from_str(PASS).unwrap(), "STANDARD");
    assert_eq!(
        s.call(
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": huge})
        )
        .unwrap_err(),
        too_long
    );
    assert_eq!(
        s.call(
            "ValidateStateMachineDefinition",
            json!({"definition": huge})
        )
        .unwrap_err(),
        too_long
    );
    // The limit counts characters: 1,048,576 of them pass, even at two bytes each.
    for pad in ['x', 'é'] {
        let largest = definition_of(1_048_576, pad);
        let r = s.ok(
            "ValidateStateMachineDefinition",
            json!({"definition": largest}),
        );
        assert_eq!(r["result"], "OK", "{pad}: {r}");
    }
    create("largest", &definition_of(1_048_576, 'x')).unwrap();
    assert_eq!(
        create("one-more", &definition_of(1_048_577, 'x')).unwrap_err(),
        too_long
    );

    // Tag keys starting with `aws:`, in any case, are AWS's own.
    let e = s
        .call(
            "CreateStateMachine",
            json!({"name": "tagged", "definition": PASS, "roleArn": ROLE, "tags": [{"key": "aws:cloudformation:stack-name", "value": "x"}]}),
        )
        .unwrap_err();
    assert_eq!((e.0, e.1.as_str()), (400, "ValidationException"), "{e:?}");
    assert!(e.2.contains("'aws:'"), "{e:?}");
    for key in ["aws:createdBy", "AWS:x"] {
        let e = s
            .call(
                "TagResource",
                json!({"resourceArn": arn, "tags": [{"key": key, "value": "v"}]}),
            )
            .unwrap_err();
        assert_eq!((e.0, e.1.as_str()), (400, "ValidationException"), "{key}");
    }
    s.ok(
        "TagResource",
        json!({"resourceArn": arn, "tags": [{"key": "team", "value": "aws:ok"}]}),
    );
    let tags = s.ok("ListTagsForResource", json!({"resourceArn": arn}));
    assert_eq!(tags["tags"], json!([{"key": "team", "value": "aws:ok"}]));

    // traceHeader: at most 256 characters, with AWS's message (the value echoed).
    let long = "t".repeat(100_000);
    let e = s
        .call(
            "StartExecution",
            json!({"stateMachineArn": arn, "traceHeader": long}),
        )
        .unwrap_err();
    assert_eq!(
        e,
        (
            400,
            "ValidationException".to_string(),
            format!(
                "1 validation error detected: Value '{long}' at 'traceHeader' failed to satisfy \
                 constraint: Member must have length less than or equal to 256"
            )
        )
    );
    let root = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1;";
    let longest = format!("{root}{}", "x".repeat(256 - root.len()));
    let started = s.ok(
        "StartExecution",
        json!({"stateMachineArn": arn, "traceHeader": longest}),
    );
    assert_eq!(
        s.wait_done(
            started["executionArn"].as_str().unwrap(),
            Duration::from_secs(10)
        )["status"],
        "SUCCEEDED"
    );
    let express = s.create_machine("fast", &serde_json::from_str(PASS).unwrap(), "EXPRESS");
    let e = s
        .call(
            "StartSyncExecution",
            json!({"stateMachineArn": express, "traceHeader": "x".repeat(257)}),
        )
        .unwrap_err();
    assert_eq!((e.0, e.1.as_str()), (400, "ValidationException"));
    healthy(&s);
}

/// What an error answer looks like: status, `__type`, `message`, `Allow`; panics unless the
/// body is AWS's JSON shape with the AWS JSON content type.
fn error_of(result: Result<ureq::Response, ureq::Error>) -> (u16, String, String, Option<String>) {
    let response = match result {
        Err(ureq::Error::Status(_, r)) => r,
        Ok(r) => panic!("expected an error, got {}", r.status()),
        Err(e) => panic!("{e}"),
    };
    let status = response.status();
    assert_eq!(
        response.header("content-type"),
        Some("application/x-amz-json-1.0"),
        "status {status}"
    );
    let allow = response.header("allow").map(str::to_owned);
    let text = response.into_string().unwrap();
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    let (Some(kind), Some(message)) = (body["__type"].as_str(), body["message"].as_str()) else {
        panic!("not {{__type, message}}: {text}");
    };
    (status, kind.to_string(), message.to_string(), allow)
}

/// Finding 9: `/v1/tenants` answered 422 or 415 in plain text, `GET /` an empty 405, and a
/// missing kv item was 400 while a missing module was 404.
#[test]
fn every_error_answer_is_aws_json() {
    let dir = TempDir::new("errors");
    let s = Server::start(&dir.0, &["--admin-token", "root"]);
    let tenants = format!("{}/v1/tenants", s.url);
    let admin = |req: ureq::Request| req.set("authorization", "Bearer root");

    let (status, kind, message, _) = error_of(
        admin(ureq::post(&tenants))
            .set("content-type", "application/json")
            .send_string("{not json"),
    );
    assert_eq!(
        (status, kind.as_str()),
        (400, "ValidationException"),
        "{message}"
    );
    let (status, kind, _, _) = error_of(admin(ureq::post(&tenants)).send_json(json!({"nom": "x"})));
    assert_eq!((status, kind.as_str()), (400, "ValidationException"));
    // No Content-Type at all: still read as JSON (curl -d users), so a good body works...
    let created: Value = admin(ureq::post(&tenants))
        .send_string(r#"{"name": "acme"}"#)
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(created["tenant"], "acme");
    // ... and a bad one is AWS-shaped.
    let (status, kind, _, _) = error_of(admin(ureq::post(&tenants)).send_string("name=acme"));
    assert_eq!((status, kind.as_str()), (400, "ValidationException"));
    let (status, kind, _, _) = error_of(ureq::post(&tenants).send_json(json!({"name": "x"})));
    assert_eq!((status, kind.as_str()), (400, "AccessDeniedException"));

    // Methods and paths no route serves.
    let (status, kind, message, allow) = error_of(ureq::get(&format!("{}/", s.url)).call());
    assert_eq!((status, kind.as_str()), (405, "UnknownOperationException"));
    assert_eq!(allow.as_deref(), Some("POST"));
    assert!(message.contains("X-Amz-Target"), "{message}");
    let (status, kind, _, allow) = error_of(ureq::delete(&tenants).call());
    assert_eq!(
        (status, kind.as_str(), allow.as_deref()),
        (405, "UnknownOperationException", Some("POST"))
    );
    for path in ["/nothing", "/v1/nothing", "/v1/kv/only-a-table"] {
        let (status, kind, message, _) = error_of(ureq::get(&format!("{}{path}", s.url)).call());
        assert_eq!((status, kind.as_str()), (404, "ResourceNotFound"), "{path}");
        assert!(message.contains(path), "{message}");
    }

    // One convention for a missing resource under /v1: 404 ResourceNotFound.
    let bearer = format!("Bearer {}", created["apiKey"].as_str().unwrap());
    let v1 = |path: &str| format!("{}/v1/{path}", s.url);
    for path in ["kv/orders/missing", "modules/missing"] {
        let (status, kind, _, _) =
            error_of(ureq::get(&v1(path)).set("authorization", &bearer).call());
        assert_eq!((status, kind.as_str()), (404, "ResourceNotFound"), "{path}");
    }
    for path in ["modules/missing", "modules/missing/versions/3"] {
        let (status, kind, _, _) =
            error_of(ureq::delete(&v1(path)).set("authorization", &bearer).call());
        assert_eq!((status, kind.as_str()), (404, "ResourceNotFound"), "{path}");
    }
    // axum's own rejections (a path segment that does not parse) are AWS-shaped too.
    let (status, kind, _, _) = error_of(
        ureq::delete(&v1("modules/echo/versions/not-a-number"))
            .set("authorization", &bearer)
            .call(),
    );
    assert_eq!((status, kind.as_str()), (400, "ValidationException"));
    // The AWS API keeps AWS's 400 for what is missing.
    let e = call_at(
        &s.url,
        "DescribeStateMachine",
        json!({"stateMachineArn": format!("arn:aws:states:us-east-1:{}:stateMachine:none", created["account"].as_str().unwrap())}),
        &[("authorization", &bearer)],
    )
    .unwrap_err();
    assert_eq!((e.0, e.1.as_str()), (400, "StateMachineDoesNotExist"));
    let e = call_at(
        &s.url,
        "ListTagsForResource",
        json!({"resourceArn": format!("arn:aws:states:us-east-1:{}:stateMachine:none", created["account"].as_str().unwrap())}),
        &[("authorization", &bearer)],
    )
    .unwrap_err();
    assert_eq!((e.0, e.1.as_str()), (400, "ResourceNotFound"));
    healthy(&s);
}
