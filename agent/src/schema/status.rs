//! What `peerscope status --json` prints.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{document, SchemaVersion};
use crate::live::manage::Status;

/// Every interface with peerscope pins, in name order.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct StatusDocument {
    pub schema_version: SchemaVersion,
    pub document: StatusTag,
    pub interfaces: Vec<Status>,
}

document!(StatusDocument, StatusTag, "status", "`peerscope status --json`");

impl StatusDocument {
    pub fn new(interfaces: Vec<Status>) -> Self {
        StatusDocument { schema_version: SchemaVersion, document: StatusTag, interfaces }
    }
}
