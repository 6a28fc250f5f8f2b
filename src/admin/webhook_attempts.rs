//! The console's log of webhook tries (`webhooks::deliver` writes it): for each message a
//! bot heard of, every try, where it went, what came back and how long it took. Read-only
//! but for deleting; tries older than 30 days are pruned.

use crate::admin::describe::*;
use crate::admin::rules::Rules;
use crate::admin::value::Values;
use crate::auth::User;

const BOT: &str = "(SELECT username FROM users WHERE id = t.bot_id)";
const MESSAGE: &str = "(SELECT '#' || m.id || ': ' || substr(m.body, 1, 40) FROM messages m
    WHERE m.id = t.message_id)";
const OUTCOMES: &[&str] = &["delivered", "replied", "failed", "refused"];

pub static WEBHOOK_ATTEMPTS: Model = Model {
    slug: "webhook_attempts",
    name: "webhook attempt",
    plural: "webhook attempts",
    table: "webhook_attempts",
    from: "webhook_attempts t",
    repr: "'Webhook attempt ' || t.id",
    columns: &[
        Column::new("created_at", "When", "t.created_at", Cell::Time),
        Column::new("bot", "Bot", BOT, Cell::Text),
        Column::new("message", "Message", MESSAGE, Cell::Text),
        Column::new("try", "Try", "t.try", Cell::Number),
        Column::new("outcome", "Outcome", "t.outcome", Cell::Text),
        Column::new("status", "Status", "t.status", Cell::Number),
        Column::new("detail", "Detail", "t.detail", Cell::Text),
        Column::new("duration_ms", "Took (ms)", "t.duration_ms", Cell::Number),
    ],
    search: &[Search::Text("t.detail"), Search::Text("t.url")],
    filters: &[
        Filter::new("outcome", "outcome", "t.outcome", FilterKind::Words(OUTCOMES)),
        Filter::new("bot_id", "bot", "t.bot_id", FilterKind::Related("users")).aliases(&["bot"]),
        Filter::new("created_at", "date", "t.created_at", FilterKind::Date).aliases(&["date"]),
    ],
    ordering: "-created_at",
    fields: &[
        Field::new("bot_id", "Bot", Kind::Related("users")).read_only(),
        Field::new("message_id", "Message", Kind::Related("messages")).read_only(),
        Field::new("try", "Try", Kind::Number)
            .read_only()
            .help("1 for the first; up to three retries follow a failure that may pass."),
        Field::new("url", "Address", Kind::text(2000)).read_only(),
        Field::new("outcome", "Outcome", Kind::Words(OUTCOMES))
            .read_only()
            .help("Delivered: answered 2xx. Replied: and the answer was posted as the bot. Failed: no 2xx answer. Refused: not sent (a private address, no usable key)."),
        Field::new("status", "HTTP status", Kind::Number)
            .read_only()
            .when_empty("No answer"),
        Field::new("detail", "Detail", Kind::text(400)).read_only(),
        Field::new("duration_ms", "Took (ms)", Kind::Number).read_only(),
        Field::new("created_at", "When", Kind::Time).read_only(),
    ],
    related: &[],
    actions: &[Action::DeleteSelected],
    rules: &AttemptRules,
};

/// The log is written by deliveries only.
struct AttemptRules;

#[rocket::async_trait]
impl Rules for AttemptRules {
    fn can_add(&self, _: &User) -> bool {
        false
    }

    fn can_change(&self, _: &User, _: &Values) -> bool {
        false
    }
}
