//! The console's description of invite links: staff see every invite, who made it and how
//! often it was used, revoke it or delete it. Links are made in the chat ("Invite
//! people"), whose answer is the only place the code shows: the console keeps no code to
//! show, so it adds none.

use crate::admin::describe::*;
use crate::admin::rules::Rules;
use crate::admin::value::Values;
use crate::auth::User;

const MAKER: &str = "(SELECT username FROM users WHERE id = t.created_by)";

pub static INVITES: Model = Model {
    slug: "invites",
    name: "invite",
    plural: "invites",
    table: "invites",
    from: "invites t",
    repr: "'Invite ' || t.id",
    columns: &[
        Column::new("note", "Note", "t.note", Cell::Text),
        Column::new("created_by", "Made by", MAKER, Cell::Text),
        Column::new("created_at", "Made", "t.created_at", Cell::Time),
        Column::new("expires_at", "Expires", "t.expires_at", Cell::Time),
        Column::new("uses", "Uses", "t.uses", Cell::Number),
        Column::new("max_uses", "Max uses", "t.max_uses", Cell::Number),
        Column::new("revoked", "Revoked", "t.revoked", Cell::Bool),
    ],
    search: &[Search::Text("t.note")],
    filters: &[
        Filter::new("revoked", "revoked", "t.revoked", FilterKind::Bool),
        Filter::new(
            "created_by",
            "made by",
            "t.created_by",
            FilterKind::Related("users"),
        ),
        Filter::new("expires_at", "expires", "t.expires_at", FilterKind::Date),
    ],
    ordering: "-created_at",
    fields: &[
        Field::new("note", "Note", Kind::text(200)).help("Only staff and its maker see it."),
        Field::new("created_by", "Made by", Kind::Related("users")).read_only(),
        Field::new("created_at", "Made", Kind::Time).read_only(),
        Field::new("expires_at", "Expires", Kind::Time).read_only(),
        Field::new("uses", "Uses", Kind::Number).read_only(),
        Field::new("max_uses", "Max uses", Kind::Number)
            .read_only()
            .when_empty("No limit"),
        Field::new("revoked", "Revoked", Kind::Bool)
            .help("A revoked link signs nobody up any more."),
    ],
    related: &[],
    actions: &[Action::DeleteSelected],
    rules: &InviteRules,
};

/// Invites are made in the chat, where the code is shown once.
struct InviteRules;

#[rocket::async_trait]
impl Rules for InviteRules {
    fn can_add(&self, _: &User) -> bool {
        false
    }

    fn can_change(&self, _: &User, _: &Values) -> bool {
        true
    }
}
