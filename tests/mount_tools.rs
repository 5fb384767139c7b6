//! Ordinary tools on a real `cmisfs mount` (issue 4, "Done when"): cp, mv,
//! rm, mkdir, rmdir, rsync, tar, sed -i, a save by temp file + fsync +
//! rename, LibreOffice saving a document twice, git clone, ln
//! (multi-filing), kill -9 and journal replay, a copy through fault
//! injection, fsx and pjdfstest.
//!
//! Each test mounts its own tree (own `--data`, own `--cache-dir`) through
//! the `Mount` guard in common_mount, which unmounts and kills the daemon
//! even when the test fails. A missing tool (fusermount3, rsync, fsx, ...)
//! fails the test: run tests/setup-fuse-tools.sh first.
//! `CMISFS_MOUNT_TEST_LOCAL=1` runs the same steps on plain directories, to
//! develop the suite itself (refused under CI).

mod common_mount;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common_mount::{
    assert_trees_equal, local_mode, run, sh, tail, tool, xattr, Bytes, Mount, MountOptions, Repo,
};

const MIB: usize = 1024 * 1024;

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("cmisfs-mt-")
        .tempdir()
        .expect("tempdir")
}

/// Writes a tree with nested folders, empty files, one `big_mib` MiB file
/// and unicode names; returns the number of regular files.
fn make_tree(root: &Path, seed: u64, big_mib: usize) -> usize {
    let mut rng = Bytes::new(seed);
    let mut files = 0;
    let dirs = [
        "",
        "a",
        "a/b",
        "a/b/c",
        "a/b/c/d",
        "empty-dir",
        "Ünïcødé",
        "日本語のフォルダ",
        "with space",
    ];
    for d in dirs {
        fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    let names = [
        "a/readme.txt",
        "a/b/data.bin",
        "a/b/c/deep.txt",
        "a/b/c/d/deeper.json",
        "Ünïcødé/naïve café.txt",
        "Ünïcødé/Ω≈ç√.md",
        "日本語のフォルダ/ファイル.txt",
        "with space/file with spaces.txt",
        "emoji 🎉.txt",
        "top.txt",
    ];
    for (i, n) in names.iter().enumerate() {
        let len = 1 + (rng.next_u64() as usize % (64 * 1024)) + i;
        fs::write(root.join(n), rng.fill(len)).expect("write");
        files += 1;
    }
    for n in ["empty.txt", "a/b/empty", "Ünïcødé/leer"] {
        fs::write(root.join(n), b"").expect("write empty");
        files += 1;
    }
    if big_mib > 0 {
        fs::write(root.join("a/big.bin"), rng.fill(big_mib * MIB)).expect("write big");
        files += 1;
    }
    files
}

fn rsync() -> Command {
    Command::new(tool("rsync"))
}

/// "Number of regular files transferred: N" from `rsync --stats`.
fn files_transferred(stats: &str) -> u64 {
    stats
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Number of regular files transferred:")
        })
        .map(|v| v.trim().replace(',', ""))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no transfer count in rsync --stats output:\n{stats}"))
}

/// A second mount of the same data with an empty cache: what the server has.
fn fresh_view(base: &Path, data: &Path, backend: Option<common_mount::Backend>) -> Mount {
    let n = (0..)
        .find(|i| !base.join(format!("cache-fresh-{i}")).exists())
        .unwrap_or(0);
    let mut o = MountOptions::embedded(base);
    o.data = data.to_path_buf();
    o.cache_dir = base.join(format!("cache-fresh-{n}"));
    if let Some(b) = backend {
        o.backend = b;
    }
    Mount::start(o)
}

/// A CMIS server reachable with curl (for checks behind the mount's back).
struct Server {
    browser_url: String,
    user: String,
    password: String,
}

impl Server {
    fn curl(&self, args: &[&str]) -> String {
        run(Command::new(tool("curl"))
            .args(["-sS", "--fail-with-body", "-u"])
            .arg(format!("{}:{}", self.user, self.password))
            .args(args))
    }

    /// The repository's info (the one with id A1 if there are several).
    fn info(&self) -> serde_json::Value {
        let repos: serde_json::Value =
            serde_json::from_str(&self.curl(&[&self.browser_url])).expect("repository infos JSON");
        let map = repos.as_object().expect("repository infos object");
        map.get("A1")
            .or_else(|| map.values().next())
            .cloned()
            .expect("a repository")
    }

    /// One property of an object, or None when the object is gone.
    fn property(&self, object_id: &str, prop: &str) -> Option<serde_json::Value> {
        let info = self.info();
        let root_url = info.get("rootFolderUrl")?.as_str()?.to_string();
        let out = Command::new(tool("curl"))
            .args(["-sS", "--fail", "-u"])
            .arg(format!("{}:{}", self.user, self.password))
            .args(["-G", &root_url, "--data-urlencode"])
            .arg(format!("objectId={object_id}"))
            .args(["--data-urlencode", "cmisselector=object"])
            .args(["--data-urlencode", "succinct=true"])
            .output()
            .ok()?;
        let obj: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        obj.get("succinctProperties")?.get(prop).cloned()
    }

    /// Whether documents of `type_id` are versionable.
    fn versionable(&self, type_id: &str) -> bool {
        let info = self.info();
        let repo_url = info
            .get("repositoryUrl")
            .and_then(|u| u.as_str())
            .expect("repositoryUrl")
            .to_string();
        let def: serde_json::Value = serde_json::from_str(&self.curl(&[
            "-G",
            &repo_url,
            "--data-urlencode",
            "cmisselector=typeDefinition",
            "--data-urlencode",
            &format!("typeId={type_id}"),
        ]))
        .expect("type definition JSON");
        def.get("versionable").and_then(|v| v.as_bool()) == Some(true)
    }
}

/// Where a test's mounts get their content, and the folder inside the mount
/// that is the test's own (a unique folder on a shared server).
struct Target {
    base: PathBuf,
    backend: common_mount::Backend,
    server: Option<Server>,
    sub: String,
    _repo: Option<Repo>,
}

impl Target {
    /// The repository embedded in the mount process, private to the test.
    fn embedded(base: &Path) -> Target {
        Target {
            base: base.to_path_buf(),
            backend: common_mount::Backend::Embedded,
            server: None,
            sub: String::new(),
            _repo: None,
        }
    }

    /// `cmisfs repo` as its own process (checkable with curl).
    fn separate_repo(base: &Path) -> Target {
        if local_mode() {
            return Target::embedded(base);
        }
        let repo = Repo::start(base, &[]);
        Target {
            base: base.to_path_buf(),
            backend: repo.backend(),
            server: Some(Server {
                browser_url: repo.url.clone(),
                user: "admin".into(),
                password: "admin".into(),
            }),
            sub: String::new(),
            _repo: Some(repo),
        }
    }

    /// The OpenCMIS InMemory server of tests/opencmis-server.sh
    /// (CMISFS_OPENCMIS_URL, as for tests/contract.rs), in a folder of the
    /// test's own.
    fn opencmis(base: &Path, case: &str) -> Target {
        let sub = format!(
            "cmisfs-{case}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        );
        if local_mode() {
            let mut t = Target::embedded(base);
            t.sub = sub;
            return t;
        }
        let url = match std::env::var("CMISFS_OPENCMIS_URL") {
            Ok(u) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_string(),
            _ => panic!(
                "CMISFS_OPENCMIS_URL is not set: start the server with \
                 tests/opencmis-server.sh start (./test.sh does this)"
            ),
        };
        let password_file = base.join("opencmis-password");
        fs::write(&password_file, "test\n").expect("write password file");
        Target {
            base: base.to_path_buf(),
            backend: common_mount::Backend::Url {
                url: format!("{url}/browser"),
                user: "test".into(),
                password_file,
            },
            server: Some(Server {
                browser_url: format!("{url}/browser"),
                user: "test".into(),
                password: "test".into(),
            }),
            sub,
            _repo: None,
        }
    }

    /// A mount with a cache dir of its own (`cache-N`).
    fn mount(&self) -> Mount {
        let n = (0..)
            .find(|i| !self.base.join(format!("cache-{i}")).exists())
            .unwrap_or(0);
        let mut o = MountOptions::embedded(&self.base);
        o.cache_dir = self.base.join(format!("cache-{n}"));
        o.backend = self.backend.clone();
        let m = Mount::start(o);
        if !self.sub.is_empty() {
            let _ = fs::create_dir(m.path().join(&self.sub));
        }
        m
    }

    /// The test's folder in mount `m`.
    fn root(&self, m: &Mount) -> PathBuf {
        m.path().join(&self.sub)
    }
}

fn case_cp_mv_rm_mkdir_rmdir(t: &Target) {
    let m = t.mount();
    let root = t.root(&m);
    let root = root.as_path();
    let src = t.base.join("src.bin");
    let bytes = Bytes::new(1).fill(3 * MIB + 17);
    fs::write(&src, &bytes).unwrap();

    run(Command::new("mkdir").arg(root.join("d1")));
    run(Command::new("mkdir").arg("-p").arg(root.join("d2/sub")));
    run(Command::new("cp").arg(&src).arg(root.join("d1/file.bin")));
    assert_eq!(fs::read(root.join("d1/file.bin")).unwrap(), bytes);
    assert_eq!(
        fs::metadata(root.join("d1/file.bin")).unwrap().len(),
        bytes.len() as u64
    );

    // mv within a folder (rename), then across folders (move).
    run(Command::new("mv")
        .arg(root.join("d1/file.bin"))
        .arg(root.join("d1/renamed.bin")));
    assert!(!root.join("d1/file.bin").exists());
    run(Command::new("mv")
        .arg(root.join("d1/renamed.bin"))
        .arg(root.join("d2/sub/")));
    assert_eq!(fs::read(root.join("d2/sub/renamed.bin")).unwrap(), bytes);

    // cp -r of a folder, mv of a folder.
    run(Command::new("cp")
        .arg("-r")
        .arg(root.join("d2"))
        .arg(root.join("d3")));
    assert_eq!(fs::read(root.join("d3/sub/renamed.bin")).unwrap(), bytes);
    run(Command::new("mv")
        .arg(root.join("d3"))
        .arg(root.join("d1/")));
    assert_eq!(fs::read(root.join("d1/d3/sub/renamed.bin")).unwrap(), bytes);

    // rmdir of a non-empty folder fails; rm, then rmdir succeed.
    let out = Command::new("rmdir")
        .arg(root.join("d2/sub"))
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "rmdir of a non-empty folder succeeded"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not empty"),
        "rmdir error: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    run(Command::new("rm").arg(root.join("d2/sub/renamed.bin")));
    run(Command::new("rmdir").arg(root.join("d2/sub")));
    run(Command::new("rmdir").arg(root.join("d2")));
    assert!(!root.join("d2").exists());
    run(Command::new("rm").arg("-r").arg(root.join("d1/d3")));

    let mut names: Vec<String> = fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["d1"]);
    assert_eq!(fs::read_dir(root.join("d1")).unwrap().count(), 0);

    // What the server kept: a fresh mount with an empty cache.
    run(Command::new("cp").arg(&src).arg(root.join("d1/kept.bin")));
    m.unmount(Duration::from_secs(120));
    let v = t.mount();
    assert_eq!(fs::read(t.root(&v).join("d1/kept.bin")).unwrap(), bytes);
    assert!(!t.root(&v).join("d2").exists());
}

#[test]
fn cp_mv_rm_mkdir_rmdir() {
    let d = tempdir();
    case_cp_mv_rm_mkdir_rmdir(&Target::embedded(d.path()));
}

#[test]
fn opencmis_cp_mv_rm_mkdir_rmdir() {
    let d = tempdir();
    case_cp_mv_rm_mkdir_rmdir(&Target::opencmis(d.path(), "cp"));
}

fn case_rsync_tree_in_twice_and_out(t: &Target) {
    let src = t.base.join("src");
    let files = make_tree(&src, 2, 20);
    let m = t.mount();
    let dst = t.root(&m).join("tree");

    let first = run(rsync()
        .arg("-a")
        .arg("--stats")
        .arg(format!("{}/", src.display()))
        .arg(&dst));
    assert_eq!(
        files_transferred(&first),
        files as u64,
        "first rsync:\n{first}"
    );
    assert_trees_equal(&src, &dst);

    // Unchanged tree: nothing to transfer (mtimes and sizes kept).
    let second = run(rsync()
        .arg("-a")
        .arg("--stats")
        .arg(format!("{}/", src.display()))
        .arg(&dst));
    assert_eq!(
        files_transferred(&second),
        0,
        "second rsync -a transferred files:\n{second}"
    );

    let back = t.base.join("back");
    run(rsync()
        .arg("-a")
        .arg(format!("{}/", dst.display()))
        .arg(&back));
    assert_trees_equal(&src, &back);

    // Same after a remount with an empty cache (the server has it all).
    m.unmount(Duration::from_secs(180));
    let v = t.mount();
    assert_trees_equal(&src, &t.root(&v).join("tree"));
}

#[test]
fn rsync_tree_in_twice_and_out() {
    let d = tempdir();
    case_rsync_tree_in_twice_and_out(&Target::embedded(d.path()));
}

#[test]
fn opencmis_rsync_tree_in_twice_and_out() {
    let d = tempdir();
    case_rsync_tree_in_twice_and_out(&Target::opencmis(d.path(), "rsync"));
}

#[test]
fn tar_extract_into_mount() {
    let t = tempdir();
    let src = t.path().join("src");
    make_tree(&src, 3, 2);
    let archive = t.path().join("tree.tar");
    run(Command::new(tool("tar"))
        .arg("-cf")
        .arg(&archive)
        .arg("-C")
        .arg(&src)
        .arg("."));
    let m = Mount::start(MountOptions::embedded(t.path()));
    let x = m.path().join("x");
    fs::create_dir(&x).unwrap();
    run(Command::new(tool("tar"))
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&x));
    assert_trees_equal(&src, &x);
    // And a tar of the mounted tree lists the same members.
    let list_src = run(Command::new(tool("tar")).arg("-tf").arg(&archive));
    let archive2 = t.path().join("back.tar");
    run(Command::new(tool("tar"))
        .arg("-cf")
        .arg(&archive2)
        .arg("-C")
        .arg(&x)
        .arg("."));
    let list_back = run(Command::new(tool("tar")).arg("-tf").arg(&archive2));
    let sorted = |s: &str| {
        let mut v: Vec<String> = s.lines().map(str::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&list_src), sorted(&list_back));
}

fn case_sed_in_place(t: &Target) {
    let m = t.mount();
    let f = t.root(&m).join("notes.txt");
    let text: String = (0..2000)
        .map(|i| format!("line {i}: hello world\n"))
        .collect();
    fs::write(&f, &text).unwrap();
    run(Command::new(tool("sed"))
        .arg("-i")
        .arg("s/hello world/hello cmis/")
        .arg(&f));
    let want = text.replace("hello world", "hello cmis");
    assert_eq!(fs::read_to_string(&f).unwrap(), want);
    // No sed temp file left behind.
    let left: Vec<String> = fs::read_dir(t.root(&m))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["notes.txt"]);

    m.unmount(Duration::from_secs(60));
    let v = t.mount();
    assert_eq!(
        fs::read_to_string(t.root(&v).join("notes.txt")).unwrap(),
        want
    );
}

#[test]
fn sed_in_place() {
    let d = tempdir();
    case_sed_in_place(&Target::embedded(d.path()));
}

#[test]
fn opencmis_sed_in_place() {
    let d = tempdir();
    case_sed_in_place(&Target::opencmis(d.path(), "sed"));
}

/// The save of an editor: write a temp file, fsync it, rename it over the
/// document.
fn save_by_rename(doc: &Path, content: &[u8]) {
    use std::io::Write;
    let dir = doc.parent().expect("doc has a parent");
    let name = doc.file_name().expect("doc has a name").to_string_lossy();
    let tmp = dir.join(format!(".{name}.save-tmp"));
    let mut f = fs::File::create(&tmp).expect("create temp");
    f.write_all(content).expect("write temp");
    f.sync_all().expect("fsync temp");
    drop(f);
    fs::rename(&tmp, doc).expect("rename over the document");
}

fn case_save_by_temp_file_fsync_rename(t: &Target) {
    let m = t.mount();
    let docs = t.root(&m).join("docs");
    fs::create_dir(&docs).unwrap();
    let doc = docs.join("report.txt");
    {
        use std::io::Write;
        let mut f = fs::File::create(&doc).unwrap();
        f.write_all(b"version one\n").unwrap();
        f.sync_all().unwrap();
    }
    let id_before = xattr(&doc, "user.cmis.objectId");
    let label_before = xattr(&doc, "user.cmis.versionLabel");
    let type_id = xattr(&doc, "user.cmis.objectTypeId");

    save_by_rename(&doc, b"version two, saved by an editor\n");
    fs::File::open(&doc).unwrap().sync_all().unwrap();
    assert_eq!(
        fs::read(&doc).unwrap(),
        b"version two, saved by an editor\n"
    );
    let names: Vec<String> = fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["report.txt"], "the temp file must be gone");
    let Some(server) = &t.server else {
        eprintln!("local mode: object id / version checks skipped");
        return;
    };
    let id_before = id_before.expect("user.cmis.objectId readable before the save");
    let type_id = type_id.expect("user.cmis.objectTypeId readable");
    let id_after = xattr(&doc, "user.cmis.objectId").expect("user.cmis.objectId after");
    if server.versionable(&type_id) {
        let label_before = label_before.expect("user.cmis.versionLabel before the save");
        let label_after =
            xattr(&doc, "user.cmis.versionLabel").expect("user.cmis.versionLabel after");
        assert_ne!(
            label_before, label_after,
            "the save must make a new version of {type_id} (versionLabel before {label_before:?}, after {label_after:?})"
        );
        // The same document: the same version series on the server (a
        // repository may give each version its own object id, as the
        // embedded one and OpenCMIS do). The inode follows rename(2): the
        // name now has the temp file's inode.
        let series_before = server.property(&id_before, "cmis:versionSeriesId");
        let series_after = server.property(&id_after, "cmis:versionSeriesId");
        assert!(
            series_before.is_some(),
            "object {id_before} gone from the server"
        );
        assert_eq!(
            series_before, series_after,
            "the save made a new document instead of a new version (ids {id_before} -> {id_after})"
        );
        if id_before != id_after {
            eprintln!("note: object id {id_before} -> {id_after} (a new version has its own id here); version series kept");
        }
    } else {
        assert_eq!(
            id_before, id_after,
            "the save of a non-versionable {type_id} must keep the object id"
        );
    }
    // Older versions: read-only files under the hidden docs/.versions.
    let series = docs.join(".versions/report.txt");
    let versions: Vec<PathBuf> = fs::read_dir(&series)
        .unwrap_or_else(|e| panic!("listing {}: {e}", series.display()))
        .map(|e| e.unwrap().path())
        .collect();
    // Listed oldest first.
    let names: Vec<String> = versions
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("report (v") && n.ends_with(").txt")),
        "{names:?}"
    );
    let newest = versions.last().expect("at least the current version");
    assert_eq!(
        fs::read(newest).unwrap(),
        b"version two, saved by an editor\n"
    );
    if server.versionable(&type_id) {
        assert!(versions.len() >= 2, "{names:?}");
        assert_eq!(fs::read(&versions[0]).unwrap(), b"version one\n");
    }
    let refused = fs::OpenOptions::new().write(true).open(&versions[0]);
    assert_eq!(
        refused.map(|_| ()).unwrap_err().raw_os_error(),
        Some(30),
        "versions are read-only (EROFS)"
    );
    assert_eq!(
        fs::remove_file(&versions[0]).unwrap_err().raw_os_error(),
        Some(30)
    );
    // What the server has, through an empty cache.
    m.unmount(Duration::from_secs(60));
    let v = t.mount();
    assert_eq!(
        fs::read(t.root(&v).join("docs/report.txt")).unwrap(),
        b"version two, saved by an editor\n"
    );
}

#[test]
fn save_by_temp_file_fsync_rename_keeps_the_document() {
    let d = tempdir();
    case_save_by_temp_file_fsync_rename(&Target::separate_repo(d.path()));
}

#[test]
fn opencmis_save_by_temp_file_fsync_rename_keeps_the_document() {
    let d = tempdir();
    case_save_by_temp_file_fsync_rename(&Target::opencmis(d.path(), "save"));
}

/// The office worker's save: LibreOffice (headless) writes report.odt into
/// the mount, then saves over it. LibreOffice saves through a temp file
/// renamed over the document, so the second save is a new version of the
/// same document (same version series; the same object id where the type
/// is not versionable), the file has the new text, and no temp or lock
/// file is left.
fn case_libreoffice_saves(t: &Target) {
    let soffice = tool("soffice");
    let m = t.mount();
    let docs = t.root(&m).join("office");
    fs::create_dir(&docs).unwrap();
    // LibreOffice's profile outside the mount.
    let home = tempdir();
    let save = |text: &str| {
        fs::write(docs.join("report.txt"), text).unwrap();
        run(Command::new(&soffice)
            .env("HOME", home.path())
            .args([
                "--headless",
                "--norestore",
                "--convert-to",
                "odt",
                "--outdir",
            ])
            .arg(&docs)
            .arg(docs.join("report.txt")));
    };
    let text_of = |doc: &Path| {
        run(Command::new("python3")
            .arg("-c")
            .arg("import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read('content.xml').decode())")
            .arg(doc))
    };
    let doc = docs.join("report.odt");
    save("the first report\n");
    assert!(text_of(&doc).contains("the first report"));
    let id_before = xattr(&doc, "user.cmis.objectId");
    let label_before = xattr(&doc, "user.cmis.versionLabel");
    let type_id = xattr(&doc, "user.cmis.objectTypeId");
    save("the second report\n");
    assert!(text_of(&doc).contains("the second report"));
    let mut names: Vec<String> = fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["report.odt", "report.txt"],
        "no temp or lock file left"
    );
    if !local_mode() {
        let (id_before, type_id) = (id_before.unwrap(), type_id.unwrap());
        let id_after = xattr(&doc, "user.cmis.objectId").unwrap();
        let label_after = xattr(&doc, "user.cmis.versionLabel");
        let versionable = match &t.server {
            Some(server) => server.versionable(&type_id),
            // The embedded repository's cmis:document is versionable.
            None => type_id == "cmis:document",
        };
        if versionable {
            assert_ne!(label_before, label_after, "a new version");
            let versions = fs::read_dir(docs.join(".versions/report.odt"))
                .unwrap()
                .count();
            assert_eq!(versions, 2, "two versions of report.odt");
            if let Some(server) = &t.server {
                assert_eq!(
                    server.property(&id_before, "cmis:versionSeriesId"),
                    server.property(&id_after, "cmis:versionSeriesId"),
                    "the same document"
                );
            }
        } else {
            assert_eq!(id_before, id_after, "the same document");
        }
    }
    // What the server has, through an empty cache.
    m.unmount(Duration::from_secs(60));
    let v = t.mount();
    assert!(text_of(&t.root(&v).join("office/report.odt")).contains("the second report"));
}

#[test]
fn libreoffice_saves() {
    let d = tempdir();
    case_libreoffice_saves(&Target::embedded(d.path()));
}

#[test]
fn opencmis_libreoffice_saves() {
    let d = tempdir();
    case_libreoffice_saves(&Target::opencmis(d.path(), "office"));
}

#[test]
fn git_clone_into_mount_is_clean() {
    let t = tempdir();
    let git = tool("git");
    let origin = t.path().join("origin");
    fs::create_dir(&origin).unwrap();
    let g = |dir: &Path, args: &[&str]| {
        run(Command::new(&git)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(["-c", "init.defaultBranch=main", "-c", "core.autocrlf=false"])
            .args(args)
            .current_dir(dir))
    };
    g(&origin, &["init", "-q"]);
    make_tree(&origin, 4, 0);
    g(&origin, &["add", "-A"]);
    g(&origin, &["commit", "-q", "-m", "first"]);
    fs::write(origin.join("top.txt"), b"changed\n").unwrap();
    fs::write(origin.join("a/new.txt"), b"new\n").unwrap();
    g(&origin, &["add", "-A"]);
    g(&origin, &["commit", "-q", "-m", "second"]);

    let m = Mount::start(MountOptions::embedded(t.path()));
    g(
        m.path(),
        &["clone", "-q", &origin.to_string_lossy(), "clone"],
    );
    let clone = m.path().join("clone");
    let status = g(&clone, &["status", "--porcelain", "--untracked-files=all"]);
    assert_eq!(status, "", "git status not clean in the mount");
    g(&clone, &["fsck", "--full", "--no-progress"]);
    let log = g(&clone, &["log", "--oneline"]);
    assert_eq!(log.lines().count(), 2, "log: {log}");
    // A commit inside the mount works too (lock files, renames).
    fs::write(clone.join("top.txt"), b"changed in the mount\n").unwrap();
    g(&clone, &["commit", "-q", "-a", "-m", "third"]);
    assert_eq!(
        g(&clone, &["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
}

fn case_ln_makes_a_multi_filed_document(t: &Target) {
    let m = t.mount();
    let root = t.root(&m);
    fs::create_dir(root.join("one")).unwrap();
    fs::create_dir(root.join("two")).unwrap();
    let a = root.join("one/shared.txt");
    let b = root.join("two/shared.txt");
    fs::write(&a, b"filed twice\n").unwrap();
    run(Command::new("ln").arg(&a).arg(&b));
    let (ma, mb) = (fs::metadata(&a).unwrap(), fs::metadata(&b).unwrap());
    assert_eq!(ma.ino(), mb.ino(), "ln must give the same inode");
    assert_eq!(ma.nlink(), 2, "nlink of {}", a.display());
    assert_eq!(mb.nlink(), 2, "nlink of {}", b.display());
    assert_eq!(fs::read(&b).unwrap(), b"filed twice\n");
    // A write through one name shows through the other.
    fs::write(&b, b"changed through two\n").unwrap();
    assert_eq!(fs::read(&a).unwrap(), b"changed through two\n");
    if !local_mode() {
        let id_a = xattr(&a, "user.cmis.objectId");
        assert!(id_a.is_some(), "no user.cmis.objectId on {}", a.display());
        assert_eq!(id_a, xattr(&b, "user.cmis.objectId"), "one object");
    }

    // After a remount with an empty cache: still one document in two folders.
    m.unmount(Duration::from_secs(60));
    let v = t.mount();
    let (a, b) = (
        t.root(&v).join("one/shared.txt"),
        t.root(&v).join("two/shared.txt"),
    );
    let (ma, mb) = (fs::metadata(&a).unwrap(), fs::metadata(&b).unwrap());
    assert_eq!(
        ma.ino(),
        mb.ino(),
        "after a remount: one inode for both names"
    );
    assert_eq!(
        ma.nlink(),
        2,
        "after a remount with an empty cache: nlink must count the server's parents"
    );
    assert_eq!(fs::read(&a).unwrap(), b"changed through two\n");
    // rm of one name leaves the other (removeObjectFromFolder).
    fs::remove_file(&a).unwrap();
    assert!(!a.exists());
    assert_eq!(fs::read(&b).unwrap(), b"changed through two\n");
    assert_eq!(fs::metadata(&b).unwrap().nlink(), 1);
}

#[test]
fn ln_makes_a_multi_filed_document() {
    let d = tempdir();
    case_ln_makes_a_multi_filed_document(&Target::embedded(d.path()));
}

#[test]
fn opencmis_ln_makes_a_multi_filed_document() {
    let d = tempdir();
    case_ln_makes_a_multi_filed_document(&Target::opencmis(d.path(), "ln"));
}

#[test]
fn kill_9_after_cp_then_remount_uploads_the_file() {
    let t = tempdir();
    let src = t.path().join("five.bin");
    let bytes = Bytes::new(5).fill(5 * MIB);
    fs::write(&src, &bytes).unwrap();
    let opts = MountOptions::embedded(t.path())
        .arg("--write-back-delay")
        .arg("30s");
    let m = Mount::start(opts.clone());
    run(Command::new("cp").arg(&src).arg(m.path().join("five.bin")));
    // Right after cp returns, before the (30 s) write-back delay: no flush.
    m.kill9();

    // Same data, same cache: the journal is replayed (in the background) and
    // the upload finishes; the file shows (at the latest after 30 s).
    let m2 = Mount::start(opts);
    let f = m2.path().join("five.bin");
    let first = fs::read(&f).map(|s| s.len());
    if !first.as_ref().is_ok_and(|n| *n == bytes.len()) {
        eprintln!("note: right after the restart five.bin read as {first:?}, not intact");
    }
    let mut seen = fs::read(&f);
    for _ in 0..150 {
        if seen.as_ref().is_ok_and(|s| *s == bytes) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        seen = fs::read(&f);
    }
    assert!(
        seen.as_ref().is_ok_and(|s| *s == bytes),
        "30 s after the restart the file is not there intact (read: {:?} bytes); log:\n{}",
        seen.map(|s| s.len()),
        m2.log()
    );
    m2.unmount(Duration::from_secs(120));

    // An empty cache: only the server's copy.
    let v = fresh_view(t.path(), &t.path().join("data"), None);
    let got = fs::read(v.path().join("five.bin"));
    assert!(
        got.as_ref().is_ok_and(|g| *g == bytes),
        "the server's copy is not intact (read: {:?} bytes)",
        got.map(|g| g.len())
    );
}

#[test]
fn copy_200_files_through_faults() {
    let t = tempdir();
    let src = t.path().join("src");
    let mut rng = Bytes::new(6);
    for i in 0..200 {
        let dir = src.join(format!("d{}", i % 7));
        fs::create_dir_all(&dir).unwrap();
        let len = match i % 10 {
            0 => 0,
            1 => 300 * 1024 + i,
            _ => (rng.next_u64() as usize) % (48 * 1024) + 1,
        };
        fs::write(dir.join(format!("file-{i:03}.bin")), rng.fill(len)).unwrap();
    }
    let local = local_mode();
    let repo = (!local).then(|| Repo::start(t.path(), &["--faults"]));
    let backend = repo.as_ref().map(Repo::backend);
    let mut opts = MountOptions::embedded(t.path());
    if let Some(b) = &backend {
        opts.backend = b.clone();
    }
    let m = Mount::start(opts);
    // Faults on once the mount is up: latency and 10% of requests failing.
    if let Some(r) = &repo {
        r.set_faults(r#"{"latency_ms": 10, "error_rate": 0.1, "error_status": 503}"#);
    }
    run(Command::new("cp")
        .arg("-r")
        .arg(&src)
        .arg(m.path().join("in")));
    assert_trees_equal(&src, &m.path().join("in"));
    let data = m.opts.data.clone();
    m.unmount(Duration::from_secs(300));

    // Read back through an empty cache, with downloads cut off mid-body too.
    let v = fresh_view(t.path(), &data, backend);
    if let Some(r) = &repo {
        r.set_faults(
            r#"{"latency_ms": 10, "error_rate": 0.1, "error_status": 503, "drop_rate": 0.05, "drop_after_bytes": 4096}"#,
        );
    }
    let back = t.path().join("back");
    run(Command::new("cp")
        .arg("-r")
        .arg(v.path().join("in"))
        .arg(&back));
    if let Some(r) = &repo {
        r.set_faults("{}");
    }
    assert_trees_equal(&src, &back);
}

#[test]
fn fsx_20000_operations() {
    let t = tempdir();
    let fsx = tool("fsx");
    let m = Mount::start(MountOptions::embedded(t.path()));
    let artifacts = t.path().join("fsx-artifacts");
    fs::create_dir(&artifacts).unwrap();
    let out = Command::new(&fsx)
        .args(["-N", "20000", "-S", "20260424", "-P"])
        .arg(&artifacts)
        .arg(m.path().join("fsx.bin"))
        .current_dir(t.path())
        .output()
        .expect("run fsx");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success()
            && format!("{stdout}{stderr}").contains("All operations completed A-OK"),
        "fsx failed ({}):\n{}\n{}",
        out.status,
        tail(&stdout, 3000),
        tail(&stderr, 6000)
    );
}

/// pjdfstest cases that fail on the mount for a reason that is understood,
/// one `name  # why` per line.
fn pjdfstest_known_failures() -> Vec<(String, String)> {
    let text = include_str!("pjdfstest-known-failures.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('#') {
            Some((n, why)) => (n.trim().to_string(), why.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// Runs pjdfstest; returns (summary line, [(case, status, first message line)]).
fn pjdfstest_run(cmd: &mut Command) -> (String, Vec<(String, String, String)>, String) {
    let out = cmd
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run pjdfstest");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("Summary:"))
        .unwrap_or_else(|| {
            panic!(
                "pjdfstest printed no summary ({}):\n{}\n{}",
                out.status,
                tail(&stdout, 4000),
                tail(&String::from_utf8_lossy(&out.stderr), 4000)
            )
        })
        .to_string();
    let lines: Vec<&str> = stdout.lines().collect();
    let mut cases = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with(char::is_whitespace) || l.is_empty() {
            continue;
        }
        let Some((name, status)) = l.split_once(char::is_whitespace) else {
            continue;
        };
        let status = status.trim();
        if !matches!(
            status,
            "ok" | "FAILED" | "skipped" | "failed as expected" | "PASSED UNEXPECTEDLY"
        ) {
            continue;
        }
        // The message: the indented lines that follow (at most 4).
        let why = lines[i + 1..]
            .iter()
            .take_while(|n| n.starts_with('\t') || n.starts_with(' '))
            .take(4)
            .map(|n| n.trim())
            .collect::<Vec<_>>()
            .join(" | ");
        cases.push((name.to_string(), status.to_string(), why));
    }
    (summary, cases, stdout)
}

/// pjdfstest on the mount, limited to the cases CMIS can express. Which
/// those are is measured, not guessed: a reference run on a local directory
/// with tests/pjdfstest-cmis-shim.c preloaded (symlink, mkfifo, mknod of
/// non-regular files, unix sockets and chown to another user fail with
/// EPERM); the cases that pass or are skipped there run on the mount.
#[test]
fn pjdfstest_on_the_mount() {
    let t = tempdir();
    let pjdfstest = tool("pjdfstest");
    for (db, name) in [
        ("passwd", "tests"),
        ("passwd", "nobody"),
        ("group", "pjdfstest"),
    ] {
        run(Command::new("getent").arg(db).arg(name));
    }
    let config = t.path().join("pjdfstest.toml");
    // Features CMIS can carry: utimensat and UTIME_NOW (times kept by the
    // VFS). Not posix_fallocate, not rename changing ctime. naptime above
    // the millisecond timestamps of CMIS.
    fs::write(
        &config,
        "[features]\nutimensat = {}\nutime_now = {}\n\n[settings]\nnaptime = 0.05\nallow_remount = false\n",
    )
    .unwrap();

    // The reference run.
    let shim = t.path().join("cmis-shim.so");
    run(Command::new(tool("cc"))
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&shim)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/pjdfstest-cmis-shim.c"
        ))
        .arg("-ldl"));
    let reference = t.path().join("reference");
    fs::create_dir(&reference).unwrap();
    sh(t.path(), "chmod 0755 . reference");
    let (ref_summary, ref_cases, _) = pjdfstest_run(
        Command::new(&pjdfstest)
            .arg("-c")
            .arg(&config)
            .arg("-p")
            .arg(&reference)
            .env("LD_PRELOAD", &shim)
            .current_dir(t.path()),
    );
    let applicable: Vec<&str> = ref_cases
        .iter()
        .filter(|(_, st, _)| st == "ok" || st == "skipped")
        .map(|(n, _, _)| n.as_str())
        .collect();
    let not_applicable = ref_cases.len() - applicable.len();
    assert!(
        applicable.len() > 50 && not_applicable > 50,
        "the reference run looks wrong ({ref_summary}): {} applicable, {not_applicable} not",
        applicable.len()
    );

    // Other users switch into the tree: allow_other, and the kernel checks modes.
    let m = Mount::start(
        MountOptions::embedded(t.path())
            .arg("-o")
            .arg("allow_other,default_permissions"),
    );
    let work = m.path().join("pjdfstest");
    fs::create_dir(&work).unwrap();
    if local_mode() {
        // The local tree lives in a 0700 tempdir; pjdfstest's users must reach it.
        sh(t.path(), "chmod 0755 data data/local-tree");
    }
    fs::set_permissions(&work, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let (summary, cases, stdout) = pjdfstest_run(
        Command::new(&pjdfstest)
            .arg("-c")
            .arg(&config)
            .arg("-p")
            .arg(&work)
            .arg("-e")
            // -e matches the full name, before pjdfstest trims its prefix.
            .args(applicable.iter().map(|n| format!("pjdfstest::tests::{n}")))
            .current_dir(t.path()),
    );
    let known = pjdfstest_known_failures();
    let mut explained = Vec::new();
    let mut unexplained = Vec::new();
    for (name, status, why) in &cases {
        if status != "FAILED" {
            continue;
        }
        match known.iter().find(|(n, _)| n == name) {
            Some((_, k)) => explained.push(format!("{name}: {k}")),
            None => unexplained.push(format!("{name}: {why}")),
        }
    }
    let report = format!(
        "pjdfstest on the mount: {summary}\n\
         ({} cases need what CMIS cannot express and are not run; reference run: {ref_summary})\n\
         known, explained failures ({}):\n  {}\n\
         unexplained failures ({}):\n  {}\n",
        not_applicable,
        explained.len(),
        explained.join("\n  "),
        unexplained.len(),
        unexplained.join("\n  "),
    );
    eprintln!("{report}");
    let record = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pjdfstest-mount.txt");
    let _ = fs::write(&record, format!("{report}\n--- full output\n{stdout}"));
    assert!(
        cases.len() >= applicable.len(),
        "pjdfstest ran {} of the {} applicable cases",
        cases.len(),
        applicable.len()
    );
    assert!(
        unexplained.is_empty(),
        "pjdfstest: {} failure(s) on the mount (full output in {}):\n{report}",
        unexplained.len(),
        record.display()
    );
}
