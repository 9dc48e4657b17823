//! S3's `aws-chunked` content encoding, which the SDKs use to send a body of unknown
//! length or with a trailing checksum: `<hex size>[;chunk-signature=...]\r\n<bytes>\r\n`
//! repeated, a chunk of size 0, then trailer lines (`x-amz-checksum-crc32:...`) and an
//! empty line. Decoded incrementally, as the body arrives.

use axum::body::Bytes;

/// The longest chunk header or trailer line accepted.
const MAX_LINE: usize = 4096;

/// Where the decoder is in the framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk's size line.
    Header,
    /// Inside a chunk's data: bytes left.
    Data(u64),
    /// After a chunk's data: its `\r\n`.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
    /// The body ended properly.
    Done,
}

/// An incremental `aws-chunked` decoder.
#[derive(Debug)]
pub struct Dechunker {
    pending: Vec<u8>,
    state: State,
}

impl Default for Dechunker {
    fn default() -> Self {
        Dechunker {
            pending: Vec::new(),
            state: State::Header,
        }
    }
}

impl Dechunker {
    /// Feeds `input`; the payload bytes it completes.
    ///
    /// # Errors
    /// A description of the malformed framing.
    pub fn push(&mut self, input: &[u8]) -> Result<Vec<Bytes>, String> {
        let mut out = Vec::new();
        let mut input = input;
        loop {
            match self.state {
                State::Data(left) => {
                    if input.is_empty() {
                        return Ok(out);
                    }
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(input.len());
                    let (data, rest) = input.split_at(take);
                    out.push(Bytes::copy_from_slice(data));
                    input = rest;
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::Done => {
                    if input.iter().any(|b| !b.is_ascii_whitespace()) {
                        return Err("bytes after the end of an aws-chunked body".into());
                    }
                    return Ok(out);
                }
                State::Header | State::DataEnd | State::Trailers => {
                    let Some(line) = self.line(&mut input)? else {
                        return Ok(out);
                    };
                    self.state = match self.state {
                        State::Header => {
                            let size = line.split(';').next().unwrap_or_default().trim();
                            match u64::from_str_radix(size, 16) {
                                Ok(0) => State::Trailers,
                                Ok(n) => State::Data(n),
                                Err(_) => {
                                    return Err(format!(
                                        "an aws-chunked chunk size '{size}' is not hex"
                                    ))
                                }
                            }
                        }
                        State::DataEnd if line.is_empty() => State::Header,
                        State::DataEnd => {
                            return Err("an aws-chunked chunk is longer than its size".into())
                        }
                        _ if line.is_empty() => State::Done,
                        _ => State::Trailers,
                    };
                }
            }
        }
    }

    /// Whether the body ended with its last chunk (and trailers).
    pub fn finished(&self) -> bool {
        // A body may end right after the zero chunk's trailers without the final line.
        matches!(self.state, State::Done | State::Trailers) && self.pending.is_empty()
    }

    /// The next complete line (without `\r\n`), taking it from `pending` and `input`.
    fn line(&mut self, input: &mut &[u8]) -> Result<Option<String>, String> {
        match input.iter().position(|&b| b == b'\n') {
            Some(at) => {
                let (head, rest) = input.split_at(at + 1);
                self.pending.extend_from_slice(head);
                *input = rest;
                let mut line = std::mem::take(&mut self.pending);
                line.truncate(line.len().saturating_sub(1));
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                Ok(Some(String::from_utf8_lossy(&line).into_owned()))
            }
            None => {
                self.pending.extend_from_slice(input);
                *input = &[];
                if self.pending.len() > MAX_LINE {
                    return Err("an aws-chunked header line is too long".into());
                }
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(parts: &[&[u8]]) -> (Vec<u8>, bool) {
        let mut d = Dechunker::default();
        let mut out = Vec::new();
        for p in parts {
            for b in d.push(p).unwrap() {
                out.extend_from_slice(&b);
            }
        }
        (out, d.finished())
    }

    #[test]
    fn chunks_decode_however_the_body_is_split() {
        let body: &[u8] = b"5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n";
        assert_eq!(decode(&[body]), (b"hello world".to_vec(), true));
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(decode(&bytes), (b"hello world".to_vec(), true));
        let (_, finished) = decode(&[b"5\r\nhel"]);
        assert!(!finished, "cut short");
        assert!(Dechunker::default().push(b"zz\r\n").is_err());
        assert!(Dechunker::default().push(b"1\r\nab\r\n").is_err());
    }
}
