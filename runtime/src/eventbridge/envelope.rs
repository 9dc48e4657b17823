//! Events as EventBridge delivers them: `version`, `id`, `detail-type`, `source`,
//! `account`, `time`, `region`, `resources`, `detail`, in that order.

use crate::model::{Execution, Status};
use serde_json::{json, Value};

/// The source of Step Functions' own events.
pub const STATES_SOURCE: &str = "aws.states";
/// The detail type of an execution's status change.
pub const STATUS_CHANGE: &str = "Step Functions Execution Status Change";
/// The source of S3's events.
pub const S3_SOURCE: &str = "aws.s3";
/// S3's detail type for an object written (put, copied, a multipart upload completed).
pub const OBJECT_CREATED: &str = "Object Created";
/// S3's detail type for an object deleted.
pub const OBJECT_DELETED: &str = "Object Deleted";
/// Above this many bytes of escaped input and output, a status event leaves them out
/// (EventBridge's 256 KB event limit, less the envelope), as AWS does.
const DETAIL_PAYLOAD_BYTES: usize = 248 * 1024;

/// What an event says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Header<'a> {
    /// Its id.
    pub id: &'a str,
    /// `detail-type`.
    pub detail_type: &'a str,
    /// `source`.
    pub source: &'a str,
    /// The account it is from.
    pub account: &'a str,
    /// When it happened (epoch ms).
    pub time: i64,
    /// The region.
    pub region: &'a str,
    /// The resources it concerns.
    pub resources: &'a [String],
}

/// An event: the envelope around `detail`.
pub fn event(h: &Header<'_>, detail: Value) -> Value {
    json!({
        "version": "0",
        "id": h.id,
        "detail-type": h.detail_type,
        "source": h.source,
        "account": h.account,
        "time": iso_seconds(h.time),
        "region": h.region,
        "resources": h.resources,
        "detail": detail,
    })
}

/// `2019-02-26T19:42:21Z`: EventBridge's `time`, to the second.
pub fn iso_seconds(ms: i64) -> String {
    let full = sandstep_engine::timestamp::format_millis(ms);
    match full.rsplit_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => full,
    }
}

/// What changed in a bucket, for [`s3_detail`].
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectChange<'a> {
    /// The bucket.
    pub bucket: &'a str,
    /// The object's key.
    pub key: &'a str,
    /// Its size and ETag, for a created object.
    pub created: Option<(u64, &'a str)>,
    /// The S3 action: `PutObject`, `CopyObject`, `CompleteMultipartUpload`, `DeleteObject`.
    pub reason: &'a str,
    /// Orders the changes of one key (S3's `sequencer`: hex, growing).
    pub sequencer: i64,
    /// The request's id.
    pub request_id: &'a str,
}

/// The detail of an S3 event, as S3 sends it to EventBridge.
pub fn s3_detail(change: &ObjectChange<'_>, requester: &str) -> Value {
    let sequencer = format!("{:016X}", change.sequencer);
    let object = match change.created {
        Some((size, etag)) => {
            json!({"key": change.key, "size": size, "etag": etag, "sequencer": sequencer})
        }
        None => json!({"key": change.key, "sequencer": sequencer}),
    };
    let mut detail = json!({
        "version": "0",
        "bucket": {"name": change.bucket},
        "object": object,
        "request-id": change.request_id,
        "requester": requester,
        "reason": change.reason,
    });
    if change.created.is_none() {
        if let Some(fields) = detail.as_object_mut() {
            fields.insert("deletion-type".into(), json!("Permanently Deleted"));
        }
    }
    detail
}

/// The detail of an execution's status change, as Step Functions sends it.
pub fn status_detail(e: &Execution, machine_arn: &str) -> Value {
    let output = match e.status {
        Status::Succeeded => e.output.clone(),
        _ => None,
    };
    let escaped = |s: &Option<String>| s.as_ref().map_or(0, |t| json!(t).to_string().len());
    let output_included = escaped(&output) <= DETAIL_PAYLOAD_BYTES;
    let input_included = escaped(&Some(e.input.clone())) + escaped(&output) <= DETAIL_PAYLOAD_BYTES;
    let status = e.status.as_str();
    // Told when the status changes, so "now" is the change: its stop, or its start.
    let redrivable = e.redrivable(e.stopped.or(e.redrive_date).unwrap_or(e.started));
    let redrive_status = match (&redrivable, e.status) {
        (Ok(()), _) => "REDRIVABLE",
        // AWS's documented event for a redriven execution that runs again.
        (Err(_), Status::Running) if e.redrive_count > 0 => "REDRIVE_IN_PROGRESS",
        (Err(_), _) => "NOT_REDRIVABLE",
    };
    json!({
        "executionArn": e.arn,
        "stateMachineArn": machine_arn,
        "name": e.name,
        "status": status,
        "startDate": e.started,
        "stopDate": e.stopped,
        "input": input_included.then(|| e.input.clone()),
        "output": output.filter(|_| output_included),
        "stateMachineVersionArn": e.version.map(|n| crate::arn::version(machine_arn, n)),
        "stateMachineAliasArn": e.alias.as_ref().map(|a| crate::arn::alias(machine_arn, a)),
        "redriveCount": e.redrive_count,
        "redriveDate": e.redrive_date,
        "redriveStatus": redrive_status,
        "redriveStatusReason": redrivable.err(),
        "inputDetails": {"included": input_included},
        "outputDetails": match e.status {
            Status::Succeeded => json!({"included": output_included}),
            _ => Value::Null,
        },
        "error": e.error,
        "cause": e.cause,
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn s3_events_say_what_s3_says_created_or_deleted() {
        let change = ObjectChange {
            bucket: "in",
            key: "a/b.csv",
            created: Some((12, "abc")),
            reason: "PutObject",
            sequencer: 255,
            request_id: "r-1",
        };
        let created = s3_detail(&change, "000000000000");
        assert_eq!(
            created["object"],
            serde_json::json!({"key": "a/b.csv", "size": 12, "etag": "abc", "sequencer": "00000000000000FF"})
        );
        assert_eq!(
            (
                created["bucket"]["name"].as_str(),
                created["reason"].as_str()
            ),
            (Some("in"), Some("PutObject"))
        );
        assert!(created.get("deletion-type").is_none());
        let deleted = s3_detail(
            &ObjectChange {
                created: None,
                reason: "DeleteObject",
                ..change
            },
            "000000000000",
        );
        assert_eq!(deleted["deletion-type"], "Permanently Deleted");
        assert!(deleted["object"].get("size").is_none());
    }

    use super::*;

    #[test]
    fn events_carry_the_envelope_in_aws_order() {
        let resources = vec!["arn:x".to_string()];
        let e = event(
            &Header {
                id: "1",
                detail_type: "T",
                source: "s",
                account: "000000000000",
                time: 1_551_210_141_500,
                region: "us-east-1",
                resources: &resources,
            },
            json!({"a": 1}),
        );
        let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "version",
                "id",
                "detail-type",
                "source",
                "account",
                "time",
                "region",
                "resources",
                "detail"
            ]
        );
        assert_eq!(e["time"], "2019-02-26T19:42:21Z");
    }
}
