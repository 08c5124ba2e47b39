//! Exit statuses of the `peerscope` command: one definition for every subcommand,
//! and the text `--help` shows.

/// Done; everything asked for was written.
pub const SUCCESS: u8 = 0;
/// An error, nothing written: no usable input (a file that cannot be opened, is not a
/// capture, or holds nothing peerscope can count), or another failure.
pub const FAILURE: u8 = 1;
/// Bad usage: an unknown flag, a missing or malformed argument or config file.
pub const USAGE: u8 = 2;
/// Damaged input: the results cover everything before the damage, which is reported
/// (where it is and why) on standard error.
pub const DAMAGED: u8 = 3;

/// The statuses of the commands that read a capture, for their `--help`.
pub const HELP: &str = "Exit status: 0 done; 1 no usable input (the file cannot be opened, is not a capture, or has \
no packet peerscope can count: the message says what it holds) or another error; 2 bad usage; 3 damaged capture: \
the results cover the packets before the damage, whose packet number, byte offset and cause are reported.";
