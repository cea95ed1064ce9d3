//! What kind of CI or GitOps file a path is: judged from the path first (workflow directories,
//! well-known file names), then from the first bytes of YAML content (Tekton, Argo Workflows,
//! Kubernetes manifests, SOPS files).

pub use sprawl_core::finding::CiKind as Kind;

fn is_yaml_name(name: &str) -> bool {
    name.ends_with(".yml") || name.ends_with(".yaml")
}

/// The kind of `path` (slash-separated, any prefix) from its name alone, if the name decides.
pub fn from_path(path: &str) -> Option<Kind> {
    let p = path.replace('\\', "/");
    let lower = p.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let dir_has = |d: &str| lower.starts_with(d) || lower.contains(&format!("/{d}"));
    if is_yaml_name(name) {
        if dir_has(".github/workflows/") {
            return Some(Kind::GithubActions);
        }
        if name == "action.yml" || name == "action.yaml" {
            return Some(Kind::GithubAction);
        }
        if name == ".gitlab-ci.yml" || name.ends_with(".gitlab-ci.yml") || dir_has(".gitlab/ci/") {
            return Some(Kind::GitlabCi);
        }
        if dir_has(".circleci/") {
            return Some(Kind::Circleci);
        }
        if name.starts_with("azure-pipelines")
            || dir_has(".azure-pipelines/")
            || dir_has(".azuredevops/")
        {
            return Some(Kind::AzurePipelines);
        }
        if name == "bitbucket-pipelines.yml" {
            return Some(Kind::BitbucketPipelines);
        }
        if name == ".travis.yml" {
            return Some(Kind::Travis);
        }
        if name == ".drone.yml" || name == ".drone.yaml" {
            return Some(Kind::Drone);
        }
        if dir_has(".buildkite/") || name == "buildkite.yml" {
            return Some(Kind::Buildkite);
        }
        if name.starts_with("docker-compose") || name.starts_with("compose.") {
            return Some(Kind::Compose);
        }
        if dir_has("group_vars/")
            || dir_has("host_vars/")
            || lower.contains("/vars/")
            || lower.contains("/defaults/")
        {
            return Some(Kind::Ansible);
        }
        return None;
    }
    if name == "jenkinsfile" || name.starts_with("jenkinsfile.") || name.ends_with(".jenkinsfile") {
        return Some(Kind::Jenkins);
    }
    if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
        return Some(Kind::DotEnv);
    }
    if name == "dockerfile"
        || name.starts_with("dockerfile.")
        || name.ends_with(".dockerfile")
        || name == "containerfile"
    {
        return Some(Kind::Dockerfile);
    }
    if name.ends_with(".tf") || name.ends_with(".tfvars") {
        return Some(Kind::Terraform);
    }
    None
}

/// The kind of a file from its path, or for YAML files that the name does not decide, from
/// its content (`apiVersion: tekton.dev/…`, `kind: Secret`, …).
pub fn classify(path: &str, text: &str) -> Option<Kind> {
    if let Some(k) = from_path(path) {
        return Some(k);
    }
    let lower = path.to_ascii_lowercase();
    let yamlish = is_yaml_name(&lower) || lower.contains("/templates/");
    if !yamlish {
        return None;
    }
    let mut cut = text.len().min(64 << 10);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &text[..cut];
    if text.contains("ENC[AES256_GCM,") && text.lines().any(|l| l.starts_with("sops:")) {
        return Some(Kind::Sops);
    }
    let api = |needle: &str| {
        head.lines()
            .any(|l| l.trim_start().starts_with("apiVersion:") && l.contains(needle))
    };
    if api("tekton.dev") {
        return Some(Kind::Tekton);
    }
    if api("argoproj.io")
        && head.lines().any(|l| {
            let t = l.trim();
            t == "kind: Workflow"
                || t == "kind: WorkflowTemplate"
                || t == "kind: CronWorkflow"
                || t == "kind: ClusterWorkflowTemplate"
        })
    {
        return Some(Kind::ArgoWorkflows);
    }
    if head.lines().any(|l| l.starts_with("apiVersion:"))
        && head.lines().any(|l| l.starts_with("kind:"))
    {
        return Some(Kind::Kubernetes);
    }
    // A file pulled in by `include: local:` from anywhere in the repo: top-level jobs (keys at
    // two spaces) with `script:` and a `stage:` or `extends:`.
    let at_job_level = |l: &&str| l.starts_with("  ") && !l.starts_with("   ");
    let has = |k: &str| {
        head.lines()
            .filter(at_job_level)
            .any(|l| l.trim_start().starts_with(k))
    };
    if has("script:") && (has("stage:") || has("extends:")) {
        return Some(Kind::GitlabCi);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            from_path(".github/workflows/ci.yml"),
            Some(Kind::GithubActions)
        );
        assert_eq!(
            from_path("repo/.github/workflows/release.yaml"),
            Some(Kind::GithubActions)
        );
        assert_eq!(
            from_path("actions/setup/action.yml"),
            Some(Kind::GithubAction)
        );
        assert_eq!(from_path(".gitlab-ci.yml"), Some(Kind::GitlabCi));
        assert_eq!(from_path("ci/.gitlab/ci/deploy.yml"), Some(Kind::GitlabCi));
        assert_eq!(from_path(".circleci/config.yml"), Some(Kind::Circleci));
        assert_eq!(from_path("azure-pipelines.yml"), Some(Kind::AzurePipelines));
        assert_eq!(
            from_path("bitbucket-pipelines.yml"),
            Some(Kind::BitbucketPipelines)
        );
        assert_eq!(from_path("Jenkinsfile"), Some(Kind::Jenkins));
        assert_eq!(from_path("deploy/.env.production"), Some(Kind::DotEnv));
        assert_eq!(from_path("docker-compose.prod.yml"), Some(Kind::Compose));
        assert_eq!(from_path("infra/main.tf"), Some(Kind::Terraform));
        assert_eq!(from_path("README.md"), None);
        assert_eq!(from_path("config/app.yml"), None);
    }

    #[test]
    fn content() {
        let t = "apiVersion: tekton.dev/v1\nkind: Task\n";
        assert_eq!(classify("build/task.yaml", t), Some(Kind::Tekton));
        let a = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n";
        assert_eq!(classify("wf.yaml", a), Some(Kind::ArgoWorkflows));
        let k = "apiVersion: v1\nkind: Secret\n";
        assert_eq!(classify("k8s/secret.yaml", k), Some(Kind::Kubernetes));
        assert_eq!(
            classify("chart/templates/secret.tpl", k),
            Some(Kind::Kubernetes)
        );
        assert_eq!(classify("notes.yaml", "a: b\n"), None);
        let inc = "deploy-prod:\n  stage: deploy\n  script:\n    - ./deploy.sh\n";
        assert_eq!(
            classify("ci/templates/deploy.yml", inc),
            Some(Kind::GitlabCi)
        );
        let sops = "password: ENC[AES256_GCM,data:abc,type:str]\nsops:\n  mac: x\n";
        assert_eq!(classify("secrets.enc.yaml", sops), Some(Kind::Sops));
    }
}
