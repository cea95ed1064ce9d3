//! The image config: which layers (diff ids), which build step made each (`history`), and the
//! fields where secrets leak without any file (environment, command, labels, and build
//! arguments recorded in `RUN` lines of the history).

use serde_json::Value;

/// The parts of an image config sprawl uses.
#[derive(Debug, Default, Clone)]
pub struct ImageConfig {
    /// Digests of the uncompressed layers, base first.
    pub diff_ids: Vec<String>,
    /// `created_by` of the history entries that made a layer, in layer order.
    pub layer_created_by: Vec<Option<String>>,
    /// `os/arch[/variant]`.
    pub platform: Option<String>,
    /// The config fields as a text document, one field per line, for the detector.
    pub document: ConfigDocument,
    /// Who answers for the image: its `org.opencontainers.image.authors` label, split at
    /// commas. The owners of its copies when no CODEOWNERS names them. The `maintainer` label
    /// and the `author` field are not used: official base images set them and every image
    /// built on one inherits them (an `nginx`-based image would be "owned" by nginx's team).
    pub owners: Vec<String>,
}

/// The image's owners from its config (see [`ImageConfig::owners`]): at most 5, each at most
/// 200 characters, control characters (the inventory stores owners one per line) removed.
fn owners_of(v: &Value) -> Vec<String> {
    let text = v["config"]["Labels"]["org.opencontainers.image.authors"]
        .as_str()
        .unwrap_or("");
    text.split(',')
        .map(|o| o.chars().filter(|c| !c.is_control()).collect::<String>())
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty() && o.chars().count() <= 200)
        .take(5)
        .collect()
}

/// The config's secret-bearing fields laid out as text: `ENV K=V`, `CMD …`, `LABEL k=v`, and
/// every history command, so the detector sees assignments the way a Dockerfile shows them.
#[derive(Debug, Default, Clone)]
pub struct ConfigDocument {
    /// The text.
    pub text: String,
    /// For each line of `text` (0-based), the config field it came from.
    pub fields: Vec<String>,
}

impl ConfigDocument {
    fn push(&mut self, field: &str, line: &str) {
        // Multi-line values (heredocs in RUN) keep one field name per physical line.
        for l in line.split('\n') {
            self.text.push_str(l);
            self.text.push('\n');
            self.fields.push(field.to_string());
        }
    }

    /// The field of 1-based line `line`.
    pub fn field(&self, line: usize) -> &str {
        self.fields
            .get(line.saturating_sub(1))
            .map_or("config", String::as_str)
    }

    /// 1-based line `line` of the document as a line of its field (multi-line RUN commands).
    pub fn line_in_field(&self, line: usize) -> usize {
        let field = self.field(line);
        let mut first = line.saturating_sub(1).min(self.fields.len());
        while first > 0 && self.fields[first - 1] == field {
            first -= 1;
        }
        line - first
    }
}

/// Parses a config blob.
pub fn parse(bytes: &[u8]) -> Result<ImageConfig, String> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("config is not valid JSON: {e}"))?;
    if !v.is_object() {
        return Err("config is not a JSON object".to_string());
    }
    let diff_ids = v["rootfs"]["diff_ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut layer_created_by = Vec::new();
    let mut doc = ConfigDocument::default();
    for (i, h) in v["history"].as_array().into_iter().flatten().enumerate() {
        let created_by = h["created_by"].as_str().map(str::to_string);
        if let Some(c) = &created_by {
            doc.push(&format!("history[{i}].created_by"), c);
        }
        if let Some(c) = h["comment"].as_str() {
            doc.push(&format!("history[{i}].comment"), c);
        }
        if !h["empty_layer"].as_bool().unwrap_or(false) {
            layer_created_by.push(created_by);
        }
    }
    // `config` is what runs; `container_config` (older Docker) repeats the build container's.
    for section in ["config", "container_config"] {
        let c = &v[section];
        // What runs is `config`: its fields are named plainly (`Env[2]`).
        let section = if section == "config" {
            String::new()
        } else {
            format!("{section}.")
        };
        for (i, e) in c["Env"].as_array().into_iter().flatten().enumerate() {
            if let Some(e) = e.as_str() {
                doc.push(&format!("{section}Env[{i}]"), &format!("ENV {e}"));
            }
        }
        for key in ["Entrypoint", "Cmd"] {
            if let Some(items) = c[key].as_array() {
                let words: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                if !words.is_empty() {
                    doc.push(
                        &format!("{section}{key}"),
                        &format!("{} {}", key.to_uppercase(), words.join(" ")),
                    );
                }
            }
        }
        if let Some(labels) = c["Labels"].as_object() {
            for (k, val) in labels {
                if let Some(val) = val.as_str() {
                    doc.push(
                        &format!("{section}Labels.{k}"),
                        &format!("LABEL {k}=\"{val}\""),
                    );
                }
            }
        }
    }
    let platform = match (v["os"].as_str(), v["architecture"].as_str()) {
        (Some(os), Some(arch)) => Some(match v["variant"].as_str() {
            Some(var) if !var.is_empty() => format!("{os}/{arch}/{var}"),
            _ => format!("{os}/{arch}"),
        }),
        _ => None,
    };
    Ok(ImageConfig {
        diff_ids,
        layer_created_by,
        platform,
        owners: owners_of(&v),
        document: doc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_map_to_lines_and_history_to_layers() {
        let cfg = br#"{"architecture":"amd64","os":"linux",
          "config":{"Env":["PATH=/usr/bin","API_TOKEN=abc"],"Cmd":["run","--x"],
                    "Labels":{"maintainer":"me"}},
          "rootfs":{"type":"layers","diff_ids":["sha256:aa","sha256:bb"]},
          "history":[{"created_by":"ADD file"},{"created_by":"ENV X=1","empty_layer":true},
                     {"created_by":"RUN a\nb"}]}"#;
        let c = parse(cfg).unwrap();
        assert_eq!(c.diff_ids, ["sha256:aa", "sha256:bb"]);
        assert_eq!(
            c.layer_created_by,
            [Some("ADD file".to_string()), Some("RUN a\nb".to_string())]
        );
        assert_eq!(c.platform.as_deref(), Some("linux/amd64"));
        let lines: Vec<&str> = c.document.text.lines().collect();
        let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap() + 1;
        assert_eq!(c.document.field(at("API_TOKEN")), "Env[1]");
        assert_eq!(c.document.line_in_field(at("b")), 2);
        assert_eq!(c.document.line_in_field(at("API_TOKEN")), 1);
        assert_eq!(c.document.field(at("b")), "history[2].created_by");
        assert_eq!(c.document.field(at("maintainer")), "Labels.maintainer");
        assert_eq!(c.document.field(at("CMD run --x")), "Cmd");
        assert!(
            c.owners.is_empty(),
            "a maintainer label is inherited: not an owner"
        );
    }

    #[test]
    fn owners_from_the_authors_label_only() {
        let owners = |cfg: &str| parse(cfg.as_bytes()).unwrap().owners;
        assert_eq!(
            owners(
                r#"{"author":"old","config":{"Labels":{"maintainer":"m","org.opencontainers.image.authors":"team-a@acme.example, @acme/payments"}}}"#
            ),
            ["team-a@acme.example", "@acme/payments"]
        );
        assert!(
            owners(r#"{"author":"Jo <jo@acme.example>","config":{"Labels":{"maintainer":"m"}}}"#)
                .is_empty()
        );
        assert_eq!(
            owners(r#"{"config":{"Labels":{"org.opencontainers.image.authors":"a\nb, c"}}}"#),
            ["ab", "c"]
        );
        assert!(owners(r#"{"config":{"Labels":null}}"#).is_empty());
        let many = format!(
            r#"{{"config":{{"Labels":{{"org.opencontainers.image.authors":"{}"}}}}}}"#,
            ["x"; 9].join(",")
        );
        assert_eq!(owners(&many).len(), 5);
    }
}
