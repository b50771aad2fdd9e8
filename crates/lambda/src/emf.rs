//! CloudWatch embedded metric format: a JSON document on stdout that CloudWatch Logs turns into
//! metrics (`Count` units). One document per dimension set.

use serde_json::{json, Value};

/// One EMF document: the metrics (name, value) of `namespace` under the dimensions (name,
/// value), all of which are declared as one dimension set.
pub fn document(
    namespace: &str,
    timestamp_ms: u64,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, u64)],
) -> String {
    let names: Vec<&str> = dimensions.iter().map(|(n, _)| *n).collect();
    let mut v = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [names],
                "Metrics": metrics
                    .iter()
                    .map(|(n, _)| json!({"Name": n, "Unit": "Count"}))
                    .collect::<Vec<_>>(),
            }]
        },
    });
    for (name, value) in dimensions {
        v[*name] = Value::from(*value);
    }
    for (name, value) in metrics {
        v[*name] = Value::from(*value);
    }
    v.to_string()
}

/// Prints the documents, one line each, where the Lambda log stream picks them up.
pub fn print(lines: &[String]) {
    for line in lines {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_declares_its_dimensions_and_metrics() {
        let doc = document(
            "ns",
            7,
            &[("Function", "f"), ("Label", "HIGH")],
            &[("A", 2)],
        );
        let v: Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 7);
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "ns");
        assert_eq!(m["Dimensions"], json!([["Function", "Label"]]));
        assert_eq!(m["Metrics"], json!([{"Name": "A", "Unit": "Count"}]));
        assert_eq!(
            (&v["Function"], &v["Label"], &v["A"]),
            (&json!("f"), &json!("HIGH"), &json!(2))
        );
    }
}
