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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::operation::get_user::GetUserError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service(status: u16, code: &str) -> SdkError<GetUserError, Response> {
        let err = GetUserError::generic(ErrorMetadata::builder().code(code).message("m").build());
        let raw = Response::new(
            StatusCode::try_from(status).unwrap_or_else(|e| panic!("{e}")),
            SdkBody::empty(),
        );
        SdkError::service_error(err, raw)
    }

    #[test]
    fn throttling_5xx_and_transport_errors_are_retryable() {
        for (status, code, retryable) in [
            (400, "Throttling", true),
            (400, "ThrottlingException", true),
            (429, "TooManyRequestsException", true),
            (500, "InternalFailure", true),
            (503, "ServiceUnavailable", true),
            (403, "AccessDenied", false),
            (404, "NoSuchEntity", false),
            (400, "ValidationException", false),
        ] {
            let e = port_error("iam:GetUser", &service(status, code));
            assert_eq!(e.retryable, retryable, "{status} {code}");
            assert!(e.message.starts_with(code), "{}", e.message);
            assert_eq!(e.operation, "iam:GetUser");
        }
        let timeout: SdkError<GetUserError, Response> = SdkError::timeout_error("slow");
        assert!(port_error("x", &timeout).retryable);
        let construction: SdkError<GetUserError, Response> =
            SdkError::construction_failure("bad input");
        assert!(!port_error("x", &construction).retryable);
        assert_eq!(code(&service(403, "AccessDenied")), Some("AccessDenied"));
        assert!(is_access_denied("AccessDeniedException"));
        assert!(!is_access_denied("Throttling"));
    }
}
