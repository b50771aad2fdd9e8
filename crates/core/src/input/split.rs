//! The structural splitter: cuts any JSON document into items by strings, escapes and brace
//! depth (jumping with `memchr`), and parses only the items that hold an accepted source.

use super::{classify, DocError, DocStats, Hits, ItemError, ItemResult};
use serde_json::Value;

pub(super) struct Reader<'a, 'f> {
    pub(super) buf: &'a [u8],
    pub(super) first_line: usize,
    pub(super) hits: Hits,
    pub(super) stats: DocStats,
    pub(super) max_record: usize,
    pub(super) on_item: &'f mut dyn FnMut(ItemResult),
}

impl Reader<'_, '_> {
    fn line_of(&self, offset: usize) -> usize {
        self.first_line
            + memchr::memchr_iter(b'\n', &self.buf[..offset.min(self.buf.len())]).count()
    }

    fn err(&self, offset: usize, reason: impl Into<String>) -> DocError {
        DocError {
            offset,
            line: self.line_of(offset),
            reason: reason.into(),
        }
    }

    pub(super) fn ws(&self, mut i: usize) -> usize {
        while i < self.buf.len() && matches!(self.buf[i], b' ' | b'\n' | b'\r' | b'\t') {
            i += 1;
        }
        i
    }

    fn expect(&self, i: usize, what: u8) -> Result<usize, DocError> {
        match self.buf.get(i) {
            Some(b) if *b == what => Ok(i + 1),
            Some(b) => Err(self.err(
                i,
                format!("expected '{}', found '{}'", what as char, b.escape_ascii()),
            )),
            None => Err(self.err(
                i,
                format!("unexpected end of data, expected '{}'", what as char),
            )),
        }
    }

    /// End of the string starting at `i` (a quote).
    fn skip_string(&self, i: usize) -> Result<usize, DocError> {
        let mut j = i + 1;
        loop {
            match memchr::memchr2(b'"', b'\\', &self.buf[j.min(self.buf.len())..]) {
                Some(k) if self.buf[j + k] == b'\\' => j += k + 2,
                Some(k) => return Ok(j + k + 1),
                None => return Err(self.err(i, "unterminated string")),
            }
        }
    }

    /// End of the value starting at `i`.
    fn skip_value(&self, i: usize) -> Result<usize, DocError> {
        let buf = self.buf;
        match buf.get(i) {
            None => Err(self.err(i, "unexpected end of data, expected a value")),
            Some(b'"') => self.skip_string(i),
            Some(&open @ (b'{' | b'[')) => {
                let close = if open == b'{' { b'}' } else { b']' };
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    let Some(k) = memchr::memchr3(b'"', open, close, &buf[j..]) else {
                        return Err(self.err(i, "unterminated object or array (truncated file?)"));
                    };
                    let at = j + k;
                    match buf[at] {
                        b'"' => j = self.skip_string(at)?,
                        b if b == open => {
                            depth += 1;
                            j = at + 1;
                        }
                        _ => {
                            depth -= 1;
                            j = at + 1;
                            if depth == 0 {
                                return Ok(j);
                            }
                        }
                    }
                }
            }
            Some(_) => {
                let mut j = i;
                while j < buf.len()
                    && !matches!(buf[j], b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t')
                {
                    j += 1;
                }
                if j == i {
                    return Err(self.err(i, format!("unexpected '{}'", buf[i].escape_ascii())));
                }
                Ok(j)
            }
        }
    }

    /// One top-level value: a container of records, an array of items, or one item.
    pub(super) fn top_level(&mut self, i: usize) -> Result<usize, DocError> {
        match self.buf[i] {
            b'{' => self.object(i),
            b'[' => self.array(i),
            b => Err(self.err(
                i,
                format!(
                    "expected a JSON object or array, found '{}'",
                    b.escape_ascii()
                ),
            )),
        }
    }

    /// An object: if it has a `Records` array, its elements are the items; otherwise the
    /// object itself is one.
    fn object(&mut self, start: usize) -> Result<usize, DocError> {
        let mut i = self.ws(start + 1);
        let mut container = false;
        if self.buf.get(i) == Some(&b'}') {
            return Err(self.err(start, "empty object is not a record"));
        }
        loop {
            i = self.ws(i);
            if self.buf.get(i) != Some(&b'"') {
                return Err(self.err(i, "expected an object key"));
            }
            let key_end = self.skip_string(i)?;
            let key = &self.buf[i + 1..key_end - 1];
            i = self.ws(key_end);
            i = self.expect(i, b':')?;
            i = self.ws(i);
            if key == b"Records" && self.buf.get(i) == Some(&b'[') {
                container = true;
                i = self.array(i)?;
            } else {
                i = self.skip_value(i)?;
            }
            i = self.ws(i);
            match self.buf.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return Err(self.err(i, "expected ',' or '}' in object (truncated file?)")),
            }
        }
        if !container {
            self.item(start, i);
        }
        Ok(i)
    }

    /// An array whose elements are items.
    fn array(&mut self, start: usize) -> Result<usize, DocError> {
        let mut i = self.ws(start + 1);
        if self.buf.get(i) == Some(&b']') {
            return Ok(i + 1);
        }
        loop {
            i = self.ws(i);
            let end = self.skip_value(i)?;
            self.item(i, end);
            i = self.ws(end);
            match self.buf.get(i) {
                Some(b',') => i += 1,
                Some(b']') => return Ok(i + 1),
                _ => return Err(self.err(i, "expected ',' or ']' in array (truncated file?)")),
            }
        }
    }

    fn item(&mut self, start: usize, end: usize) {
        self.stats.items += 1;
        if !self.hits.within(start, end) {
            return;
        }
        let n = self.stats.items;
        let location = || format!("record {n} (line {})", self.line_of(start));
        if end - start > self.max_record {
            let location = location();
            (self.on_item)(Err(ItemError {
                location,
                reason: format!(
                    "{} bytes, over the limit of {} bytes on one record",
                    end - start,
                    self.max_record
                ),
            }));
            return;
        }
        let value: Value = match serde_json::from_slice(&self.buf[start..end]) {
            Ok(v) => v,
            Err(e) => {
                let location = location();
                (self.on_item)(Err(ItemError {
                    location,
                    reason: format!("invalid JSON: {e}"),
                }));
                return;
            }
        };
        let location = location();
        let (stats, on_item) = (&mut self.stats, &mut self.on_item);
        classify(value, &mut |item| match item {
            Ok(record) => {
                stats.iam_records += 1;
                on_item(Ok(record));
            }
            Err(reason) => on_item(Err(ItemError {
                location: location.clone(),
                reason,
            })),
        });
    }
}
