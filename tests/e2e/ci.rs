//! CI pipelines and GitOps files: fixture trees for every platform written by the test, once
//! with literal credentials (each a finding, with job and step) and once with references only
//! (zero findings), plus Kubernetes Secrets, managed secrets (SealedSecret, SOPS,
//! ExternalSecret, Ansible Vault), malformed YAML and the consumers map.

use std::fs;
use std::path::Path;

use crate::common::{fake_aws_key, fake_github, sprawl};
use serde_json::Value;
use tempfile::TempDir;

fn write(root: &Path, files: &[(&str, String)]) {
    for (p, body) in files {
        let path = root.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, body).unwrap();
    }
}

fn scan(root: &Path) -> (i32, Value) {
    let out = sprawl()
        .current_dir(root)
        .args([
            "scan",
            ".",
            "--format",
            "json",
            "--show-secrets",
            "--no-progress",
            "-j",
            "1",
        ])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

fn findings(doc: &Value) -> Vec<Value> {
    doc["findings"].as_array().cloned().unwrap_or_default()
}

/// Every platform with only references: no finding may come out of these.
fn reference_only_tree() -> Vec<(&'static str, String)> {
    vec![
        (".github/workflows/release.yml", r#"name: release
on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    env:
      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
      API_KEY: ${{ vars.API_KEY }}
      password: ${{ secrets.DB_PASSWORD }}
    steps:
      - uses: actions/checkout@v4
      - name: Login
        uses: docker/login-action@v3
        with:
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - name: Publish
        run: |
          echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > ~/.npmrc
          curl -H "Authorization: Bearer ${{ secrets.DEPLOY_TOKEN }}" https://api.example.com/deploy
          export TOKEN=$DEPLOY_TOKEN
"#.to_string()),
        (".gitlab-ci.yml", r#"variables:
  DOCKER_PASSWORD: $CI_REGISTRY_PASSWORD
deploy:
  stage: deploy
  script:
    - docker login -u $CI_REGISTRY_USER -p $CI_REGISTRY_PASSWORD $CI_REGISTRY
    - curl --header "PRIVATE-TOKEN: ${DEPLOY_TOKEN}" https://gitlab.example.com/api/v4/projects
    - git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.example.com/group/repo.git
"#.to_string()),
        (".circleci/config.yml", r#"version: 2.1
jobs:
  build:
    docker:
      - image: cimg/node:20.0
        auth:
          username: mydockerhub-user
          password: $DOCKERHUB_PASSWORD
    steps:
      - run:
          name: Deploy
          command: curl -u "$API_USER:$API_TOKEN" https://api.example.com
"#.to_string()),
        ("azure-pipelines.yml", r#"variables:
  - group: prod-secrets
steps:
  - script: git push https://$(System.AccessToken)@dev.azure.com/org/repo
    displayName: Push
    env:
      SECRET_KEY: $(secretKey)
"#.to_string()),
        ("bitbucket-pipelines.yml", r#"pipelines:
  default:
    - step:
        name: Deploy
        script:
          - pipe: atlassian/aws-s3-deploy:1.1.0
            variables:
              AWS_ACCESS_KEY_ID: $AWS_ACCESS_KEY_ID
              AWS_SECRET_ACCESS_KEY: $AWS_SECRET_ACCESS_KEY
"#.to_string()),
        (".travis.yml", "env:\n  global:\n    - secure: \"a2V5IGVuY3J5cHRlZCBieSB0cmF2aXMgZm9yIHRoaXMgcmVwbw==\"\nscript:\n  - curl -u \"$USER:$PASSWORD\" https://example.com\n".to_string()),
        (".drone.yml", "kind: pipeline\nname: default\nsteps:\n  - name: publish\n    image: plugins/docker\n    settings:\n      password:\n        from_secret: docker_password\n".to_string()),
        (".buildkite/pipeline.yml", "steps:\n  - label: deploy\n    command: ./deploy.sh\n    env:\n      API_TOKEN: \"${API_TOKEN}\"\n".to_string()),
        ("tekton/task.yaml", "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: push\nspec:\n  steps:\n    - name: push\n      image: alpine\n      env:\n        - name: TOKEN\n          valueFrom:\n            secretKeyRef:\n              name: registry-token\n              key: token\n".to_string()),
        ("argo/wf.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: build-\nspec:\n  templates:\n    - name: main\n      container:\n        image: alpine\n        env:\n          - name: PASSWORD\n            valueFrom:\n              secretKeyRef:\n                name: db\n                key: password\n".to_string()),
        ("Jenkinsfile", "pipeline {\n  agent any\n  environment {\n    AWS_CREDS = credentials('aws-prod')\n  }\n  stages {\n    stage('Deploy') {\n      steps {\n        withCredentials([string(credentialsId: 'slack-token', variable: 'SLACK_TOKEN')]) {\n          sh 'curl -H \"Authorization: Bearer $SLACK_TOKEN\" https://slack.com/api/chat.postMessage'\n        }\n      }\n    }\n  }\n}\n".to_string()),
        ("k8s/sealed.yaml", "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\nspec:\n  encryptedData:\n    password: AgBy8hCi8xW3ozk2vGdqFq0rL7QfH9sRZ2lN4m5pT6uV8wX0yA1bC3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9dE1fG3hI5jK7lM9nO1pQ3rS5tU7vW9xY1zA3bC5dE7fG9hI1jK3lM5nO7pQ9rS1tU3vW5xY7zA9bC1dE3fG5hI7jK9l==\n  template:\n    metadata:\n      name: db\n".to_string()),
        ("k8s/external.yaml", "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata:\n  name: db\nspec:\n  secretStoreRef:\n    name: vault\n    kind: ClusterSecretStore\n  data:\n    - secretKey: password\n      remoteRef:\n        key: prod/db/password\n".to_string()),
        ("secrets.enc.yaml", "db_password: ENC[AES256_GCM,data:Tr7o1Qx4,iv:9b6Yf3lK0pQ2rS4tU6vW8xY0zA2bC4dE,tag:1a2B3c4D5e6F7g8H9i0J1k==,type:str]\napi_token: ENC[AES256_GCM,data:Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0Ed,iv:AbCdEfGhIjKlMnOpQrStUvWxYz012345,tag:ZZ9yY8xX7wW6vV5uU4tT3s==,type:str]\nsops:\n  kms: []\n  age:\n    - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n      enc: |\n        -----BEGIN AGE ENCRYPTED FILE-----\n        YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NQ==\n        -----END AGE ENCRYPTED FILE-----\n  lastmodified: \"2024-01-01T00:00:00Z\"\n  mac: ENC[AES256_GCM,data:q1w2e3r4t5y6u7i8o9p0,iv:a1s2d3f4g5h6j7k8l9z0x1c2v3b4n5m6,tag:Qw3Er4Ty5Ui6Op7As8Df9g==,type:str]\n  version: 3.8.1\n".to_string()),
        ("group_vars/all/vault.yml", "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  62313365396662343061393464336163383764373764613633653634306231386433626436623361\n  6435336136326435356536363336376439356631663066330a623437633131643961393135303830\n".to_string()),
        ("docker-compose.yml", "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n".to_string()),
        ("chart/templates/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  password: {{ .Values.password | b64enc | quote }}\n".to_string()),
    ]
}

#[test]
fn reference_only_pipelines_have_zero_findings() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), &reference_only_tree());
    let (code, doc) = scan(dir.path());
    assert_eq!(findings(&doc), Vec::<Value>::new(), "{doc:#}");
    assert_eq!(code, 0, "{doc:#}");
}

#[test]
fn literals_in_pipelines_are_findings_with_job_and_step() {
    let dir = TempDir::new().unwrap();
    let gh = fake_github("ghp_", 2001);
    let deploy = fake_github("ghp_", 2002);
    let aws = fake_aws_key(7);
    write(
        dir.path(),
        &[
            (
                ".github/workflows/deploy.yml",
                format!(
                    "name: deploy\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      AWS_ACCESS_KEY_ID: {aws}\n      PROD_DB_PASSWORD: hunter2-prod-2024\n    steps:\n      - uses: actions/checkout@v4\n      - name: Push image\n        run: |\n          docker login -u ci -p Zq8vN3xR7kPm2Lw9 registry.example.com\n          echo \"GH_TOKEN={gh}\" >> $GITHUB_ENV\n      - name: Clone\n        run: git clone https://ci-bot:{deploy}@github.com/org/private.git\n"
                ),
            ),
            (
                "README.md",
                "# Deploy\n\nSet `password: hunter2-prod-2024` in your local env file.\n"
                    .to_string(),
            ),
        ],
    );
    let (code, doc) = scan(dir.path());
    assert_eq!(code, 1);
    let all = findings(&doc);
    let by_secret = |s: &str| -> Value {
        all.iter()
            .find(|f| f["secret"] == s)
            .cloned()
            .unwrap_or_else(|| panic!("{s} not found in {doc:#}"))
    };
    let a = by_secret(&aws);
    assert_eq!(a["ci"]["kind"], "github-actions");
    assert_eq!(a["ci"]["job"], "deploy");
    assert_eq!(a["ci"]["key"], "jobs.deploy.env.AWS_ACCESS_KEY_ID");
    assert!(a["ci"]["notes"].to_string().contains("OIDC"), "{a:#}");
    let p = by_secret("hunter2-prod-2024");
    assert_eq!(p["path"], ".github/workflows/deploy.yml");
    assert_eq!(p["environment"], "prod");
    let d = by_secret("Zq8vN3xR7kPm2Lw9");
    assert_eq!(d["ci"]["step"], "Push image");
    assert_eq!(d["line"], 13);
    let g = by_secret(&gh);
    assert!(g["ci"]["notes"].to_string().contains("GITHUB_ENV"), "{g:#}");
    let c = by_secret(&deploy);
    assert_eq!(c["ci"]["step"], "Clone");
    // The README's example is not a finding.
    assert!(all.iter().all(|f| f["path"] != "README.md"), "{doc:#}");
}

#[test]
fn kubernetes_secret_data_is_decoded_and_managed_secrets_are_not_findings() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let dir = TempDir::new().unwrap();
    let tok = fake_github("ghp_", 2011);
    let plain = fake_github("ghp_", 2012);
    let unenc = fake_github("ghp_", 2013);
    let mut files = reference_only_tree();
    files.push((
        "k8s/app-secret.yaml",
        format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  mode: {}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  GITHUB_TOKEN: {}\n  db-password: {}\nstringData:\n  token: {plain}\n",
            b64("production"),
            b64(&tok),
            b64("Xk9#mQ2vL7pR4tW8"),
        ),
    ));
    files.push((
        "config/partly.enc.yaml",
        format!(
            "api_token: ENC[AES256_GCM,data:Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0Ed,iv:AbCdEfGhIjKlMnOpQrStUvWxYz012345,tag:ZZ9yY8xX7wW6vV5uU4tT3s==,type:str]\ngithub_token: {unenc}\nsops:\n  lastmodified: \"2024-01-01T00:00:00Z\"\n  mac: ENC[AES256_GCM,data:q1w2e3r4t5y6u7i8o9p0,iv:a1s2d3f4g5h6j7k8l9z0x1c2v3b4n5m6,tag:Qw3Er4Ty5Ui6Op7As8Df9g==,type:str]\n  version: 3.8.1\n"
        ),
    ));
    let dir_path = dir.path();
    write(dir_path, &files);
    let (_, doc) = scan(dir_path);
    let all = findings(&doc);
    let find = |s: &str| all.iter().find(|f| f["secret"] == s).cloned();
    let decoded = find(&tok).unwrap_or_else(|| panic!("base64 data not decoded: {doc:#}"));
    assert_eq!(decoded["path"], "k8s/app-secret.yaml");
    assert_eq!(decoded["line"], 15);
    assert!(
        decoded["preview"]
            .as_str()
            .unwrap()
            .contains("base64-decoded"),
        "{decoded:#}"
    );
    assert!(
        decoded["ci"]["notes"]
            .to_string()
            .contains("plaintext Kubernetes Secret")
    );
    assert!(
        find("Xk9#mQ2vL7pR4tW8").is_some(),
        "generic password in data: {doc:#}"
    );
    assert!(find(&plain).is_some());
    assert!(
        find(&unenc).is_some(),
        "an unencrypted value in a SOPS file is a finding"
    );
    // Nothing from the managed files of the reference tree.
    let paths: Vec<&str> = all.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(
        paths
            .iter()
            .all(|p| *p == "k8s/app-secret.yaml" || *p == "config/partly.enc.yaml"),
        "{paths:?}"
    );
}

#[test]
fn malformed_yaml_falls_back_to_plain_text_with_a_note() {
    let dir = TempDir::new().unwrap();
    let tok = fake_github("ghp_", 2021);
    write(
        dir.path(),
        &[(
            ".github/workflows/broken.yml",
            format!("jobs:\n  build:\n    env: [unclosed\n      TOKEN: {tok}\n"),
        )],
    );
    let (code, doc) = scan(dir.path());
    assert_eq!(code, 1);
    assert!(findings(&doc).iter().any(|f| f["secret"] == tok.as_str()));
    assert!(
        doc["notes"].to_string().contains("scanned as plain text"),
        "{doc:#}"
    );
}

#[test]
fn consumers_map_of_a_multi_workflow_repo() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), &reference_only_tree());
    write(
        dir.path(),
        &[(
            ".github/workflows/nightly.yml",
            "on: schedule\njobs:\n  audit:\n    steps:\n      - name: Audit\n        run: npm audit --registry https://x --token ${{ secrets.NPM_TOKEN }}\n".to_string(),
        )],
    );
    let out = sprawl()
        .current_dir(dir.path())
        .args(["ci", "consumers", ".", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = |name: &str| -> Vec<Value> {
        doc["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["consumers"].as_array().unwrap().clone())
            .unwrap_or_else(|| panic!("{name} missing: {doc:#}"))
    };
    let npm = secret("NPM_TOKEN");
    let files: Vec<&str> = npm.iter().map(|c| c["file"].as_str().unwrap()).collect();
    assert!(files.contains(&".github/workflows/release.yml"));
    assert!(files.contains(&".github/workflows/nightly.yml"));
    assert!(
        npm.iter()
            .any(|c| c["job"] == "audit" && c["step"] == "Audit")
    );
    assert_eq!(secret("System.AccessToken")[0]["step"], "Push");
    assert_eq!(secret("aws-prod")[0]["kind"], "jenkins");
    assert_eq!(secret("slack-token")[0]["job"], "Deploy");
    assert_eq!(secret("docker_password")[0]["kind"], "drone");
    assert_eq!(secret("registry-token")[0]["kind"], "tekton");
    assert!(
        secret("CI_REGISTRY_PASSWORD")
            .iter()
            .any(|c| c["job"] == "deploy")
    );

    let text = sprawl()
        .current_dir(dir.path())
        .args(["ci", "consumers"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(
            "NPM_TOKEN\n  .github/workflows/nightly.yml:6 (github-actions) job audit, step Audit"
        ),
        "{text}"
    );
}

/// Every platform again, now with literal credentials (fakes): each one must be found, in its
/// job and step, and nothing else.
fn literal_tree() -> (Vec<(&'static str, String)>, Vec<String>) {
    let t = |seed| fake_github("ghp_", seed);
    let s = [
        t(3001),
        t(3002),
        t(3003),
        t(3004),
        t(3005),
        t(3006),
        t(3007),
        t(3008),
        t(3009),
        t(3010),
    ];
    let aws = fake_aws_key(31);
    let files = vec![
        (
            ".gitlab-ci.yml",
            format!(
                "variables:\n  GITHUB_TOKEN: {}\ndeploy:\n  stage: deploy\n  script:\n    - curl -u deployer:Rv8kQ2mZx7Lp4Wn9 https://nexus.example.com/upload\n",
                s[0]
            ),
        ),
        (
            ".circleci/config.yml",
            format!(
                "version: 2.1\njobs:\n  build:\n    docker:\n      - image: cimg/node:20.0\n        auth:\n          username: ci\n          password: Kp4Zr8Wq2Lx7Vm3N\n    steps:\n      - run:\n          name: Publish\n          command: git push https://bot:{}@github.com/org/repo.git\n",
                s[1]
            ),
        ),
        (
            "azure-pipelines.yml",
            format!(
                "steps:\n  - script: ./deploy.sh\n    displayName: Deploy\n    env:\n      AWS_ACCESS_KEY_ID: {aws}\n      GITHUB_TOKEN: {}\n",
                s[2]
            ),
        ),
        (
            "bitbucket-pipelines.yml",
            format!(
                "pipelines:\n  default:\n    - step:\n        name: Release\n        script:\n          - export GITHUB_TOKEN={}\n",
                s[3]
            ),
        ),
        (
            ".travis.yml",
            format!(
                "env:\n  global:\n    - GITHUB_TOKEN={}\nscript:\n  - make release\n",
                s[4]
            ),
        ),
        (
            ".drone.yml",
            format!(
                "kind: pipeline\nname: default\nsteps:\n  - name: publish\n    image: alpine\n    environment:\n      GITHUB_TOKEN: {}\n",
                s[5]
            ),
        ),
        (
            ".buildkite/pipeline.yml",
            format!(
                "steps:\n  - label: deploy\n    command: ./deploy.sh\n    env:\n      GITHUB_TOKEN: {}\n",
                s[6]
            ),
        ),
        (
            "tekton/task.yaml",
            format!(
                "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: push\nspec:\n  steps:\n    - name: push\n      image: alpine\n      env:\n        - name: GITHUB_TOKEN\n          value: {}\n",
                s[7]
            ),
        ),
        (
            "argo/wf.yaml",
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: build-\nspec:\n  templates:\n    - name: main\n      container:\n        image: alpine\n        args: [\"git clone https://x:{}@github.com/o/r\"]\n",
                s[8]
            ),
        ),
        (
            "Jenkinsfile",
            format!(
                "pipeline {{\n  agent any\n  stages {{\n    stage('Publish') {{\n      environment {{\n        GITHUB_TOKEN = '{}'\n      }}\n      steps {{ sh 'make publish' }}\n    }}\n  }}\n}}\n",
                s[9]
            ),
        ),
        (
            "infra/variables.tf",
            "variable \"db_password\" {\n  type    = string\n  default = \"Xq7#vB2mK9pL4wZ1\"\n}\n"
                .to_string(),
        ),
    ];
    let mut expected: Vec<String> = s.to_vec();
    expected.extend([
        aws,
        "Rv8kQ2mZx7Lp4Wn9".into(),
        "Kp4Zr8Wq2Lx7Vm3N".into(),
        "Xq7#vB2mK9pL4wZ1".into(),
    ]);
    (files, expected)
}

#[test]
fn literals_on_every_platform_golden() {
    let dir = TempDir::new().unwrap();
    let (files, expected) = literal_tree();
    write(dir.path(), &files);
    let (code, doc) = scan(dir.path());
    assert_eq!(code, 1);
    let all = findings(&doc);
    for e in &expected {
        assert!(
            all.iter().any(|f| f["secret"] == e.as_str()),
            "{e} missing: {doc:#}"
        );
    }
    assert_eq!(all.len(), expected.len(), "no extra findings: {doc:#}");
    let mut lines: Vec<String> = all
        .iter()
        .map(|f| {
            format!(
                "{}:{} {} [{}] job={} step={} key={}",
                f["path"].as_str().unwrap(),
                f["line"],
                f["rule_id"].as_str().unwrap(),
                f["ci"]["kind"].as_str().unwrap_or("-"),
                f["ci"]["job"].as_str().unwrap_or("-"),
                f["ci"]["step"].as_str().unwrap_or("-"),
                f["ci"]["key"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    lines.sort();
    insta::assert_snapshot!(lines.join("\n"));
}
