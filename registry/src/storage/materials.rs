//! Proof materials (证明材料) a unit files with an application: the files' bytes,
//! their checked type and a display name. SQL only; what may be filed (type by
//! content, size, count, who, when) is `crate::workflow::materials`'.

use super::db::{params, OptionalExtension};
use super::{Result, StorageError, Tx};
use serde::Serialize;

/// One filed material, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaterialInfo {
    pub id: i64,
    pub application_id: i64,
    /// The name it was uploaded under, cleaned (shown, never used as a path).
    pub file_name: String,
    /// The type its bytes were found to be (`application/pdf`, `image/jpeg`,
    /// `image/png`): checked on upload, never taken from the client.
    pub media_type: String,
    pub size: u64,
    pub uploaded_by: String,
    pub created_at: String,
}

const COLUMNS: &str =
    "id, application_id, file_name, media_type, length(bytes), uploaded_by, created_at";

fn info_row(r: &super::db::Row) -> super::db::DbResult<MaterialInfo> {
    Ok(MaterialInfo {
        id: r.get(0)?,
        application_id: r.get(1)?,
        file_name: r.get(2)?,
        media_type: r.get(3)?,
        size: r.get::<_, i64>(4)?.max(0) as u64,
        uploaded_by: r.get(5)?,
        created_at: r.get(6)?,
    })
}

impl Tx<'_> {
    /// How many materials application `app` has.
    pub(crate) fn material_count(&self, app: i64) -> Result<usize> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM proof_materials WHERE application_id = ?1",
            params![app],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as usize)
    }

    pub(crate) fn insert_material(
        &self,
        app: i64,
        file_name: &str,
        media_type: &str,
        bytes: &[u8],
        uploaded_by: &str,
    ) -> Result<MaterialInfo> {
        let id: i64 = self.conn().query_row(
            "INSERT INTO proof_materials (application_id, file_name, media_type, bytes, uploaded_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            params![app, file_name, media_type, bytes, uploaded_by, self.now()],
            |r| r.get(0),
        )?;
        self.material_info(app, id)?
            .ok_or_else(|| StorageError::NotFound {
                what: "material",
                id: id.to_string(),
            })
    }

    fn material_info(&self, app: i64, id: i64) -> Result<Option<MaterialInfo>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM proof_materials WHERE application_id = ?1 AND id = ?2"
                ),
                params![app, id],
                info_row,
            )
            .optional()?)
    }

    /// The materials of application `app`, in the order they were filed.
    pub(crate) fn materials(&self, app: i64) -> Result<Vec<MaterialInfo>> {
        Ok(self
            .conn()
            .prepare(&format!(
                "SELECT {COLUMNS} FROM proof_materials WHERE application_id = ?1 ORDER BY id"
            ))?
            .query_map(params![app], info_row)?
            .collect::<Result<_, _>>()?)
    }

    /// Material `id` of application `app` with its bytes (`None`: not that
    /// application's).
    pub(crate) fn material(&self, app: i64, id: i64) -> Result<Option<(MaterialInfo, Vec<u8>)>> {
        let Some(info) = self.material_info(app, id)? else {
            return Ok(None);
        };
        let bytes: Vec<u8> = self.conn().query_row(
            "SELECT bytes FROM proof_materials WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )?;
        Ok(Some((info, bytes)))
    }
}
