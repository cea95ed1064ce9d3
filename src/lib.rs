//! sprawl: a parallel scanner that finds leaked credentials in files and directories and reports
//! every place each secret lives. See ARCHITECTURE.md for the data flow.

pub mod baseline;
pub mod bounded;
pub mod ci;
pub mod cli;
pub mod config;
pub mod detect;
pub mod entropy;
pub mod environment;
pub mod finding;
pub mod fingerprint;
pub mod inventory;
pub mod redact;
pub mod remembered;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod time;
pub mod verify;
