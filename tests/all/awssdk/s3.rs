//! S3 through the real AWS SDK for Rust (`aws-sdk-s3`, path-style, with its default
//! `aws-chunked` uploads and CRC32 trailers) on the same endpoint: buckets, objects with
//! metadata, ranges, listings with delimiters and pages, copies, batch deletes, multipart
//! uploads, S3's errors, and a workflow whose module and `aws-sdk:s3` tasks share objects
//! with the SDK.

use super::*;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};

pub(crate) fn s3(s: &Server) -> aws_sdk_s3::Client {
    sdk_client!(aws_sdk_s3, s, "AKIDANYTHING", "any-secret", |b| b
        .force_path_style(true))
}

async fn text(out: aws_sdk_s3::operation::get_object::GetObjectOutput) -> String {
    let bytes = out.body.collect().await.unwrap().into_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn sdk_s3_buckets_objects_listings_and_multipart() {
    let dir = TempDir::new("sdk-s3");
    let server = Server::start(&dir.0.join("data"), &[]);
    runtime().block_on(async {
        let c = s3(&server);
        c.create_bucket().bucket("data").send().await.unwrap();
        let again = c.create_bucket().bucket("data").send().await.unwrap_err();
        assert!(
            again
                .as_service_error()
                .is_some_and(|e| e.is_bucket_already_owned_by_you()),
            "{again:?}"
        );
        let reserved = c
            .create_bucket()
            .bucket("console")
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            reserved.as_service_error().and_then(|e| e.meta().code()),
            Some("InvalidBucketName")
        );

        let put = c
            .put_object()
            .bucket("data")
            .key("in/a b.csv")
            .content_type("text/csv")
            .metadata("source", "test")
            .body(ByteStream::from_static(b"sku,qty\nA,1\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(put.e_tag(), Some("\"94bfff75e13e0c9f65d11a0679475be2\""));
        let got = c
            .get_object()
            .bucket("data")
            .key("in/a b.csv")
            .send()
            .await
            .unwrap();
        assert_eq!(got.content_type(), Some("text/csv"));
        assert_eq!(got.metadata().unwrap()["source"], "test");
        assert_eq!(got.e_tag(), put.e_tag());
        assert_eq!(text(got).await, "sku,qty\nA,1\n");
        let part = c
            .get_object()
            .bucket("data")
            .key("in/a b.csv")
            .range("bytes=4-6")
            .send()
            .await
            .unwrap();
        assert_eq!(part.content_range(), Some("bytes 4-6/12"));
        assert_eq!(text(part).await, "qty");
        let head = c
            .head_object()
            .bucket("data")
            .key("in/a b.csv")
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_length(), Some(12));

        for key in ["in/b.csv", "out/1.json", "out/2.json", "top.txt"] {
            c.put_object()
                .bucket("data")
                .key(key)
                .body(ByteStream::from_static(b"x"))
                .send()
                .await
                .unwrap();
        }
        let rolled = c
            .list_objects_v2()
            .bucket("data")
            .delimiter("/")
            .send()
            .await
            .unwrap();
        let prefixes: Vec<_> = rolled
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix())
            .collect();
        assert_eq!(prefixes, ["in/", "out/"]);
        let keys: Vec<_> = rolled.contents().iter().filter_map(|o| o.key()).collect();
        assert_eq!(keys, ["top.txt"]);
        let mut pages = c
            .list_objects_v2()
            .bucket("data")
            .max_keys(2)
            .into_paginator()
            .send();
        let mut all = Vec::new();
        while let Some(page) = pages.next().await {
            all.extend(
                page.unwrap()
                    .contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
        assert_eq!(
            all,
            [
                "in/a b.csv",
                "in/b.csv",
                "out/1.json",
                "out/2.json",
                "top.txt"
            ]
        );

        c.copy_object()
            .bucket("data")
            .key("copy.csv")
            .copy_source("data/in/a%20b.csv")
            .send()
            .await
            .unwrap();
        let copied = c
            .get_object()
            .bucket("data")
            .key("copy.csv")
            .send()
            .await
            .unwrap();
        assert_eq!(
            copied.metadata().unwrap()["source"],
            "test",
            "metadata copied along"
        );
        let objects: Vec<ObjectIdentifier> = ["out/1.json", "out/2.json"]
            .iter()
            .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
            .collect();
        let deleted = c
            .delete_objects()
            .bucket("data")
            .delete(
                Delete::builder()
                    .set_objects(Some(objects))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.deleted().len(), 2);

        // Multipart: parts of at least 5 MiB but the last, joined in order.
        let upload = c
            .create_multipart_upload()
            .bucket("data")
            .key("big.bin")
            .send()
            .await
            .unwrap();
        let id = upload.upload_id().unwrap();
        let first = vec![7u8; 5 << 20];
        let mut completed = Vec::new();
        for (n, bytes) in [(1, first.clone()), (2, b"tail".to_vec())] {
            let part = c
                .upload_part()
                .bucket("data")
                .key("big.bin")
                .upload_id(id)
                .part_number(n)
                .body(ByteStream::from(bytes))
                .send()
                .await
                .unwrap();
            completed.push(
                CompletedPart::builder()
                    .part_number(n)
                    .e_tag(part.e_tag().unwrap())
                    .build(),
            );
        }
        let done = c
            .complete_multipart_upload()
            .bucket("data")
            .key("big.bin")
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert!(
            done.e_tag().unwrap().ends_with("-2\""),
            "{:?}",
            done.e_tag()
        );
        let big = c
            .get_object()
            .bucket("data")
            .key("big.bin")
            .send()
            .await
            .unwrap();
        assert_eq!(big.content_length(), Some((5 << 20) + 4));
        let bytes = big.body.collect().await.unwrap().into_bytes();
        assert_eq!(
            (bytes[..5 << 20] == first[..], &bytes[5 << 20..]),
            (true, &b"tail"[..])
        );
        let aborted = c
            .create_multipart_upload()
            .bucket("data")
            .key("gone")
            .send()
            .await
            .unwrap();
        c.abort_multipart_upload()
            .bucket("data")
            .key("gone")
            .upload_id(aborted.upload_id().unwrap())
            .send()
            .await
            .unwrap();

        // S3's errors.
        let missing = c
            .get_object()
            .bucket("data")
            .key("nope")
            .send()
            .await
            .unwrap_err();
        assert!(
            missing
                .as_service_error()
                .is_some_and(|e| e.is_no_such_key()),
            "{missing:?}"
        );
        let no_bucket = c.list_objects_v2().bucket("nope").send().await.unwrap_err();
        assert!(
            no_bucket
                .as_service_error()
                .is_some_and(|e| e.is_no_such_bucket()),
            "{no_bucket:?}"
        );
        let not_empty = c.delete_bucket().bucket("data").send().await.unwrap_err();
        assert_eq!(
            not_empty.as_service_error().and_then(|e| e.meta().code()),
            Some("BucketNotEmpty")
        );
        let buckets = c.list_buckets().send().await.unwrap();
        assert_eq!(buckets.buckets().len(), 1);
    });
}

#[test]
fn sdk_a_workflow_shares_objects_with_its_module_and_the_sdk() {
    let dir = TempDir::new("sdk-s3-asl");
    let server = Server::start(&dir.0.join("data"), &[]);
    server
        .upload(
            "etl-transform",
            &module("etl-transform"),
            "blob:raw,kv:totals",
        )
        .unwrap();
    runtime().block_on(async {
        let c = s3(&server);
        for bucket in ["raw", "reports"] {
            c.create_bucket().bucket(bucket).send().await.unwrap();
        }
        c.put_object()
            .bucket("raw")
            .key("sales.csv")
            .body(ByteStream::from_static(b"sku,qty\nA,2\nB,3\nA,1\n"))
            .send()
            .await
            .unwrap();
        let definition = json!({
            "StartAt": "Transform",
            "States": {
                "Transform": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:000000000000:function:etl-transform",
                    "Parameters": {"key": "sales.csv"},
                    "ResultPath": "$.totals",
                    "Next": "Report"
                },
                "Report": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                    "Parameters": {"Bucket": "reports", "Key": "daily.json", "Body.$": "$.totals", "ContentType": "application/json"},
                    "ResultPath": "$.put",
                    "Next": "List"
                },
                "List": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:s3:listObjectsV2",
                    "Parameters": {"Bucket": "reports"},
                    "ResultSelector": {"keys.$": "$.Contents[*].Key"},
                    "ResultPath": "$.listed",
                    "Next": "Missing"
                },
                "Missing": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                    "Parameters": {"Bucket": "raw", "Key": "nope.csv"},
                    "Catch": [{"ErrorEquals": ["S3.NoSuchKeyException"], "ResultPath": "$.caught", "Next": "Done"}],
                    "End": true
                },
                "Done": {"Type": "Succeed"}
            }
        });
        let arn = server.create_machine("etl", &definition, "STANDARD");
        let started = server.ok("StartExecution", json!({"stateMachineArn": arn}));
        let done = server.wait_done(started["executionArn"].as_str().unwrap(), Duration::from_secs(30));
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
        assert_eq!(output["listed"]["keys"], json!(["daily.json"]));
        assert_eq!(output["caught"]["Error"], "S3.NoSuchKeyException");
        let report = c.get_object().bucket("reports").key("daily.json").send().await.unwrap();
        assert_eq!(report.content_type(), Some("application/json"));
        let report: Value = serde_json::from_str(&text(report).await).unwrap();
        assert_eq!(report, output["totals"], "the SDK reads what the workflow wrote");
        assert_eq!(report["rows"], 3);
    });
}
