//! The embedded repository at the HTTP level (raw reqwest): JSON shapes,
//! bad input, authentication, permissions, Range, concurrency and fault
//! injection.

use std::io::Write;

use cmisfs::repo::{self, auth, FaultConfig, RepoConfig, RunningRepo};
use reqwest::multipart::{Form, Part};
use serde_json::Value;

async fn start(dir: &std::path::Path, users: Option<std::path::PathBuf>) -> RunningRepo {
    repo::start(RepoConfig {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        users_file: users,
    })
    .await
    .unwrap()
}

struct C {
    http: reqwest::Client,
    root_url: String,
    repo_url: String,
    user: String,
    password: String,
}

impl C {
    fn new(r: &RunningRepo, user: &str, password: &str) -> C {
        C {
            http: reqwest::Client::new(),
            root_url: format!("{}/root", r.repository_url()),
            repo_url: r.repository_url(),
            user: user.into(),
            password: password.into(),
        }
    }

    async fn get(&self, url: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(url)
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .unwrap();
        let s = resp.status().as_u16();
        let b = resp.bytes().await.unwrap();
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }

    async fn post(&self, url: &str, form: Form) -> (u16, Value) {
        let resp = self
            .http
            .post(url)
            .basic_auth(&self.user, Some(&self.password))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let s = resp.status().as_u16();
        let b = resp.bytes().await.unwrap();
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }

    async fn mkdir(&self, parent_path: &str, name: &str) -> (u16, Value) {
        let form = Form::new()
            .text("cmisaction", "createFolder")
            .text("propertyId[0]", "cmis:name")
            .text("propertyValue[0]", name.to_string())
            .text("propertyId[1]", "cmis:objectTypeId")
            .text("propertyValue[1]", "cmis:folder")
            .text("succinct", "true");
        self.post(&format!("{}{parent_path}", self.root_url), form)
            .await
    }

    async fn put_doc(&self, parent_path: &str, name: &str, data: Vec<u8>) -> (u16, Value) {
        let form = Form::new()
            .text("cmisaction", "createDocument")
            .text("propertyId[0]", "cmis:name")
            .text("propertyValue[0]", name.to_string())
            .text("propertyId[1]", "cmis:objectTypeId")
            .text("propertyValue[1]", "cmis:document")
            .text("succinct", "true")
            .part(
                "content",
                Part::bytes(data)
                    .file_name(name.to_string())
                    .mime_str("application/octet-stream")
                    .unwrap(),
            );
        self.post(&format!("{}{parent_path}", self.root_url), form)
            .await
    }
}

async fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).to_string()
}

fn sid(v: &Value) -> String {
    v["succinctProperties"]["cmis:objectId"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn json_shapes_and_selectors() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(dir.path(), None).await;
    let c = C::new(&r, "admin", "admin");
    let (s, repos) = c.get(&r.service_url()).await;
    assert_eq!(s, 200);
    let info = &repos[&r.repository_id];
    assert_eq!(info["repositoryUrl"], r.repository_url().as_str());
    assert_eq!(info["rootFolderUrl"], c.root_url.as_str());
    assert_eq!(info["capabilities"]["capabilityMultifiling"], true);
    let (s, obj) = c
        .get(&format!(
            "{}?cmisselector=object&includeAllowableActions=true",
            c.root_url
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(obj["properties"]["cmis:name"]["type"], "string");
    assert_eq!(obj["properties"]["cmis:path"]["value"], "/");
    assert_eq!(obj["allowableActions"]["canCreateDocument"], true);
    assert_eq!(obj["allowableActions"]["canDeleteObject"], false);
    let (s, d) = c.put_doc("", "a.txt", b"hello".to_vec()).await;
    assert_eq!(s, 201, "{d}");
    let (_, types) = c
        .get(&format!("{}?cmisselector=typeChildren", c.repo_url))
        .await;
    assert_eq!(types["numItems"], 3);
    let (_, t) = c
        .get(&format!(
            "{}?cmisselector=typeDefinition&typeId=cmis:document",
            c.repo_url
        ))
        .await;
    assert_eq!(t["versionable"], true);
    let (_, t) = c
        .get(&format!(
            "{}?cmisselector=typeDescendants&typeId=cmis:document",
            c.repo_url
        ))
        .await;
    assert_eq!(t[0]["type"]["id"], "cmisfs:plainDocument");
    assert_eq!(t[0]["type"]["versionable"], false);
    c.mkdir("", "f").await;
    c.mkdir("/f", "g").await;
    c.put_doc("/f/g", "deep.txt", vec![1, 2, 3]).await;
    let (_, tree) = c
        .get(&format!(
            "{}?cmisselector=descendants&depth=1&succinct=true",
            c.root_url
        ))
        .await;
    let names: Vec<_> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            n["object"]["object"]["succinctProperties"]["cmis:name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["a.txt", "f"]);
    assert!(tree[1].get("children").is_none());
    let (_, tree) = c
        .get(&format!(
            "{}?cmisselector=folderTree&depth=-1&succinct=true",
            c.root_url
        ))
        .await;
    assert_eq!(
        tree[0]["children"][0]["object"]["object"]["succinctProperties"]["cmis:name"],
        "g"
    );
    let (_, acl) = c
        .get(&format!("{}/a.txt?cmisselector=acl", c.root_url))
        .await;
    assert_eq!(acl["aces"][0]["principal"]["principalId"], "cmis:anyone");
    assert_eq!(acl["aces"][0]["isDirect"], false);
    let (_, parent) = c
        .get(&format!(
            "{}/f/g?cmisselector=parent&succinct=true",
            c.root_url
        ))
        .await;
    assert_eq!(parent["succinctProperties"]["cmis:name"], "f");
    // Range and 416.
    let resp = c
        .http
        .get(format!("{}/a.txt", c.root_url))
        .basic_auth("admin", Some("admin"))
        .header("Range", "bytes=-2")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 206);
    assert_eq!(resp.headers()["content-range"], "bytes 3-4/5");
    assert_eq!(&resp.bytes().await.unwrap()[..], b"lo");
    let resp = c
        .http
        .get(format!("{}/a.txt", c.root_url))
        .basic_auth("admin", Some("admin"))
        .header("Range", "bytes=9-")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 416);
    // Unfiled document on the repository URL, and delete with an id.
    let form = Form::new()
        .text("cmisaction", "createDocument")
        .text("propertyId[0]", "cmis:name")
        .text("propertyValue[0]", "loose")
        .text("succinct", "true");
    let resp = c
        .http
        .post(&c.repo_url)
        .basic_auth("admin", Some("admin"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let loose: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert!(
        location.ends_with(&format!("/root?objectId={}", sid(&loose))),
        "{location}"
    );
    let (_, parents) = c
        .get(&format!(
            "{}?objectId={}&cmisselector=parents",
            c.root_url,
            sid(&loose)
        ))
        .await;
    assert_eq!(parents.as_array().unwrap().len(), 0);
    r.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_a_cmis_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(dir.path(), None).await;
    let c = C::new(&r, "admin", "admin");
    let cases = [
        (
            format!("{}?cmisselector=nope", c.root_url),
            400,
            "invalidArgument",
        ),
        (
            format!("{}?cmisselector=children&maxItems=-1", c.root_url),
            400,
            "invalidArgument",
        ),
        (
            format!("{}?cmisselector=children&skipCount=abc", c.root_url),
            400,
            "invalidArgument",
        ),
        (
            format!(
                "{}?cmisselector=children&maxItems=99999999999999999999",
                c.root_url
            ),
            400,
            "invalidArgument",
        ),
        (format!("{}/%FF", c.root_url), 400, "invalidArgument"),
        (
            format!("{}?objectId=%C3%28", c.root_url),
            400,
            "invalidArgument",
        ),
        (
            format!("{}?objectId=nothing", c.root_url),
            404,
            "objectNotFound",
        ),
        (
            format!("{}?cmisselector=query&q=SELECT+*+FROM", c.repo_url),
            400,
            "invalidArgument",
        ),
        (
            format!(
                "{}?cmisselector=contentChanges&changeLogToken=zz",
                c.repo_url
            ),
            400,
            "invalidArgument",
        ),
        (
            format!(
                "{}/browser/otherrepo",
                r.service_url().trim_end_matches("/browser")
            ),
            404,
            "objectNotFound",
        ),
        (
            format!("{}?cmisselector=descendants&depth=0", c.root_url),
            400,
            "invalidArgument",
        ),
    ];
    for (url, status, exc) in cases {
        let (s, v) = c.get(&url).await;
        assert_eq!(
            (s, v["exception"].as_str().unwrap_or("")),
            (status, exc),
            "{url}: {v}"
        );
    }
    // `..` in a path (sent raw: HTTP clients normalise it away).
    let raw = raw_get(r.addr, &format!("/browser/{}/root/x/../y", r.repository_id)).await;
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(raw.contains("invalidArgument"), "{raw}");
    // Huge maxItems is capped, not an error.
    let (s, _) = c
        .get(&format!(
            "{}?cmisselector=children&maxItems=1000000000",
            c.root_url
        ))
        .await;
    assert_eq!(s, 200);
    // Malformed multipart / forms.
    let resp = c.http.post(&c.root_url).basic_auth("admin", Some("admin"))
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"cmisaction\"\r\n\r\ncreateFolder\r\n--XY")
        .send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(v["exception"], "invalidArgument");
    let resp = c
        .http
        .post(&c.root_url)
        .basic_auth("admin", Some("admin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"cmisaction=createFolder&propertyId[0]=cmis:name&propertyValue[0]=\xff\xfe".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let resp = c
        .http
        .post(&c.root_url)
        .basic_auth("admin", Some("admin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("propertyId[0]=cmis:name")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let resp = c
        .http
        .post(&c.root_url)
        .basic_auth("admin", Some("admin"))
        .form(&[("cmisaction", "frobnicate")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    // Oversized property values.
    let long = "x".repeat(2000);
    let (s, v) = c.mkdir("", &long).await;
    assert_eq!(
        (s, v["exception"].as_str()),
        (409, Some("nameConstraintViolation"))
    );
    let form = Form::new()
        .text("cmisaction", "createFolder")
        .text("propertyId[0]", "cmis:name")
        .text("propertyValue[0]", "ok")
        .text("propertyId[1]", "cmis:description")
        .text("propertyValue[1]", "y".repeat(100_000));
    let (s, v) = c.post(&c.root_url, form).await;
    assert_eq!((s, v["exception"].as_str()), (409, Some("constraint")));
    let form = Form::new()
        .text("cmisaction", "createFolder")
        .text("propertyId[0]", "cmis:name")
        .text("propertyValue[0]", "ok")
        .text("propertyId[1]", "vendor:unknown")
        .text("propertyValue[1]", "y");
    let (s, _) = c.post(&c.root_url, form).await;
    assert_eq!(s, 409);
    // Names with '/' and duplicates.
    assert_eq!(c.mkdir("", "a/b").await.0, 409);
    assert_eq!(c.mkdir("", "dup").await.0, 201);
    let (s, v) = c.mkdir("", "dup").await;
    assert_eq!(
        (s, v["exception"].as_str()),
        (409, Some("nameConstraintViolation"))
    );
    r.shutdown().await;
}

#[tokio::test]
async fn users_file_acls_and_created_by() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    let mut f = std::fs::File::create(&users).unwrap();
    writeln!(f, "# test users").unwrap();
    for (u, p) in [
        ("admin", "pw-admin"),
        ("alice", "pw-alice"),
        ("bob", "pw-bob"),
    ] {
        writeln!(f, "{u}:{}", auth::hash_password(p)).unwrap();
    }
    drop(f);
    let data = dir.path().join("data");
    let r = start(&data, Some(users)).await;
    let admin = C::new(&r, "admin", "pw-admin");
    let alice = C::new(&r, "alice", "pw-alice");
    let bob = C::new(&r, "bob", "pw-bob");
    // Wrong password / no credentials → 401.
    let (s, _) = C::new(&r, "alice", "nope").get(&r.service_url()).await;
    assert_eq!(s, 401);
    let resp = reqwest::get(r.service_url()).await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    // Root: alice all, bob read; nobody else.
    let form = Form::new()
        .text("cmisaction", "applyACL")
        .text("addACEPrincipal[0]", "alice")
        .text("addACEPermission[0][0]", "cmis:all")
        .text("addACEPrincipal[1]", "bob")
        .text("addACEPermission[1][0]", "cmis:read")
        .text("removeACEPrincipal[0]", "cmis:anyone")
        .text("removeACEPermission[0][0]", "cmis:all");
    let (s, acl) = admin.post(&admin.root_url, form).await;
    assert_eq!(s, 200, "{acl}");
    let (s, v) = alice.mkdir("", "shared").await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["succinctProperties"]["cmis:createdBy"], "alice");
    let (s, v) = bob.mkdir("/shared", "mine").await;
    assert_eq!(
        (s, v["exception"].as_str()),
        (403, Some("permissionDenied"))
    );
    let (_, o) = bob
        .get(&format!(
            "{}/shared?cmisselector=object&includeAllowableActions=true",
            bob.root_url
        ))
        .await;
    assert_eq!(o["allowableActions"]["canCreateFolder"], false);
    assert_eq!(o["allowableActions"]["canGetChildren"], true);
    // Give bob write below /shared: inherited by what is created there.
    let form = Form::new()
        .text("cmisaction", "applyACL")
        .text("addACEPrincipal[0]", "bob")
        .text("addACEPermission[0][0]", "cmis:write");
    let (s, _) = alice
        .post(&format!("{}/shared", alice.root_url), form)
        .await;
    assert_eq!(s, 200);
    let (s, v) = bob.put_doc("/shared", "b.txt", b"bob".to_vec()).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["succinctProperties"]["cmis:lastModifiedBy"], "bob");
    // bob cannot change ACLs (no cmis:all).
    let form = Form::new()
        .text("cmisaction", "applyACL")
        .text("addACEPrincipal[0]", "bob")
        .text("addACEPermission[0][0]", "cmis:all");
    let (s, _) = bob.post(&format!("{}/shared", bob.root_url), form).await;
    assert_eq!(s, 403);
    // PWC belongs to the user who checked out.
    let form = Form::new()
        .text("cmisaction", "checkOut")
        .text("succinct", "true");
    let (s, pwc) = bob
        .post(&format!("{}/shared/b.txt", bob.root_url), form)
        .await;
    assert_eq!(s, 201, "{pwc}");
    let form = Form::new()
        .text("cmisaction", "setContent")
        .text("objectId", sid(&pwc))
        .part("content", Part::bytes(b"alice".to_vec()).file_name("b.txt"));
    let (s, v) = alice.post(&alice.root_url, form).await;
    assert_eq!((s, v["exception"].as_str()), (409, Some("versioning")));
    r.shutdown().await;
}

#[tokio::test]
async fn refuses_non_loopback_without_users() {
    let dir = tempfile::tempdir().unwrap();
    let e = repo::start(RepoConfig {
        data_dir: dir.path().to_path_buf(),
        listen: "0.0.0.0:0".parse().unwrap(),
        users_file: None,
    })
    .await
    .err()
    .unwrap();
    assert!(e.to_string().contains("loopback"), "{e}");
}

#[tokio::test]
async fn concurrent_creates_are_safe() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(dir.path(), None).await;
    let c = std::sync::Arc::new(C::new(&r, "admin", "admin"));
    c.mkdir("", "many").await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0;
            for i in 0..10 {
                // Half the names collide across tasks: exactly one must win.
                let name = format!("n{}", if i % 2 == 0 { i } else { t * 100 + i });
                let (s, _) = c.put_doc("/many", &name, vec![t as u8; 1000]).await;
                assert!(s == 201 || s == 409, "{s}");
                if s == 201 {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    let (_, list) = c
        .get(&format!(
            "{}/many?cmisselector=children&maxItems=1000",
            c.root_url
        ))
        .await;
    assert_eq!(list["numItems"].as_u64().unwrap(), total as u64);
    assert_eq!(total, 5 + 8 * 5);
    r.shutdown().await;
}

#[tokio::test]
async fn fault_injection() {
    let dir = tempfile::tempdir().unwrap();
    let r = repo::start_with_faults(
        RepoConfig {
            data_dir: dir.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().unwrap(),
            users_file: None,
        },
        FaultConfig::default(),
    )
    .await
    .unwrap();
    let c = C::new(&r, "admin", "admin");
    let base = r.service_url().trim_end_matches("/browser").to_string();
    let (_, d) = c.put_doc("", "big.bin", vec![7u8; 200_000]).await;
    let id = sid(&d);
    let (_, before) = c
        .get(&format!(
            "{}?objectId={id}&cmisselector=object&succinct=true",
            c.root_url
        ))
        .await;
    // All requests fail with 503.
    let set = |cfg: Value| {
        let http = c.http.clone();
        let url = format!("{base}/admin/faults");
        async move {
            let resp = http
                .post(url)
                .basic_auth("admin", Some("admin"))
                .body(cfg.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200);
        }
    };
    set(serde_json::json!({"error_rate": 1.0, "error_status": 503})).await;
    let (s, _) = c.get(&r.service_url()).await;
    assert_eq!(s, 503);
    // Downloads cut off mid-body.
    set(serde_json::json!({"drop_rate": 1.0, "drop_after_bytes": 1000})).await;
    let resp = c
        .http
        .get(format!("{}/big.bin", c.root_url))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.content_length(), Some(200_000));
    assert!(resp.bytes().await.is_err());
    // Latency.
    set(serde_json::json!({"latency_ms": 300})).await;
    let t = std::time::Instant::now();
    c.get(&r.service_url()).await;
    assert!(t.elapsed() >= std::time::Duration::from_millis(300));
    set(serde_json::json!({})).await;
    // Edit behind the client's back: new content, new change token.
    let resp = c
        .http
        .post(format!("{base}/admin/tamper?objectId={id}"))
        .basic_auth("admin", Some("admin"))
        .body("changed")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (_, after) = c
        .get(&format!(
            "{}?objectId={id}&cmisselector=object&succinct=true",
            c.root_url
        ))
        .await;
    assert_ne!(
        after["succinctProperties"]["cmis:changeToken"],
        before["succinctProperties"]["cmis:changeToken"]
    );
    assert_eq!(after["succinctProperties"]["cmis:contentStreamLength"], 7);
    // Without faults allowed there is no admin endpoint.
    let dir2 = tempfile::tempdir().unwrap();
    let plain = start(dir2.path(), None).await;
    let resp = c
        .http
        .get(format!("http://{}/admin/faults", plain.addr))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    plain.shutdown().await;
    r.shutdown().await;
}

#[tokio::test]
async fn query_paging_versions_and_bulk_update() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(dir.path(), None).await;
    let c = C::new(&r, "admin", "admin");
    c.mkdir("", "q").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (_, d) = c.put_doc("/q", &format!("doc{i}"), vec![0u8; i * 10]).await;
        ids.push(sid(&d));
    }
    let (_, folder) = c
        .get(&format!(
            "{}/q?cmisselector=object&succinct=true",
            c.root_url
        ))
        .await;
    let fid = sid(&folder);
    let stmt = format!(
        "SELECT cmis:name, cmis:contentStreamLength FROM cmis:document WHERE IN_FOLDER('{fid}') ORDER BY cmis:contentStreamLength DESC"
    );
    let url = format!(
        "{}?cmisselector=query&succinct=true&maxItems=2&skipCount=1&q={}",
        c.repo_url,
        percent_encoding::utf8_percent_encode(&stmt, percent_encoding::NON_ALPHANUMERIC)
    );
    let (s, v) = c.get(&url).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["numItems"], 5);
    assert_eq!(v["hasMoreItems"], true);
    let names: Vec<_> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["succinctProperties"]["cmis:name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["doc3", "doc2"]);
    assert!(v["results"][0]["succinctProperties"]
        .get("cmis:objectId")
        .is_none());
    // returnVersion=latest from an old version.
    let form = Form::new()
        .text("cmisaction", "checkOut")
        .text("objectId", ids[0].clone())
        .text("succinct", "true");
    let (_, pwc) = c.post(&c.root_url, form).await;
    let form = Form::new()
        .text("cmisaction", "checkIn")
        .text("objectId", sid(&pwc))
        .text("major", "true")
        .text("succinct", "true");
    let (s, v2) = c.post(&c.root_url, form).await;
    assert_eq!(s, 201);
    assert_eq!(v2["succinctProperties"]["cmis:versionLabel"], "2.0");
    let (_, latest) = c
        .get(&format!(
            "{}?objectId={}&cmisselector=object&returnVersion=latest&succinct=true",
            c.root_url, ids[0]
        ))
        .await;
    assert_eq!(sid(&latest), sid(&v2));
    // bulkUpdate renames several at once.
    let form = Form::new()
        .text("cmisaction", "bulkUpdate")
        .text("objectId[0]", ids[1].clone())
        .text("objectId[1]", ids[2].clone())
        .text("propertyId[0]", "cmis:description")
        .text("propertyValue[0]", "bulk");
    let (s, v) = c.post(&c.repo_url, form).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (_, d1) = c
        .get(&format!(
            "{}?objectId={}&cmisselector=object&succinct=true",
            c.root_url, ids[1]
        ))
        .await;
    assert_eq!(d1["succinctProperties"]["cmis:description"], "bulk");
    // The change log lists them, with tokens that page.
    let (_, ch) = c
        .get(&format!(
            "{}?cmisselector=contentChanges&maxItems=3&succinct=true",
            c.repo_url
        ))
        .await;
    assert_eq!(ch["hasMoreItems"], true);
    let next = ch["changeLogToken"].as_str().unwrap().to_string();
    let (_, ch2) = c
        .get(&format!(
            "{}?cmisselector=contentChanges&changeLogToken={next}&maxItems=1000",
            c.repo_url
        ))
        .await;
    assert_eq!(ch2["hasMoreItems"], false);
    assert!(ch2["objects"].as_array().unwrap().len() > 5);
    // HEAD of content.
    let resp = c
        .http
        .head(format!("{}/q/doc4", c.root_url))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-length"], "40");
    r.shutdown().await;
}
