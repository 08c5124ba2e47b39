//! `peerscope schema`: the JSON Schema of every document peerscope prints or writes.

use std::process::ExitCode;

use peerscope::schema::{self, DOCUMENTS};

use crate::cli::SchemaArgs;

pub fn run(args: SchemaArgs) -> anyhow::Result<ExitCode> {
    if args.list {
        for d in DOCUMENTS {
            println!("{:<16} {}", d.name, d.written_by.replace('`', ""));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let out = match &args.document {
        // The parser only lets names of DOCUMENTS through.
        Some(name) => schema::document_schema(name).ok_or_else(|| anyhow::anyhow!("no document named {name:?}"))?,
        None => schema::json_schema(),
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
