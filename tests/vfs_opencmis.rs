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

/// `--upload-chunk-size`: new files, plain documents and versionable ones
/// go up as a first piece plus appendContentStream calls, and the server
/// has exactly the bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_in_chunks_on_opencmis() {
    let f = Fixture::new("chunks", Some(256 * 1024)).await;
    let (b, folder, folder_name, vfs, dir) =
        (f.b.clone(), &f.folder, f.name.clone(), f.vfs.clone(), f.dir);
    let server = |name: &'static str| {
        let (b, path) = (b.clone(), format!("/{folder_name}/{name}"));
        async move {
            let o = b
                .object_by_path(&path, &ReadOptions::default())
                .await
                .unwrap();
            common::read_all(&*b, o.id()).await
        }
    };

    // A new file: createDocument with the first piece, then appends.
    let one = common::pattern(1024 * 1024 + 100, 1);
    let (a, fh) = vfs.create(dir, "big.bin", 0o644, W).await.unwrap();
    vfs.write(fh, a.ino, 0, &one).await.unwrap();
    vfs.fsync(a.ino).await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    assert_eq!(server("big.bin").await, one);
    assert_eq!(vfs.chunked_uploads(), 1);

    // The same document again: setContentStream, then appends.
    let two = common::pattern(700 * 1024, 2);
    let fh = vfs.open(a.ino, W).await.unwrap();
    vfs.write(fh, a.ino, 0, &two).await.unwrap();
    vfs.fsync(a.ino).await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    assert_eq!(server("big.bin").await, two);
    assert_eq!(vfs.chunked_uploads(), 2);

    // A versionable document: the pieces go into the PWC, then checkIn.
    let three = common::pattern(600 * 1024, 3);
    let v = vfs.lookup(dir, "v.txt").await.unwrap().ino;
    let fh = vfs.open(v, W).await.unwrap();
    vfs.write(fh, v, 0, &three).await.unwrap();
    vfs.fsync(v).await.unwrap();
    vfs.release(fh, v).await.unwrap();
    assert_eq!(server("v.txt").await, three);
    assert_eq!(vfs.chunked_uploads(), 3);

    // Small files still go in one request.
    let (s, fh) = vfs.create(dir, "small.txt", 0o644, W).await.unwrap();
    vfs.write(fh, s.ino, 0, b"small").await.unwrap();
    vfs.fsync(s.ino).await.unwrap();
    vfs.release(fh, s.ino).await.unwrap();
    assert_eq!(server("small.txt").await, b"small");
    assert_eq!(vfs.chunked_uploads(), 3);

    let _ = b
        .delete_tree(folder.id(), true, Default::default(), true)
        .await;
}
