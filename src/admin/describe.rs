//! How a model is described to the console. Every page (changelist, forms, delete,
//! history) is generic over a `Model`; a model adds only what is really its own through
//! `Rules`.
//!
//! SQL fragments here are constants written by us, never built from a request: a request
//! only chooses among them (ordering, filters) and supplies bound values.

use crate::admin::rules::Rules;
use crate::admin::value::Value;
use crate::db::admin::like;
use crate::db::search;

pub struct Model {
    /// URL segment and `admin_log.object_type`.
    pub slug: &'static str,
    pub name: &'static str,
    pub plural: &'static str,
    pub table: &'static str,
    /// The changelist's FROM clause; the model's own table is aliased `t`.
    pub from: &'static str,
    /// An SQL expression over `t` naming one object, as Django's `__str__`.
    pub repr: &'static str,
    pub columns: &'static [Column],
    /// What `q` searches: every word must match one of these.
    pub search: &'static [Search],
    pub filters: &'static [Filter],
    /// The default `o`.
    pub ordering: &'static str,
    pub fields: &'static [Field],
    /// What goes with an object when it is deleted (cascades in the schema).
    pub related: &'static [Related],
    pub actions: &'static [Action],
    pub rules: &'static (dyn Rules + Sync),
}

pub enum Search {
    /// An expression over `t` that contains the word.
    Text(&'static str),
    /// `column` is among the ids that `select` (a query ending in a WHERE over text)
    /// finds for the word: one look-up per search, not one per row.
    In {
        column: &'static str,
        select: &'static str,
    },
    /// The message body `t.body` through the search index (`db::search`): the word as a
    /// whole word or the start of one, case and accents folded, as people's search has it.
    MessageWords,
}

impl Search {
    /// The condition that this search finds `word`, with one `?` for the value it binds;
    /// `None` when it cannot (a word with no letters or digits is not in the index).
    pub fn finds(&self, word: &str, pg: bool) -> Option<(String, Value)> {
        match self {
            Search::Text(expr) => Some((format!("{expr} LIKE ? ESCAPE '\\'"), like(word))),
            Search::In { column, select } => Some((
                format!("{column} IN ({select} LIKE ? ESCAPE '\\')"),
                like(word),
            )),
            Search::MessageWords => {
                let query = crate::search::Query::parse(word).ok()?;
                Some((
                    search::MATCHES.on(pg).to_owned(),
                    Value::Text(search::match_text(&query, pg)),
                ))
            }
        }
    }

    /// The column this search looks at, as the changelist shows it.
    pub fn shown_by(&self, column: &Column) -> bool {
        match self {
            Search::Text(expr) => column.sql.contains(expr),
            Search::In { column: id, .. } => column.sql.contains(id),
            Search::MessageWords => column.sql.contains("t.body"),
        }
    }
}

/// A changelist column; `name` is what `o` sorts by.
pub struct Column {
    pub name: &'static str,
    pub label: &'static str,
    pub sql: &'static str,
    pub cell: Cell,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Text,
    Number,
    Bool,
    Time,
    /// A size in bytes: shown as "1.2 MB", sorted by the number.
    Bytes,
    /// A person as the chat shows them, their avatar (or initials) and display name, from
    /// [`PERSON_SQL`].
    Person,
}

/// The SQL of a [`Cell::Person`] over users `t`: `id|username|avatar version|display name`
/// (the name last, as the only part that may hold a `|`).
pub const PERSON_SQL: &str = "t.id || '|' || t.username || '|' || COALESCE(t.avatar_version, '') \
     || '|' || COALESCE(t.display_name, '')";

pub struct Filter {
    /// The query parameter.
    pub name: &'static str,
    /// Other names accepted for it (`active` for `is_active`, say).
    pub aliases: &'static [&'static str],
    pub label: &'static str,
    pub sql: &'static str,
    pub kind: FilterKind,
}

pub enum FilterKind {
    /// The column holds one of these words.
    Words(&'static [&'static str]),
    /// The column (an expression, a CASE that sorts values into groups, say) holds one of
    /// these values, each shown with its label.
    Choices(&'static [(&'static str, &'static str)]),
    /// 1 or 0.
    Bool,
    /// An id of another model's objects.
    Related(&'static str),
    /// A Unix-milliseconds time: today, the past 7 days, this month, this year, or one day.
    Date,
}

pub struct Field {
    /// The form field, and the column it is stored in unless its kind says otherwise.
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub edit: Edit,
    pub help: Option<&'static str>,
    /// What a read-only field shows when the column is NULL (a dash unless said).
    pub empty: Option<&'static str>,
    /// A yes/no that an add form shows unticked (they start ticked, as `is_active`).
    pub off_when_adding: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text {
        max: usize,
        required: bool,
    },
    Username,
    Email,
    /// A message body: a textarea, validated as the chat validates it.
    Body,
    Words(&'static [&'static str]),
    Bool,
    /// The id of an object of the model with this slug.
    Related(&'static str),
    Time,
    Number,
    /// A size in bytes, shown as "1.2 MB (1,234,567 bytes)".
    Bytes,
    /// A new password, typed twice when adding; not a column.
    NewPassword,
    /// `password_hash`, shown as algorithm and salt prefix only.
    PasswordHash,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Always,
    /// Chosen when adding, read-only afterwards.
    OnAdd,
    /// Read-only: shown on the change page only.
    Never,
}

/// Objects of another table that go when ours do.
pub struct Related {
    pub label: &'static str,
    pub table: &'static str,
    /// The column of `table` pointing at our ids.
    pub key: &'static str,
    /// An SQL expression over `r` (a row of `table`) naming the object.
    pub repr: &'static str,
}

pub enum Action {
    DeleteSelected,
    /// Sets a column of every selected object, through the same rules as the change form.
    Set {
        name: &'static str,
        label: &'static str,
        column: &'static str,
        value: i64,
        /// "Deactivated", as in "Deactivated 3 users."
        done: &'static str,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::DeleteSelected => "delete_selected",
            Action::Set { name, .. } => name,
        }
    }
}

/// Descriptions read as tables: `Column::new(...)`, `Field::new(...).read_only()`.
impl Column {
    pub const fn new(
        name: &'static str,
        label: &'static str,
        sql: &'static str,
        cell: Cell,
    ) -> Self {
        Column {
            name,
            label,
            sql,
            cell,
        }
    }
}

impl Filter {
    pub const fn new(
        name: &'static str,
        label: &'static str,
        sql: &'static str,
        kind: FilterKind,
    ) -> Self {
        Filter {
            name,
            aliases: &[],
            label,
            sql,
            kind,
        }
    }

    pub const fn aliases(self, aliases: &'static [&'static str]) -> Self {
        Filter { aliases, ..self }
    }
}

impl Related {
    pub const fn new(
        label: &'static str,
        table: &'static str,
        key: &'static str,
        repr: &'static str,
    ) -> Self {
        Related {
            label,
            table,
            key,
            repr,
        }
    }
}

impl Kind {
    /// Optional one-line text of at most `max` characters.
    pub const fn text(max: usize) -> Self {
        Kind::Text {
            max,
            required: false,
        }
    }
}

impl Field {
    pub const fn new(name: &'static str, label: &'static str, kind: Kind) -> Self {
        Field {
            name,
            label,
            kind,
            edit: Edit::Always,
            help: None,
            empty: None,
            off_when_adding: false,
        }
    }

    /// A yes/no the add form leaves unticked.
    pub const fn off_when_adding(self) -> Self {
        Field {
            off_when_adding: true,
            ..self
        }
    }

    pub const fn on_add(self) -> Self {
        Field {
            edit: Edit::OnAdd,
            ..self
        }
    }

    pub const fn read_only(self) -> Self {
        Field {
            edit: Edit::Never,
            ..self
        }
    }

    pub const fn help(self, help: &'static str) -> Self {
        Field {
            help: Some(help),
            ..self
        }
    }

    /// What the field shows when it holds nothing ("Not sent", say).
    pub const fn when_empty(self, empty: &'static str) -> Self {
        Field {
            empty: Some(empty),
            ..self
        }
    }

    /// The column behind the field, if it is stored as is.
    pub fn column(&self) -> Option<&'static str> {
        match self.kind {
            Kind::NewPassword => None,
            Kind::PasswordHash => Some("password_hash"),
            _ => Some(self.name),
        }
    }

    pub fn shown(&self, adding: bool) -> bool {
        match (self.kind, self.edit) {
            (Kind::NewPassword, _) => adding,
            (_, Edit::Never) => !adding,
            _ => true,
        }
    }

    pub fn editable(&self, adding: bool) -> bool {
        match self.edit {
            Edit::Always => true,
            Edit::OnAdd => adding,
            Edit::Never => false,
        }
    }
}

impl Model {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn label(&self) -> String {
        capitalize(self.plural)
    }

    pub fn url(&self) -> String {
        format!("/admin/{}/", self.slug)
    }

    pub fn object_url(&self, id: i64, page: &str) -> String {
        format!("/admin/{}/{id}/{page}/", self.slug)
    }
}

pub fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
