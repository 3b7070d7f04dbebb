//! The strata server: configuration, flags, logging and the HTTP face.
//! Storage lives in the `strata-storage` crate.

pub mod cli;
pub mod config;
pub mod discovery;
pub mod exposition;
pub mod http_client;
pub mod labels;
pub mod loadgen;
pub mod logging;
pub mod relabel;
pub mod scrape;
pub mod selector;
pub mod web;
