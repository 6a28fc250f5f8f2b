//! Who gets a push for a message, and what it says: the rules of `alert_rules.js` (what a
//! hidden tab notifies of), for someone with no tab open at all.

use serde::Serialize;

use crate::db::messages::Message;
use crate::db::push::Recipient;
use crate::model::{ChatId, ChatKind, NotifyLevel};
use crate::profile::preferences::Preferences;

/// A notification's body, as `alert_rules.js` shortens it.
const BODY_MAX: usize = 140;

/// What the service worker shows (`assets/sw.js`).
#[derive(Debug, Serialize)]
pub struct Payload {
    pub title: String,
    pub body: String,
    pub chat_id: ChatId,
    pub url: String,
}

/// The push `recipient` gets for `message`, if any: never while they have a tab open
/// (`online`, that tab notifies), never with notifications off in their preferences,
/// and as far as their level for the chat asks (`none`: nothing; `mentions`: messages
/// that mention them, `@all` included; `all`: every message).
pub fn payload(message: &Message, recipient: &Recipient, online: bool) -> Option<String> {
    if online || !Preferences::from_stored(&recipient.preferences).notifications {
        return None;
    }
    let same = |name: &String| name.to_lowercase() == recipient.username.to_lowercase();
    if same(&message.sender) {
        return None;
    }
    let wanted = match recipient.notify {
        NotifyLevel::None => false,
        NotifyLevel::Mentions => message.mentions.iter().any(same),
        NotifyLevel::All => true,
    };
    if !wanted {
        return None;
    }
    let payload = Payload {
        title: match (recipient.kind, &recipient.title) {
            (ChatKind::Group, Some(title)) => format!("{} in {title}", message.sender_display_name),
            _ => message.sender_display_name.clone(),
        },
        body: body_text(&message.body, message.attachments.len()),
        chat_id: message.chat_id,
        url: format!("/chats/{}", message.chat_id.0),
    };
    serde_json::to_string(&payload).ok()
}

/// The body on one line, shortened, or what the message attaches.
fn body_text(body: &str, attachments: usize) -> String {
    let text = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = match (text.is_empty(), attachments) {
        (true, 1) => "Sent a file".to_owned(),
        (true, n) if n > 1 => format!("Sent {n} files"),
        _ => text,
    };
    if text.chars().count() <= BODY_MAX {
        return text;
    }
    let short: String = text.chars().take(BODY_MAX - 1).collect();
    format!("{}…", short.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MessageId, Timestamp, UserId};

    fn message(sender: &str, body: &str, mentions: &[&str]) -> Message {
        Message {
            id: MessageId(1),
            chat_id: ChatId(3),
            sender: sender.into(),
            sender_display_name: format!("{sender}!"),
            sender_avatar_url: None,
            body: body.into(),
            created_at: Timestamp(0),
            edited_at: None,
            added_by: None,
            reactions: vec![],
            mentions: mentions.iter().map(|m| m.to_string()).collect(),
            attachments: vec![],
        }
    }

    fn recipient(notify: NotifyLevel, kind: ChatKind, preferences: &str) -> Recipient {
        Recipient {
            id: 1,
            user_id: UserId(2),
            username: "Bob".into(),
            preferences: preferences.into(),
            notify,
            kind,
            title: (kind == ChatKind::Group).then(|| "Design".into()),
            endpoint: String::new(),
            p256dh: String::new(),
            auth: String::new(),
        }
    }

    #[test]
    fn levels_preferences_an_open_tab_and_ones_own_messages_decide() {
        let direct = recipient(NotifyLevel::All, ChatKind::Direct, "{}");
        let hello = message("alice", "hello", &[]);
        let sent = payload(&hello, &direct, false).expect("a direct message is pushed");
        let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
        assert_eq!(sent["title"], "alice!");
        assert_eq!(sent["body"], "hello");
        assert_eq!(sent["url"], "/chats/3");
        assert!(
            payload(&hello, &direct, true).is_none(),
            "an open tab notifies itself"
        );
        let off = recipient(
            NotifyLevel::All,
            ChatKind::Direct,
            r#"{"notifications":false}"#,
        );
        assert!(payload(&hello, &off, false).is_none());
        assert!(payload(&message("bob", "mine", &[]), &direct, false).is_none());
        let none = recipient(NotifyLevel::None, ChatKind::Direct, "{}");
        assert!(payload(&hello, &none, false).is_none());

        let mentions = recipient(NotifyLevel::Mentions, ChatKind::Group, "{}");
        assert!(payload(&hello, &mentions, false).is_none());
        let mention = message("alice", "@bob look", &["bob"]);
        let sent = payload(&mention, &mentions, false).expect("a mention is pushed");
        assert!(sent.contains("alice! in Design"), "{sent}");
    }

    #[test]
    fn the_body_is_one_shortened_line_or_says_what_is_attached() {
        assert_eq!(body_text("a\n\n b ", 0), "a b");
        assert_eq!(body_text("", 1), "Sent a file");
        assert_eq!(body_text("", 3), "Sent 3 files");
        let long = body_text(&"é".repeat(500), 0);
        assert_eq!(long.chars().count(), BODY_MAX);
        assert!(long.ends_with('…'));
    }
}
