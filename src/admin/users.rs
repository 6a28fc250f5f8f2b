//! The console's description of users: Django's UserAdmin, with roles for groups.

use crate::config::Settings;
use crate::db::WriteTx;

use crate::admin::describe::*;
use crate::admin::params::Params;
use crate::admin::rules::{Rules, Write};
use crate::admin::value::{Value, Values};
use crate::auth::{password, User};
use crate::db::users;
use crate::db::Db;
use crate::error::Error;
use crate::model::{Role, Timestamp};
use crate::validate::{
    look_alike_key, username_key, Invalid, NewPassword, Username, USERNAME_LOOKS_LIKE,
};

const ROLES: &[&str] = &["member", "staff", "superuser"];

pub static USERS: Model = Model {
    slug: "users",
    name: "user",
    plural: "users",
    table: "users",
    from: "users t",
    repr: "t.username",
    columns: &[
        Column::new("username", "Username", "t.username", Cell::Text),
        Column::new("display_name", "Shown as", PERSON_SQL, Cell::Person),
        Column::new("email", "Email", "t.email", Cell::Text),
        Column::new("role", "Role", "t.role", Cell::Text),
        Column::new("is_active", "Active", "t.is_active", Cell::Bool),
        Column::new("is_bot", "Bot", "t.is_bot", Cell::Bool),
        Column::new("created_at", "Joined", "t.created_at", Cell::Time),
        Column::new("last_login", "Last login", "t.last_login", Cell::Time),
    ],
    search: &[
        Search::Text("t.username"),
        Search::Text("t.display_name"),
        Search::Text("t.email"),
    ],
    filters: &[
        Filter::new("role", "role", "t.role", FilterKind::Words(ROLES)),
        Filter::new("is_active", "active", "t.is_active", FilterKind::Bool).aliases(&["active"]),
        Filter::new("is_bot", "bot", "t.is_bot", FilterKind::Bool).aliases(&["bot"]),
    ],
    ordering: "username",
    fields: &[
        Field::new("username", "Username", Kind::Username).help("3 to 32 letters, digits and _ . - only."),
        Field::new("email", "Email address", Kind::Email),
        Field::new("display_name", "Display name", Kind::Text { max: 64, required: false }).read_only().help("Chosen by the person on their account page; their username shows when it is empty."),
        Field::new("role", "Role", Kind::Words(ROLES)).help("Staff can use this console; a superuser can also manage staff and delete users."),
        Field::new("is_active", "Active", Kind::Bool).help("Unselect this instead of deleting the account: it signs the person out everywhere."),
        Field::new("is_bot", "Bot", Kind::Bool).on_add().off_when_adding().help("A bot has no password and cannot sign in: it posts through its bot key (“Bot key” on its page, after saving). Leave the password fields empty."),
        Field::new("webhook_url", "Webhook URL", Kind::text(2000)).help("Bots only: messages that mention the bot, and all of its direct messages, are POSTed here, signed with its key; the answer is posted as its reply. Public http(s) addresses only."),
        Field::new("password1", "Password", Kind::NewPassword).on_add().help("At least 8 characters, not all digits, not a common password, not like the username, and not easy to guess."),
        Field::new("password2", "Password confirmation", Kind::NewPassword).on_add().help("Enter the same password as before, for verification."),
        Field::new("password", "Password", Kind::PasswordHash).read_only().help("Raw passwords are not stored, so there is no way to see this user’s password, but you can change it."),
        Field::new("created_at", "Joined", Kind::Time).read_only(),
        Field::new("last_login", "Last login", Kind::Time).read_only(),
        Field::new("last_seen", "Last seen", Kind::Time).read_only(),
    ],
    related: &[
        Related::new("Messages", "messages", "sender_id", "'#' || r.id || ': ' || substr(r.body, 1, 40)"),
        Related::new("Chat memberships", "chat_members", "user_id", "'Member of chat ' || r.chat_id"),
        Related::new("Sessions", "sessions", "user_id", "'Session from ' || r.ip"),
        Related::new("Files", "files", "uploader_id", "r.name"),
    ],
    actions: &[
        Action::DeleteSelected,
        Action::Set { name: "activate", label: "Activate selected users", column: "is_active", value: 1, done: "Activated" },
        Action::Set { name: "deactivate", label: "Deactivate selected users", column: "is_active", value: 0, done: "Deactivated" },
    ],
    rules: &UserRules,
};

struct UserRules;

/// Why `name` cannot be had by the user whose stored values are `old` (`None` when adding).
/// A user keeping their own name, or only changing its case, clashes with nobody.
async fn clash(db: &Db, old: Option<&Values>, name: &Username) -> Option<Invalid> {
    let own = old
        .and_then(|old| old.get("username"))
        .map(|v| look_alike_key(&username_key(v.text())));
    if own == Some(name.look_alike()) {
        return None;
    }
    let problem = |message| Some(Invalid::new("username", message));
    match users::clash(&db.read, name).await {
        Ok(None) => None,
        Ok(Some(users::CreateError::LooksLike)) => problem(USERNAME_LOOKS_LIKE),
        Ok(Some(_)) => problem("A user with that username already exists."),
        Err(e) => {
            tracing::error!(error = %e, "checking a username in the console");
            Some(Invalid::new(
                "__all__",
                "The name could not be checked; try again.",
            ))
        }
    }
}

fn is_superuser(user: &User) -> bool {
    user.role == Role::Superuser
}

fn role_of(values: &Values) -> &str {
    values.get("role").map(Value::text).unwrap_or_default()
}

fn active(values: &Values) -> bool {
    values.get("is_active").and_then(Value::int) == Some(1)
}

fn is_bot(values: &Values) -> bool {
    values.get("is_bot").and_then(Value::int) == Some(1)
}

/// The password column of a bot: not a PHC string, so no password verifies against it.
const BOT_PASSWORD: &str = "!";

#[rocket::async_trait]
impl Rules for UserRules {
    /// Staff manage members only; staff and superuser accounts are a superuser's.
    fn can_change(&self, actor: &User, object: &Values) -> bool {
        is_superuser(actor) || role_of(object) == "member"
    }

    fn can_delete(&self, actor: &User) -> bool {
        is_superuser(actor)
    }

    fn links(&self, id: i64, object: &Values) -> Vec<(&'static str, String)> {
        if is_bot(object) {
            vec![
                ("Bot key", USERS.object_url(id, "bot-key")),
                ("Avatar", USERS.object_url(id, "avatar")),
                (
                    "Webhook attempts",
                    format!("/admin/webhook_attempts/?bot_id={id}"),
                ),
            ]
        } else {
            Vec::new()
        }
    }

    fn words(
        &self,
        actor: &User,
        field: &Field,
        all: &'static [&'static str],
    ) -> Vec<&'static str> {
        if field.name == "role" && !is_superuser(actor) {
            vec!["member"]
        } else {
            all.to_vec()
        }
    }

    /// Nobody locks themselves out.
    fn check(
        &self,
        actor: &User,
        id: Option<i64>,
        old: Option<&Values>,
        new: &Values,
    ) -> Vec<Invalid> {
        let mut problems = Vec::new();
        if let Some(url) = new.get("webhook_url").map(Value::text) {
            if !url.is_empty() {
                if let Err(invalid) = crate::validate::webhook_url(url) {
                    problems.push(invalid);
                } else if !is_bot(old.unwrap_or(new)) {
                    problems.push(Invalid::new("webhook_url", "Only a bot has a webhook URL."));
                }
            }
        }
        if is_bot(old.unwrap_or(new)) && role_of(new) != "member" {
            problems.push(Invalid::new("role", "A bot is a member, never staff."));
        }
        if id != Some(actor.id.0) || old.is_none() {
            return problems;
        }
        if !active(new) {
            problems.push(Invalid::new(
                "is_active",
                "You cannot deactivate your own account.",
            ));
        }
        if role_of(new) == "member" {
            problems.push(Invalid::new(
                "role",
                "You cannot take away your own admin access.",
            ));
        }
        problems
    }

    async fn prepare(
        &self,
        db: &Db,
        settings: &Settings,
        form: &Params,
        old: Option<&Values>,
        new: &mut Values,
    ) -> Vec<Invalid> {
        let webhook = new.get("webhook_url").map(Value::text).unwrap_or_default();
        let changed = old.and_then(|o| o.get("webhook_url")).map(Value::text) != Some(webhook);
        // The form already says what is wrong with an address that is not http(s).
        if changed && crate::validate::webhook_url(webhook).is_ok() {
            let allow_private = settings.webhook_allow_private;
            if let Err(invalid) = crate::webhooks::address::check(webhook, allow_private).await {
                return vec![invalid];
            }
        }
        let name = new
            .get("username")
            .map(Value::text)
            .unwrap_or_default()
            .to_owned();
        // The field itself already says what is wrong with a name that does not parse.
        if let Ok(username) = Username::parse("username", &name) {
            new.insert("username_key", Value::Text(username.key().to_owned()));
            new.insert("username_skeleton", Value::Text(username.look_alike()));
            if let Some(invalid) = clash(db, old, &username).await {
                return vec![invalid];
            }
        }
        if old.is_some() {
            return Vec::new();
        }
        new.insert("created_at", Value::Int(Timestamp::now().0));
        if is_bot(new) {
            // No password matches this, so a bot cannot sign in even before `is_bot` is
            // checked at sign-in.
            new.insert("password_hash", Value::Text(BOT_PASSWORD.to_owned()));
            return Vec::new();
        }
        let typed = |field| form.get(field).unwrap_or_default();
        match NewPassword::parse(typed("password1"), typed("password2"), &name) {
            Ok(password) => match password::hash(password.as_str().to_owned()).await {
                Ok(hash) => {
                    new.insert("password_hash", Value::Text(hash));
                    Vec::new()
                }
                Err(e) => {
                    tracing::error!(error = %e, "hashing a password in the console");
                    vec![Invalid::new(
                        "__all__",
                        "The password could not be set; try again.",
                    )]
                }
            },
            Err(invalid) => invalid,
        }
    }

    fn unique_violation(&self) -> Invalid {
        // A race that `clash` could not see: someone took the name meanwhile.
        Invalid::new("username", "A user with that username already exists.")
    }

    /// Deactivation signs the person out everywhere, in the same transaction. A new name
    /// shows in their chats' member lists at once.
    async fn saved(&self, tx: &mut WriteTx, write: Write<'_>) -> Result<Vec<String>, Error> {
        if let Some(old) = write.old {
            if old.get("username") != write.new.get("username") {
                crate::db::events::users_changed(tx, &[write.id], false).await?;
            }
        }
        let was_active = write.old.is_some_and(active);
        if was_active && !active(write.new) {
            let ended = crate::db::sessions::delete_for_user(&mut *tx, write.id, None).await?;
            if ended > 0 {
                return Ok(vec![format!("Ended {ended} session(s).")]);
            }
        }
        Ok(Vec::new())
    }

    /// Their chats change for everyone in them, and their messages go.
    async fn deleting(&self, tx: &mut WriteTx, ids: &[i64]) -> Result<(), Error> {
        Ok(crate::db::events::users_changed(tx, ids, true).await?)
    }

    /// A superuser acting can only remove the last active superuser by acting on
    /// themselves (staff cannot touch superusers at all): refuse that.
    async fn invariant(&self, tx: &mut WriteTx, actor: &User) -> Result<(), Invalid> {
        if !is_superuser(actor) {
            return Ok(());
        }
        match crate::db::users::active_superusers(tx).await {
            Ok(0) => Err(Invalid::new(
                "__all__",
                "Kanect needs at least one active superuser: make someone else a superuser first.",
            )),
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!(error = %e, "counting superusers");
                Err(Invalid::new(
                    "__all__",
                    "The change could not be checked; try again.",
                ))
            }
        }
    }

    fn check_delete(&self, actor: &User, ids: &[i64]) -> Option<String> {
        ids.contains(&actor.id.0)
            .then(|| "You cannot delete your own account.".to_owned())
    }
}
