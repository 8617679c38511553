//! The `tables` capability: key/value rows in named tables, each table
//! gated by `table:<name>`. Writes compare first; a dry run records only the
//! writes that would change a row. Storage is the [`TablesApi`]
//! implementation's: this unit knows no store.

use super::{CallCx, HostResult, tri};
use crate::bindings::lanyard::card::{tables, types};
use crate::convert::*;
use crate::record::LogText;
use crate::state::HostState;
use lanyard_core::CardError;
use lanyard_core::caps::TablesApi;
use serde_json::json;
use std::sync::Arc;
use tracing::instrument;
use wasmtime::component::{HasData, Linker};

/// The capability's view of one call.
pub(crate) struct TablesView<'a> {
    cx: &'a mut CallCx,
    api: Option<&'a Arc<dyn TablesApi>>,
}

struct Tables;

impl HasData for Tables {
    type Data<'a> = TablesView<'a>;
}

pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    tables::add_to_linker::<HostState, Tables>(linker, |s| TablesView { cx: &mut s.cx, api: s.caps.tables.as_ref() })
}

impl TablesView<'_> {
    fn check(&mut self, operation: &str, table: &str) -> Result<(), CardError> {
        let allowed = self.cx.grants.allows_table(table);
        self.cx.check("tables", &format!("{operation} {table}"), allowed, || format!("table:{table}"))
    }

    fn api(&self) -> Result<Arc<dyn TablesApi>, CardError> {
        self.api
            .cloned()
            .ok_or_else(|| CardError::unavailable("tables are not configured on this host"))
    }
}

impl tables::Host for TablesView<'_> {
    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "tables", operation = "get"))]
    async fn get(&mut self, table: String, key: String) -> HostResult<Option<String>> {
        tri!(self.check("get", &table));
        let api = tri!(self.api());
        Ok(api
            .get(&table, &key)
            .await
            .map(|v| v.map(|v| v.to_string()))
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "tables", operation = "put"))]
    async fn put(&mut self, table: String, key: String, value: String) -> HostResult<types::WriteOutcome> {
        tri!(self.check("put", &table));
        let hint = table.len() + key.len() + value.len();
        let value = tri!(value_from_text("the row value", &value));
        let api = tri!(self.api());
        if self.cx.dry_run {
            // Compared with the row as it is, as the real put compares.
            if tri!(api.get(&table, &key).await).as_ref() == Some(&value) {
                return Ok(Ok(types::WriteOutcome::Unchanged));
            }
            let args = || json!({ "table": table, "key": key, "value": value });
            self.cx.effect("tables", format!("put {table}"), hint, args);
            return Ok(Ok(types::WriteOutcome::Changed));
        }
        Ok(api.put(&table, &key, value).await.map(outcome_to_wit).map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "tables", operation = "delete"))]
    async fn delete(&mut self, table: String, key: String) -> HostResult<types::WriteOutcome> {
        tri!(self.check("delete", &table));
        if self.cx.dry_run {
            if tri!(tri!(self.api()).get(&table, &key).await).is_none() {
                return Ok(Ok(types::WriteOutcome::Unchanged));
            }
            let hint = table.len() + key.len();
            self.cx.effect("tables", format!("delete {table}"), hint, || json!({ "table": table, "key": key }));
            return Ok(Ok(types::WriteOutcome::Changed));
        }
        let api = tri!(self.api());
        Ok(api.delete(&table, &key).await.map(outcome_to_wit).map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "tables", operation = "find"))]
    async fn find(&mut self, table: String, query: tables::Query) -> HostResult<Vec<tables::Row>> {
        tri!(self.check("find", &table));
        let query = tri!(table_query_from_wit(query));
        let api = tri!(self.api());
        Ok(api
            .find(&table, &query)
            .await
            .map(|rows| rows.into_iter().map(row_to_wit).collect())
            .map_err(error_to_wit))
    }
}
