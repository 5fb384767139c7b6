//! Content: byte ranges, content streams read from the server and uploads.

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

use crate::cmis::error::CmisError;

/// A byte range of a content stream: `length: None` means "to the end".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub offset: u64,
    pub length: Option<u64>,
}

impl ByteRange {
    /// The value of an HTTP `Range` header for this range.
    pub fn to_http_header(self) -> String {
        match self.length {
            Some(0) | None => format!("bytes={}-", self.offset),
            Some(len) => format!("bytes={}-{}", self.offset, self.offset + len - 1),
        }
    }
}

/// A stream of content bytes; errors are I/O errors so that the same type
/// can carry a local file, an HTTP body or a server-side blob.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

/// A content stream read from the server. The body is streamed: nothing
/// holds the whole document in memory.
pub struct ContentStream {
    /// Length of this response's body (of the range, for a ranged read),
    /// when the server said it.
    pub length: Option<u64>,
    pub mime_type: Option<String>,
    pub file_name: Option<String>,
    /// For a ranged read: the first byte's offset as the server answered
    /// (`Content-Range`). `None` when the server ignored the range and sent
    /// the whole stream from byte 0.
    pub range_start: Option<u64>,
    pub body: ByteStream,
}

impl fmt::Debug for ContentStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentStream")
            .field("length", &self.length)
            .field("mime_type", &self.mime_type)
            .field("file_name", &self.file_name)
            .field("range_start", &self.range_start)
            .finish_non_exhaustive()
    }
}

impl ContentStream {
    /// Collects the whole body. For tests and small documents only.
    pub async fn into_bytes(self) -> Result<Vec<u8>, CmisError> {
        use futures_util::StreamExt;
        let mut body = self.body;
        let mut out = Vec::with_capacity(self.length.unwrap_or(0).min(1 << 20) as usize);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| CmisError::Transport {
                message: format!("reading the content stream failed: {e}"),
            })?;
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

/// Content to upload. The body is a stream, so a large local file is sent
/// without being read into memory.
pub struct ContentUpload {
    pub file_name: String,
    pub mime_type: String,
    /// Exact length of the body when known (lets bindings send
    /// Content-Length instead of chunked encoding).
    pub length: Option<u64>,
    pub body: ByteStream,
}

impl fmt::Debug for ContentUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentUpload")
            .field("file_name", &self.file_name)
            .field("mime_type", &self.mime_type)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

impl ContentUpload {
    /// Content from memory (small documents, tests).
    pub fn from_bytes(
        file_name: impl Into<String>,
        mime_type: impl Into<String>,
        data: impl Into<Bytes>,
    ) -> Self {
        let data: Bytes = data.into();
        let length = data.len() as u64;
        let body: ByteStream = Box::pin(futures_util::stream::once(async move { Ok(data) }));
        ContentUpload {
            file_name: file_name.into(),
            mime_type: mime_type.into(),
            length: Some(length),
            body,
        }
    }

    /// Content streamed from a local file.
    pub async fn from_file(
        path: &std::path::Path,
        file_name: impl Into<String>,
        mime_type: impl Into<String>,
    ) -> std::io::Result<Self> {
        use tokio::io::AsyncReadExt;
        let file = tokio::fs::File::open(path).await?;
        let length = file.metadata().await?.len();
        // No more than announced: a file that grows meanwhile (written
        // during its upload) must not overrun the request's length.
        let body: ByteStream = Box::pin(tokio_util::io::ReaderStream::with_capacity(
            file.take(length),
            256 * 1024,
        ));
        Ok(ContentUpload {
            file_name: file_name.into(),
            mime_type: mime_type.into(),
            length: Some(length),
            body,
        })
    }

    /// `len` bytes of the file at `path` from `offset` (one piece of an
    /// upload in chunks).
    pub async fn from_file_range(
        path: &std::path::Path,
        offset: u64,
        len: u64,
        file_name: impl Into<String>,
        mime_type: impl Into<String>,
    ) -> std::io::Result<Self> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let mut file = tokio::fs::File::open(path).await?;
        file.seek(std::io::SeekFrom::Start(offset)).await?;
        let body: ByteStream = Box::pin(tokio_util::io::ReaderStream::with_capacity(
            file.take(len),
            256 * 1024,
        ));
        Ok(ContentUpload {
            file_name: file_name.into(),
            mime_type: mime_type.into(),
            length: Some(len),
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_header() {
        assert_eq!(
            ByteRange {
                offset: 0,
                length: Some(1)
            }
            .to_http_header(),
            "bytes=0-0"
        );
        assert_eq!(
            ByteRange {
                offset: 10,
                length: None
            }
            .to_http_header(),
            "bytes=10-"
        );
        assert_eq!(
            ByteRange {
                offset: 5,
                length: Some(10)
            }
            .to_http_header(),
            "bytes=5-14"
        );
    }
}
