//! Reading one object: a whole document, or JSON Lines in chunks that end at a line break.

use iamwatch_core::input::{self, DocStats, ItemError, ItemResult};
use std::io::{BufRead, BufReader, Read};

/// Size of the chunks JSON Lines files are read in.
const CHUNK: usize = 8 << 20;

/// Whether an object of this name is JSON Lines (read line by line) rather than one document.
pub fn is_json_lines(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    name.ends_with(".jsonl") || name.ends_with(".ndjson")
}

/// Reads a whole document (plain or gzip); returns what it held and the bytes read.
pub fn read_whole(
    reader: &mut dyn Read,
    on_item: &mut dyn FnMut(ItemResult),
) -> Result<(DocStats, u64), String> {
    let mut raw = Vec::new();
    reader.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let bytes = raw.len() as u64;
    let data = input::decompress(raw).map_err(|e| format!("cannot decompress: {e}"))?;
    input::read_document(&data, 1, on_item)
        .map(|s| (s, bytes))
        .map_err(|e| e.to_string())
}

/// Reads a JSON Lines object (plain or gzip) in chunks that end at a line break.
pub fn read_lines(
    reader: &mut dyn Read,
    on_item: &mut dyn FnMut(ItemResult),
) -> Result<DocStats, String> {
    let mut reader = BufReader::new(reader);
    let gz = reader
        .fill_buf()
        .map_err(|e| e.to_string())?
        .starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    };
    let mut stats = DocStats::default();
    let mut line = 1;
    let mut chunk = Vec::with_capacity(CHUNK + 4096);
    loop {
        chunk.clear();
        (&mut reader)
            .take(CHUNK as u64)
            .read_to_end(&mut chunk)
            .map_err(|e| format!("line {line}: {e}"))?;
        if chunk.is_empty() {
            break;
        }
        // Finish the last line of the chunk.
        reader
            .read_until(b'\n', &mut chunk)
            .map_err(|e| format!("line {line}: {e}"))?;
        // Line by line: a bad line is reported and the next one is read as usual.
        for text in chunk.split(|b| *b == b'\n') {
            if !text.trim_ascii().is_empty() {
                match input::read_document(text, line, on_item) {
                    Ok(s) => stats += s,
                    Err(e) => {
                        stats.items += 1;
                        on_item(Err(ItemError {
                            location: format!("line {line}"),
                            reason: e.reason,
                        }));
                    }
                }
            }
            line += 1;
        }
        // `split` yields one piece after the final line break: it is no line.
        line -= usize::from(chunk.ends_with(b"\n"));
    }
    Ok(stats)
}
