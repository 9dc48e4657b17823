//! AWS's query protocol, which SNS speaks (its SDKs and `aws sns ...`): `POST /` with a
//! form body (`Action=Publish&TopicArn=...`) signed for `sns`, answered in XML. The form's
//! dotted names become the JSON request `crate::sns` reads (`Attributes.entry.1.key` a
//! map, `PublishBatchRequestEntries.member.1.Id` a list), and its JSON answer becomes
//! `<ActionResponse><ActionResult>...` with lists as `member`s and attribute maps as
//! `entry`s, the shapes SNS's XML has.

use super::super::auth;
use super::super::error::XML_CONTENT_TYPE;
use super::super::s3::xml::escape;
use super::super::App;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tracing::Instrument as _;

/// SNS's XML namespace.
const NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// Whether a request without `X-Amz-Target` speaks the query protocol.
pub fn is_query(parts: &Parts) -> bool {
    parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

/// Answers one query-protocol request: SNS's actions on the caller's topics.
pub async fn handle(app: &App, parts: &Parts, body: &[u8]) -> Response {
    let request = parse(body);
    let action = request
        .get("Action")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let request_id = crate::sqs::random_id(crate::clock::now());
    let caller = auth::Caller {
        service: "sns",
        ..auth::caller_of(parts, body)
    };
    let tenant = match auth::authenticate(app, &caller) {
        Ok(t) => t,
        Err(e) => {
            let (name, status) = e.aws();
            let code = name.rsplit('#').next().unwrap_or(name);
            return error(
                status,
                code.trim_end_matches("Exception"),
                &e.to_string(),
                &request_id,
            );
        }
    };
    if action.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "MissingAction",
            "The request must contain the parameter Action.",
            &request_id,
        );
    }
    let answered = app
        .services
        .sns
        .call(&tenant, &action, Value::Object(request))
        .instrument(tracing::debug_span!("api.sns", tenant = %tenant.id, action = %action))
        .await;
    match answered {
        Ok(answer) => (
            [("content-type", XML_CONTENT_TYPE)],
            render(&action, &answer, &request_id),
        )
            .into_response(),
        Err(e) => {
            let message = match e.internal {
                true if e.status() == 503 => {
                    tracing::warn!(error = %e.message, "store unavailable");
                    crate::api::error::UNAVAILABLE.to_string()
                }
                true => {
                    tracing::error!(error = %e.message, "internal failure");
                    "An internal error occurred.".to_string()
                }
                false => e.message.clone(),
            };
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            error(status, e.code, &message, &request_id)
        }
    }
}

/// The form's fields as the JSON request: dotted names nested, `member.N` lists and
/// `entry.N` maps read as lists and maps.
pub fn parse(body: &[u8]) -> Map<String, Value> {
    let mut tree = Tree::default();
    for (name, value) in form_urlencoded::parse(body) {
        let mut node = &mut tree;
        for part in name.split('.') {
            node = node.children.entry(part.to_string()).or_default();
        }
        node.value = Some(value.into_owned());
    }
    match tree.into_json() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A form field's dotted name, as a tree.
#[derive(Debug, Default)]
struct Tree {
    value: Option<String>,
    children: BTreeMap<String, Tree>,
}

impl Tree {
    fn into_json(self) -> Value {
        if self.children.is_empty() {
            return Value::String(self.value.unwrap_or_default());
        }
        let mut children = self.children;
        if let Some(members) = children.remove("member") {
            return Value::Array(members.numbered().map(Tree::into_json).collect());
        }
        if let Some(entries) = children.remove("entry") {
            let mut map = Map::new();
            for mut entry in entries.numbered() {
                let key = entry
                    .children
                    .remove("key")
                    .or_else(|| entry.children.remove("Name"))
                    .and_then(|k| k.value);
                let value = entry
                    .children
                    .remove("value")
                    .or_else(|| entry.children.remove("Value"));
                if let (Some(k), Some(v)) = (key, value) {
                    map.insert(k, v.into_json());
                }
            }
            return Value::Object(map);
        }
        Value::Object(
            children
                .into_iter()
                .map(|(k, v)| (k, v.into_json()))
                .collect(),
        )
    }

    /// The children named `1`, `2`, ... in number order.
    fn numbered(self) -> impl Iterator<Item = Tree> {
        let mut items: Vec<(u32, Tree)> = self
            .children
            .into_iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v)
    }
}

/// The XML answer of `action` whose JSON answer is `answer`.
pub fn render(action: &str, answer: &Value, request_id: &str) -> String {
    let mut out = format!("<{action}Response xmlns=\"{NAMESPACE}\">");
    if let Some(fields) = answer.as_object().filter(|o| !o.is_empty()) {
        out.push_str(&format!("<{action}Result>"));
        for (name, value) in fields {
            element(&mut out, name, value);
        }
        out.push_str(&format!("</{action}Result>"));
    }
    out.push_str(&format!(
        "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    ));
    out
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            out.push_str(&format!("<{name}>"));
            for item in items {
                element(out, "member", item);
            }
            out.push_str(&format!("</{name}>"));
        }
        // Attribute maps (`Attributes`) are entries of key and value.
        Value::Object(map) if name == "Attributes" => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in map {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.push_str(&format!(
                    "<entry><key>{}</key><value>{}</value></entry>",
                    escape(k),
                    escape(&text)
                ));
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in map {
                element(out, k, v);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

fn error(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response {
    let fault = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{fault}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        escape(code),
        escape(message)
    );
    (status, [("content-type", XML_CONTENT_TYPE)], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_fields_become_snss_request_shapes() {
        let body = b"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Message=hi+there\
&MessageAttributes.entry.1.Name=kind&MessageAttributes.entry.1.Value.DataType=String\
&MessageAttributes.entry.1.Value.StringValue=order\
&PublishBatchRequestEntries.member.2.Id=b&PublishBatchRequestEntries.member.1.Id=a\
&Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true";
        let r = Value::Object(parse(body));
        assert_eq!(r["Message"], "hi there");
        assert_eq!(r["TopicArn"], "arn:aws:sns:us-east-1:1:t");
        assert_eq!(
            r["MessageAttributes"],
            json!({"kind": {"DataType": "String", "StringValue": "order"}})
        );
        assert_eq!(
            r["PublishBatchRequestEntries"],
            json!([{"Id": "a"}, {"Id": "b"}])
        );
        assert_eq!(r["Attributes"], json!({"RawMessageDelivery": "true"}));
    }

    #[test]
    fn answers_render_as_snss_xml() {
        let xml = render(
            "ListTopics",
            &json!({"Topics": [{"TopicArn": "a<b"}], "Attributes": {"k": "v"}}),
            "r1",
        );
        assert_eq!(
            xml,
            format!("<ListTopicsResponse xmlns=\"{NAMESPACE}\"><ListTopicsResult><Topics><member><TopicArn>a&lt;b</TopicArn></member></Topics><Attributes><entry><key>k</key><value>v</value></entry></Attributes></ListTopicsResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></ListTopicsResponse>")
        );
        assert!(!render("DeleteTopic", &json!({}), "r").contains("Result"));
    }
}
