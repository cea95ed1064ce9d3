//! Datadog: an API key alone submits metrics, logs and events to its organisation
//! (`GET /api/v1/validate`); reading data needs an application key beside it.

use sprawl_core::finding::AccessLevel;

use super::{Found, Session};

pub(crate) fn analyse(s: &mut Session<'_>, key: &str) -> Result<Found, String> {
    let (v, _) = s.get_json(
        "https://api.datadoghq.com/api/v1/validate",
        &[("DD-API-KEY", key)],
    )?;
    if v["valid"].as_bool() != Some(true) {
        return Err("validate: not valid".into());
    }
    Ok(Found {
        level: AccessLevel::CanWrite,
        identity: "API key of a Datadog organisation (US1 site)".into(),
        permissions: vec!["submits metrics, logs and events".into()],
        reach: Vec::new(),
        exact: true,
    })
}
