//! Reading the tables: gzip JSON Lines objects into rows, every bad object or line named and
//! skipped, the rest read.

use serde::de::DeserializeOwned;

use crate::store::TableObject;

/// The rows of `objects`, in order; each object or line that cannot be read adds a problem that
/// names it (`<object> line <n>: <reason>`) and is skipped.
pub fn rows<T: DeserializeOwned>(objects: Vec<TableObject>, problems: &mut Vec<String>) -> Vec<T> {
    let mut rows = Vec::new();
    for object in objects {
        let text = match decode(object.bytes) {
            Ok(text) => text,
            Err(reason) => {
                problems.push(format!("{}: {reason}; object skipped", object.name));
                continue;
            }
        };
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<T>(line) {
                Ok(row) => rows.push(row),
                Err(e) => {
                    problems.push(format!("{} line {}: {e}; row skipped", object.name, i + 1))
                }
            }
        }
    }
    rows
}

/// The object's text: inflated when it starts with the gzip magic bytes (by the core's reader:
/// libdeflate in one call, a bound on the inflated size), else as it is.
fn decode(bytes: Vec<u8>) -> Result<String, String> {
    let gzip = bytes.starts_with(&[0x1f, 0x8b]);
    let bytes = iamwatch_core::input::decompress(bytes)
        .map_err(|e| format!("not readable as gzip ({e})"))?;
    String::from_utf8(bytes).map_err(|e| {
        let what = if gzip { "inflated data" } else { "data" };
        format!("{what} is not UTF-8 text ({e})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Row {
        a: u32,
    }

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn bad_lines_and_objects_are_named_and_the_rest_is_read() {
        let objects = vec![
            TableObject {
                name: "users/dt=2026-12-01/111111111111.json.gz".into(),
                bytes: gz("{\"a\":1}\n\n{\"a\":\"x\"}\n{\"a\":3}\n"),
            },
            TableObject {
                name: "users/dt=2026-12-01/222222222222.json.gz".into(),
                bytes: vec![0x1f, 0x8b, 0, 1, 2],
            },
            TableObject {
                name: "users/dt=2026-12-01/333333333333.jsonl".into(),
                bytes: b"{\"a\":4}".to_vec(),
            },
        ];
        let mut problems = Vec::new();
        let got: Vec<Row> = rows(objects, &mut problems);
        assert_eq!(got, [Row { a: 1 }, Row { a: 3 }, Row { a: 4 }]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0]
                .starts_with("users/dt=2026-12-01/111111111111.json.gz line 3: invalid type"),
            "{}",
            problems[0]
        );
        assert!(
            problems[1]
                .starts_with("users/dt=2026-12-01/222222222222.json.gz: not readable as gzip"),
            "{}",
            problems[1]
        );
    }
}
