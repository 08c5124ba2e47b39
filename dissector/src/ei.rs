//! The registry of expert notes (Wireshark `ei` entries).

use crate::tree::{Group, NoteDef, Severity};

macro_rules! notes {
    ($($id:ident = $name:literal, $sev:ident, $group:ident, $summary:literal;)*) => {
        $(
            #[doc = concat!("`", $name, "`: ", $summary)]
            pub static $id: NoteDef =
                NoteDef { name: $name, severity: Severity::$sev, group: Group::$group, summary: $summary };
        )*
        /// Every registered note kind.
        pub static ALL: &[&NoteDef] = &[$(&$id),*];
    };
}

notes! {
    PRIVATE_ADDRESS = "peerscope.expert.private_address", Warn, Protocol, "Private or reserved address in a peer list";
    COUNT_MISMATCH = "peerscope.expert.count_mismatch", Warn, Malformed, "Claimed record count differs from records present";
    TRUNCATED_RECORD = "peerscope.expert.truncated_record", Warn, Malformed, "Record cut short by the end of the payload";
    TRAILING_BYTES = "peerscope.expert.trailing_bytes", Warn, Malformed, "Bytes after the last decoded field";
    UNKNOWN_ACTION = "peerscope.expert.unknown_action", Warn, Protocol, "Action not known to this dissector";
    BAD_VALUE = "peerscope.expert.bad_value", Warn, Malformed, "Field value does not have the expected form";
    UNDECODED = "peerscope.expert.undecoded", Chat, Undecoded, "Body layout not publicly described; shown raw";
    AMBIGUOUS = "peerscope.expert.ambiguous", Warn, Malformed, "More than one layout fits the length; shown raw";
    NO_LAYOUT = "peerscope.expert.no_layout", Warn, Malformed, "No layout's length arithmetic fits; shown raw";
    CAPTURE_CUT = "peerscope.expert.capture_cut", Note, Undecoded, "The capture ends before the message does";
    STREAM_ENDED = "peerscope.expert.stream_ended", Warn, Malformed, "The TCP stream ends before the message does";
}
