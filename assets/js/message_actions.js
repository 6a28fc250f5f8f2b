// What a person does to a message: react (a quick one, or any through the picker),
// edit in place, delete after a confirmation. Each answer is applied at once; the
// event the server sends to every tab then finds it already done.

import { api, patch } from "./api.js";
import { confirmAction } from "./confirm.js";
import { messageEditor } from "./editor.js";
import { pickEmoji } from "./picker.js";
import { toggleReaction } from "./reactions.js";
import { isMe } from "./store.js";

const why = (err) => (err && err.transient ? "Can't reach the server. Please try again." : err.message);

/**
 * The actions for a MessageList. `view()` is the list; `showError(text)` reports a
 * failure above it; `changed(m)` applies a message the server answered with;
 * `removed(m)` a message gone; `leave()` returns focus to the composer.
 */
export function messageActions({ view, showError, changed, removed, leave }) {
  async function react(m, emoji, { toggle = true } = {}) {
    showError("");
    try {
      const path = `/api/chats/${m.chat_id}/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`;
      changed(await (toggle ? toggleReaction(view().get(m.id) || m, emoji) : api("PUT", path)));
    } catch (err) {
      showError(`Couldn't react: ${why(err)}`);
    }
  }

  async function pick(m) {
    const emoji = await pickEmoji();
    if (emoji) await react(m, emoji, { toggle: false });
  }

  function edit(m) {
    const list = view();
    const current = list.get(m.id) || m;
    const form = messageEditor(current, {
      save: async (body) => {
        let saved;
        try {
          saved = await patch(`/api/chats/${m.chat_id}/messages/${m.id}`, { body });
        } catch (err) {
          throw new Error(why(err));
        }
        list.stopEditing();
        changed(saved);
        leave();
      },
      cancel: () => {
        list.stopEditing();
        leave();
      },
    });
    list.startEditing(m.id, form);
  }

  async function remove(m) {
    const mine = isMe(m.sender);
    const ok = await confirmAction({
      question: "Delete this message?",
      detail: mine
        ? "It will be removed for everyone in this chat. This can't be undone."
        : "You are deleting someone else's message as staff. It will be removed for everyone in this chat.",
      action: "Delete",
    });
    if (!ok) return;
    showError("");
    try {
      await api("DELETE", `/api/chats/${m.chat_id}/messages/${m.id}`);
      removed(m);
    } catch (err) {
      if (err.status === 404) removed(m); // someone else deleted it first
      else showError(`Couldn't delete the message: ${why(err)}`);
    }
  }

  return {
    react: (m, emoji) => react(m, emoji),
    toggle: (m, emoji) => react(m, emoji),
    pick,
    edit,
    remove,
    leave,
  };
}
