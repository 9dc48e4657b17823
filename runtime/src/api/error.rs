//! The API's one error type, rendered in one place as AWS renders errors:
//! HTTP 400 (or 5xx) with `{"__type": "<Name>", "message": "..."}`.

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
    /// A pagination token is invalid.
    #[error("{0}")]
    InvalidToken(String),
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
    /// No such resource (tags).
    #[error("{0}")]
    ResourceNotFound(String),
    /// A quota or rate limit was reached.
    #[error("{0}")]
    Throttling(String),
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
    /// No such module.
    #[error("{0}")]
    ModuleNotFound(String),
    /// The body is too large.
    #[error("{0}")]
    PayloadTooLarge(String),
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
            StateMachineDoesNotExist(_) => ("StateMachineDoesNotExist", bad),
            StateMachineAlreadyExists(_) => ("StateMachineAlreadyExists", bad),
            StateMachineTypeNotSupported(_) => ("StateMachineTypeNotSupported", bad),
            ExecutionDoesNotExist(_) => ("ExecutionDoesNotExist", bad),
            ExecutionAlreadyExists(_) => ("ExecutionAlreadyExists", bad),
            ExecutionLimitExceeded(_) => ("ExecutionLimitExceeded", bad),
            ResourceNotFound(_) => ("ResourceNotFound", bad),
            Throttling(_) => ("ThrottlingException", bad),
            MissingAuthenticationToken(_) => {
                ("MissingAuthenticationTokenException", StatusCode::FORBIDDEN)
            }
            UnrecognizedClient(_) => ("UnrecognizedClientException", bad),
            InvalidSignature(_) => ("InvalidSignatureException", bad),
            AccessDenied(_) => ("AccessDeniedException", bad),
            NotSupported(_) => ("NotSupported", bad),
            InvalidModule(_) => ("InvalidModule", bad),
            ModuleInUse(_) => ("ModuleInUse", StatusCode::CONFLICT),
            ModuleNotFound(_) => ("ModuleNotFound", StatusCode::NOT_FOUND),
            PayloadTooLarge(_) => ("ValidationException", bad),
            Internal(_) => ("InternalFailure", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (name, status) = self.aws();
        let message = match &self {
            Error::Internal(detail) => {
                tracing::error!(error = %detail, "internal failure");
                "An internal error occurred.".to_string()
            }
            other => other.to_string(),
        };
        let body = serde_json::json!({"__type": name, "message": message});
        (
            status,
            [("content-type", "application/x-amz-json-1.0")],
            body.to_string(),
        )
            .into_response()
    }
}

impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Error {
        Error::Internal(e.to_string())
    }
}

/// The result of API operations.
pub type Result<T> = std::result::Result<T, Error>;
