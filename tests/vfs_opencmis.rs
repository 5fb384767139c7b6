//! The core VFS cases against the reference server, OpenCMIS InMemory
//! (tests/opencmis-server.sh; CMISFS_OPENCMIS_URL must be set): a save to
//! a `VersionableType` document (which refuses setContentStream when
//! checked in) goes through checkOut/checkIn and makes a new version; a
//! save-by-rename over a `cmis:document` keeps its object id; `ln` files
//! a document in a second folder (nlink 2).

mod common;

use std::time::Duration;

use cmisfs::cmis::{prop, ContentUpload, Properties, ReadOptions, VersioningState};
use cmisfs::vfs::{OpenFlags, Vfs, VfsConfig, ROOT_INO};

const W: OpenFlags = OpenFlags {
    read: true,
    write: true,
    truncate: true,
    append: false,
    exclusive: false,
};

/// A fresh folder on OpenCMIS holding `v.txt`, a document of the
/// versionable type (content "one"), and a VFS over the server (user
/// `test`, optional upload chunk size).
struct Fixture {
    b: std::sync::Arc<dyn cmisfs::cmis::Binding>,
    folder: cmisfs::cmis::CmisObject,
    name: String,
    versioned: cmisfs::cmis::CmisObject,
    vfs: std::sync::Arc<Vfs>,
    dir: u64,
    _cache: tempfile::TempDir,
}

impl Fixture {
    /// The content of `name` in the fixture's folder, as the server has it.
    async fn server(&self, name: &str) -> Vec<u8> {
        let path = format!("/{}/{name}", self.name);
        let o = self
            .b
            .object_by_path(&path, &ReadOptions::default())
            .await
            .unwrap();
        common::read_all(&*self.b, o.id()).await
    }

    async fn new(prefix: &str, chunk: Option<u64>) -> Fixture {
        let target = common::opencmis("browser").await;
        let b = target.binding.clone();
        let name = common::unique(prefix);
        let folder = b
            .create_folder(
                &target.info.root_folder_id,
                &Properties::new()
                    .with_string(prop::NAME, name.clone())
                    .with_id(prop::OBJECT_TYPE_ID, "cmis:folder"),
            )
            .await
            .unwrap();
        let versioned = b
            .create_document(
                Some(folder.id()),
                &Properties::new()
                    .with_string(prop::NAME, "v.txt")
                    .with_id(prop::OBJECT_TYPE_ID, target.versionable_type.clone()),
                Some(ContentUpload::from_bytes(
                    "v.txt",
                    "text/plain",
                    &b"one"[..],
                )),
                Some(VersioningState::Major),
            )
            .await
            .unwrap();
        let cache = tempfile::tempdir().unwrap();
        let mut cfg = VfsConfig::new(cache.path().to_path_buf());
        cfg.write_back_delay = Duration::from_millis(100);
        cfg.user = Some("test".into());
        cfg.upload_chunk_size = chunk;
        let vfs = Vfs::new(b.clone(), cfg).await.unwrap();
        let dir = vfs.lookup(ROOT_INO, &name).await.unwrap().ino;
        Fixture {
            b,
            folder,
            name,
            versioned,
            vfs,
            dir,
            _cache: cache,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_versions_and_links_on_opencmis() {
    let f = Fixture::new("vfs", None).await;
    let (b, folder, folder_name, versioned, vfs, dir) = (
        f.b.clone(),
        &f.folder,
        f.name.clone(),
        &f.versioned,
        f.vfs.clone(),
        f.dir,
    );

    // Save into a versionable document: checkOut + checkIn.
    let v = vfs.lookup(dir, "v.txt").await.unwrap().ino;
    let fh = vfs.open(v, W).await.unwrap();
    vfs.write(fh, v, 0, b"two").await.unwrap();
    vfs.fsync(v).await.unwrap();
    vfs.release(fh, v).await.unwrap();
    let versions = b.all_versions(versioned.id()).await.unwrap();
    assert!(versions.len() >= 2, "{versions:?}");
    let path = format!("/{folder_name}/v.txt");
    let latest = b
        .object_by_path(&path, &ReadOptions::default())
        .await
        .unwrap();
    let got = b
        .content(latest.id(), None)
        .await
        .unwrap()
        .into_bytes()
        .await
        .unwrap();
    assert_eq!(got, b"two");

    // Save by rename over a plain document: setContentStream, same id.
    let (a, fh) = vfs.create(dir, "doc.txt", 0o644, W).await.unwrap();
    vfs.write(fh, a.ino, 0, b"first").await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    vfs.fsync(a.ino).await.unwrap();
    let path = format!("/{folder_name}/doc.txt");
    let before = b
        .object_by_path(&path, &ReadOptions::default())
        .await
        .unwrap();
    let (t, fh) = vfs.create(dir, ".doc.txt.tmp1", 0o644, W).await.unwrap();
    vfs.write(fh, t.ino, 0, b"second").await.unwrap();
    vfs.release(fh, t.ino).await.unwrap();
    vfs.rename(dir, ".doc.txt.tmp1", dir, "doc.txt", false)
        .await
        .unwrap();
    vfs.fsync(t.ino).await.unwrap();
    let after = b
        .object_by_path(&path, &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(after.version_series_id(), before.version_series_id());
    let got = b
        .content(after.id(), None)
        .await
        .unwrap()
        .into_bytes()
        .await
        .unwrap();
    assert_eq!(got, b"second");

    // ln into a second folder.
    let sub = vfs.mkdir(dir, "sub", 0o755).await.unwrap();
    let l = vfs.link(t.ino, sub.ino, "doc.txt").await.unwrap();
    assert_eq!(l.nlink, 2);
    vfs.unlink(sub.ino, "doc.txt").await.unwrap();
    assert!(b
        .object_by_path(&path, &ReadOptions::default())
        .await
        .is_ok());

    let _ = b
        .delete_tree(folder.id(), true, Default::default(), true)
        .await;
}

/// Streamed uploads: a new file written by appends goes up as one
/// createDocument while it is written, and so does a document rewritten
/// from its start: setContentStream for a plain document, checkOut +
/// checkIn for a versionable one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_uploads_on_opencmis() {
    let f = Fixture::new("stream", None).await;
    let (b, folder, vfs, dir) = (f.b.clone(), &f.folder, f.vfs.clone(), f.dir);
    let mib = 1 << 20;
    let write_all = |ino: u64, fh: u64, data: Vec<u8>| {
        let vfs = vfs.clone();
        async move {
            for (k, chunk) in data.chunks(mib).enumerate() {
                vfs.write(fh, ino, (k * mib) as u64, chunk).await.unwrap();
            }
            vfs.fsync(ino).await.unwrap();
            vfs.release(fh, ino).await.unwrap();
        }
    };

    let one = common::pattern(20 * mib, 1);
    let (a, fh) = vfs.create(dir, "big.bin", 0o644, W).await.unwrap();
    write_all(a.ino, fh, one.clone()).await;
    assert_eq!(vfs.streamed_uploads(), 1);
    assert_eq!(f.server("big.bin").await, one);

    let two = common::pattern(18 * mib, 2);
    let fh = vfs.open(a.ino, W).await.unwrap();
    write_all(a.ino, fh, two.clone()).await;
    assert_eq!(vfs.streamed_uploads(), 2);
    assert_eq!(f.server("big.bin").await, two);

    let v = vfs.lookup(dir, "v.txt").await.unwrap().ino;
    let before = b.all_versions(f.versioned.id()).await.unwrap().len();
    let three = common::pattern(17 * mib, 3);
    let fh = vfs.open(v, W).await.unwrap();
    write_all(v, fh, three.clone()).await;
    assert_eq!(vfs.streamed_uploads(), 3);
    assert_eq!(f.server("v.txt").await, three);
    let after = b.all_versions(f.versioned.id()).await.unwrap().len();
    assert_eq!(after, before + 1, "one new version");

    // A WebDAV PUT over it: the replacement streams before it is committed.
    let four = common::pattern(19 * mib, 4);
    let put = vfs.open_replacing(v).await.unwrap();
    for (k, chunk) in four.chunks(mib).enumerate() {
        vfs.write(put, v, (k * mib) as u64, chunk).await.unwrap();
    }
    assert!(vfs.commit_replace(put, v).await.unwrap());
    vfs.fsync(v).await.unwrap();
    vfs.release(put, v).await.unwrap();
    assert_eq!(vfs.streamed_uploads(), 4);
    assert_eq!(f.server("v.txt").await, four);
    let last = b.all_versions(f.versioned.id()).await.unwrap().len();
    assert_eq!(last, after + 1, "one new version");

    let _ = b
        .delete_tree(folder.id(), true, Default::default(), true)
        .await;
}

/// `--upload-chunk-size`: new files, plain documents and versionable ones
/// go up as a first piece plus appendContentStream calls, and the server
/// has exactly the bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_in_chunks_on_opencmis() {
    let f = Fixture::new("chunks", Some(256 * 1024)).await;
    let (b, folder, vfs, dir) = (f.b.clone(), &f.folder, f.vfs.clone(), f.dir);

    // A new file: createDocument with the first piece, then appends.
    let one = common::pattern(1024 * 1024 + 100, 1);
    let (a, fh) = vfs.create(dir, "big.bin", 0o644, W).await.unwrap();
    vfs.write(fh, a.ino, 0, &one).await.unwrap();
    vfs.fsync(a.ino).await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    assert_eq!(f.server("big.bin").await, one);
    assert_eq!(vfs.chunked_uploads(), 1);

    // The same document again: setContentStream, then appends.
    let two = common::pattern(700 * 1024, 2);
    let fh = vfs.open(a.ino, W).await.unwrap();
    vfs.write(fh, a.ino, 0, &two).await.unwrap();
    vfs.fsync(a.ino).await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    assert_eq!(f.server("big.bin").await, two);
    assert_eq!(vfs.chunked_uploads(), 2);

    // A versionable document: the pieces go into the PWC, then checkIn.
    let three = common::pattern(600 * 1024, 3);
    let v = vfs.lookup(dir, "v.txt").await.unwrap().ino;
    let fh = vfs.open(v, W).await.unwrap();
    vfs.write(fh, v, 0, &three).await.unwrap();
    vfs.fsync(v).await.unwrap();
    vfs.release(fh, v).await.unwrap();
    assert_eq!(f.server("v.txt").await, three);
    assert_eq!(vfs.chunked_uploads(), 3);

    // Small files still go in one request.
    let (s, fh) = vfs.create(dir, "small.txt", 0o644, W).await.unwrap();
    vfs.write(fh, s.ino, 0, b"small").await.unwrap();
    vfs.fsync(s.ino).await.unwrap();
    vfs.release(fh, s.ino).await.unwrap();
    assert_eq!(f.server("small.txt").await, b"small");
    assert_eq!(vfs.chunked_uploads(), 3);

    let _ = b
        .delete_tree(folder.id(), true, Default::default(), true)
        .await;
}
