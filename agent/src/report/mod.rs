//! Output of a report: human text, CSV time series, SVG plots (JSON is the
//! report's serde form).

pub mod csv;
pub mod svg;
pub mod text;
