//! A seeded mutation fuzzer for every parser sprawl owns, on stable Rust (cargo fuzz needs a
//! nightly toolchain, which this project's machines do not have). Not run by CI:
//!
//! ```sh
//! cargo bench --bench fuzz -- [TARGET ...] [--secs N] [--seed N]
//! ```
//!
//! Each target starts from seeds written here (valid inputs of its format), applies random
//! mutations (bit flips, byte and chunk insertions, deletions, repeats, splices, and tokens
//! that matter to the format), runs the parser under `catch_unwind`, and reports executions,
//! panics and slow inputs (over 2 s). Failing inputs are written to
//! `target/fuzz-findings/TARGET/`. The run is deterministic for a given seed.

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sprawl::detect::{Engine, Scratch};
use sprawl::fingerprint::Fingerprinter;

/// xorshift64*: deterministic, fast, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens that matter to one format or another, inserted by the mutator.
const TOKENS: &[&[u8]] = &[
    b"\n",
    b"\r\n",
    b"\0",
    b"\"",
    b"'",
    b"'''",
    b"[[rule]]\n",
    b"[rule.verify]\n",
    b"=",
    b"{",
    b"}",
    b"[",
    b"]",
    b"---\n",
    b"...\n",
    b"- ",
    b": ",
    b"&a ",
    b"*a",
    b"!!binary ",
    b"|\n  ",
    b">-\n  ",
    b"kind: Secret\n",
    b"data:\n  K: ",
    b"stringData:\n",
    b"apiVersion: v1\n",
    b"${{ secrets.X }}",
    b"ENC[AES256_GCM,data:",
    b"sops:\n",
    b"PK\x03\x04",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"\x1f\x8b",
    b"ustar\0",
    b"manifests",
    b"\"mediaType\"",
    b"sha256:",
    b"{{secret}}",
    b"password = ",
    b"api_key: ",
    b"ghp_",
    b"AKIA",
    b"-----BEGIN RSA PRIVATE KEY-----\n",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"99999999999999999999",
    b"-1",
    b"1e308",
    b"\\u0000",
    b"\\",
    b"%00",
    b"\x1b[2K",
];

fn mutate(rng: &mut Rng, input: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        let len = out.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next() as u8;
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let i = rng.below(len + 1);
                out.splice(i..i, t.iter().copied());
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                out.drain(a..b);
            }
            4 if len > 0 => {
                // Repeat a chunk: deep nesting, long lines, many documents.
                let a = rng.below(len);
                let b = (a + 1 + rng.below(32)).min(len);
                let chunk = out[a..b].to_vec();
                let many = rng.below(8) == 0;
                let times = 1 + rng.below(if many { 2000 } else { 16 });
                for _ in 0..times {
                    out.splice(b..b, chunk.iter().copied());
                }
            }
            5 => {
                // Splice in part of another seed.
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + 1 + rng.below(256)).min(other.len());
                    let i = rng.below(len + 1);
                    out.splice(i..i, other[a..b].iter().copied());
                }
            }
            6 if len > 0 => out.truncate(rng.below(len)),
            7 if len > 1 => {
                let a = rng.below(len);
                let b = rng.below(len);
                out.swap(a, b);
            }
            _ => {
                let i = rng.below(len + 1);
                out.insert(i, rng.next() as u8);
            }
        }
        if out.len() > 1 << 20 {
            out.truncate(1 << 20);
        }
    }
    out
}

/// Runs one input through a parser.
type Runner = Box<dyn Fn(&[u8])>;

/// One parser under test: its seeds and how to run one input.
struct Target {
    name: &'static str,
    seeds: Vec<Vec<u8>>,
    run: Runner,
}

fn engine() -> &'static Engine {
    static E: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| Engine::new(sprawl::rules::load::builtin().rules))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fake token with a valid-looking shape (not a real credential).
fn fake_token() -> String {
    format!("ghp_{}", "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6")
}

/// An in-memory image store: path to bytes.
struct MemStore(HashMap<String, Vec<u8>>);

impl sprawl::source::image::store::Store for MemStore {
    fn open(&self, path: &str) -> std::io::Result<Box<dyn Read + '_>> {
        match self.0.get(path) {
            Some(b) => Ok(Box::new(Cursor::new(b.as_slice()))),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                path.to_string(),
            )),
        }
    }
    fn contains(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }
}

/// Reads every member it is shown (as the scan does) and discards it.
struct Drain;

impl sprawl::source::image::layer::Visitor for Drain {
    fn file(&mut self, _: &str, _: &str, _: u64, content: &mut dyn Read) -> std::io::Result<()> {
        std::io::copy(&mut content.take(4 << 20), &mut std::io::sink()).map(|_| ())
    }
    fn note(&mut self, _: String) {}
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, body) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *body).expect("tar");
    }
    b.into_inner().expect("tar")
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut cur = Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut cur);
        for (name, body) in files {
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            z.start_file(*name, opts).expect("zip");
            z.write_all(body).expect("zip");
        }
        z.finish().expect("zip");
    }
    cur.into_inner()
}

fn targets() -> Vec<Target> {
    let tok = fake_token();
    let rule = br#"[[rule]]
id = 'team.token'
name = 'Team token'
provider = 'Team'
pattern = '''\b(?P<secret>teamtok_[a-z0-9]{16})\b'''
keywords = ['teamtok_']
confidence = 'high'
severity = 'high'
examples = ['t = teamtok_0123456789abcdef']
[rule.verify]
url = 'https://api.example.com/v1/me'
headers = { Authorization = 'Bearer {{secret}}' }
live = { status = [200] }
"#
    .to_vec();
    let builtin_rule = sprawl::rules::load::BUILTIN_RULE_FILES
        .first()
        .map(|(_, t)| t.as_bytes().to_vec())
        .unwrap_or_default();
    let config = b"[scan]\nexclude = [\"vendor/**\"]\n[rules]\ndisable = [\"generic.password\"]\npaths = [\"r\"]\n[allow]\nfingerprints = [\"00\"]\nsecrets = ['^sk_test_']\n".to_vec();
    let workflow = format!(
        "name: ci\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      TOKEN: ${{{{ secrets.GH }}}}\n    steps:\n      - name: push\n        run: |\n          echo {tok} > /dev/null\n          curl -H \"Authorization: token $TOKEN\" https://api.github.com\n"
    )
    .into_bytes();
    let k8s = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gh\ntype: Opaque\ndata:\n  GH: {}\nstringData:\n  password: hunter2-Prod-9x\n---\napiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n",
        base64_of(tok.as_bytes())
    )
    .into_bytes();
    let layer = tar_of(&[
        ("app/.env", format!("T={tok}\n").as_bytes()),
        ("etc/.wh.x", b""),
    ]);
    let jar = zip_of(&[(
        "BOOT-INF/application.yml",
        format!("token: {tok}\n").as_bytes(),
    )]);
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&layer).expect("gz");
        e.finish().expect("gz")
    };
    let index = br#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aaaa","size":2,"platform":{"os":"linux","architecture":"amd64"},"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}"#.to_vec();
    let manifest = br#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:bbbb","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:cccc","size":3}]}"#.to_vec();
    let docker_save =
        br#"[{"Config":"blobs/sha256/bbbb","RepoTags":["app:1"],"Layers":["blobs/sha256/cccc"]}]"#
            .to_vec();
    let image_config = format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{{\"Env\":[\"T={tok}\"],\"Cmd\":[\"sh\"],\"Labels\":{{\"a\":\"b\"}}}},\"history\":[{{\"created_by\":\"RUN echo {tok}\"}},{{\"created_by\":\"ENV X=1\",\"empty_layer\":true}}],\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"sha256:dd\"]}}}}"
    )
    .into_bytes();
    let docker_cfg = br#"{"auths":{"127.0.0.1:5000":{"auth":"dXNlcjpwYXNz"},"https://index.docker.io/v1/":{"username":"u","password":"p"}}}"#.to_vec();
    let baseline =
        br#"{"version":1,"entries":[{"rule_id":"github.pat.classic","fingerprint":"00ff"}]}"#
            .to_vec();
    let assignments = format!(
        "db_password = \"Xk9#mQ2$vL7pR4wz\"\nAPI_KEY: '{tok}'\n<password>s3cr3t-Value-9</password>\nconst token := \"abcDEF123456ghiJKL\"\naws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz\n"
    )
    .into_bytes();

    let mut out: Vec<Target> = vec![
        Target {
            name: "rules",
            seeds: vec![rule.clone(), builtin_rule],
            run: Box::new(|b| {
                for trust in [sprawl::rules::load::Trust::User, sprawl::rules::load::Trust::Untrusted] {
                    let mut l = sprawl::rules::load::builtin();
                    l.set_trust(trust);
                    l.add_toml("fuzz.toml", &text(b));
                    let _ = Engine::new(l.rules);
                }
            }),
        },
        Target {
            name: "config",
            seeds: vec![config, rule],
            run: Box::new(|b| {
                let _ = toml::from_str::<sprawl::config::Config>(&text(b));
            }),
        },
        Target {
            name: "baseline",
            seeds: vec![baseline],
            run: Box::new(|b| {
                let _ = sprawl::baseline::Baseline::parse(&text(b));
            }),
        },
        Target {
            name: "ci-yaml",
            seeds: vec![workflow.clone(), k8s.clone()],
            run: Box::new(|b| {
                let _ = sprawl::ci::yaml::outline(&text(b));
            }),
        },
        Target {
            name: "kubernetes",
            seeds: vec![k8s, workflow],
            run: Box::new(|b| {
                let e = engine();
                let fp = Fingerprinter::new(b"");
                let mut scratch = Scratch::default();
                for path in ["deploy/secret.yaml", ".github/workflows/ci.yml"] {
                    let mut m = Vec::new();
                    let _ = sprawl::scan::detect_stream(e, &fp, &mut scratch, |f| {
                        sprawl::source::fs::read_stream(b, Default::default(), f)
                    })
                    .map(|(_, found)| m = found);
                    let _ = sprawl::ci::refine_bytes(path, b, e, &fp, &mut scratch, &mut m);
                }
            }),
        },
        Target {
            name: "archives",
            seeds: vec![layer.clone(), jar, gz],
            run: Box::new(|b| {
                let limits = sprawl::source::image::layer::Limits {
                    max_bytes: 64 << 20,
                    ..Default::default()
                };
                for name in ["x.tar", "x.zip", "x.tar.gz", "x.tar.zst"] {
                    let _ = sprawl::source::image::layer::walk_archive(
                        name,
                        &mut Cursor::new(b),
                        b.len() as u64,
                        &limits,
                        &mut Drain,
                    );
                }
            }),
        },
        Target {
            name: "oci-manifests",
            seeds: vec![index.clone(), manifest.clone(), docker_save.clone()],
            run: Box::new(move |b| {
                let mut files = HashMap::new();
                files.insert("index.json".to_string(), b.to_vec());
                files.insert("blobs/sha256/aaaa".to_string(), b.to_vec());
                let _ = sprawl::source::image::manifest::list_disk(&MemStore(files), "fuzz", None);
                let mut files = HashMap::new();
                files.insert("manifest.json".to_string(), b.to_vec());
                let _ = sprawl::source::image::manifest::list_disk(&MemStore(files), "fuzz", None);
                let mut fetch = |_: &str| -> Result<Vec<u8>, String> { Ok(b.to_vec()) };
                let _ = sprawl::source::image::manifest::list_registry(b, "fuzz", Some("linux/amd64"), &mut fetch);
            }),
        },
        Target {
            name: "image-config",
            seeds: vec![image_config],
            run: Box::new(|b| {
                let _ = sprawl::source::image::config::parse(b);
            }),
        },
        Target {
            name: "docker-config",
            seeds: vec![docker_cfg, br#"Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull""#.to_vec()],
            run: Box::new(|b| {
                let _ = sprawl::source::image::registry::creds_from_docker_config(b, "127.0.0.1:5000");
                let _ = sprawl::source::image::registry::creds_from_docker_config(b, "registry-1.docker.io");
                let _ = sprawl::source::image::registry::parse_challenge(&text(b));
            }),
        },
        Target {
            name: "detect",
            seeds: vec![assignments, layer],
            run: Box::new(|b| {
                let e = engine();
                let fp = Fingerprinter::new(b"");
                let mut scratch = Scratch::default();
                let _ = sprawl::scan::detect_stream(e, &fp, &mut scratch, |f| {
                    sprawl::source::fs::read_stream(b, Default::default(), f)
                });
            }),
        },
    ];
    out.push(git_target());
    out
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Git: a small repository built once with the git binary; each input replaces its pack file
/// (mutations of the real pack) and the repository is scanned through the git source.
fn git_target() -> Target {
    let dir = std::env::temp_dir().join(format!("sprawl-fuzz-git-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(&dir)
            .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
            .output()
            .expect("git")
    };
    git(&["init", "-q", "-b", "main"]);
    for i in 0..4 {
        std::fs::write(
            dir.join(format!("f{i}.env")),
            format!("T{i}={}\nline {i}\n", fake_token()),
        )
        .expect("write");
        git(&["add", "."]);
        git(&[
            "-c",
            "user.name=f",
            "-c",
            "user.email=f@x",
            "commit",
            "-qm",
            &format!("c{i}"),
        ]);
    }
    git(&["repack", "-adq"]);
    let pack_dir = dir.join(".git/objects/pack");
    let pack: PathBuf = std::fs::read_dir(&pack_dir)
        .expect("pack dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("a pack");
    let seed = std::fs::read(&pack).expect("pack");
    Target {
        name: "git-pack",
        seeds: vec![seed],
        run: Box::new(move |b| {
            std::fs::write(&pack, b).expect("write pack");
            let e = engine();
            let fp = Fingerprinter::new(b"");
            let mut out = sprawl::scan::ScanOutcome::default();
            let opts = sprawl::scan::git::GitOptions {
                mode: sprawl::scan::git::GitMode::Full,
                all_objects: false,
                seen_file: None,
                threads: 1,
                windowing: Default::default(),
                recurse_submodules: false,
                path_prefix: None,
                max_blob_size: None,
                known: None,
                collect_blobs: false,
                read: Default::default(),
            };
            sprawl::scan::git::scan_repo(e, &fp, &dir, "fuzz", &opts, &mut out);
        }),
    }
}

fn main() {
    let mut names: Vec<String> = Vec::new();
    let mut secs: u64 = 30;
    let mut seed: u64 = 0x5eed;
    // `cargo bench` passes --bench; anything else (a test run) must not start a fuzzing session.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("fuzz: run with `cargo bench --bench fuzz -- [TARGET ...] [--secs N]`");
        return;
    }
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--secs" => secs = args.next().and_then(|v| v.parse().ok()).unwrap_or(secs),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            "--bench" => {}
            other => names.push(other.to_string()),
        }
    }
    // Panics are counted and their inputs saved; their messages would drown the report.
    std::panic::set_hook(Box::new(|_| {}));
    let out_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-findings");
    println!(
        "{:<14} {:>10} {:>8} {:>6} {:>10}",
        "target", "execs", "panics", "slow", "execs/s"
    );
    for t in targets() {
        if !names.is_empty() && !names.iter().any(|n| n == t.name) {
            continue;
        }
        let mut rng = Rng(seed ^ (t.name.len() as u64) << 32 ^ 0x9E37_79B9_7F4A_7C15);
        let (mut execs, mut panics, mut slow) = (0u64, 0u64, 0u64);
        let started = Instant::now();
        let mut corpus = t.seeds.clone();
        while started.elapsed() < Duration::from_secs(secs) {
            let base = &corpus[rng.below(corpus.len())];
            let input = mutate(&mut rng, base, &t.seeds);
            let one = Instant::now();
            let res = catch_unwind(AssertUnwindSafe(|| (t.run)(&input)));
            let took = one.elapsed();
            execs += 1;
            let save = |kind: &str| {
                let d = out_dir.join(t.name);
                let _ = std::fs::create_dir_all(&d);
                let _ = std::fs::write(d.join(format!("{kind}-{execs}")), &input);
            };
            if res.is_err() {
                panics += 1;
                save("panic");
            } else if took > Duration::from_secs(2) {
                slow += 1;
                save("slow");
            } else if rng.below(16) == 0 && corpus.len() < 256 && input.len() < 64 << 10 {
                // Keep some mutants as new bases: deeper mutations without coverage feedback.
                corpus.push(input);
            }
        }
        let rate = execs as f64 / started.elapsed().as_secs_f64();
        println!(
            "{:<14} {execs:>10} {panics:>8} {slow:>6} {rate:>10.0}",
            t.name
        );
    }
}
