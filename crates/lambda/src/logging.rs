//! Logging of the Lambda functions: structured JSON lines for CloudWatch, one object per event,
//! with the current span's fields (the SQS message id) and no timestamp (CloudWatch adds it).
//! The level comes from `RUST_LOG`, `info` by default.

/// Installs the JSON subscriber; call once at the start of a function's `main`.
pub fn init_json() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .init();
}
