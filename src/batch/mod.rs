//! What runs move: Apache Arrow record batches, each with the position of
//! its last row. Sources produce them, destinations consume them; both map
//! their own types through one explicit table (see each connector and
//! destination), with the conventions below for what Arrow has no
//! first-class type for.

pub mod json;
pub mod text;

use arrow_array::RecordBatch;
use arrow_schema::Field;

/// Field metadata key naming an Arrow extension type.
pub const EXTENSION: &str = "ARROW:extension:name";
/// Extension of a Utf8 field that holds JSON documents.
pub const JSON: &str = "arrow.json";
/// Extension of a Utf8 field that holds exact decimal numbers as text
/// (`-12.50`, and `NaN`, `Infinity`, `-Infinity`): a source decimal wider
/// than Decimal128, kept digit for digit. A destination with a decimal
/// type of its own stores them there.
pub const DECIMAL: &str = "tributary.decimal";
/// Extension of a FixedSizeBinary(16) field that holds UUIDs.
pub const UUID: &str = "arrow.uuid";
/// Field metadata key with the source's own name of a column's type.
pub const SOURCE_TYPE: &str = "tributary:source_type";
/// Field metadata key marking a column read as the source's text of its
/// values, for lack of a faithful Arrow type (named in the run log).
pub const CARRIED_AS_TEXT: &str = "tributary:carried_as_text";

/// Consecutive records of one entity.
#[derive(Debug, Clone)]
pub struct Batch {
    pub data: RecordBatch,
    /// The cursor value of the batch's last record: where a resumed read
    /// continues. None when the read has no cursor field.
    pub cursor: Option<String>,
    /// Approximate size of the records as read (for progress and summaries).
    pub bytes: u64,
}

/// The extension type a field declares, if any.
pub fn extension(field: &Field) -> Option<&str> {
    field.metadata().get(EXTENSION).map(String::as_str)
}

/// `field` marked as holding `extension` values.
pub fn with_extension(field: Field, extension: &str) -> Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(EXTENSION.to_string(), extension.to_string());
    field.with_metadata(metadata)
}
