//! What one item is: a CloudTrail record, an EventBridge envelope or SQS message of one, or a
//! nested log file of many.

use crate::record::{CloudTrailRecord, Envelope, EnvelopeRejection};
use serde_json::Value;

/// Reads one item: calls `out` with each IAM record it holds (an item is one record, an
/// envelope or SQS message of one, or a nested log file of many), or with why it is bad.
/// Items out of scope (another service) make no call.
pub fn classify(v: Value, out: &mut dyn FnMut(Result<CloudTrailRecord, String>)) {
    let Value::Object(map) = &v else {
        return out(Err("not a JSON object".to_string()));
    };
    if map.contains_key("detail-type") {
        let envelope: Envelope = match serde_json::from_value(v) {
            Ok(e) => e,
            Err(e) => return out(Err(format!("bad EventBridge envelope: {e}"))),
        };
        return match envelope.into_iam_record() {
            Ok(r) => out(match crate::engine::unreadable(&r) {
                Some(why) => Err(why),
                None => Ok(r),
            }),
            Err(EnvelopeRejection::OutOfScope { .. }) => {}
            Err(e) => out(Err(e.to_string())),
        };
    }
    if let Some(Value::String(body)) = map.get("body") {
        let id = map
            .get("messageId")
            .and_then(Value::as_str)
            .unwrap_or("(no messageId)")
            .to_string();
        return match serde_json::from_str::<Value>(body) {
            Ok(inner) => classify(inner, &mut |item| {
                out(item.map_err(|e| format!("SQS message {id}: {e}")))
            }),
            Err(e) => out(Err(format!("SQS message {id}: body is not JSON: {e}"))),
        };
    }
    if map.contains_key("eventName") || map.contains_key("eventSource") {
        if !map
            .get("eventSource")
            .and_then(Value::as_str)
            .is_some_and(crate::sources::accepted)
        {
            return;
        }
        return out(serde_json::from_value::<CloudTrailRecord>(v)
            .map_err(|e| format!("bad CloudTrail record: {e}"))
            .and_then(|r| crate::engine::check(&r).map(|_| r)));
    }
    if let Value::Object(mut map) = v {
        if let Some(Value::Array(items)) = map.remove("Records") {
            // A log file nested in a sequence (one S3 log file per line, an SQS body).
            for item in items {
                classify(item, out);
            }
            return;
        }
    }
    out(Err(
        "not a CloudTrail record, EventBridge envelope or SQS message".to_string(),
    ))
}
