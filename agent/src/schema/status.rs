//! What `peerscope status --json` prints.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{document, SchemaVersion};
use crate::live::{manage::Status, pins::Foreign};

/// Every attachment with peerscope pins, in any network namespace.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct StatusDocument {
    pub schema_version: SchemaVersion,
    pub document: StatusTag,
    pub interfaces: Vec<Status>,
    /// Entries of `/sys/fs/bpf/peerscope` that are no attachment of peerscope's
    /// (left alone).
    pub foreign: Vec<Foreign>,
}

document!(StatusDocument, StatusTag, "status", "`peerscope status --json`");

impl StatusDocument {
    pub fn new(interfaces: Vec<Status>, foreign: Vec<Foreign>) -> Self {
        StatusDocument { schema_version: SchemaVersion, document: StatusTag, interfaces, foreign }
    }
}
