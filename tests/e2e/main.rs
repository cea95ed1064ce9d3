//! sprawl's end-to-end tests, one binary: each module drives the real `sprawl` binary (or the
//! library through its facade) against worlds the tests build — directory trees, git
//! repositories, images, a registry, PostgreSQL, pre-commit, an HTTPS server playing providers.
//! One binary instead of fourteen: the test dependencies are linked once.

mod common;

mod action;
mod blast;
mod ci;
mod cilogs;
mod cli;
mod corpus;
mod docs;
mod git;
mod hostile;
mod image;
mod inventory;
mod postgres;
mod precommit;
mod registry;
mod reports;
mod rotation;
mod rules;
mod verify;
