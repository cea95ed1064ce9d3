//! Container images built by the tests (no Docker engine): docker-save archives, OCI layouts
//! (directory and tar), multi-platform indexes, gzip/zstd layers, whiteouts, nested archives,
//! and hostile input (truncated, tampered, traversal, bombs).

use std::path::Path;

use crate::common::oci::{self, Comp, E, Img};
use crate::common::{fake_github, sprawl};
use serde_json::Value;
use tempfile::TempDir;

fn scan(target: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = sprawl()
        .arg("scan")
        .arg(target)
        .args(["--format", "json", "--no-progress"])
        .args(extra)
        .output()
        .expect("runs");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn findings(doc: &Value) -> Vec<Value> {
    doc["findings"].as_array().cloned().unwrap_or_default()
}

/// The image part of the finding whose secret starts like `secret` (fingerprints differ per
/// secret, previews are redacted, so look the secret up with --show-secrets).
fn images_of(doc: &Value, secret: &str) -> Vec<Value> {
    findings(doc)
        .into_iter()
        .filter(|f| f["secret"].as_str() == Some(secret))
        .map(|f| f["image"].clone())
        .collect()
}

fn env_line(name: &str, value: &str) -> Vec<u8> {
    format!("# app settings\n{name}={value}\n").into_bytes()
}

/// Three layers: the base writes a token, the second deletes it (whiteout) and the third adds
/// another; the config has one in Env and a build argument in a RUN line.
fn layered_image() -> (Img, [String; 4]) {
    let deleted = fake_github("ghp_", 901);
    let visible = fake_github("ghp_", 902);
    let in_env = fake_github("ghp_", 903);
    let in_run = fake_github("ghp_", 904);
    let img = Img {
        layers: vec![
            (
                oci::layer_tar(&[
                    E::Dir("app"),
                    E::File("app/.env", env_line("GITHUB_TOKEN", &deleted)),
                    E::File("app/readme.txt", b"nothing here\n".to_vec()),
                    E::File("bin/tool", b"\x7fELF\0\0\0binary".to_vec()),
                ]),
                Comp::None,
                "COPY app /app".to_string(),
            ),
            (
                oci::layer_tar(&[E::File("app/.wh..env", Vec::new())]),
                Comp::None,
                "RUN /bin/sh -c rm /app/.env".to_string(),
            ),
            (
                oci::layer_tar(&[E::File(
                    "etc/app/config.env",
                    env_line("GH_TOKEN", &visible),
                )]),
                Comp::None,
                format!("RUN |1 GH_PAT={in_run} /bin/sh -c ./configure"),
            ),
        ],
        env: vec!["PATH=/usr/bin".into(), format!("GITHUB_TOKEN={in_env}")],
        ..Img::default()
    };
    (img, [deleted, visible, in_env, in_run])
}

#[test]
fn docker_save_archive_every_layer_config_and_visibility() {
    let dir = TempDir::new().unwrap();
    let (img, [deleted, visible, in_env, in_run]) = layered_image();
    let built = oci::build(&img);
    let archive = dir.path().join("app.tar");
    oci::docker_save(&archive, &[("registry.example/app:1.0", &built)]);
    let (code, doc, err) = scan(&archive, &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(doc["errors"], serde_json::json!([]));

    let d = images_of(&doc, &deleted);
    assert_eq!(d.len(), 1, "{doc:#}");
    assert_eq!(d[0]["image"], "registry.example/app:1.0");
    assert_eq!(d[0]["layer_index"], 0);
    assert_eq!(d[0]["layer_digest"], built.layers[0].1);
    assert_eq!(d[0]["created_by"], "COPY app /app");
    assert_eq!(d[0]["path"], "app/.env");
    assert_eq!(
        d[0]["visibility"],
        serde_json::json!({"state": "hidden", "by_layer": 1, "how": "whiteout"})
    );
    assert_eq!(d[0]["platform"], "linux/amd64");

    let v = images_of(&doc, &visible);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["layer_index"], 2);
    assert_eq!(v[0]["visibility"]["state"], "visible");

    let e = images_of(&doc, &in_env);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["path"], "config:Env[1]");
    assert_eq!(e[0]["visibility"]["state"], "config");

    // The build argument shows in the history entry (also the layer's created_by).
    let r = images_of(&doc, &in_run);
    assert_eq!(r.len(), 1, "{doc:#}");
    assert_eq!(r[0]["path"], "config:history[2].created_by");

    // The binary was skipped, the readme scanned.
    assert_eq!(doc["stats"]["skipped_binary"], 1);
    assert_eq!(doc["stats"]["layers_read"], 3);
}

/// An image names who answers for it (`org.opencontainers.image.authors`): every copy in it,
/// layer file or config, has those owners; an image without the label has none.
#[test]
fn image_authors_label_owns_its_copies() {
    let dir = TempDir::new().unwrap();
    let (mut img, [deleted, _, in_env, _]) = layered_image();
    img.labels = vec![(
        "org.opencontainers.image.authors",
        "payments@acme.example, @acme/payments".to_string(),
    )];
    let archive = dir.path().join("owned.tar");
    oci::docker_save(&archive, &[("registry.example/pay:2", &oci::build(&img))]);
    let (plain, _) = layered_image();
    let unowned = dir.path().join("plain.tar");
    oci::docker_save(
        &unowned,
        &[("registry.example/plain:1", &oci::build(&plain))],
    );
    let (code, doc, err) = scan(&archive, &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    let all = findings(&doc);
    assert!(!all.is_empty());
    for f in &all {
        assert_eq!(
            f["owners"],
            serde_json::json!(["payments@acme.example", "@acme/payments"]),
            "{f:#}"
        );
    }
    assert!(all.iter().any(|f| f["secret"] == deleted.as_str()));
    assert!(all.iter().any(|f| f["secret"] == in_env.as_str()));
    let (_, doc, _) = scan(&unowned, &[]);
    assert!(
        findings(&doc)
            .iter()
            .all(|f| f["owners"].as_array().is_none_or(Vec::is_empty)),
        "{doc:#}"
    );
}

#[test]
fn text_report_names_image_layer_step_and_visibility() {
    let dir = TempDir::new().unwrap();
    let (img, _) = layered_image();
    let archive = dir.path().join("app.tar");
    oci::docker_save(&archive, &[("registry.example/app:1.0", &oci::build(&img))]);
    let out = sprawl()
        .arg("scan")
        .arg(&archive)
        .arg("--no-progress")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("image: registry.example/app:1.0 (linux/amd64)"),
        "{text}"
    );
    assert!(text.contains("created by: COPY app /app"), "{text}");
    assert!(
        text.contains("deleted (whiteout) by layer 1, but still in the image"),
        "{text}"
    );
    assert!(text.contains("visible in the final filesystem"), "{text}");
}

#[test]
fn legacy_docker_save_layout_checks_diff_ids() {
    let dir = TempDir::new().unwrap();
    let (img, [deleted, ..]) = layered_image();
    let built = oci::build(&img);
    let tars: Vec<Vec<u8>> = img.layers.iter().map(|l| l.0.clone()).collect();
    let ok = dir.path().join("old.tar");
    oci::docker_save_legacy(&ok, "old:1", &built, &tars);
    let (code, doc, err) = scan(&ok, &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(images_of(&doc, &deleted).len(), 1);

    // Same archive with layer 2 swapped for other bytes: the diff id no longer matches.
    let mut tampered = tars.clone();
    tampered[2] = oci::layer_tar(&[E::File("etc/motd", b"hello\n".to_vec())]);
    let bad = dir.path().join("tampered.tar");
    oci::docker_save_legacy(&bad, "old:1", &built, &tampered);
    let (code, doc, _) = scan(&bad, &["--show-secrets"]);
    assert_eq!(code, 2);
    let errors = doc["errors"].to_string();
    assert!(errors.contains("layer 2"), "{errors}");
    assert!(errors.contains("does not match its digest"), "{errors}");
    // The other layers were still scanned.
    assert_eq!(images_of(&doc, &deleted).len(), 1);
}

#[test]
fn oci_layout_directory_and_tar_with_gzip_and_zstd_layers() {
    let dir = TempDir::new().unwrap();
    let a = fake_github("ghp_", 911);
    let b = fake_github("ghp_", 912);
    let img = Img {
        layers: vec![
            (
                oci::layer_tar(&[E::File("srv/a.yml", env_line("token", &a))]),
                Comp::Gzip,
                "ADD a".into(),
            ),
            (
                oci::layer_tar(&[E::File("srv/b.yml", env_line("token", &b))]),
                Comp::Zstd,
                "ADD b".into(),
            ),
        ],
        ..Img::default()
    };
    let built = oci::build(&img);
    let layout = dir.path().join("layout");
    oci::write_oci_dir(&layout, &[("v2", &built)], false);
    let (code, doc, err) = scan(&layout, &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    let ia = images_of(&doc, &a);
    assert_eq!(ia.len(), 1, "{doc:#}");
    assert_eq!(ia[0]["image"], format!("{}:v2", layout.display()));
    assert_eq!(ia[0]["layer_digest"], built.layers[0].1);
    assert_eq!(images_of(&doc, &b)[0]["layer_index"], 1);

    let tarball = dir.path().join("layout.tar");
    oci::tar_dir(&layout, &tarball);
    let (code, doc, err) = scan(&tarball, &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(images_of(&doc, &a).len(), 1);
    assert_eq!(images_of(&doc, &b).len(), 1);
}

#[test]
fn multi_platform_index_shares_layers_and_filters_by_platform() {
    let dir = TempDir::new().unwrap();
    let base_tok = fake_github("ghp_", 921);
    let arm_tok = fake_github("ghp_", 922);
    let base = oci::layer_tar(&[E::File("etc/base.env", env_line("TOKEN", &base_tok))]);
    let amd = Img {
        layers: vec![(base.clone(), Comp::Gzip, "FROM base".into())],
        ..Img::default()
    };
    let arm = Img {
        layers: vec![
            (base, Comp::Gzip, "FROM base".into()),
            (
                oci::layer_tar(&[E::File("etc/arm.env", env_line("TOKEN", &arm_tok))]),
                Comp::Gzip,
                "RUN arm".into(),
            ),
        ],
        platform: ("linux", "arm64"),
        ..Img::default()
    };
    let layout = dir.path().join("multi");
    oci::write_oci_dir(
        &layout,
        &[("1.0", &oci::build(&amd)), ("1.0", &oci::build(&arm))],
        true,
    );
    let (code, doc, err) = scan(&layout, &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    let shared = images_of(&doc, &base_tok);
    let platforms: Vec<&str> = shared
        .iter()
        .map(|i| i["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"], "{doc:#}");
    // The shared base layer was read once for both platforms.
    assert_eq!(doc["stats"]["layers_read"], 2);

    let (_, doc, _) = scan(&layout, &["--show-secrets", "--platform", "linux/amd64"]);
    assert_eq!(images_of(&doc, &base_tok).len(), 1);
    assert!(images_of(&doc, &arm_tok).is_empty());
    assert!(doc["notes"].to_string().contains("linux/arm64"), "{doc:#}");
}

#[test]
fn opaque_directories_overwrites_and_same_content_rewrites() {
    let dir = TempDir::new().unwrap();
    let opaque = fake_github("ghp_", 931);
    let overwritten = fake_github("ghp_", 932);
    let rewritten = fake_github("ghp_", 933);
    let img = Img {
        layers: vec![
            (
                oci::layer_tar(&[
                    E::File("data/cache/creds", env_line("TOKEN", &opaque)),
                    E::File("etc/token", env_line("TOKEN", &overwritten)),
                    E::File("etc/same", env_line("TOKEN", &rewritten)),
                ]),
                Comp::Gzip,
                "COPY . /".into(),
            ),
            (
                oci::layer_tar(&[
                    E::Dir("data/cache"),
                    E::File("data/cache/.wh..wh..opq", Vec::new()),
                    E::File("etc/token", b"TOKEN=rotated-elsewhere\n".to_vec()),
                    E::File("etc/same", env_line("TOKEN", &rewritten)),
                ]),
                Comp::Gzip,
                "RUN cleanup".into(),
            ),
        ],
        ..Img::default()
    };
    let archive = dir.path().join("img.tar");
    oci::docker_save(&archive, &[("vis:1", &oci::build(&img))]);
    let (_, doc, _) = scan(&archive, &["--show-secrets"]);
    let o = images_of(&doc, &opaque);
    assert_eq!(o[0]["visibility"]["how"], "opaque_directory", "{doc:#}");
    let w = images_of(&doc, &overwritten);
    assert_eq!(w[0]["visibility"]["how"], "overwritten");
    let same = images_of(&doc, &rewritten);
    assert_eq!(same.len(), 2, "both copies are reported");
    assert!(
        same.iter().all(|i| i["visibility"]["state"] == "visible"),
        "{same:#?}"
    );
}

#[test]
fn nested_archives_are_opened_up_to_the_depth_limit() {
    let dir = TempDir::new().unwrap();
    let in_tgz = fake_github("ghp_", 941);
    let in_jar = fake_github("ghp_", 942);
    let in_deep = fake_github("ghp_", 943);
    let inner_tgz = oci::compress(
        &oci::layer_tar(&[E::File("conf/app.env", env_line("TOKEN", &in_tgz))]),
        Comp::Gzip,
    );
    let deep_jar = zip_of(&[("secret.properties", env_line("github.token", &in_deep))]);
    let jar = zip_of(&[
        (
            "BOOT-INF/classes/application.properties",
            env_line("github.token", &in_jar),
        ),
        ("BOOT-INF/lib/dep.jar", deep_jar),
        ("Main.class", b"\xca\xfe\xba\xbe\0\0".to_vec()),
    ]);
    let img = Img {
        layers: vec![(
            oci::layer_tar(&[
                E::File("opt/bundle.tgz", inner_tgz),
                E::File("opt/app.jar", jar),
            ]),
            Comp::Gzip,
            "COPY artefacts /opt".into(),
        )],
        ..Img::default()
    };
    let archive = dir.path().join("nested.tar");
    oci::docker_save(&archive, &[("nested:1", &oci::build(&img))]);
    let (code, doc, err) = scan(&archive, &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        images_of(&doc, &in_tgz)[0]["path"],
        "opt/bundle.tgz!/conf/app.env"
    );
    assert_eq!(
        images_of(&doc, &in_jar)[0]["path"],
        "opt/app.jar!/BOOT-INF/classes/application.properties"
    );
    assert_eq!(
        images_of(&doc, &in_deep)[0]["path"],
        "opt/app.jar!/BOOT-INF/lib/dep.jar!/secret.properties"
    );

    let (_, doc, _) = scan(&archive, &["--show-secrets", "--archive-depth", "1"]);
    assert_eq!(images_of(&doc, &in_jar).len(), 1);
    assert!(images_of(&doc, &in_deep).is_empty());
    assert!(
        doc["notes"].to_string().contains("deeper than 1"),
        "{doc:#}"
    );
}

fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(*name, opts).unwrap();
        std::io::Write::write_all(&mut w, data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn truncated_layer_is_named_and_the_rest_is_scanned() {
    let dir = TempDir::new().unwrap();
    let good = fake_github("ghp_", 951);
    let lost = fake_github("ghp_", 952);
    let mut big = env_line("TOKEN", &lost);
    big.extend(std::iter::repeat_n(b'x', 200_000));
    let img = Img {
        layers: vec![
            (
                oci::layer_tar(&[E::File("a.env", env_line("TOKEN", &good))]),
                Comp::Gzip,
                "ADD a".into(),
            ),
            (
                oci::layer_tar(&[E::File("b.env", big)]),
                Comp::Gzip,
                "ADD b".into(),
            ),
        ],
        ..Img::default()
    };
    let mut built = oci::build(&img);
    // Cut the second layer in half (its digest stays the manifest's).
    let half = built.layers[1].0.len() / 2;
    built.layers[1].0.truncate(half);
    let archive = dir.path().join("cut.tar");
    oci::docker_save(&archive, &[("cut:1", &built)]);
    let (code, doc, _) = scan(&archive, &["--show-secrets"]);
    assert_eq!(code, 2);
    let errors = doc["errors"].to_string();
    assert!(
        errors.contains(&built.layers[1].1),
        "names the digest: {errors}"
    );
    assert_eq!(images_of(&doc, &good).len(), 1);
}

#[test]
fn tampered_layer_digest_is_reported() {
    let dir = TempDir::new().unwrap();
    let tok = fake_github("ghp_", 961);
    let img = Img {
        layers: vec![(
            oci::layer_tar(&[E::File("a.env", env_line("TOKEN", &tok))]),
            Comp::Gzip,
            "ADD a".into(),
        )],
        ..Img::default()
    };
    let built = oci::build(&img);
    let layout = dir.path().join("layout");
    oci::write_oci_dir(&layout, &[("t", &built)], false);
    // Replace the layer blob's content, keeping its name (digest).
    let blob = layout.join(format!(
        "blobs/sha256/{}",
        built.layers[0].1.trim_start_matches("sha256:")
    ));
    let other = oci::compress(
        &oci::layer_tar(&[E::File(
            "a.env",
            env_line("TOKEN", &fake_github("ghp_", 962)),
        )]),
        Comp::Gzip,
    );
    std::fs::write(&blob, other).unwrap();
    let (code, doc, _) = scan(&layout, &[]);
    assert_eq!(code, 2);
    let errors = doc["errors"].to_string();
    assert!(errors.contains("tampered"), "{errors}");
    assert!(errors.contains(&built.layers[0].1), "{errors}");
}

#[test]
fn path_traversal_entries_are_reported_never_followed() {
    let dir = TempDir::new().unwrap();
    let tok = fake_github("ghp_", 971);
    let outside = dir.path().join("escaped");
    let img = Img {
        layers: vec![(
            oci::layer_tar(&[
                E::Raw("../../escaped/evil.env", env_line("TOKEN", &tok)),
                E::Raw("/etc/abs.env", b"nothing\n".to_vec()),
                E::Symlink("app/link", "/etc/shadow"),
            ]),
            Comp::None,
            "ADD evil".into(),
        )],
        ..Img::default()
    };
    let archive = dir.path().join("evil.tar");
    oci::docker_save(&archive, &[("evil:1", &oci::build(&img))]);
    let (code, doc, _) = scan(&archive, &["--show-secrets"]);
    assert_eq!(code, 1);
    let hits = images_of(&doc, &tok);
    assert_eq!(hits[0]["path"], "escaped/evil.env");
    let notes = doc["notes"].to_string();
    assert!(notes.contains("../../escaped/evil.env"), "{notes}");
    assert!(notes.contains("/etc/abs.env"), "{notes}");
    assert!(!outside.exists(), "nothing is written outside");
}

#[test]
fn decompression_bomb_is_stopped_with_a_clear_message() {
    let dir = TempDir::new().unwrap();
    let tok = fake_github("ghp_", 981);
    // 300 MiB of zeros compresses about 1000:1.
    let zeros = vec![0u8; 300 << 20];
    let img = Img {
        layers: vec![
            (
                oci::layer_tar(&[E::File("a.env", env_line("TOKEN", &tok))]),
                Comp::Gzip,
                "ADD a".into(),
            ),
            (
                oci::layer_tar(&[E::File("zeros.img", zeros)]),
                Comp::Gzip,
                "ADD bomb".into(),
            ),
        ],
        ..Img::default()
    };
    let archive = dir.path().join("bomb.tar");
    oci::docker_save(&archive, &[("bomb:1", &oci::build(&img))]);
    let (code, doc, _) = scan(&archive, &["--show-secrets"]);
    assert_eq!(code, 2);
    let errors = doc["errors"].to_string();
    assert!(errors.contains("decompression bomb"), "{errors}");
    assert!(errors.contains("layer 1"), "{errors}");
    assert_eq!(images_of(&doc, &tok).len(), 1, "other layers still scanned");

    // The size cap, with a message naming the flag.
    let (code, doc, _) = scan(&archive, &["--max-layer-size", "1000000"]);
    assert_eq!(code, 2);
    assert!(doc["errors"].to_string().contains("--max-layer-size"));
}

#[test]
fn two_images_sharing_a_layer_read_it_once_and_seen_file_skips_it_next_time() {
    let dir = TempDir::new().unwrap();
    let tok = fake_github("ghp_", 991);
    let shared = oci::layer_tar(&[E::File("base.env", env_line("TOKEN", &tok))]);
    let one = Img {
        layers: vec![(shared.clone(), Comp::Gzip, "FROM base".into())],
        ..Img::default()
    };
    let two = Img {
        layers: vec![
            (shared, Comp::Gzip, "FROM base".into()),
            (
                oci::layer_tar(&[E::File("two.txt", b"hello\n".to_vec())]),
                Comp::Gzip,
                "ADD two".into(),
            ),
        ],
        ..Img::default()
    };
    let a = dir.path().join("one.tar");
    let b = dir.path().join("two.tar");
    oci::docker_save(&a, &[("one:1", &oci::build(&one))]);
    oci::docker_save(&b, &[("two:1", &oci::build(&two))]);
    let seen = dir.path().join("seen.txt");
    let out = sprawl()
        .arg("scan")
        .args([&a, &b])
        .args(["--format", "json", "--show-secrets", "--seen-file"])
        .arg(&seen)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<String> = images_of(&doc, &tok)
        .iter()
        .map(|i| i["image"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["one:1", "two:1"]);
    assert_eq!(doc["stats"]["layers_read"], 2);

    let (code, doc, _) = scan(&b, &["--seen-file", seen.to_str().unwrap()]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(
        doc["notes"]
            .to_string()
            .contains("2 layer(s) scanned in an earlier run")
    );
}

#[test]
fn a_tar_that_is_not_an_image_is_scanned_as_an_archive() {
    let dir = TempDir::new().unwrap();
    let t = dir.path().join("plain.tar");
    let tok = fake_github("ghp_", 977);
    std::fs::write(
        &t,
        oci::layer_tar(&[
            E::File("x.txt", b"x\n".to_vec()),
            E::File("conf/a.env", format!("T={tok}\n").into_bytes()),
        ]),
    )
    .unwrap();
    let (code, doc, err) = scan(&t, &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(doc["stats"]["blobs_scanned"], 2, "{doc:#}");
    assert!(
        doc["findings"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("plain.tar!/conf/a.env"),
        "{doc:#}"
    );
}

#[test]
fn corrupt_manifest_json_is_an_error_not_a_crash() {
    let dir = TempDir::new().unwrap();
    let layout = dir.path().join("bad");
    std::fs::create_dir_all(&layout).unwrap();
    std::fs::write(layout.join("oci-layout"), "{}").unwrap();
    std::fs::write(
        layout.join("index.json"),
        "{\"manifests\": [{\"digest\": \"sha256:00\"}",
    )
    .unwrap();
    let (code, doc, _) = scan(&layout, &[]);
    assert_eq!(code, 2);
    assert!(
        doc["errors"].to_string().contains("not valid JSON"),
        "{doc:#}"
    );
}

#[test]
fn multi_image_legacy_archive_with_linked_layers_and_an_empty_layer() {
    let dir = TempDir::new().unwrap();
    let shared_tok = fake_github("ghp_", 1101);
    let b_tok = fake_github("ghp_", 1102);
    let shared = oci::layer_tar(&[E::File("etc/shared.env", env_line("TOKEN", &shared_tok))]);
    // Docker's empty layer: just the two zero end-of-archive blocks.
    let empty = vec![0u8; 1024];
    let b_only = oci::layer_tar(&[E::File("b.env", env_line("TOKEN", &b_tok))]);
    let a = oci::build(&Img {
        layers: vec![
            (shared.clone(), Comp::None, "FROM base".into()),
            (empty.clone(), Comp::None, "WORKDIR /app".into()),
        ],
        ..Img::default()
    });
    let b = oci::build(&Img {
        layers: vec![
            (shared, Comp::None, "FROM base".into()),
            (b_only, Comp::None, "ADD b".into()),
        ],
        ..Img::default()
    });
    let archive = dir.path().join("multi.tar");
    let mut t = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        t.append_data(&mut h, name, data).unwrap();
    };
    add("a.json", &a.config);
    add("b.json", &b.config);
    add("l0/layer.tar", &a.layers[0].0);
    add("l1/layer.tar", &a.layers[1].0);
    add("l2/layer.tar", &b.layers[1].0);
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    t.append_link(&mut h, "l3/layer.tar", "../l0/layer.tar")
        .unwrap();
    let manifest = serde_json::json!([
        {"Config": "a.json", "RepoTags": ["a:1"], "Layers": ["l0/layer.tar", "l1/layer.tar"]},
        {"Config": "b.json", "RepoTags": ["b:1"], "Layers": ["l3/layer.tar", "l2/layer.tar"]},
    ]);
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    t.append_data(&mut h, "manifest.json", &bytes[..]).unwrap();
    t.finish().unwrap();
    drop(t);

    let (code, doc, err) = scan(&archive, &["--show-secrets"]);
    assert_eq!(code, 1, "{err} {doc:#}");
    let names: Vec<&str> = findings(&doc)
        .iter()
        .filter(|f| f["secret"] == shared_tok.as_str())
        .map(|f| {
            if f["image"]["image"] == "a:1" {
                "a"
            } else {
                "b"
            }
        })
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(images_of(&doc, &b_tok)[0]["image"], "b:1");
    // The shared layer is read once; the empty layer is fine.
    assert_eq!(doc["stats"]["layers_read"], 3);
    assert_eq!(doc["errors"], serde_json::json!([]));
}

#[test]
fn gzipped_archive_and_truncated_archive() {
    let dir = TempDir::new().unwrap();
    let (img, [deleted, ..]) = layered_image();
    let archive = dir.path().join("app.tar");
    oci::docker_save(&archive, &[("app:1", &oci::build(&img))]);
    let bytes = std::fs::read(&archive).unwrap();

    // `docker save | gzip > app.tar.gz`
    let gz = dir.path().join("app.tar.gz");
    std::fs::write(&gz, oci::compress(&bytes, Comp::Gzip)).unwrap();
    let (code, doc, err) = scan(&gz, &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(images_of(&doc, &deleted).len(), 1);

    // The archive cut short: named, exit 2, no crash.
    let cut = dir.path().join("cut.tar");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (code, doc, err) = scan(&cut, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(doc["errors"].to_string().contains("cut.tar"), "{doc:#}");
}

/// The shared detection stage runs on image layers too: a Kubernetes Secret manifest baked into
/// a layer has its `data:` decoded (as in a directory or a repository), and a README's
/// memorable example password is filtered as documentation, while the same line in a `.env`
/// file of the same layer is a finding.
#[test]
fn image_layers_get_the_ci_stage_and_the_documentation_filter() {
    use base64::Engine as _;
    let dir = TempDir::new().unwrap();
    let tok = fake_github("ghp_", 990);
    let data = base64::engine::general_purpose::STANDARD.encode(format!("GITHUB_TOKEN={tok}"));
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  config: {data}\n"
    );
    let memorable = "password: Summer-Deploy-2024\n";
    let img = Img {
        layers: vec![(
            oci::layer_tar(&[
                E::File("deploy/secret.yaml", manifest.into_bytes()),
                E::File("app/README.md", memorable.as_bytes().to_vec()),
                E::File("app/settings.env", memorable.as_bytes().to_vec()),
            ]),
            Comp::None,
            "COPY . /".to_string(),
        )],
        ..Img::default()
    };
    let built = oci::build(&img);
    let archive = dir.path().join("app.tar");
    oci::docker_save(&archive, &[("registry.example/app:2.0", &built)]);
    let (code, doc, err) = scan(&archive, &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    let all = findings(&doc);
    let decoded = all
        .iter()
        .find(|f| f["secret"].as_str() == Some(tok.as_str()))
        .unwrap_or_else(|| panic!("decoded token not found: {doc:#}"));
    assert_eq!(decoded["ci"]["kind"], "kubernetes", "{decoded:#}");
    assert!(
        decoded["preview"]
            .as_str()
            .unwrap_or_default()
            .contains("base64-decoded"),
        "{decoded:#}"
    );
    let paths: Vec<&str> = all
        .iter()
        .filter(|f| f["secret"].as_str() == Some("Summer-Deploy-2024"))
        .filter_map(|f| f["image"]["path"].as_str())
        .collect();
    assert_eq!(paths, ["app/settings.env"], "{doc:#}");
}
