//! The web console: its endpoints over HTTP, and its pages in a real headless Chromium
//! (screenshots of each scenario land in `target/console-screenshots/`).

use crate::browser::{Browser, PATIENCE};
use crate::support::{aws_json, Server, TempDir};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Choice, Parallel, Map and Catch; a Wait first so the run can be watched live.
fn tour() -> Value {
    json!({
        "Comment": "Every kind of container and edge",
        "StartAt": "Reshape",
        "States": {
            "Reshape": {"Type": "Pass", "InputPath": "$.order",
                "Parameters": {"total.$": "States.MathAdd($.price, $.tax)", "items.$": "$.items"},
                "ResultPath": "$.summary", "OutputPath": "$.summary", "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 2, "Next": "Check"},
            "Check": {"Type": "Choice",
                "Choices": [{"Variable": "$.total", "NumericGreaterThan": 0, "Next": "Fan"}],
                "Default": "Skipped"},
            "Fan": {"Type": "Parallel", "Next": "Each", "ResultPath": "$.fan",
                "Branches": [
                    {"StartAt": "Fine", "States": {"Fine": {"Type": "Pass", "End": true}}},
                    {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Oops", "Cause": "on purpose"}}}],
                "Catch": [{"ErrorEquals": ["Oops"], "ResultPath": "$.error", "Next": "Each"}]},
            "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.doubled", "Next": "Done",
                "ItemProcessor": {"StartAt": "Double", "States": {
                    "Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": true}}}},
            "Done": {"Type": "Succeed"},
            "Skipped": {"Type": "Pass", "End": true}
        }
    })
}

const STATES: [&str; 10] = [
    "Reshape", "Pause", "Check", "Fan", "Fine", "Boom", "Each", "Double", "Done", "Skipped",
];

fn input() -> Value {
    json!({"order": {"price": 10, "tax": 2, "items": [1, 2]}, "other": true})
}

pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every `g.node` in the page's graph: name → status.
fn statuses(b: &Browser) -> BTreeMap<String, String> {
    let v = b.run(
        "return Array.from(document.querySelectorAll('svg.graph g.node')).map(n => [n.dataset.name, n.dataset.kind, n.dataset.status || ''])",
        json!([]),
    );
    v.as_array()
        .unwrap()
        .iter()
        .filter(|n| !matches!(n[1].as_str(), Some("start" | "end")))
        .map(|n| {
            (
                n[0].as_str().unwrap().to_string(),
                n[2].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn node(b: &Browser, name: &str) -> crate::browser::Element {
    b.wait(&format!("svg.graph g.node[data-name=\"{name}\"]"))
}

#[test]
fn the_graph_endpoint_draws_what_it_can_and_reports_the_rest() {
    let dir = TempDir::new("console-graph");
    let s = Server::start(&dir.0, &[]);
    let post = |body: &str, query: &str| -> (u16, Value) {
        match ureq::post(&format!("{}/v1/console/graph{query}", s.url)).send_string(body) {
            Ok(r) => (r.status(), r.into_json().unwrap()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap()),
            Err(e) => panic!("{e}"),
        }
    };
    let (code, ok) = post(&tour().to_string(), "");
    assert_eq!(code, 200);
    assert_eq!(ok["diagnostics"], json!([]));
    let names: Vec<&str> = ok["graph"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["name"].as_str())
        .collect();
    for state in STATES {
        assert!(names.contains(&state), "{state} missing from {names:?}");
    }
    let bad = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}});
    let (_, drawn) = post(&bad.to_string(), "?type=EXPRESS");
    assert_eq!(drawn["diagnostics"][0]["code"], "MISSING_TRANSITION_TARGET");
    assert!(drawn["diagnostics"][0]["location"]
        .as_str()
        .unwrap()
        .starts_with("/States/A"));
    assert_eq!(drawn["graph"]["nodes"].as_array().unwrap().len(), 3);
    let (_, broken) = post("{\"StartAt\": ", "");
    assert_eq!(broken["graph"], Value::Null);
    assert!(!broken["diagnostics"].as_array().unwrap().is_empty());
    let (code, wrong) = post("{}", "?type=FAST");
    assert_eq!(
        (code, wrong["__type"].as_str()),
        (400, Some("ValidationException"))
    );
}

#[test]
fn the_trace_endpoint_shows_every_stage_of_a_past_execution() {
    let dir = TempDir::new("console-trace");
    let s = Server::start(&dir.0, &[]);
    let arn = s.create_machine("tour", &tour(), "STANDARD");
    let run = s.ok(
        "StartExecution",
        json!({"stateMachineArn": arn, "input": input().to_string()}),
    );
    let exec = run["executionArn"].as_str().unwrap();
    assert_eq!(s.wait_done(exec, PATIENCE)["status"], "SUCCEEDED");
    let trace: Value = ureq::get(&format!(
        "{}/v1/console/trace?executionArn={}",
        s.url,
        encode(exec)
    ))
    .call()
    .unwrap()
    .into_json()
    .unwrap();
    assert_eq!(trace["status"], "SUCCEEDED");
    let visits = trace["visits"].as_array().unwrap();
    let visit = |name: &str| visits.iter().find(|v| v["state"] == name).unwrap();
    assert_eq!(
        visit("Reshape")["stages"]["afterParameters"],
        json!({"total": 12, "items": [1, 2]})
    );
    assert_eq!(visit("Fan")["status"], "caught");
    assert_eq!(visit("Boom")["status"], "failed");
    assert_eq!(visit("Boom")["scope"], "Fan[1]");
    let doubles: Vec<&Value> = visits.iter().filter(|v| v["state"] == "Double").collect();
    assert_eq!(doubles.len(), 2);
    assert_eq!(doubles[1]["scope"], "Each[1]");
    assert_eq!(doubles[1]["stages"]["output"], json!({"v": 4}));
    assert!(visits.iter().all(|v| v["state"] != "Skipped"));
    // Polling takes the visits without their data; the inspector one visit with it.
    let get = |query: &str| -> Result<Value, (u16, String)> {
        match ureq::get(&format!("{}/v1/console/trace?{query}", s.url)).call() {
            Ok(r) => Ok(r.into_json().unwrap()),
            Err(ureq::Error::Status(code, r)) => Err((
                code,
                r.into_json::<Value>().unwrap()["__type"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )),
            Err(e) => panic!("{e}"),
        }
    };
    let summary = get(&format!("executionArn={}&stages=none", encode(exec))).unwrap();
    assert_eq!(summary["visits"].as_array().unwrap().len(), visits.len());
    assert!(summary["visits"][0].get("stages").is_none());
    let id = visit("Reshape")["enteredEventId"].as_u64().unwrap();
    let one = get(&format!("executionArn={}&visit={id}", encode(exec))).unwrap();
    assert_eq!(one["visits"].as_array().unwrap().len(), 1);
    assert_eq!(one["visits"][0]["stages"], visit("Reshape")["stages"]);
    // Bad parameters, unknown executions and Express executions get AWS-style errors.
    let error = |query: String| get(&query).unwrap_err();
    assert_eq!(
        error(format!("executionArn={}&visit=x", encode(exec))),
        (400, "ValidationException".into())
    );
    assert_eq!(
        error(format!("executionArn={}&stages=some", encode(exec))),
        (400, "ValidationException".into())
    );
    assert_eq!(error("visit=1".into()), (400, "ValidationException".into()));
    assert_eq!(
        error(format!(
            "executionArn={}",
            encode(&exec.replace(":tour:", ":other:"))
        )),
        (400, "ExecutionDoesNotExist".into())
    );
    let express = exec.replace(":execution:", ":express:");
    assert_eq!(
        error(format!("executionArn={}", encode(&express))),
        (400, "StateMachineTypeNotSupported".into())
    );
}

#[test]
fn the_console_draws_a_machine_with_every_kind_of_state() {
    let dir = TempDir::new("console-machine");
    let s = Server::start(&dir.0, &[]);
    s.create_machine("tour", &tour(), "STANDARD");
    let b = Browser::start();
    b.goto(&format!("{}/console#/machines", s.url));
    let link = b.wait("a[href*='tour']");
    b.click(&link);
    node(&b, "Double");
    let drawn = statuses(&b);
    for state in STATES {
        assert!(drawn.contains_key(state), "{state} not drawn: {drawn:?}");
    }
    let kinds = b.run(
        "return Array.from(document.querySelectorAll('svg.graph g.edge')).map(e => e.dataset.kind)",
        json!([]),
    );
    for kind in ["choice", "default", "catch", "next", "start", "end"] {
        assert!(
            kinds.as_array().unwrap().iter().any(|k| k == kind),
            "no {kind} edge in {kinds}"
        );
    }
    let labels = b.run(
        "return Array.from(document.querySelectorAll('svg.graph g.edge text')).map(t => t.textContent)",
        json!([]),
    );
    assert!(labels.to_string().contains("$.total > 0"), "{labels}");
    assert_eq!(
        b.all("svg.graph g.lane").len(),
        3,
        "two branches and a processor"
    );
    b.click(&node(&b, "Fan"));
    let detail = b.wait_for("the state's panel", || {
        let text = b.first_text("#state-detail")?;
        text.contains("Oops").then_some(text)
    });
    assert!(detail.contains("Parallel"), "{detail}");
    b.screenshot("machine-graph");
    // Export SVG: catch the file the page hands to the browser and check it stands alone.
    b.run(
        "window.exported = null; const make = URL.createObjectURL;
         URL.createObjectURL = (blob) => { blob.text().then(t => { window.exported = t; }); return make.call(URL, blob); };",
        json!([]),
    );
    b.click(&b.wait("#export-svg"));
    let svg = b.wait_for("the exported SVG", || {
        b.run("return window.exported", json!([]))
            .as_str()
            .map(str::to_string)
    });
    assert!(
        svg.contains("xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg:.200}"
    );
    for state in STATES {
        assert!(
            svg.contains(&format!(">{state}<")),
            "{state} missing from the export"
        );
    }
    for _ in 0..3 {
        b.click(&b.wait("button[title='Zoom out']"));
    }
    b.screenshot("machine-graph-zoomed-out");
    b.resize(420, 800);
    node(&b, "Reshape");
    b.screenshot("machine-graph-narrow");
}

#[test]
fn the_console_shows_a_run_finishing_live_and_inspects_every_stage() {
    let dir = TempDir::new("console-run");
    let s = Server::start(&dir.0, &[]);
    let arn = s.create_machine("tour", &tour(), "STANDARD");
    let b = Browser::start();
    b.goto(&format!("{}/console#/machines/{}", s.url, encode(&arn)));
    let field = b.wait("#start-input");
    b.clear(&field);
    b.type_text(&field, &input().to_string());
    b.click(&b.wait("#start-execution"));
    // The Wait keeps it running for two seconds: the page shows that, then the end.
    b.wait_for("the Wait state running", || {
        (statuses(&b).get("Pause").map(String::as_str) == Some("running")).then_some(())
    });
    assert_eq!(b.wait_text("#execution-status"), "RUNNING");
    b.screenshot("execution-running");
    // Live updates change the drawing in place: the same SVG element to the end.
    b.run(
        "document.querySelector('svg.graph').dataset.mark = 'kept'",
        json!([]),
    );
    b.wait_for("SUCCEEDED", || {
        let status = b.first_text("#execution-status")?;
        (status == "SUCCEEDED").then_some(())
    });
    let expected: BTreeMap<String, String> = [
        ("Reshape", "succeeded"),
        ("Pause", "succeeded"),
        ("Check", "succeeded"),
        ("Fan", "caught"),
        ("Fine", "succeeded"),
        ("Boom", "failed"),
        ("Each", "succeeded"),
        ("Double", "succeeded"),
        ("Done", "succeeded"),
        ("Skipped", "not-reached"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    b.wait_for("the final colours", || {
        (statuses(&b) == expected).then_some(())
    });
    assert_eq!(
        b.run(
            "return document.querySelector('svg.graph').dataset.mark",
            json!([])
        ),
        "kept",
        "the graph was redrawn instead of updated"
    );
    // The event table and the timeline (a row per branch and per iteration).
    let events = b.all("#events tbody tr");
    assert!(events.len() > 20, "{} events", events.len());
    assert!(b.texts("#events tbody tr")[0].contains("ExecutionStarted"));
    assert!(b.all("#timeline .timeline-row").len() >= 5);
    assert!(b.all("#timeline .timeline-bar[data-name=\"Double\"]").len() >= 2);
    b.screenshot("execution-succeeded");
    b.run(
        "document.querySelector('#timeline').scrollIntoView()",
        json!([]),
    );
    b.screenshot("execution-timeline");

    // The inspector: every stage of the Pass state, as the engine computed it.
    b.click(&node(&b, "Reshape"));
    let stage = |name: &str| -> Value {
        let selector = format!("#inspector [data-stage=\"{name}\"] pre");
        b.wait_for(&format!("stage {name}"), || {
            let text = b.first_text(&selector)?;
            serde_json::from_str(&text).ok()
        })
    };
    b.wait_for("the inspector showing Reshape", || {
        (stage("input") == input()).then_some(())
    });
    assert_eq!(
        stage("afterInputPath"),
        json!({"price": 10, "tax": 2, "items": [1, 2]})
    );
    assert_eq!(
        stage("afterParameters"),
        json!({"total": 12, "items": [1, 2]})
    );
    assert_eq!(
        stage("afterResultPath"),
        json!({"order": {"price": 10, "tax": 2, "items": [1, 2]}, "other": true,
               "summary": {"total": 12, "items": [1, 2]}})
    );
    assert_eq!(stage("output"), json!({"total": 12, "items": [1, 2]}));
    b.screenshot("inspector-pass-state");
    // A state run once per item offers each visit.
    b.click(&node(&b, "Double"));
    let select = b.wait("#visit-select");
    assert_eq!(b.all("#visit-select option").len(), 2);
    let _ = select;
}

#[test]
fn the_editor_marks_an_unbound_resource_and_the_modules_page_binds_it() {
    let dir = TempDir::new("console-bindings");
    let s = Server::start(&dir.0, &[]);
    s.upload("echo", &crate::support::module("echo"), "")
        .unwrap();
    let b = Browser::start();
    b.goto(&format!("{}/console#/editor", s.url));
    let editor = b.wait("#definition-editor");
    b.clear(&editor);
    b.type_text(
        &editor,
        r#"{"StartAt": "Labels", "States": {"Labels": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:rekognition:detectLabels", "End": true}}}"#,
    );
    let warning = b.wait_text("#diagnostics li.diagnostic.warning");
    assert!(warning.contains("UNBOUND_RESOURCE"), "{warning}");
    let flag = |b: &Browser| {
        b.run(
            "const n = document.querySelector('svg.graph g.node[data-name=\"Labels\"]'); return n ? (n.dataset.flag || '') : null",
            json!([]),
        )
    };
    b.wait_for("the state marked", || (flag(&b) == "warning").then_some(()));
    b.screenshot("editor-unbound-resource");
    // Bound on the Modules page, with the module picked from the tenant's.
    b.goto(&format!("{}/console#/modules", s.url));
    b.wait("#modules tbody tr");
    b.type_text(
        &b.wait("#binding-resource"),
        "arn:aws:states:::aws-sdk:rekognition:*",
    );
    b.type_text(&b.wait("#binding-module"), "echo");
    b.click(&b.wait("#binding-save"));
    let row = b.wait_text("#bindings tbody tr");
    assert!(
        row.contains("arn:aws:states:::aws-sdk:rekognition:*") && row.contains("echo"),
        "{row}"
    );
    assert_eq!(
        b.run(
            "return Array.from(document.querySelectorAll('#binding-modules option')).map(o => o.value)",
            json!([])
        ),
        json!(["echo"])
    );
    b.screenshot("modules-bindings");
    // The editor no longer warns: the state runs.
    b.goto(&format!("{}/console#/editor", s.url));
    let editor = b.wait("#definition-editor");
    b.clear(&editor);
    b.type_text(
        &editor,
        r#"{"StartAt": "Labels", "States": {"Labels": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:rekognition:detectLabels", "End": true}}}"#,
    );
    b.wait("#diagnostics li.ok");
    b.wait_for("the mark gone", || (flag(&b) == "").then_some(()));
}

#[test]
fn the_editor_shows_diagnostics_as_you_type_and_saves() {
    let dir = TempDir::new("console-editor");
    let s = Server::start(&dir.0, &[]);
    let b = Browser::start();
    b.goto(&format!("{}/console#/editor", s.url));
    let editor = b.wait("#definition-editor");
    b.clear(&editor);
    b.type_text(
        &editor,
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}"#,
    );
    let diagnostic = b.wait_for("a diagnostic", || {
        b.first_text("#diagnostics li.diagnostic")
    });
    assert!(
        diagnostic.contains("MISSING_TRANSITION_TARGET"),
        "{diagnostic}"
    );
    assert!(diagnostic.contains("/States/A"), "{diagnostic}");
    node(&b, "A");
    // Clicking a diagnostic points at its state in the graph.
    b.click(&b.wait("#diagnostics li.diagnostic"));
    b.wait_for("the state selected", || {
        let name = b.run(
            "const s = document.querySelector('svg.graph .selected'); return s ? s.dataset.name : null",
            json!([]),
        );
        (name == "A").then_some(())
    });
    b.screenshot("editor-invalid");
    b.clear(&editor);
    b.type_text(
        &editor,
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}}"#,
    );
    b.wait("#diagnostics li.ok");
    node(&b, "B");
    let name = b.wait("#machine-name");
    b.type_text(&name, "edited");
    b.click(&b.wait("#save-machine"));
    // Saving creates the machine and opens its page.
    b.wait_for("the saved machine's page", || {
        let hash = b.run("return location.hash", json!([]));
        hash.as_str()?.contains("edited").then_some(())
    });
    node(&b, "B");
    let machines = s.ok("ListStateMachines", json!({}));
    assert_eq!(machines["stateMachines"][0]["name"], "edited");
    b.screenshot("editor-saved");
}

#[test]
fn a_multi_tenant_console_asks_for_a_key_and_shows_only_that_tenant() {
    let dir = TempDir::new("console-tenants");
    let s = Server::start(&dir.0, &["--admin-token", "root-token"]);
    let (a, other) = (
        s.create_tenant("root-token", "acme"),
        s.create_tenant("root-token", "globex"),
    );
    let machine = |key: &Value, name: &str| {
        let bearer = format!("Bearer {}", key["apiKey"].as_str().unwrap());
        crate::support::call_at(
            &s.url,
            "CreateStateMachine",
            json!({"name": name, "definition": tour().to_string(), "roleArn": "arn:aws:iam::000000000000:role/r"}),
            &[("authorization", &bearer)],
        )
        .unwrap();
    };
    machine(&a, "acme-flow");
    machine(&other, "globex-flow");
    // The trace endpoint is scoped like the rest: B cannot read A's execution by its ARN.
    let bearer = |key: &Value| format!("Bearer {}", key["apiKey"].as_str().unwrap());
    let started = crate::support::call_at(
        &s.url,
        "StartExecution",
        json!({"stateMachineArn": format!("arn:aws:states:us-east-1:{}:stateMachine:acme-flow", a["account"].as_str().unwrap()),
               "input": input().to_string()}),
        &[("authorization", &bearer(&a))],
    )
    .unwrap();
    let exec = started["executionArn"].as_str().unwrap();
    let trace_as = |key: Option<&Value>| -> (u16, String) {
        let mut request = ureq::get(&format!(
            "{}/v1/console/trace?executionArn={}",
            s.url,
            encode(exec)
        ));
        if let Some(key) = key {
            request = request.set("authorization", &bearer(key));
        }
        match request.call() {
            Ok(r) => (r.status(), String::new()),
            Err(ureq::Error::Status(code, r)) => (
                code,
                r.into_json::<Value>().unwrap()["__type"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            ),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(trace_as(Some(&a)).0, 200);
    assert_eq!(
        trace_as(Some(&other)),
        (400, "ExecutionDoesNotExist".into()),
        "another tenant read the trace"
    );
    assert_eq!(
        trace_as(None),
        (403, "MissingAuthenticationTokenException".into())
    );

    let b = Browser::start();
    b.goto(&format!("{}/console#/machines", s.url));
    let key = b.wait("#api-key-input");
    b.type_text(&key, a["apiKey"].as_str().unwrap());
    b.click(&b.wait("#api-key-save"));
    b.wait("a[href*='acme-flow']");
    assert!(b.all("a[href*='globex-flow']").is_empty());
    b.screenshot("tenant-machines");
}

#[test]
fn the_console_stops_a_running_execution() {
    let dir = TempDir::new("console-stop");
    let s = Server::start(&dir.0, &[]);
    let long = json!({"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let arn = s.create_machine("sleepy", &long, "STANDARD");
    let run = s.ok(
        "StartExecution",
        json!({"stateMachineArn": arn, "name": "nap"}),
    );
    let exec = run["executionArn"].as_str().unwrap();
    let b = Browser::start();
    b.goto(&format!("{}/console#/machines/{}", s.url, encode(&arn)));
    let row = b.wait_text("#executions tbody tr");
    assert!(row.contains("nap") && row.contains("RUNNING"), "{row}");
    b.goto(&format!("{}/console#/executions/{}", s.url, encode(exec)));
    b.wait_for("Sleep running", || {
        (statuses(&b).get("Sleep").map(String::as_str) == Some("running")).then_some(())
    });
    let stop = b.wait("#stop-execution:not([disabled])");
    b.click(&stop);
    b.wait_for("ABORTED", || {
        let status = b.first_text("#execution-status")?;
        (status == "ABORTED").then_some(())
    });
    assert_eq!(s.wait_done(exec, PATIENCE)["status"], "ABORTED");
    b.wait_for("Sleep cancelled", || {
        (statuses(&b).get("Sleep").map(String::as_str) == Some("cancelled")).then_some(())
    });
    // The list's status filter.
    b.goto(&format!("{}/console#/machines/{}", s.url, encode(&arn)));
    b.wait("#executions tbody tr");
    b.run(
        "const f = document.querySelector('#status-filter'); f.value = 'RUNNING'; f.dispatchEvent(new Event('change', {bubbles: true}));",
        json!([]),
    );
    b.wait_for("an empty RUNNING list", || {
        let text: String = b.texts("#executions tbody tr").concat();
        (!text.contains("nap")).then_some(())
    });
    b.screenshot("execution-stopped-filter");
}

#[test]
fn the_console_uploads_and_lists_modules() {
    let dir = TempDir::new("console-modules");
    let s = Server::start(&dir.0, &[]);
    let wasm = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../modules/dist/echo.wasm");
    assert!(
        wasm.exists(),
        "run `bash modules/build.sh` first (the test command does)"
    );
    let b = Browser::start();
    b.goto(&format!("{}/console#/modules", s.url));
    b.type_text(&b.wait("#module-name"), "echo");
    b.type_text(&b.wait("#module-grants"), "kv:orders");
    b.type_text(
        &b.wait("#module-file"),
        &wasm.canonicalize().unwrap().display().to_string(),
    );
    b.click(&b.wait("#module-upload"));
    let row = b.wait_for("the uploaded module", || {
        let text = b.first_text("#modules tbody tr")?;
        text.contains("echo").then_some(text)
    });
    assert!(row.contains("kv:orders"), "{row}");
    let listed: Value = ureq::get(&format!("{}/v1/modules", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(listed["modules"][0]["name"], "echo");
    // Bad bytes: the server's error is shown, not swallowed.
    let junk = dir.0.join("junk.wasm");
    std::fs::write(&junk, b"not wasm").unwrap();
    let name = b.wait("#module-name");
    b.clear(&name);
    b.type_text(&name, "junk");
    b.type_text(&b.wait("#module-file"), &junk.display().to_string());
    b.click(&b.wait("#module-upload"));
    let banner = b.wait_for("the error banner", || {
        let text = b.first_text("#error-banner")?;
        (!text.is_empty()).then_some(text)
    });
    assert!(
        banner.starts_with("InvalidModule: ") && banner.contains("not a WebAssembly module"),
        "{banner}"
    );
    let after: Value = ureq::get(&format!("{}/v1/modules", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(after, listed, "the refused upload stored nothing");
    b.screenshot("modules");
}

#[test]
fn the_console_draws_two_hundred_states() {
    let dir = TempDir::new("console-big");
    let s = Server::start(&dir.0, &[]);
    let mut states = serde_json::Map::new();
    for i in 0..200 {
        let next = format!("S{}", i + 1);
        let state = match i {
            199 => json!({"Type": "Succeed"}),
            i if i % 10 == 5 => json!({"Type": "Choice",
                "Choices": [{"Variable": "$.skip", "BooleanEquals": true, "Next": format!("S{}", (i + 3).min(199))},
                            {"Variable": "$.again", "BooleanEquals": true, "Next": format!("S{}", i - 4)}],
                "Default": next}),
            _ => json!({"Type": "Pass", "Next": next}),
        };
        states.insert(format!("S{i}"), state);
    }
    let arn = s.create_machine(
        "big",
        &json!({"StartAt": "S0", "States": states}),
        "STANDARD",
    );
    let b = Browser::start();
    b.goto(&format!("{}/console#/machines/{}", s.url, encode(&arn)));
    node(&b, "S199");
    assert_eq!(statuses(&b).len(), 200);
    assert_eq!(b.all("svg.graph g.edge[data-kind=\"choice\"]").len(), 40);
    b.screenshot("machine-graph-200-states");
}

#[test]
fn the_console_colours_a_retried_task() {
    let dir = TempDir::new("console-retry");
    let s = Server::start(&dir.0, &[]);
    // Attempt 0 calls `echo0`, which does not exist; the retry calls `echo1`, which does.
    s.upload("echo1", &crate::support::module("echo"), "")
        .unwrap();
    let flaky = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName.$": "States.Format('echo{}', $$.State.RetryCount)", "Payload": {"hi": 1}},
        "Retry": [{"ErrorEquals": ["Lambda.ResourceNotFoundException"], "IntervalSeconds": 1, "MaxAttempts": 2}],
        "End": true}}});
    let arn = s.create_machine("flaky", &flaky, "STANDARD");
    let run = s.ok(
        "StartExecution",
        json!({"stateMachineArn": arn, "name": "once-more"}),
    );
    let exec = run["executionArn"].as_str().unwrap();
    assert_eq!(s.wait_done(exec, PATIENCE)["status"], "SUCCEEDED");
    let b = Browser::start();
    b.goto(&format!("{}/console#/executions/{}", s.url, encode(exec)));
    b.wait_for("Call retried", || {
        (statuses(&b).get("Call").map(String::as_str) == Some("retried")).then_some(())
    });
    b.click(&node(&b, "Call"));
    let stage = |name: &str| -> Value {
        let selector = format!("#inspector [data-stage=\"{name}\"] pre");
        b.wait_for(&format!("stage {name}"), || {
            serde_json::from_str(&b.first_text(&selector)?).ok()
        })
    };
    assert_eq!(stage("afterParameters")["FunctionName"], "echo1");
    assert_eq!(stage("error")["Error"], "Lambda.ResourceNotFoundException");
    assert_eq!(stage("result")["Payload"], json!({"hi": 1}));
    b.screenshot("execution-retried");
}

#[test]
fn the_console_lists_jobs_and_cancels_one() {
    let dir = TempDir::new("console-jobs");
    let s = Server::start(&dir.0, &[]);
    s.upload("crunch", &crate::support::module("crunch"), "")
        .unwrap();
    let b = Browser::start();
    // The views redraw every 2 s: read them in one script each, never through a held element.
    let read =
        |script: &str| -> Option<String> { b.run(script, json!([])).as_str().map(str::to_string) };
    b.goto(&format!("{}/console#/jobs", s.url));
    b.type_text(&b.wait("#queue-name"), "nightly");
    b.click(&b.wait("#queue-save"));
    b.wait_for("the new queue", || {
        read("return [...document.querySelectorAll('#job-queues tbody tr')].map(r => r.textContent).join('|')")
            .filter(|rows| rows.contains("nightly"))
    });
    let machine = s.create_machine(
        "long",
        &json!({"StartAt": "Job", "States": {"Job": {"Type": "Task",
            "Resource": "arn:aws:states:::batch:submitJob.sync",
            "Parameters": {"JobName": "forever", "JobQueue": "nightly", "JobDefinition": "crunch",
                "Parameters": {"rounds": 1_000_000_000u64}}, "End": true}}}),
        "STANDARD",
    );
    let run = s.ok("StartExecution", json!({"stateMachineArn": machine}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    // The list refreshes by itself; the running job shows up, with a link to its page.
    let href = b.wait_for("the running job", || {
        read("const row = [...document.querySelectorAll('#jobs tbody tr')].find(r => r.textContent.includes('RUNNING')); return row ? row.querySelector('a').getAttribute('href') : null")
    });
    b.goto(&format!("{}/console{href}", s.url));
    b.wait_for("the job's page", || {
        read("return document.querySelector('#job-status')?.textContent ?? null")
            .filter(|status| status == "RUNNING")
    });
    b.click(&b.wait("#job-cancel"));
    b.wait_for("the cancelled job", || {
        read("return document.querySelector('#job-status')?.textContent ?? null")
            .filter(|status| status == "FAILED")
    });
    let done = s.wait_done(&run, std::time::Duration::from_secs(30));
    assert_eq!(done["status"], "FAILED", "{done}");
    assert!(
        done["cause"]
            .as_str()
            .unwrap()
            .contains("Cancelled from the console"),
        "{done}"
    );
    b.screenshot("jobs");
}

/// One call of the SNS query protocol, as the AWS CLI sends it.
fn sns_form(url: &str, form: &str) {
    ureq::post(url)
        .set("content-type", "application/x-www-form-urlencoded")
        .send_string(form)
        .unwrap_or_else(|e| panic!("{form}: {e:?}"));
}

#[test]
fn console_data_browser_lists_edits_peeks_and_publishes() {
    let dir = TempDir::new("console-data");
    let s = Server::start(&dir.0, &[]);
    // A table, two queues, a topic feeding one of them and a bucket, as the AWS CLI makes them.
    aws_json(
        &s.url,
        "DynamoDB_20120810.CreateTable",
        json!({"TableName": "inventory", "AttributeDefinitions": [{"AttributeName": "sku", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "sku", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}),
    );
    aws_json(
        &s.url,
        "DynamoDB_20120810.PutItem",
        json!({"TableName": "inventory", "Item": {"sku": {"S": "WIDGET-A"}, "stock": {"N": "10"}}}),
    );
    let queue_url = |queue: &str| format!("{}/000000000000/{queue}", s.url);
    for queue in ["orders", "news-feed"] {
        aws_json(&s.url, "AmazonSQS.CreateQueue", json!({"QueueName": queue}));
    }
    aws_json(
        &s.url,
        "AmazonSQS.SendMessage",
        json!({"QueueUrl": queue_url("orders"), "MessageBody": "hello from the test"}),
    );
    sns_form(&s.url, "Action=CreateTopic&Name=news");
    sns_form(
        &s.url,
        &format!(
            "Action=Subscribe&TopicArn={}&Protocol=sqs&Endpoint={}",
            encode("arn:aws:sns:us-east-1:000000000000:news"),
            encode("arn:aws:sqs:us-east-1:000000000000:news-feed")
        ),
    );
    ureq::put(&format!("{}/reports", s.url))
        .set("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .send_string("")
        .unwrap();
    ureq::put(&format!("{}/reports/daily.txt", s.url))
        .set("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .set("content-type", "text/plain")
        .send_string("42 orders")
        .unwrap();

    let b = Browser::start();
    let read =
        |script: &str| -> Option<String> { b.run(script, json!([])).as_str().map(str::to_string) };
    let cells = |row: &str| {
        b.run(
            "return [...document.querySelectorAll(arguments[0] + ' td')].map(td => td.textContent)",
            json!([row]),
        )
    };
    // The overview: every kind of resource in its own list.
    b.goto(&format!("{}/console#/data", s.url));
    for (list, name) in [
        ("data-tables", "inventory"),
        ("data-buckets", "reports"),
        ("data-queues", "orders"),
        ("data-topics", "news"),
    ] {
        b.wait(&format!("#{list} tr[data-name=\"{name}\"]"));
    }
    assert_eq!(
        cells("#data-queues tr[data-name=\"orders\"]"),
        json!(["orders", "Standard", "1", "0", "0"])
    );
    assert_eq!(
        cells("#data-topics tr[data-name=\"news\"]"),
        json!(["news", "1", "arn:aws:sns:us-east-1:000000000000:news"])
    );
    b.screenshot("data-overview");

    // Roles: made in the console, what the API and `sandstep role list` show.
    let name = b.wait("#role-name");
    b.type_text(&name, "Shipping");
    b.type_text(&b.wait("#role-grants"), "queue:orders:write, kv:*:read");
    b.click(&b.wait("#role-save"));
    b.wait("#data-roles tr[data-name=\"Shipping\"]");
    let role: Value = ureq::get(&format!("{}/v1/roles/Shipping", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(role["grants"], json!(["kv:*:read", "queue:orders:write"]));

    // A table: edit an item as JSON; the change is DynamoDB's.
    b.click(&b.wait("#data-tables tr[data-name=\"inventory\"] a"));
    b.click(&b.wait("#table-items tr[data-key='{\"sku\":\"WIDGET-A\"}'] button.item-edit"));
    let shown = b.wait_for("the item in the editor", || {
        read("return document.querySelector('#item-json')?.value ?? null")
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
    });
    assert_eq!(shown, json!({"sku": "WIDGET-A", "stock": 10}));
    let editor = b.wait("#item-json");
    b.clear(&editor);
    b.type_text(
        &editor,
        r#"{"sku": "WIDGET-A", "stock": 7, "note": "counted by hand"}"#,
    );
    b.click(&b.wait("#item-save"));
    b.wait_for("the saved item's row", || {
        read("return document.querySelector('#table-items tbody')?.textContent ?? null")
            .filter(|rows| rows.contains("counted by hand"))
    });
    let stored = aws_json(
        &s.url,
        "DynamoDB_20120810.GetItem",
        json!({"TableName": "inventory", "Key": {"sku": {"S": "WIDGET-A"}}}),
    );
    assert_eq!(
        stored["Item"],
        json!({"sku": {"S": "WIDGET-A"}, "stock": {"N": "7"}, "note": {"S": "counted by hand"}})
    );
    b.screenshot("data-table");

    // A queue: the peek shows what waits, send adds to it, purge empties it.
    b.goto(&format!("{}/console#/data/queue/orders", s.url));
    let peeked =
        || read("return document.querySelector('#queue-messages tbody')?.textContent ?? null");
    b.wait_for("the waiting message", || {
        peeked().filter(|rows| rows.contains("hello from the test"))
    });
    b.type_text(&b.wait("#queue-body"), "sent from the console");
    b.click(&b.wait("#queue-send"));
    b.wait_for("the sent message", || {
        peeked().filter(|rows| rows.contains("sent from the console"))
    });
    b.screenshot("data-queue");
    // WebDriver would dismiss the page's confirm(): the page answers yes itself.
    b.run("window.confirm = () => true", json!([]));
    b.click(&b.wait("#queue-purge"));
    b.wait_for("the purged queue", || {
        peeked().filter(|rows| !rows.contains("hello") && !rows.contains("sent"))
    });
    let left: Value = ureq::get(&format!("{}/v1/queues/orders/messages?limit=10", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(left["messages"], json!([]), "{left}");

    // A topic: its subscription, and a publish that reaches the subscribed queue.
    b.goto(&format!("{}/console#/data/topic/news", s.url));
    b.wait_for("the queue's subscription", || {
        read("return document.querySelector('#topic-subscriptions tbody')?.textContent ?? null")
            .filter(|rows| rows.contains("news-feed"))
    });
    b.type_text(&b.wait("#topic-subject"), "Weekly");
    b.type_text(&b.wait("#topic-message"), "All systems go");
    b.click(&b.wait("#topic-publish"));
    let id = b.wait_for("the published message id", || {
        read("return document.querySelector('#topic-published')?.dataset.messageId ?? null")
    });
    assert!(b.wait_text("#topic-published").contains(&id));
    b.screenshot("data-topic");
    let received = aws_json(
        &s.url,
        "AmazonSQS.ReceiveMessage",
        json!({"QueueUrl": queue_url("news-feed"), "WaitTimeSeconds": 5}),
    );
    let body = received["Messages"][0]["Body"]
        .as_str()
        .unwrap_or_else(|| panic!("nothing delivered: {received}"));
    let notification: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (
            &notification["MessageId"],
            &notification["Subject"],
            &notification["Message"]
        ),
        (&json!(id), &json!("Weekly"), &json!("All systems go"))
    );

    // A bucket: the object, with a link and a download that carries the API key.
    b.goto(&format!("{}/console#/data/bucket/reports", s.url));
    let row = "#bucket-objects tr[data-key=\"daily.txt\"]";
    b.wait(row);
    let listed = cells(row);
    assert_eq!(
        (&listed[0], &listed[1], &listed[3]),
        (&json!("daily.txt"), &json!("9 B"), &json!("text/plain")),
        "{listed}"
    );
    assert_eq!(
        b.run(
            "return document.querySelector(arguments[0] + ' a').getAttribute('href')",
            json!([row])
        ),
        "/v1/buckets/reports/objects/daily.txt"
    );
    b.run(
        "window.downloaded = null; const make = URL.createObjectURL;
         URL.createObjectURL = (blob) => { blob.text().then(t => { window.downloaded = t; }); return make.call(URL, blob); };",
        json!([]),
    );
    b.click(&b.wait(&format!("{row} button.object-download")));
    let bytes = b.wait_for("the downloaded object", || read("return window.downloaded"));
    assert_eq!(bytes, "42 orders");
    b.screenshot("data-bucket");
}

#[test]
fn jsonata_states_validate_as_you_type_and_show_their_stages() {
    let dir = TempDir::new("console-jsonata");
    let s = Server::start(&dir.0, &[]);
    let b = Browser::start();
    // The editor checks `{% %}` expressions as it checks the rest.
    b.goto(&format!("{}/console#/editor", s.url));
    let editor = b.wait("#definition-editor");
    b.clear(&editor);
    b.type_text(
        &editor,
        r#"{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% 1 + %}", "End": true}}}"#,
    );
    let diagnostic = b.wait_for("a JSONata diagnostic", || {
        b.first_text("#diagnostics li.diagnostic")
    });
    assert!(
        diagnostic.contains("INVALID_JSONATA_EXPRESSION"),
        "{diagnostic}"
    );
    assert!(diagnostic.contains("/States/A/Output"), "{diagnostic}");
    b.screenshot("editor-jsonata-invalid");

    // A JSONata Map whose inspector names the stages as JSONata does.
    let definition = json!({"QueryLanguage": "JSONata", "StartAt": "Shape", "States": {
        "Shape": {"Type": "Map", "Items": "{% $states.input.xs %}",
            "ItemSelector": {"v": "{% $states.context.Map.Item.Value * 2 %}"},
            "ItemProcessor": {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "Output": "{% $states.input.v %}", "End": true}}},
            "Assign": {"count": "{% $count($states.result) %}"},
            "Output": {"sum": "{% $sum($states.result) %}"}, "End": true}}});
    let arn = s.create_machine("shape", &definition, "STANDARD");
    let started = s.ok(
        "StartExecution",
        json!({"stateMachineArn": arn, "input": "{\"xs\": [1, 2, 3]}"}),
    );
    let execution = started["executionArn"].as_str().unwrap().to_string();
    b.goto(&format!(
        "{}/console#/executions/{}",
        s.url,
        encode(&execution)
    ));
    b.wait_for("SUCCEEDED", || {
        let status = b.first_text("#execution-status")?;
        (status == "SUCCEEDED").then_some(())
    });
    b.click(&node(&b, "Shape"));
    let stage = |name: &str| -> Value {
        let selector = format!("#inspector [data-stage=\"{name}\"] pre");
        b.wait_for(&format!("stage {name}"), || {
            let text = b.first_text(&selector)?;
            serde_json::from_str(&text).ok()
        })
    };
    assert_eq!(
        stage("afterParameters"),
        json!([{"v": 2}, {"v": 4}, {"v": 6}])
    );
    assert_eq!(stage("result"), json!([2, 4, 6]));
    assert_eq!(stage("output"), json!({"sum": 12}));
    assert_eq!(stage("variables"), json!({"count": 3}));
    let label = |name: &str| b.wait_text(&format!("#inspector [data-stage=\"{name}\"] h4"));
    assert_eq!(label("afterParameters"), "ItemSelector");
    assert_eq!(label("result"), "Result ($states.result)");
    b.screenshot("inspector-jsonata-state");
}

/// One EventBridge call (JSON 1.1), as the AWS CLI sends it.
fn events_json(url: &str, action: &str, body: Value) -> Value {
    ureq::post(url)
        .set("content-type", "application/x-amz-json-1.1")
        .set("x-amz-target", &format!("AWSEvents.{action}"))
        .send_string(&body.to_string())
        .unwrap_or_else(|e| panic!("{action}: {e:?}"))
        .into_json()
        .unwrap()
}

#[test]
fn the_triggers_page_tests_a_route_and_shows_rules_schedules_dead_letters_and_a_live_tail() {
    let dir = TempDir::new("console-triggers");
    let s = Server::start(&dir.0, &[]);
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let echo = s.create_machine("echo", &pass, "EXPRESS");
    let record = s.create_machine("record", &pass, "STANDARD");
    let put = |path: &str, body: Value| {
        ureq::put(&format!("{}{path}", s.url))
            .set("content-type", "application/json")
            .send_string(&body.to_string())
            .unwrap_or_else(|e| panic!("PUT {path}: {e:?}"));
    };
    // A webhook only GitHub could call: the console's test request goes through all the same.
    put(
        "/v1/routes/orders",
        json!({"method": "POST", "path": "/orders/{id}", "stateMachineArn": echo, "mode": "sync",
               "auth": {"type": "hmac", "style": "github", "secret": "shh"}}),
    );
    events_json(
        &s.url,
        "PutRule",
        json!({"Name": "on-order", "EventPattern": r#"{"source": ["shop"]}"#}),
    );
    events_json(
        &s.url,
        "PutTargets",
        json!({"Rule": "on-order", "Targets": [
            {"Id": "keep", "Arn": record, "InputPath": "$.detail"},
            {"Id": "gone", "Arn": "arn:aws:states:us-east-1:000000000000:stateMachine:gone",
             "RetryPolicy": {"MaximumRetryAttempts": 0}}]}),
    );
    events_json(&s.url, "CreateEventBus", json!({"Name": "billing"}));
    put(
        "/v1/schedules/nightly",
        json!({"expression": "cron(0 9 * * ? *)", "timezone": "Europe/Berlin", "target": {"arn": record}}),
    );

    let b = Browser::start();
    let read =
        |script: &str| -> Option<String> { b.run(script, json!([])).as_str().map(str::to_string) };
    let text_of = |selector: &str| {
        b.run(
            "return document.querySelector(arguments[0])?.textContent ?? null",
            json!([selector]),
        )
        .as_str()
        .map(str::to_string)
    };
    b.goto(&format!("{}/console#/triggers", s.url));

    // The route, with the URL a sender calls; a test request answers the workflow's output.
    b.wait("#routes tr[data-name=\"orders\"]");
    let url = text_of("#routes tr[data-name=\"orders\"] .route-url").unwrap();
    assert_eq!(url, format!("{}/hooks/000000000000/orders/{{id}}", s.url));
    b.click(&b.wait("#routes tr[data-name=\"orders\"] .route-test"));
    let path = b.wait("#route-test-path");
    b.clear(&path);
    b.type_text(&path, "/orders/42");
    let body = b.wait("#route-test-body");
    b.clear(&body);
    b.type_text(&body, r#"{"qty": 3}"#);
    b.click(&b.wait("#route-test-send"));
    let answer = b.wait_for("the test request's answer", || {
        text_of("#route-test-result").filter(|t| t.starts_with("HTTP "))
    });
    assert!(answer.starts_with("HTTP 200"), "{answer}");
    assert!(answer.contains(r#""id": "42""#), "{answer}");
    assert!(answer.contains(r#""qty": 3"#), "{answer}");

    // The rule, its pattern and both targets.
    b.wait("#rules tr[data-name=\"on-order\"]");
    let pattern = text_of("#rules tr[data-name=\"on-order\"] .rule-pattern").unwrap();
    assert!(
        pattern.contains(r#""source""#) && pattern.contains("shop"),
        "{pattern}"
    );
    let targets = text_of("#rules tr[data-name=\"on-order\"] .rule-targets").unwrap();
    assert!(targets.contains(&format!("keep → {record}")), "{targets}");
    assert!(targets.contains("InputPath: $.detail"), "{targets}");
    assert!(targets.contains("gone → "), "{targets}");

    // An event put now shows in the live tail; the target that does not exist ends as a
    // dead letter, and the page shows it by itself.
    events_json(
        &s.url,
        "PutEvents",
        json!({"Entries": [{"Source": "shop", "DetailType": "OrderPlaced", "Detail": r#"{"order": 7}"#}]}),
    );
    b.wait_for("the event in the live tail", || {
        read(
            "return [...document.querySelectorAll('#tail li')].map(li => li.textContent).join('|')",
        )
        .filter(|t| t.contains("shop") && t.contains("OrderPlaced"))
    });
    let letter = b.wait_for("the dead letter", || {
        read("return [...document.querySelectorAll('#dead-letters tbody tr')].map(r => r.textContent).join('|')")
            .filter(|t| t.contains("gone"))
    });
    assert!(
        letter.contains("on-order") && letter.contains("Does Not Exist"),
        "{letter}"
    );

    // The schedule's next five fires, at 09:00 in its own zone.
    let fires = b.wait_for("five fire times", || {
        let fires = b.run(
            "return [...document.querySelectorAll('#schedules tr[data-name=\"nightly\"] .next-fires li')].map(li => li.textContent)",
            json!([]),
        );
        let fires: Vec<String> = serde_json::from_value(fires).ok()?;
        (fires.len() == 5).then_some(fires)
    });
    assert!(fires.iter().all(|f| f.contains("09:00:00")), "{fires:?}");
    b.screenshot("triggers");

    // Another bus: its own (empty) rules and tail.
    b.run(
        "const s = document.querySelector('#bus-select'); s.value = 'billing'; s.dispatchEvent(new Event('change'))",
        json!([]),
    );
    b.wait_for("the other bus, loaded", || {
        read("const said = (start) => [...document.querySelectorAll('p.muted')].some(p => p.textContent.startsWith(start)); \
              const titled = [...document.querySelectorAll('h2')].some(h => h.textContent === 'Rules on billing'); \
              return titled && said('No rules on this bus') && said('Nothing put on this bus') ? 'yes' : null")
    });
    assert!(b.all("#rules tbody tr").is_empty());
    assert!(b.all("#tail li").is_empty());
}

#[test]
fn the_console_installs_a_sample_opens_it_and_offers_its_inputs() {
    let dir = TempDir::new("console-sample");
    let s = Server::start(&dir.0, &[]);
    let b = Browser::start();
    b.goto(&format!("{}/console#/machines", s.url));
    let new = b.wait("#new-from-sample");
    b.click(&new);
    let install = b.wait("button[data-sample=\"travel-saga\"]");
    b.screenshot("samples");
    b.click(&install);
    // The sample's machine opens, drawn, with its example inputs on the start form.
    node(&b, "CancelHotel");
    let examples = b.wait_for("the sample's inputs", || {
        let found = b.texts(".example-input");
        (!found.is_empty()).then_some(found)
    });
    assert_eq!(examples, ["booked", "car sold out"]);
    let sold_out = b.all(".example-input").into_iter().nth(1).unwrap();
    b.click(&sold_out);
    let start = b.wait("#start-execution");
    b.click(&start);
    b.wait_for("the failed trip", || {
        let status = b.first_text("#execution-status")?;
        (status == "FAILED").then_some(())
    });
    b.screenshot("sample-run");
    let machines = s.ok("ListStateMachines", json!({}));
    assert_eq!(machines["stateMachines"][0]["name"], "travel-saga");
}
