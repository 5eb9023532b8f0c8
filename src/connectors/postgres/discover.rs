//! A table's columns as pg_catalog describes them: the type by OID (so
//! arrays know their element type), the modifier, nullability and declared
//! array dimensions. Domains are resolved to their base type, which is what
//! binary COPY sends.

use tokio_postgres::{
    Client,
    types::{Kind, Type},
};

use super::{error::PgReadError, types::PgColumn};

/// Domains over domains deeper than this are carried as text.
const MAX_DOMAIN_DEPTH: u8 = 16;

/// The columns of `schema.table` (a table, view, materialized view or
/// foreign table), in order.
pub async fn table_columns(
    client: &Client,
    schema: &str,
    table: &str,
) -> Result<Vec<PgColumn>, PgReadError> {
    let relation = client
        .query_opt(
            "SELECT c.oid FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
            &[&schema, &table],
        )
        .await
        .map_err(|e| PgReadError::driver("cannot read the catalog", &e))?
        .ok_or_else(|| PgReadError::Config(format!("table {schema}.{table} does not exist")))?;
    let relation: u32 = get(&relation, 0)?;
    let rows = client
        .query(
            "SELECT attname::text, atttypid, atttypmod, attnotnull, attndims::int4, \
                    format_type(atttypid, atttypmod) \
             FROM pg_catalog.pg_attribute \
             WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[&relation],
        )
        .await
        .map_err(|e| PgReadError::driver("cannot read the catalog", &e))?;
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows {
        let (ty, domain_typmod) = resolve(client, get(&row, 1)?, 0).await?;
        let typmod: i32 = get(&row, 2)?;
        columns.push(PgColumn {
            name: get(&row, 0)?,
            ty,
            typmod: if typmod == -1 { domain_typmod } else { typmod },
            nullable: !get::<bool>(&row, 3)?,
            dims: get(&row, 4)?,
            type_name: get(&row, 5)?,
        });
    }
    Ok(columns)
}

/// The type of OID `oid`, a domain's base type for a domain, and the
/// modifier a domain adds (-1 for none).
async fn resolve(client: &Client, oid: u32, depth: u8) -> Result<(Type, i32), PgReadError> {
    if let Some(ty) = Type::from_oid(oid) {
        return Ok((ty, -1));
    }
    let row = client
        .query_one(
            "SELECT t.typname::text, n.nspname::text, t.typtype::text, t.typbasetype, \
                    t.typtypmod, t.typelem, t.typcategory::text \
             FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.oid = $1",
            &[&oid],
        )
        .await
        .map_err(|e| PgReadError::driver("cannot read the catalog", &e))?;
    let (name, schema): (String, String) = (get(&row, 0)?, get(&row, 1)?);
    let (typtype, base, typmod): (String, u32, i32) = (get(&row, 2)?, get(&row, 3)?, get(&row, 4)?);
    let (element, category): (u32, String) = (get(&row, 5)?, get(&row, 6)?);
    if typtype == "d" && depth < MAX_DOMAIN_DEPTH {
        let (ty, base_typmod) = Box::pin(resolve(client, base, depth + 1)).await?;
        return Ok((ty, if typmod == -1 { base_typmod } else { typmod }));
    }
    if category == "A" && element != 0 && depth < MAX_DOMAIN_DEPTH {
        let (element, _) = Box::pin(resolve(client, element, depth + 1)).await?;
        return Ok((Type::new(name, oid, Kind::Array(element), schema), -1));
    }
    Ok((Type::new(name, oid, Kind::Simple, schema), -1))
}

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    i: usize,
) -> Result<T, PgReadError> {
    row.try_get(i)
        .map_err(|e| PgReadError::driver("the catalog's answer was not understood", &e))
}
