//! The 200 MiB round trip the memory tests share: a document generated on
//! the fly as a stream goes up and comes back down, is verified byte for
//! byte against the regenerated stream, and the peak resident set size of
//! the process (VmHWM) must stay far below the document's size. Each memory
//! test is its own binary (so nothing else runs in the process while it is
//! measured) and includes this module.

use bytes::Bytes;
use futures_util::StreamExt;

use crate::common::{doc_props, Fixture, Target};
use cmisfs::cmis::{ByteStream, ContentUpload};

const SIZE: u64 = 200 << 20;
const CHUNK: usize = 256 << 10;
const LIMIT_KIB: u64 = 64 << 10;

/// The document's bytes: word `i` (8 bytes) is splitmix64(i), so any
/// range can be regenerated without the rest.
fn fill_at(pos: u64, buf: &mut [u8]) {
    let mut i = 0;
    while i < buf.len() {
        let at = pos + i as u64;
        let word = splitmix64(at / 8).to_le_bytes();
        let from = (at % 8) as usize;
        let n = (8 - from).min(buf.len() - i);
        buf[i..i + n].copy_from_slice(&word[from..from + n]);
        i += n;
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The document as a stream of fresh chunks, never held whole.
fn generated() -> ByteStream {
    let chunks = SIZE.div_ceil(CHUNK as u64);
    Box::pin(futures_util::stream::iter(0..chunks).map(|c| {
        let pos = c * CHUNK as u64;
        let len = (SIZE - pos).min(CHUNK as u64) as usize;
        let mut buf = vec![0u8; len];
        fill_at(pos, &mut buf);
        Ok(Bytes::from(buf))
    }))
}

/// Peak resident set size of this process, in KiB.
fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// The round trip against `target`, with the memory assertion.
pub async fn round_trip_in_bounded_memory(target: Target) {
    let fx = Fixture::new(&target, "memory").await;
    let b = &*target.binding;
    let before = vm_hwm_kib();
    // The generator is not degenerate: an unaligned slice equals the same
    // bytes cut from a larger, aligned one.
    let (mut whole, mut part) = ([0u8; 32], [0u8; 13]);
    fill_at(8, &mut whole);
    fill_at(11, &mut part);
    assert_eq!(part[..], whole[3..16]);
    assert!(whole.iter().any(|&b| b != 0) && whole[..8] != whole[8..16]);

    let upload = ContentUpload {
        file_name: "big.bin".into(),
        mime_type: "application/octet-stream".into(),
        length: Some(SIZE),
        body: generated(),
    };
    let doc = b
        .create_document(
            Some(fx.id()),
            &doc_props("big.bin", "cmis:document"),
            Some(upload),
            None,
        )
        .await
        .expect("uploading 200 MiB");
    assert_eq!(doc.content_length(), Some(SIZE));
    let after_upload = vm_hwm_kib();

    let stream = b.content(doc.id(), None).await.expect("getContentStream");
    let mut body = stream.body;
    let mut pos = 0u64;
    let mut expected = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("reading the download");
        expected.resize(chunk.len(), 0);
        fill_at(pos, &mut expected);
        assert!(
            chunk[..] == expected[..],
            "content differs in the {} bytes at {pos}",
            chunk.len()
        );
        pos += chunk.len() as u64;
    }
    assert_eq!(pos, SIZE, "downloaded length");
    let peak = vm_hwm_kib();

    println!(
        "peak RSS (VmHWM): {} KiB at start, {} KiB after the 200 MiB upload, {} KiB after the download (limit {} KiB)",
        before, after_upload, peak, LIMIT_KIB
    );
    assert!(
        peak < LIMIT_KIB,
        "peak RSS {peak} KiB is not far below the 200 MiB document"
    );
    fx.finish().await;
}
