//! The API's one error type, rendered in one place as AWS renders errors:
//! HTTP 400 (or 5xx) with `{"__type": "<Name>", "message": "..."}`.
//!
//! Every error the server answers has that shape, on every path: the AWS API (`POST /`)
//! answers 400 for everything the caller got wrong, exactly as AWS; Sandstep's own API under
//! `/v1` answers 404 `ResourceNotFound` for a missing resource (a kv item, a module, a module
//! version, an unknown path), 405 `UnknownOperationException` for a method a path does not
//! take, 409 `ModuleInUse`, and 400 otherwise. What axum itself answers (a path or query that
//! does not parse, a body over a route's limit) is rewritten into this shape by
//! [`aws_shaped`].

use crate::service;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Everything an API call can answer instead of a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The action is unknown.
    #[error("{0}")]
    UnknownOperation(String),
    /// A field is missing or malformed.
    #[error("{0}")]
    Validation(String),
    /// A required parameter is missing.
    #[error("{0}")]
    MissingRequiredParameter(String),
    /// An ARN cannot be parsed or names something else.
    #[error("{0}")]
    InvalidArn(String),
    /// A name breaks AWS's naming rules.
    #[error("{0}")]
    InvalidName(String),
    /// The definition is invalid; the message lists AWS-style diagnostics.
    #[error("{0}")]
    InvalidDefinition(String),
    /// The execution input is not JSON or too large.
    #[error("{0}")]
    InvalidExecutionInput(String),
    /// A pagination token or a task token is invalid.
    #[error("{0}")]
    InvalidToken(String),
    /// A task token names no task of the caller's.
    #[error("{0}")]
    TaskDoesNotExist(String),
    /// A task token's task no longer waits.
    #[error("{0}")]
    TaskTimedOut(String),
    /// A task's output is not JSON or too large.
    #[error("{0}")]
    InvalidOutput(String),
    /// No such state machine.
    #[error("{0}")]
    StateMachineDoesNotExist(String),
    /// A state machine of that name exists with another definition.
    #[error("{0}")]
    StateMachineAlreadyExists(String),
    /// The action is not available for this type of state machine.
    #[error("{0}")]
    StateMachineTypeNotSupported(String),
    /// No such execution.
    #[error("{0}")]
    ExecutionDoesNotExist(String),
    /// An execution of that name exists.
    #[error("{0}")]
    ExecutionAlreadyExists(String),
    /// Too many open executions for the tenant.
    #[error("{0}")]
    ExecutionLimitExceeded(String),
    /// RedriveExecution on an execution that cannot be redriven.
    #[error("{0}")]
    ExecutionNotRedrivable(String),
    /// No such activity.
    #[error("{0}")]
    ActivityDoesNotExist(String),
    /// Too many activities for the tenant.
    #[error("{0}")]
    ActivityLimitExceeded(String),
    /// Too many workers polling at once.
    #[error("{0}")]
    ActivityWorkerLimitExceeded(String),
    /// No such resource, in the AWS API (tags): 400, as AWS.
    #[error("{0}")]
    ResourceNotFound(String),
    /// No such resource under `/v1` (a kv item, a module, a version) or no such path: 404.
    #[error("{0}")]
    NotFound(String),
    /// The path exists but does not take this method: 405 (with `Allow`).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A quota or rate limit was reached.
    #[error("{0}")]
    Throttling(String),
    /// The store cannot be reached for now (its database is away or failing over):
    /// nothing was written, and the SDKs retry it.
    #[error("{0}")]
    ServiceUnavailable(String),
    /// The request has no credentials where they are required.
    #[error("{0}")]
    MissingAuthenticationToken(String),
    /// Unknown access key or API key.
    #[error("{0}")]
    UnrecognizedClient(String),
    /// The signature does not verify, or has expired.
    #[error("{0}")]
    InvalidSignature(String),
    /// Authenticated but not allowed.
    #[error("{0}")]
    AccessDenied(String),
    /// A feature Sandstep does not offer (yet).
    #[error("{0}")]
    NotSupported(String),
    /// A module upload was refused.
    #[error("{0}")]
    InvalidModule(String),
    /// A module cannot be deleted while executions pin it.
    #[error("{0}")]
    ModuleInUse(String),
    /// Something still uses the resource a delete names: 409.
    #[error("{0}")]
    ResourceInUse(String),
    /// The body is too large.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// DynamoDB's own errors, named as the DynamoDB API names them.
    #[error("{0}")]
    DynamoDb(crate::dynamo::ops::Error),
    /// SQS's own errors, named as SQS's JSON protocol names them.
    #[error("{0}")]
    Sqs(crate::sqs::Error),
    /// Another service's error (SNS, S3) on Sandstep's own API: its code and status.
    #[error("{message}")]
    Coded {
        /// The service's error code (`NoSuchKey`, `NotFound`).
        name: &'static str,
        /// The HTTP status the service answers it with.
        status: u16,
        /// What went wrong.
        message: String,
    },
    /// Something failed on our side; details are logged, not sent.
    #[error("internal failure")]
    Internal(String),
}

impl Error {
    /// AWS's error name and the HTTP status for this error.
    pub fn aws(&self) -> (&'static str, StatusCode) {
        use Error::*;
        let bad = StatusCode::BAD_REQUEST;
        match self {
            UnknownOperation(_) => ("UnknownOperationException", bad),
            Validation(_) => ("ValidationException", bad),
            MissingRequiredParameter(_) => ("MissingRequiredParameter", bad),
            InvalidArn(_) => ("InvalidArn", bad),
            InvalidName(_) => ("InvalidName", bad),
            InvalidDefinition(_) => ("InvalidDefinition", bad),
            InvalidExecutionInput(_) => ("InvalidExecutionInput", bad),
            InvalidToken(_) => ("InvalidToken", bad),
            TaskDoesNotExist(_) => ("TaskDoesNotExist", bad),
            TaskTimedOut(_) => ("TaskTimedOut", bad),
            InvalidOutput(_) => ("InvalidOutput", bad),
            StateMachineDoesNotExist(_) => ("StateMachineDoesNotExist", bad),
            StateMachineAlreadyExists(_) => ("StateMachineAlreadyExists", bad),
            StateMachineTypeNotSupported(_) => ("StateMachineTypeNotSupported", bad),
            ExecutionDoesNotExist(_) => ("ExecutionDoesNotExist", bad),
            ExecutionAlreadyExists(_) => ("ExecutionAlreadyExists", bad),
            ExecutionLimitExceeded(_) => ("ExecutionLimitExceeded", bad),
            ExecutionNotRedrivable(_) => ("ExecutionNotRedrivable", bad),
            ActivityDoesNotExist(_) => ("ActivityDoesNotExist", bad),
            ActivityLimitExceeded(_) => ("ActivityLimitExceeded", bad),
            ActivityWorkerLimitExceeded(_) => ("ActivityWorkerLimitExceeded", bad),
            ResourceNotFound(_) => ("ResourceNotFound", bad),
            NotFound(_) => ("ResourceNotFound", StatusCode::NOT_FOUND),
            MethodNotAllowed(_) => ("UnknownOperationException", StatusCode::METHOD_NOT_ALLOWED),
            Throttling(_) => ("ThrottlingException", bad),
            ServiceUnavailable(_) => ("ServiceUnavailable", StatusCode::SERVICE_UNAVAILABLE),
            MissingAuthenticationToken(_) => {
                ("MissingAuthenticationTokenException", StatusCode::FORBIDDEN)
            }
            UnrecognizedClient(_) => ("UnrecognizedClientException", bad),
            InvalidSignature(_) => ("InvalidSignatureException", bad),
            AccessDenied(_) => ("AccessDeniedException", bad),
            NotSupported(_) => ("NotSupported", bad),
            InvalidModule(_) => ("InvalidModule", bad),
            ModuleInUse(_) => ("ModuleInUse", StatusCode::CONFLICT),
            ResourceInUse(_) => ("ResourceInUseException", StatusCode::CONFLICT),
            PayloadTooLarge(_) => ("ValidationException", bad),
            DynamoDb(e) => dynamodb_error(e),
            Sqs(e) if e.internal => (
                "InternalError",
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            ),
            Sqs(_) => ("com.amazonaws.sqs#SqsError", bad),
            Coded { name, status, .. } => (
                name,
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
            ),
            Internal(_) => ("InternalFailure", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

/// DynamoDB's `__type` is the exception's shape id; its SDKs read the name after `#`.
fn dynamodb_error(e: &crate::dynamo::ops::Error) -> (&'static str, StatusCode) {
    use crate::dynamo::ops::Error as D;
    let bad = StatusCode::BAD_REQUEST;
    match e {
        D::Validation(_) => ("com.amazon.coral.validate#ValidationException", bad),
        D::ResourceNotFound(_) => (
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
            bad,
        ),
        D::ResourceInUse(_) => (
            "com.amazonaws.dynamodb.v20120810#ResourceInUseException",
            bad,
        ),
        D::ConditionalCheckFailed => (
            "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            bad,
        ),
        D::TransactionCanceled(_) => (
            "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            bad,
        ),
        D::Unsupported(_) => (
            "com.amazonaws.dynamodb.v20120810#UnknownOperationException",
            bad,
        ),
        D::Unavailable(_) => (
            "com.amazonaws.dynamodb.v20120810#ServiceUnavailable",
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        D::Internal(_) => (
            "com.amazonaws.dynamodb.v20120810#InternalServerError",
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (name, status) = self.aws();
        let message = match &self {
            Error::Internal(detail)
            | Error::DynamoDb(crate::dynamo::ops::Error::Internal(detail)) => {
                tracing::error!(error = %detail, "internal failure");
                "An internal error occurred.".to_string()
            }
            Error::DynamoDb(crate::dynamo::ops::Error::Unavailable(detail)) => {
                tracing::warn!(error = %detail, "store unavailable");
                UNAVAILABLE.to_string()
            }
            Error::Sqs(e) if e.internal && e.status() == 503 => {
                tracing::warn!(error = %e.message, "store unavailable");
                UNAVAILABLE.to_string()
            }
            Error::Sqs(e) if e.internal => {
                tracing::error!(error = %e.message, "internal failure");
                "An internal error occurred.".to_string()
            }
            other => other.to_string(),
        };
        if let Error::Sqs(e) = &self {
            // SQS's JSON protocol: the code after `com.amazonaws.sqs#`, and the query
            // protocol's code in a header, which the AWS CLI maps its errors by.
            let body = serde_json::json!({"__type": format!("com.amazonaws.sqs#{}", e.code), "message": message});
            let fault = if e.internal { "Receiver" } else { "Sender" };
            let query = format!("{};{fault}", e.query_code);
            return (
                status,
                [
                    ("content-type", CONTENT_TYPE),
                    ("x-amzn-query-error", query.as_str()),
                ],
                body.to_string(),
            )
                .into_response();
        }
        let body = serde_json::json!({"__type": name, "message": message});
        (status, [("content-type", CONTENT_TYPE)], body.to_string()).into_response()
    }
}

/// What a caller is told when the store cannot be reached for now (the detail, which may
/// name the database's address, goes to the log).
pub const UNAVAILABLE: &str = "The service is unavailable for now. Please try again.";

/// The content type of every error this module renders, by which [`aws_shaped`] knows them.
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// The content type of the query protocol's answers and errors (SNS's XML), which are
/// AWS-shaped already.
pub const XML_CONTENT_TYPE: &str = "text/xml";

/// The content type of S3's answers and errors, AWS-shaped already.
pub const S3_CONTENT_TYPE: &str = "application/xml";

/// The most of a foreign error body kept as the message (axum's rejections are one line).
const MAX_FOREIGN_MESSAGE: usize = 4096;

impl Error {
    /// The error for a response some other layer made (axum's rejections are plain text):
    /// its status decides the variant, its text becomes the message.
    pub fn from_foreign(status: StatusCode, text: &str) -> Error {
        let text = text.trim();
        let message = |fallback: &str| {
            if text.is_empty() {
                fallback.to_string()
            } else {
                text.to_string()
            }
        };
        match status {
            StatusCode::NOT_FOUND => Error::NotFound(message("Not found")),
            StatusCode::METHOD_NOT_ALLOWED => {
                Error::MethodNotAllowed(message("Method not allowed"))
            }
            StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge(message(
                "The request body is larger than this endpoint accepts",
            )),
            s if s.is_server_error() => Error::Internal(message("internal failure")),
            // 400, 415 (no or another Content-Type), 422 (a body that does not
            // deserialize) and the rest: the request is wrong, as AWS says it.
            _ => Error::Validation(message("The request is not valid")),
        }
    }
}

/// Marks a response that is sent as it is: a route's answer is the workflow's (any status,
/// any body), not an error of Sandstep's API.
#[derive(Debug, Clone, Copy)]
pub struct Verbatim;

/// Rewrites an error response that is not already AWS-shaped (axum's plain-text rejections,
/// an empty 405) into `{"__type","message"}`, keeping its `Allow` header. Installed on the
/// whole router with `axum::middleware::map_response`, so no route can leak another shape.
pub async fn aws_shaped(response: Response) -> Response {
    if response.extensions().get::<Verbatim>().is_some() {
        return response;
    }
    let status = response.status();
    let ours = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| {
            [CONTENT_TYPE, XML_CONTENT_TYPE, S3_CONTENT_TYPE]
                .iter()
                .any(|t| v.as_bytes() == t.as_bytes())
        });
    if ours || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_FOREIGN_MESSAGE).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    let mut shaped = Error::from_foreign(status, &text).into_response();
    if let Some(allow) = parts.headers.get(axum::http::header::ALLOW) {
        shaped
            .headers_mut()
            .insert(axum::http::header::ALLOW, allow.clone());
    }
    shaped
}

/// The one table from the use cases' errors to the API's: each keeps its message (AWS's
/// words where AWS has them) and gets its AWS error name and status here.
impl From<service::Error> for Error {
    fn from(e: service::Error) -> Error {
        use service::Error as S;
        let message = e.to_string();
        match e {
            S::InvalidArn(_) | S::WrongResource { .. } => Error::InvalidArn(message),
            S::InvalidName(_) => Error::InvalidName(message),
            S::InvalidDefinition(_) => Error::InvalidDefinition(message),
            S::InputTooLarge { .. } | S::InputNotJson(_) => Error::InvalidExecutionInput(message),
            S::InvalidToken(_) | S::InvalidTaskToken(_) => Error::InvalidToken(message),
            S::TaskDoesNotExist => Error::TaskDoesNotExist(message),
            S::TaskTimedOut => Error::TaskTimedOut(message),
            S::InvalidOutput(_) => Error::InvalidOutput(message),
            S::NothingToUpdate => Error::MissingRequiredParameter(message),
            S::StateMachineDoesNotExist(_) => Error::StateMachineDoesNotExist(message),
            S::StateMachineAlreadyExists(_) => Error::StateMachineAlreadyExists(message),
            S::ExpressOnly | S::NotForExpress => Error::StateMachineTypeNotSupported(message),
            S::ExecutionDoesNotExist(_) => Error::ExecutionDoesNotExist(message),
            S::ExecutionAlreadyExists(_) => Error::ExecutionAlreadyExists(message),
            S::ExecutionLimitExceeded(_) => Error::ExecutionLimitExceeded(message),
            S::ExecutionNotRedrivable(_) => Error::ExecutionNotRedrivable(message),
            S::ResourceNotFound(_) | S::MapRunDoesNotExist(_) => Error::ResourceNotFound(message),
            S::MapRunNotRunning(_) => Error::Validation(message),
            S::ActivityDoesNotExist(_) => Error::ActivityDoesNotExist(message),
            S::ActivityLimitExceeded(_) => Error::ActivityLimitExceeded(message),
            S::ActivityWorkerLimitExceeded(_) => Error::ActivityWorkerLimitExceeded(message),
            S::ModuleOverQuota { .. } => Error::Throttling(message),
            S::InvalidModule(_) => Error::InvalidModule(message),
            S::ModuleDoesNotExist(_)
            | S::ModuleVersionDoesNotExist { .. }
            | S::ItemDoesNotExist { .. }
            | S::JobQueueDoesNotExist(_)
            | S::JobDoesNotExist(_)
            | S::RoleDoesNotExist(_)
            | S::BindingDoesNotExist(_)
            | S::ConnectionDoesNotExist(_)
            | S::RouteDoesNotExist(_)
            | S::ScheduleDoesNotExist(_)
            | S::SampleDoesNotExist(_) => Error::NotFound(message),
            S::SampleStepFailed { failure, .. } => {
                // The step's own error name, so a failed install reads like the call.
                let (name, status) = match *failure {
                    service::samples::StepFailure::Service(inner) => {
                        let (name, status) = Error::from(inner).aws();
                        (name, status.as_u16())
                    }
                    service::samples::StepFailure::Aws { code, .. } => (code, 400),
                };
                Error::Coded {
                    name,
                    status,
                    message,
                }
            }
            S::JobQueueInUse(_) | S::RouteConflict(_) | S::ScheduleExists(_) => {
                Error::ResourceInUse(message)
            }
            S::ModuleInUse { .. } => Error::ModuleInUse(message),
            S::VersionConflict(_) => Error::Coded {
                name: "ConflictException",
                status: 409,
                message,
            },
            S::QuotaExceeded(_) => Error::Coded {
                name: "ServiceQuotaExceededException",
                status: 402,
                message,
            },
            S::VersionOrAliasDoesNotExist => Error::ResourceNotFound(message),
            S::Unsupported(_) => Error::NotSupported(message),
            S::InvalidVersioning(_)
            | S::TagOutOfBounds(_)
            | S::ReservedTagKey { .. }
            | S::TooManyTags(_)
            | S::InvalidModuleName(_)
            | S::InvalidGrants(_)
            | S::ModuleOverLimit(_)
            | S::InvalidTenantName(_)
            | S::TenantExists(_)
            | S::InvalidItemName(_)
            | S::ItemNotJson(_)
            | S::ItemRefused(_)
            | S::InvalidJobQueue(_)
            | S::InvalidRoute(_)
            | S::InvalidBinding(_)
            | S::InvalidConnection(_)
            | S::InvalidSchedule(_) => Error::Validation(message),
            S::Store(crate::store::Error::Unavailable(_)) => {
                tracing::warn!(error = %message, "store unavailable");
                Error::ServiceUnavailable(UNAVAILABLE.into())
            }
            S::Store(_) | S::Internal(_) => Error::Internal(message),
        }
    }
}

impl From<crate::service::events::Error> for Error {
    fn from(e: crate::service::events::Error) -> Error {
        Error::Coded {
            name: e.code,
            status: e.status(),
            message: e.message,
        }
    }
}

/// The result of API operations.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::{ALLOW, CONTENT_TYPE as CT};

    async fn shaped(response: Response) -> (StatusCode, Option<String>, serde_json::Value) {
        let response = aws_shaped(response).await;
        let status = response.status();
        let allow = response
            .headers()
            .get(ALLOW)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        assert_eq!(
            response.headers().get(CT).and_then(|v| v.to_str().ok()),
            Some(CONTENT_TYPE)
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, allow, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn axum_rejections_become_aws_errors() {
        let rejected = (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Failed to deserialize the JSON body into the target type: missing field `name`",
        )
            .into_response();
        let (status, _, body) = shaped(rejected).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["__type"], "ValidationException");
        assert!(body["message"].as_str().unwrap().contains("missing field"));

        let (status, _, body) = shaped(StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response()).await;
        assert_eq!(
            (status, &body["__type"]),
            (StatusCode::BAD_REQUEST, &"ValidationException".into())
        );

        let empty_405 = (StatusCode::METHOD_NOT_ALLOWED, [(ALLOW, "POST")]).into_response();
        let (status, allow, body) = shaped(empty_405).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(allow.as_deref(), Some("POST"));
        assert_eq!(body["__type"], "UnknownOperationException");

        let (status, _, body) = shaped(StatusCode::NOT_FOUND.into_response()).await;
        assert_eq!(
            (status, &body["__type"]),
            (StatusCode::NOT_FOUND, &"ResourceNotFound".into())
        );

        let (status, _, body) =
            shaped((StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded").into_response()).await;
        assert_eq!(
            (status, &body["__type"]),
            (StatusCode::BAD_REQUEST, &"ValidationException".into())
        );

        let (status, _, body) =
            shaped((StatusCode::BAD_GATEWAY, "secret detail").into_response()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body["message"], "An internal error occurred.",
            "5xx details are never sent"
        );
    }

    #[tokio::test]
    async fn our_errors_and_successes_pass_through() {
        let ours = Error::Validation("kept".into()).into_response();
        let (status, _, body) = shaped(ours).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (StatusCode::BAD_REQUEST, Some("kept"))
        );
        let ok = aws_shaped("ok\n".into_response()).await;
        assert_eq!(ok.status(), StatusCode::OK);
        let body = axum::body::to_bytes(ok.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&body[..], b"ok\n");
    }

    #[test]
    fn service_errors_keep_their_message_and_get_awss_name() {
        let cases = [
            (
                service::Error::StateMachineDoesNotExist("arn:x".into()),
                "StateMachineDoesNotExist",
                "State Machine Does Not Exist: 'arn:x'",
            ),
            (
                service::Error::NotForExpress,
                "StateMachineTypeNotSupported",
                "This operation is not supported by EXPRESS state machines",
            ),
            (
                service::Error::InvalidDefinition("UNSUPPORTED_FEATURE: x".into()),
                "InvalidDefinition",
                "Invalid State Machine Definition: 'UNSUPPORTED_FEATURE: x'",
            ),
            (
                service::Error::InvalidToken("zz".into()),
                "InvalidToken",
                "Invalid Token: 'zz'",
            ),
            (
                service::Error::TenantExists("acme".into()),
                "ValidationException",
                "tenant 'acme' exists",
            ),
        ];
        for (from, name, message) in cases {
            let e = Error::from(from);
            assert_eq!((e.aws().0, e.to_string().as_str()), (name, message));
        }
        let in_use = Error::from(service::Error::ModuleInUse {
            name: "m".into(),
            execution: "arn:e".into(),
        });
        assert_eq!(in_use.aws(), ("ModuleInUse", StatusCode::CONFLICT));
        let gone = Error::from(service::Error::ModuleDoesNotExist("m".into()));
        assert_eq!(gone.aws(), ("ResourceNotFound", StatusCode::NOT_FOUND));
        let internal = Error::from(service::Error::Internal("detail".into()));
        assert_eq!(internal, Error::Internal("detail".into()));
    }

    #[test]
    fn not_found_under_v1_is_404_but_the_aws_api_stays_400() {
        assert_eq!(
            Error::NotFound("x".into()).aws(),
            ("ResourceNotFound", StatusCode::NOT_FOUND)
        );
        assert_eq!(
            Error::ResourceNotFound("x".into()).aws(),
            ("ResourceNotFound", StatusCode::BAD_REQUEST)
        );
    }

    /// A database that is away is a 503 in every family's own shape, which the AWS SDKs
    /// retry, and its detail (which may name the database) stays in the log.
    #[tokio::test]
    async fn a_store_that_is_away_is_a_503_in_every_family() {
        let away = || crate::store::Error::Unavailable("db.internal:5432 refused".into());
        for e in [
            Error::from(service::Error::Store(away())),
            Error::DynamoDb(away().into()),
            Error::Sqs(away().into()),
        ] {
            let response = e.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let body = String::from_utf8_lossy(&body);
            assert!(body.contains("ServiceUnavailable"), "{body}");
        }
        let dynamo = Error::DynamoDb(away().into()).into_response();
        let body = axum::body::to_bytes(dynamo.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("5432"));
        let sns = crate::sns::Error::from(away());
        assert_eq!((sns.code, sns.status()), ("ServiceUnavailable", 503));
        let s3 = crate::s3::Error::from(away());
        assert_eq!((s3.code, s3.status), ("ServiceUnavailable", 503));
        let sqs = crate::sqs::Error::from(away());
        assert_eq!((sqs.query_code, sqs.status()), ("ServiceUnavailable", 503));
    }
}
