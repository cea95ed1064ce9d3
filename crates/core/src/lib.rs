//! sprawl's model and rules: what a finding is and where it was found (`finding`, `origin`),
//! fingerprints, time, redaction, the rules with their built-in data, the repository config,
//! baselines, and the bounded readers every source uses. Everything else in sprawl depends on
//! this crate; it depends on no other sprawl crate.

pub mod baseline;
pub mod bounded;
pub mod codeowners;
pub mod config;
pub mod entropy;
pub mod environment;
pub mod finding;
pub mod fingerprint;
pub mod origin;
pub mod read;
pub mod redact;
pub mod remembered;
pub mod rules;
pub mod stats;
pub mod time;
