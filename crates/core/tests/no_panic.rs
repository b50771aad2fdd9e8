//! No input makes the reader or the rules panic: arbitrary bytes, JSON-ish text, and
//! mutations of real records.

use iamwatch_core::engine::{evaluate, finding, Verdict};
use iamwatch_core::input::read_document;
use iamwatch_core::{Enrichment, FindingContext, Policy};
use proptest::prelude::*;

fn run(bytes: &[u8]) {
    let policy = Policy::default();
    let _ = read_document(bytes, 1, &mut |item| {
        if let Ok(r) = item {
            if let Verdict::Finding(d) = evaluate(&r, &policy) {
                let _ = finding(
                    &d,
                    &r,
                    &policy,
                    &Enrichment::default(),
                    &FindingContext::default(),
                );
            }
        }
    });
}

const SEED: &str = include_str!("../../../events/access-key-created-for-other-user.json");

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        run(&bytes);
    }

    #[test]
    fn json_alphabet(s in "[\\[\\]{}\":,\\\\ a-z0-9.-]{0,256}") {
        run(s.as_bytes());
        run(format!("{{\"Records\": [{s}]}}").as_bytes());
    }

    #[test]
    fn mutated_real_record(cut in 0usize..SEED.len(), at in 0usize..SEED.len(), byte in any::<u8>()) {
        // Truncated anywhere.
        run(&SEED.as_bytes()[..cut]);
        // One byte replaced anywhere.
        let mut b = SEED.as_bytes().to_vec();
        b[at] = byte;
        run(&b);
    }

    #[test]
    fn typed_fields_of_any_json_type(v in prop_oneof![
        Just("null".to_string()), Just("true".to_string()), Just("12".to_string()),
        Just("[]".to_string()), Just("{}".to_string()), Just("\"x\"".to_string())]) {
        for field in ["eventTime", "userIdentity", "requestParameters", "responseElements", "errorCode", "sourceIPAddress"] {
            let doc = format!(r#"{{"eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","eventTime":"2026-01-01T00:00:00Z","{field}":{v}}}"#);
            run(doc.as_bytes());
        }
    }
}
