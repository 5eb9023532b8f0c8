//! SeaORM entities of the control store, one per table (see `migrations/`).
//!
//! Enum columns are typed with the domain enums: a row is parsed once, when
//! it is read, and a value this build does not know is an error there, not a
//! fallback chosen differently by each caller.

pub mod api_key;
pub mod connection;
pub mod entity_state;
pub mod idempotency_key;
pub mod list_version;
pub mod run;
pub mod run_event;
pub mod sync;
pub mod table_binding;
pub mod workspace;

use crate::domain::enums::*;

/// Makes a domain string enum a column type: stored as its `as_str`, read
/// back through `parse`. (Here rather than derived in `domain`, which knows
/// nothing of the ORM.)
macro_rules! column_enum {
    ($($name:ident),+ $(,)?) => {$(
        impl From<$name> for sea_orm::Value {
            fn from(v: $name) -> Self {
                v.as_str().into()
            }
        }

        impl sea_orm::TryGetable for $name {
            fn try_get_by<I: sea_orm::ColIdx>(
                res: &sea_orm::QueryResult,
                idx: I,
            ) -> Result<Self, sea_orm::TryGetError> {
                let s = String::try_get_by(res, idx)?;
                $name::parse(&s).ok_or_else(|| {
                    sea_orm::TryGetError::DbErr(sea_orm::DbErr::Type(format!(
                        "unknown {} {s:?} in the control store",
                        stringify!($name)
                    )))
                })
            }
        }

        impl sea_orm::sea_query::ValueType for $name {
            fn try_from(v: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let s = <String as sea_orm::sea_query::ValueType>::try_from(v)?;
                $name::parse(&s).ok_or(sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($name).to_owned()
            }

            fn array_type() -> sea_orm::sea_query::ArrayType {
                sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::Text
            }
        }

        impl sea_orm::sea_query::Nullable for $name {
            fn null() -> sea_orm::Value {
                sea_orm::Value::String(None)
            }
        }

        impl sea_orm::IntoActiveValue<$name> for $name {
            fn into_active_value(self) -> sea_orm::ActiveValue<$name> {
                sea_orm::ActiveValue::Set(self)
            }
        }
    )+};
}

column_enum!(
    ConnectionStatus,
    SyncStatus,
    ExecutionBackend,
    ExecutionMode,
    TriggerMode,
    LoadMode,
    TableNamingVersion,
    RunStatus,
    RunMode,
    TriggeredBy,
    ResultClass,
    ResultReasonCode,
    Role,
    LogLevel,
);
