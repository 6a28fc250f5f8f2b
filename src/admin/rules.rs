//! What a model may add to the generic console: permissions, derived columns, checks that
//! span fields, work inside the saving transaction, and an inline table. Every method has
//! a default, so a plain model implements none.

use crate::config::Settings;
use crate::db::WriteTx;
use serde_json::Value as Json;

use crate::admin::describe::Field;
use crate::admin::params::Params;
use crate::admin::value::Values;
use crate::auth::User;
use crate::db::Db;
use crate::error::Error;
use crate::validate::Invalid;

/// One object being written, as the hooks see it.
pub struct Write<'a> {
    pub actor: &'a User,
    pub id: i64,
    /// Before the change; `None` when adding.
    pub old: Option<&'a Values>,
    pub new: &'a Values,
    /// The submitted form, when the write comes from one (not from a bulk action).
    pub form: Option<&'a Params>,
}

#[rocket::async_trait]
pub trait Rules {
    fn can_view(&self, _actor: &User) -> bool {
        true
    }

    fn can_add(&self, _actor: &User) -> bool {
        true
    }

    /// When false the change page is view-only.
    fn can_change(&self, _actor: &User, _object: &Values) -> bool {
        true
    }

    fn can_delete(&self, _actor: &User) -> bool {
        true
    }

    /// Links the change page shows beside "History" (Django's "View on site"): label and
    /// URL.
    fn links(&self, _id: i64, _object: &Values) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// The words `actor` may pick for a field of kind `Words`.
    fn words(
        &self,
        _actor: &User,
        _field: &Field,
        all: &'static [&'static str],
    ) -> Vec<&'static str> {
        all.to_vec()
    }

    /// Checks of a new state that span fields or depend on who asks. `old` is `None` when
    /// adding; `id` is the object's, or the actor's own for self-protection rules.
    fn check(
        &self,
        _actor: &User,
        _id: Option<i64>,
        _old: Option<&Values>,
        _new: &Values,
    ) -> Vec<Invalid> {
        Vec::new()
    }

    /// Fills columns no field holds (hashes, keys, creation times) and checks what needs
    /// the database. Runs before the transaction; `old` is `None` when adding.
    async fn prepare(
        &self,
        _db: &Db,
        _settings: &Settings,
        _form: &Params,
        _old: Option<&Values>,
        _new: &mut Values,
    ) -> Vec<Invalid> {
        Vec::new()
    }

    /// The error shown when a write breaks a UNIQUE constraint.
    fn unique_violation(&self) -> Invalid {
        Invalid::new("__all__", "An object with these values already exists.")
    }

    /// Why these objects may not be deleted by `actor`, if they may not.
    fn check_delete(&self, _actor: &User, _ids: &[i64]) -> Option<String> {
        None
    }

    /// Runs in the saving transaction once the row is written. Returns extra parts for
    /// the change message.
    async fn saved(&self, _tx: &mut WriteTx, _write: Write<'_>) -> Result<Vec<String>, Error> {
        Ok(Vec::new())
    }

    /// A model-wide invariant checked before any console transaction commits.
    async fn invariant(&self, _tx: &mut WriteTx, _actor: &User) -> Result<(), Invalid> {
        Ok(())
    }

    /// Runs in the deleting transaction before the rows go (to record what members must
    /// hear of it).
    async fn deleting(&self, _tx: &mut WriteTx, _ids: &[i64]) -> Result<(), Error> {
        Ok(())
    }

    /// The inline table of the change form, if the model has one; `form` is a submitted
    /// form being shown again.
    async fn inline(
        &self,
        _db: &Db,
        _id: Option<i64>,
        _form: Option<&Params>,
        _read_only: bool,
    ) -> Result<Option<Json>, Error> {
        Ok(None)
    }
}
