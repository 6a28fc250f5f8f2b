//! The console's description of its own history (Django's LogEntry), view-only.

use crate::admin::describe::*;
use crate::admin::rules::Rules;
use crate::admin::value::Values;
use crate::auth::User;

const ACTION: &str = "CASE t.action_flag WHEN 1 THEN 'add' WHEN 2 THEN 'change' ELSE 'delete' END";

const USER: &str = "(SELECT username FROM users WHERE id = t.user_id)";

pub static LOG: Model = Model {
    slug: "log",
    name: "log entry",
    plural: "log entries",
    table: "admin_log",
    from: "admin_log t",
    repr: "CASE t.action_flag WHEN 1 THEN 'Added' WHEN 2 THEN 'Changed' ELSE 'Deleted' END
           || ' “' || t.object_repr || '”'",
    columns: &[
        Column::new("action_time", "Time", "t.action_time", Cell::Time),
        Column::new("user", "User", USER, Cell::Text),
        Column::new("action", "Action", ACTION, Cell::Text),
        Column::new("object_type", "Model", "t.object_type", Cell::Text),
        Column::new("object_repr", "Object", "t.object_repr", Cell::Text),
        Column::new("change_message", "Change", "t.change_message", Cell::Text),
    ],
    search: &[
        Search::Text("t.object_repr"),
        Search::Text("t.change_message"),
        Search::In {
            column: "t.user_id",
            select: "SELECT id FROM users WHERE username",
        },
    ],
    filters: &[
        Filter::new(
            "action_flag",
            "action",
            ACTION,
            FilterKind::Words(&["add", "change", "delete"]),
        )
        .aliases(&["action"]),
        Filter::new(
            "object_type",
            "model",
            "t.object_type",
            FilterKind::Words(&["users", "chats", "messages", "files"]),
        )
        .aliases(&["model"]),
        Filter::new("user_id", "user", "t.user_id", FilterKind::Related("users"))
            .aliases(&["user"]),
        Filter::new("action_time", "date", "t.action_time", FilterKind::Date).aliases(&["date"]),
    ],
    ordering: "-action_time",
    fields: &[
        Field::new("action_time", "Time", Kind::Time).read_only(),
        Field::new("user_id", "User", Kind::Related("users")).read_only(),
        Field::new("object_type", "Model", Kind::text(20)).read_only(),
        Field::new("object_id", "Object id", Kind::text(20)).read_only(),
        Field::new("object_repr", "Object", Kind::text(200)).read_only(),
        Field::new("action_flag", "Action", Kind::Number)
            .read_only()
            .help("1 added, 2 changed, 3 deleted."),
        Field::new("change_message", "Change message", Kind::text(2000)).read_only(),
    ],
    related: &[],
    actions: &[],
    rules: &ReadOnly,
};

/// History is evidence: nobody adds, changes or deletes it through the console.
struct ReadOnly;

impl Rules for ReadOnly {
    fn can_add(&self, _: &User) -> bool {
        false
    }

    fn can_change(&self, _: &User, _: &Values) -> bool {
        false
    }

    fn can_delete(&self, _: &User) -> bool {
        false
    }
}
