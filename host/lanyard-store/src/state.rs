//! Schedule states (`v1/schedules`: flow → [`ScheduleState`]) and named cursors
//! (`v1/cursors`: name → string), such as the System Log polling position.

use crate::api::{ScheduleState, StateStore};
use crate::codec::{decode, encode};
use crate::error::{Result, StoreError};
use crate::{Store, T_CURSORS, T_SCHEDULES};
use async_trait::async_trait;

const MAX_NAME_BYTES: usize = 256;
const MAX_CURSOR_BYTES: usize = 64 * 1024;

pub(crate) fn check_name(what: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(StoreError::Invalid(format!(
            "{what} name must be 1 to {MAX_NAME_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Refuse a cursor whose name or value breaks a limit.
pub(crate) fn check_cursor(name: &str, value: &str) -> Result<()> {
    check_name("cursor", name)?;
    if value.len() > MAX_CURSOR_BYTES {
        return Err(StoreError::Invalid(format!(
            "cursor `{name}` value is {} bytes; at most {MAX_CURSOR_BYTES}",
            value.len()
        )));
    }
    Ok(())
}

#[async_trait]
impl StateStore for Store {
    async fn schedule_state(&self, flow: &str) -> Result<Option<ScheduleState>> {
        let b = self.b()?;
        check_name("flow", flow)?;
        let tree = &b.t.schedules;
        match tree
            .get(flow)
            .map_err(|e| StoreError::backend("read", T_SCHEDULES, flow, e))?
        {
            Some(v) => decode(T_SCHEDULES, flow.as_bytes(), &v).map(Some),
            None => Ok(None),
        }
    }

    async fn set_schedule_state(&self, flow: &str, state: &ScheduleState) -> Result<()> {
        let b = self.b()?;
        check_name("flow", flow)?;
        let bytes = encode(T_SCHEDULES, flow.as_bytes(), state)?;
        b.t
            .schedules
            .insert(flow, bytes)
            .map_err(|e| StoreError::backend("write", T_SCHEDULES, flow, e))?;
        Ok(())
    }

    async fn remove_schedule_state(&self, flow: &str) -> Result<()> {
        let b = self.b()?;
        check_name("flow", flow)?;
        b.t
            .schedules
            .remove(flow)
            .map_err(|e| StoreError::backend("remove", T_SCHEDULES, flow, e))?;
        Ok(())
    }

    async fn schedule_states(&self) -> Result<Vec<(String, ScheduleState)>> {
        let b = self.b()?;
        b.t
            .schedules
            .iter()
            .map(|item| {
                let (k, v) = item.map_err(|e| StoreError::backend("scan", T_SCHEDULES, b"", e))?;
                let flow = String::from_utf8(k.to_vec())
                    .map_err(|_| StoreError::corrupt(T_SCHEDULES, &k, "flow name is not UTF-8"))?;
                Ok((flow, decode(T_SCHEDULES, &k, &v)?))
            })
            .collect()
    }

    async fn cursor(&self, name: &str) -> Result<Option<String>> {
        let b = self.b()?;
        check_name("cursor", name)?;
        match b.t
            .cursors
            .get(name)
            .map_err(|e| StoreError::backend("read", T_CURSORS, name, e))?
        {
            Some(v) => decode(T_CURSORS, name.as_bytes(), &v).map(Some),
            None => Ok(None),
        }
    }

    async fn set_cursor(&self, name: &str, value: &str) -> Result<()> {
        let b = self.b()?;
        check_cursor(name, value)?;
        let bytes = encode(T_CURSORS, name.as_bytes(), value)?;
        b.t
            .cursors
            .insert(name, bytes)
            .map_err(|e| StoreError::backend("write", T_CURSORS, name, e))?;
        Ok(())
    }
}
