//! SDK errors to the core's [`PortError`], with `retryable` set for what a later try may fix.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use iamwatch_core::ports::PortError;

/// Error codes AWS services use for throttling (the SDK's standard retry list).
pub const THROTTLING_CODES: [&str; 10] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
];

/// The error code of a service error, if the call got that far.
pub fn code<E: ProvideErrorMetadata>(err: &SdkError<E, Response>) -> Option<&str> {
    match err {
        SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}

/// Whether an error is an access denial (of the call or of assuming the role).
pub fn is_access_denied(code: &str) -> bool {
    code.starts_with("AccessDenied")
        || code == "UnauthorizedOperation"
        || code == "InvalidAccessException"
        || code == "UnrecognizedClientException"
}

/// Converts an SDK error after the SDK's own retries. Retryable: throttling, HTTP 429 and 5xx,
/// timeouts, connection failures and unreadable responses. Not retryable: everything else
/// (access denied, validation, missing entity).
pub fn port_error<E>(operation: impl Into<String>, err: &SdkError<E, Response>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (retryable, message) = match err {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code().unwrap_or("UnknownError");
            let retryable = status >= 500 || status == 429 || THROTTLING_CODES.contains(&code);
            let detail = se.err().message().unwrap_or_default();
            (retryable, format!("{code} (HTTP {status}): {detail}"))
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            (true, DisplayErrorContext(err).to_string())
        }
        _ => (false, DisplayErrorContext(err).to_string()),
    };
    PortError {
        operation: operation.into(),
        message,
        retryable,
    }
}
