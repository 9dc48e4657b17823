//! SigV4: the official test suite's vectors and what the SDKs send.

use super::*;

/// The official test suite's credentials and instant (2015-08-30T12:36:00Z).
const SUITE_KEY: &str = "AKIDEXAMPLE";
const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_NOW: i64 = 1_440_938_160;

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// The scope the AWS test suite signs for.
const SUITE_SCOPE: Scope<'static> = Scope {
    region: "us-east-1",
    service: "service",
};

fn scope<'a>(region: &'a str, service: &'a str) -> Scope<'a> {
    Scope { region, service }
}

fn suite_secret(key: &str) -> Option<String> {
    (key == SUITE_KEY).then(|| SUITE_SECRET.to_owned())
}

/// Checks a suite request that carries its `Authorization` header.
fn verify_suite(method: &str, path: &str, query: &str, hs: &[(&str, &str)], body: &[u8]) {
    let hs = headers(hs);
    let req = Request {
        method,
        path,
        query,
        headers: &hs,
        body,
    };
    let verified = verify(&req, SUITE_NOW, SUITE_SCOPE, suite_secret).unwrap();
    assert_eq!(
        verified,
        Verified {
            access_key_id: SUITE_KEY.to_owned(),
            region: "us-east-1".to_owned(),
            service: "service".to_owned(),
        }
    );
}

fn authz(signed_headers: &str, signature: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders={signed_headers}, Signature={signature}"
    )
}

// --- The official AWS SigV4 test suite (values confirmed by botocore's SigV4Auth). ---

#[test]
fn suite_get_vanilla() {
    let a = authz(
        "host;x-amz-date",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
    verify_suite(
        "GET",
        "/",
        "",
        &[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", &a),
        ],
        b"",
    );
}

#[test]
fn suite_get_vanilla_query_order_key_case() {
    let a = authz(
        "host;x-amz-date",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    );
    verify_suite(
        "GET",
        "/",
        "Param2=value2&Param1=value1",
        &[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", &a),
        ],
        b"",
    );
}

#[test]
fn suite_post_x_www_form_urlencoded() {
    let a = authz(
        "content-type;host;x-amz-date",
        "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    );
    verify_suite(
        "POST",
        "/",
        "",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", &a),
        ],
        b"Param1=value1",
    );
}

/// The 2011 edition of the suite dates requests with `Date` and signs for service `host`.
#[test]
fn suite_2011_get_vanilla_and_get_relative_with_date_header() {
    let now = parse_amz_date("20110909T233600Z").unwrap();
    let a = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, \
             SignedHeaders=date;host, \
             Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470";
    let hs = headers(&[
        ("Date", "Mon, 09 Sep 2011 23:36:00 GMT"),
        ("Host", "host.foo.com"),
        ("Authorization", a),
    ]);
    for path in ["/", "/foo/.."] {
        let req = Request {
            method: "GET",
            path,
            query: "",
            headers: &hs,
            body: b"",
        };
        let verified = verify(&req, now, scope("us-east-1", "host"), suite_secret).unwrap();
        assert_eq!(verified.service, "host");
    }
}

/// Computed with botocore 1.43's `SigV4Auth` for
/// `GET /example%20space/../a-b_c.d~e//f%2Fg/?b=2&a=x%2Fy&a=%20&c`: dot segments and `//`
/// normalized, the path encoded a second time, the query sorted with empty values.
#[test]
fn botocore_path_normalization_and_query() {
    let a = authz(
        "host;x-amz-date",
        "63a2154a7a62884222774f03c0f6a4394e17ae3106da2410c82b76bcf7b2b101",
    );
    verify_suite(
        "GET",
        "/example%20space/../a-b_c.d~e//f%2Fg/",
        "b=2&a=x%2Fy&a=%20&c",
        &[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", &a),
        ],
        b"",
    );
}

/// Computed with botocore 1.43's `SigV4Auth`: header values are trimmed and inner runs of
/// spaces collapsed.
#[test]
fn botocore_header_whitespace() {
    let a = authz(
        "host;my-header1;x-amz-date",
        "1d3c8dacf13d565cb88f90460a561e5caf0231c1f593a60fc93953ac77d13c58",
    );
    verify_suite(
        "GET",
        "/",
        "",
        &[
            ("Host", "example.amazonaws.com"),
            ("My-Header1", "    value1  with   spaces  "),
            ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", &a),
        ],
        b"",
    );
}

/// A `ListStateMachines` call exactly as botocore 1.43 sends it (captured from a real
/// `boto3`-style client at 2024-01-15T10:30:00Z; `Host` is the one urllib3 adds).
#[test]
fn botocore_list_state_machines() {
    let hs = headers(&[
        ("X-Amz-Target", "AWSStepFunctions.ListStateMachines"),
        ("Content-Type", "application/x-amz-json-1.0"),
        (
            "User-Agent",
            "Botocore/1.43.11 ua/2.1 os/linux#6.18.44-fc-v782 md/arch#x86_64 \
             lang/python#3.11.7 md/pyimpl#CPython m/Z,b,e,D,N cfg/retry-mode#legacy",
        ),
        ("X-Amz-Date", "20240115T103000Z"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240115/us-east-1/states/\
             aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
             Signature=c5cedab11a7f1994840576afd729f85389edad751d6c70509fd46e63a1f717c1",
        ),
        (
            "amz-sdk-invocation-id",
            "b7ca70f5-12ca-489e-80cb-b5f2c1cb37eb",
        ),
        ("amz-sdk-request", "attempt=1"),
        ("Content-Length", "2"),
        ("Host", "127.0.0.1:8080"),
    ]);
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &hs,
        body: b"{}",
    };
    let secret = |key: &str| {
        (key == "AKIAIOSFODNN7EXAMPLE")
            .then(|| "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned())
    };
    let now = 1_705_314_600 + 42;
    let verified = verify(&req, now, US_STATES, secret).unwrap();
    assert_eq!(
        verified,
        Verified {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
            region: "us-east-1".to_owned(),
            service: "states".to_owned(),
        }
    );
    assert_eq!(access_key_id(&hs).as_deref(), Some("AKIAIOSFODNN7EXAMPLE"));

    // And `sign` produces botocore's very signature for the same request.
    let unsigned: Vec<(String, String)> = hs
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
        .filter(|(n, _)| !n.eq_ignore_ascii_case("x-amz-date"))
        .filter(|(n, _)| !n.starts_with("amz-sdk") && n != "Content-Length")
        .cloned()
        .collect();
    let added = sign(
        &Request {
            headers: &unsigned,
            ..req
        },
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "us-east-1",
        "states",
        1_705_314_600,
    );
    let authorization = header_value(&added, "authorization").unwrap();
    assert_eq!(authorization, header_value(&hs, "authorization").unwrap());
}

// --- Round trips and tampering. ---

const KEY: &str = "AKIDSANDSTEP";
const SECRET: &str = "sandstep-secret";
const NOW: i64 = 1_705_314_600;
const US_STATES: Scope<'static> = Scope {
    region: "us-east-1",
    service: "states",
};
const EU_STATES: Scope<'static> = Scope {
    region: "eu-west-1",
    service: "states",
};

fn secret(key: &str) -> Option<String> {
    (key == KEY).then(|| SECRET.to_owned())
}

/// A signed Step Functions call: its headers, ready to be checked or tampered with.
fn signed(extra: &[(&str, &str)], body: &[u8]) -> Vec<(String, String)> {
    let mut hs = headers(&[
        ("Host", "127.0.0.1:8080"),
        ("Content-Type", "application/x-amz-json-1.0"),
        ("X-Amz-Target", "AWSStepFunctions.StartExecution"),
    ]);
    hs.extend(headers(extra));
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &hs,
        body,
    };
    let added = sign(&req, KEY, SECRET, "eu-west-1", "states", NOW);
    hs.extend(added);
    hs
}

fn check(hs: &[(String, String)], path: &str, body: &[u8], now: i64) -> Result<Verified, Error> {
    let req = Request {
        method: "POST",
        path,
        query: "",
        headers: hs,
        body,
    };
    verify(&req, now, EU_STATES, secret)
}

fn replace(hs: &mut [(String, String)], name: &str, value: &str) {
    for (n, v) in hs.iter_mut() {
        if n.eq_ignore_ascii_case(name) {
            *v = value.to_owned();
        }
    }
}

#[test]
fn sign_then_verify_round_trips() {
    let body = br#"{"stateMachineArn":"arn:aws:states:eu-west-1:0:stateMachine:a"}"#;
    let hs = signed(&[], body);
    assert_eq!(
        check(&hs, "/", body, NOW),
        Ok(Verified {
            access_key_id: KEY.to_owned(),
            region: "eu-west-1".to_owned(),
            service: "states".to_owned(),
        })
    );
    let authorization = header_value(&hs, "authorization").unwrap();
    assert!(authorization
        .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="));
    assert_eq!(header_value(&hs, "x-amz-date"), Some("20240115T103000Z"));
}

#[test]
fn sign_then_verify_with_query_duplicates_and_utf8_path() {
    let mut hs = headers(&[("Host", "localhost"), ("X-Dup", "b"), ("x-dup", " a  c ")]);
    let req = Request {
        method: "GET",
        path: "/modules/%E1%88%B4/v1",
        query: "z=1&a=%2F%20x&a=",
        headers: &hs,
        body: b"",
    };
    let added = sign(&req, KEY, SECRET, "us-east-1", "states", NOW);
    hs.extend(added);
    let req = Request {
        method: "GET",
        path: "/modules/%E1%88%B4/v1",
        query: "z=1&a=%2F%20x&a=",
        headers: &hs,
        body: b"",
    };
    assert!(verify(&req, NOW, US_STATES, secret).is_ok());
    let reordered = Request {
        query: "a=&a=%2F%20x&z=1",
        ..req
    };
    assert!(verify(&reordered, NOW, US_STATES, secret).is_ok());
    let other_query = Request {
        query: "a=&z=1",
        ..req
    };
    assert_eq!(
        verify(&other_query, NOW, US_STATES, secret),
        Err(Error::Mismatch)
    );
}

#[test]
fn tampering_fails_with_mismatch() {
    let body: &[u8] = b"{}";
    let hs = signed(&[], body);

    assert_eq!(check(&hs, "/", b"{ }", NOW), Err(Error::Mismatch), "body");
    assert_eq!(
        check(&hs, "/other", body, NOW),
        Err(Error::Mismatch),
        "path"
    );

    let mut header = hs.clone();
    replace(
        &mut header,
        "x-amz-target",
        "AWSStepFunctions.DeleteStateMachine",
    );
    assert_eq!(
        check(&header, "/", body, NOW),
        Err(Error::Mismatch),
        "header"
    );

    let mut date = hs.clone();
    replace(&mut date, "x-amz-date", "20240115T103001Z");
    assert_eq!(check(&date, "/", body, NOW), Err(Error::Mismatch), "date");

    let mut host = hs.clone();
    replace(&mut host, "host", "127.0.0.1:9090");
    assert_eq!(check(&host, "/", body, NOW), Err(Error::Mismatch), "host");

    let wrong_secret = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &hs,
        body,
    };
    assert_eq!(
        verify(&wrong_secret, NOW, EU_STATES, |_| Some(
            "not-the-secret".to_owned()
        )),
        Err(Error::Mismatch),
        "secret"
    );
}

#[test]
fn the_target_must_be_signed() {
    let body: &[u8] = b"{}";
    let mut hs = headers(&[("Host", "127.0.0.1:8080")]);
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &hs,
        body,
    };
    let added = sign(&req, KEY, SECRET, "eu-west-1", "states", NOW);
    hs.extend(added);
    // Added after signing: a replay as another action.
    hs.extend(headers(&[(
        "X-Amz-Target",
        "AWSStepFunctions.DeleteStateMachine",
    )]));
    assert!(matches!(
        check(&hs, "/", body, NOW),
        Err(Error::Malformed(_))
    ));
}

#[test]
fn declared_body_hash_must_match_the_body() {
    let body: &[u8] = b"{}";
    let declared = hex(&Sha256::digest(body));
    let hs = signed(&[("X-Amz-Content-Sha256", &declared)], body);
    assert!(check(&hs, "/", body, NOW).is_ok());
    assert_eq!(check(&hs, "/", b"{\"a\":1}", NOW), Err(Error::Mismatch));

    let unsigned = signed(&[("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")], body);
    assert!(
        matches!(
            check(&unsigned, "/", b"anything", NOW),
            Err(Error::Malformed(_))
        ),
        "an API call's body must be signed"
    );

    let streaming = signed(
        &[("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")],
        body,
    );
    assert!(matches!(
        check(&streaming, "/", body, NOW),
        Err(Error::Malformed(_))
    ));
}

#[test]
fn s3_signing_adds_the_payload_hash_header() {
    let hs = headers(&[("Host", "localhost")]);
    let req = Request {
        method: "PUT",
        path: "/bucket/a%20b",
        query: "",
        headers: &hs,
        body: b"data",
    };
    let added = sign(&req, KEY, SECRET, "us-east-1", "s3", NOW);
    assert_eq!(
        header_value(&added, "x-amz-content-sha256").map(str::to_owned),
        Some(hex(&Sha256::digest(b"data")))
    );
    let all: Vec<_> = hs.iter().chain(&added).cloned().collect();
    assert!(verify(
        &Request {
            headers: &all,
            ..req
        },
        NOW,
        scope("us-east-1", "s3"),
        secret
    )
    .is_ok());
}

#[test]
fn the_scope_must_name_this_region_and_service() {
    let body: &[u8] = b"{}";
    let signed_for = |region: &str, service: &str| {
        let mut hs = headers(&[
            ("Host", "127.0.0.1:8080"),
            ("X-Amz-Target", "AWSStepFunctions.ListStateMachines"),
        ]);
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &hs,
            body,
        };
        let added = sign(&req, KEY, SECRET, region, service, NOW);
        hs.extend(added);
        hs
    };
    let verify_as = |hs: &[(String, String)], lookup: fn(&str) -> Option<String>| {
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: hs,
            body,
        };
        verify(&req, NOW, US_STATES, lookup)
    };
    assert!(verify_as(&signed_for("us-east-1", "states"), secret).is_ok());
    let message =
        |region: &str, service: &str| match verify_as(&signed_for(region, service), secret) {
            Err(e @ Error::WrongScope { .. }) => {
                let (name, message) = e.aws_error();
                assert_eq!(name, "InvalidSignatureException");
                message
            }
            other => panic!("{region}/{service}: {other:?}"),
        };
    let region = "Credential should be scoped to a valid region. ";
    let service = "Credential should be scoped to correct service: 'states'. ";
    assert_eq!(message("eu-west-1", "states"), region);
    assert_eq!(message("zz-nowhere-9", "states"), region);
    assert_eq!(message("US-EAST-1", "states"), region, "regions are exact");
    assert_eq!(message("us-east-1", "lambda"), service);
    assert_eq!(message("us-east-1", "s3"), service);
    assert_eq!(message("eu-west-1", "lambda"), format!("{region}{service}"));
    // Checked before the key: the answer does not tell known keys from unknown ones.
    assert!(matches!(
        verify_as(&signed_for("eu-west-1", "states"), |_| None),
        Err(Error::WrongScope { .. })
    ));
}

#[test]
fn unknown_key() {
    let hs = signed(&[], b"{}");
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &hs,
        body: b"{}",
    };
    assert_eq!(
        verify(&req, NOW, EU_STATES, |_| None),
        Err(Error::UnknownKey(KEY.to_owned()))
    );
}

#[test]
fn skew_beyond_fifteen_minutes_is_expired() {
    let hs = signed(&[], b"{}");
    assert_eq!(
        check(&hs, "/", b"{}", NOW + 16 * 60),
        Err(Error::Expired {
            skew_seconds: -16 * 60,
            now: NOW + 16 * 60
        })
    );
    assert_eq!(
        check(&hs, "/", b"{}", NOW - 16 * 60),
        Err(Error::Expired {
            skew_seconds: 16 * 60,
            now: NOW - 16 * 60
        })
    );
    assert!(check(&hs, "/", b"{}", NOW + 15 * 60).is_ok());
    assert!(check(&hs, "/", b"{}", NOW - 15 * 60).is_ok());
}

#[test]
fn unsigned_and_presigned_requests() {
    let hs = headers(&[("Host", "localhost")]);
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &hs,
        body: b"",
    };
    assert_eq!(verify(&req, NOW, US_STATES, secret), Err(Error::Missing));
    assert_eq!(access_key_id(&hs), None);
    let presigned = Request {
        query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00",
        ..req
    };
    assert!(matches!(
        verify(&presigned, NOW, US_STATES, secret),
        Err(Error::Malformed(_))
    ));
}

fn verify_authorization(value: &str) -> Result<Verified, Error> {
    let hs = headers(&[
        ("Host", "localhost"),
        ("X-Amz-Date", "20240115T103000Z"),
        ("Authorization", value),
    ]);
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &hs,
        body: b"",
    };
    verify(&req, NOW, US_STATES, secret)
}

#[test]
fn malformed_authorization_headers() {
    let sig = "0".repeat(64);
    let malformed = |value: &str| match verify_authorization(value) {
        Err(Error::Malformed(message)) => message,
        other => panic!("{value}: {other:?}"),
    };
    assert_eq!(
        malformed(
            "AWS4-HMAC-SHA256 Credential=AKIDSANDSTEP/20240115/us-east-1/states/aws4_request"
        ),
        "Authorization header requires 'Signature' parameter. \
         Authorization header requires 'SignedHeaders' parameter."
    );
    assert!(malformed("AWS4-HMAC-SHA256 Credential AKID").contains("missing equal-sign"));
    assert!(malformed(&format!(
        "AWS4-HMAC-SHA256 Credential=AKIDSANDSTEP/20240115/us-east-1/states/aws5_request, \
         SignedHeaders=host;x-amz-date, Signature={sig}"
    ))
    .contains("valid terminator"));
    assert!(malformed(&format!(
        "AWS4-HMAC-SHA256 Credential=AKIDSANDSTEP/20240115/states/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature={sig}"
    ))
    .contains("should be"));
    assert!(malformed(&format!(
        "AWS4-HMAC-SHA256 Credential=AKIDSANDSTEP/20240115/us-east-1/states/aws4_request, \
         SignedHeaders=x-amz-date, Signature={sig}"
    ))
    .contains("'Host'"));
    assert!(malformed(&format!(
        "AWS4-HMAC-SHA256 Credential=AKIDSANDSTEP/20240116/us-east-1/states/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature={sig}"
    ))
    .contains("Date in Credential scope"));
    assert!(malformed(&format!(
        "AWS4-HMAC-SHA256 Credential=AKIDSANDSTEP/20240115/us-east-1/states/aws4_request, \
         SignedHeaders=host;x-amz-date;x-missing, Signature={sig}"
    ))
    .contains("'x-missing'"));
    assert!(malformed(
        "AWS4-HMAC-SHA256 Credential=AKIDSANDSTEP/20240115/us-east-1/states/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=xyz"
    )
    .contains("64 hexadecimal"));
    assert_eq!(
        verify_authorization("Bearer abc.def"),
        Err(Error::UnsupportedAlgorithm("Bearer".to_owned()))
    );
    assert_eq!(
        verify_authorization("AWS4-HMAC-SHA512 Credential=a"),
        Err(Error::UnsupportedAlgorithm("AWS4-HMAC-SHA512".to_owned()))
    );
}

#[test]
fn authorization_spacing_is_tolerated() {
    let hs = signed(&[], b"{}");
    let original = header_value(&hs, "authorization").unwrap().to_owned();
    let tight = original.replace(", ", ",");
    let loose = original
        .replace("AWS4-HMAC-SHA256 ", "  AWS4-HMAC-SHA256   ")
        .replace(", ", " ,  ");
    for variant in [tight, loose] {
        let mut changed = hs.clone();
        replace(&mut changed, "authorization", &variant);
        assert!(check(&changed, "/", b"{}", NOW).is_ok(), "{variant}");
        assert_eq!(access_key_id(&changed).as_deref(), Some(KEY));
    }
}

#[test]
fn access_key_id_ignores_everything_but_the_credential() {
    let hs = headers(&[(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=ANYKEY/20990101/xx-none-9/states/aws4_request, \
         SignedHeaders=host, Signature=nonsense",
    )]);
    assert_eq!(access_key_id(&hs).as_deref(), Some("ANYKEY"));
    assert_eq!(
        access_key_id(&headers(&[("Authorization", "Basic eA==")])),
        None
    );
}

#[test]
fn aws_errors_use_aws_names_and_messages() {
    assert_eq!(
        Error::Missing.aws_error(),
        (
            "MissingAuthenticationTokenException",
            "Request is missing Authentication Token".to_owned()
        )
    );
    assert_eq!(
        Error::UnknownKey("K".to_owned()).aws_error(),
        (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".to_owned()
        )
    );
    let (name, message) = Error::Mismatch.aws_error();
    assert_eq!(name, "InvalidSignatureException");
    assert_eq!(
        message,
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service \
         documentation for details."
    );
    let now = parse_amz_date("20140325T145251Z").unwrap();
    let stale = Error::Expired {
        skew_seconds: parse_amz_date("20140325T143453Z").unwrap() - now,
        now,
    };
    assert_eq!(
        stale.aws_error(),
        (
            "InvalidSignatureException",
            "Signature expired: 20140325T143453Z is now earlier than 20140325T143751Z \
             (20140325T145251Z - 15 min.)"
                .to_owned()
        )
    );
    let ahead = Error::Expired {
        skew_seconds: 20 * 60,
        now,
    };
    assert_eq!(
        ahead.aws_error().1,
        "Signature not yet current: 20140325T151251Z is still later than 20140325T150751Z \
         (20140325T145251Z + 15 min.)"
    );
    assert_eq!(
        Error::Malformed("m".to_owned()).aws_error(),
        ("IncompleteSignatureException", "m".to_owned())
    );
    assert_eq!(
        Error::UnsupportedAlgorithm("Basic".to_owned())
            .aws_error()
            .0,
        "IncompleteSignatureException"
    );
}

#[test]
fn dates_parse_and_format() {
    assert_eq!(parse_amz_date("20150830T123600Z"), Some(SUITE_NOW));
    assert_eq!(format_amz_date(SUITE_NOW), "20150830T123600Z");
    assert_eq!(
        parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"),
        Some(SUITE_NOW)
    );
    assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
    assert_eq!(format_amz_date(951_782_400), "20000229T000000Z");
    for bad in [
        "20150230T123600Z",
        "20150830T243600Z",
        "20150830 123600Z",
        "2015083OT123600Z",
        "20150830T123600",
        "+0150830T123600Z",
        "",
    ] {
        assert_eq!(parse_amz_date(bad), None, "{bad}");
    }
    assert_eq!(parse_http_date("Sun, 30 Foo 2015 12:36:00 GMT"), None);
    assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 PST"), None);
    let round_trip = (0..5_000_000_000_i64).step_by(86_399 * 37);
    for seconds in round_trip {
        assert_eq!(parse_amz_date(&format_amz_date(seconds)), Some(seconds));
    }
}

#[test]
fn canonical_parts() {
    assert_eq!(canonical_uri("", "states"), "/");
    assert_eq!(canonical_uri("//a//b/./c/../", "states"), "/a/b/");
    assert_eq!(canonical_uri("/a%20b", "states"), "/a%2520b");
    assert_eq!(canonical_uri("/a%20b/../c", "s3"), "/a%20b/../c");
    assert_eq!(canonical_query("b=2&a=%7e&a=1 2&c"), "a=1%202&a=~&b=2&c=");
    assert_eq!(canonical_query(""), "");
    assert_eq!(percent_decode("%zz%4"), b"%zz%4".to_vec());
}
