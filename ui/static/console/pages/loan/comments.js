// The loan's comments, newest first, and a box to add one (comments are never edited).
import { html, useState } from "/ui/vendor/preact-htm.js";
import { when } from "../../lib/format.js";
import { brandUrl, can, explainAction, Loaded, staff, useLoad } from "../../lib/ui.js";
import { Field } from "../../lib/forms.js";

export function Comments({ loan, brandId, me }) {
  const url = brandUrl(brandId, `loans/${loan.id}/comments`);
  const state = useLoad(() => staff("GET", url), [url]);
  const [text, setText] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const add = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await staff("POST", url, { comment: text });
      setText("");
      state.reload();
    } catch (e) {
      setError(explainAction(e));
    } finally {
      setBusy(false);
    }
  };
  return html`${can(me, "loans.comment") &&
    html`<form class="card" onSubmit=${add} aria-label="Add a comment">
      <${Field} label="Comment" type="textarea" value=${text} onInput=${setText} required maxlength="2000" />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <p><button type="submit" disabled=${busy || !text.trim()}>Add comment</button></p>
    </form>`}
    <${Loaded} state=${state} what="the comments">
      ${(rows) =>
        rows &&
        (rows.length
          ? html`<ul class="comments">
              ${rows.map(
                (c) => html`<li class="card" key=${c.id}>
                  <div class="muted">${c.author.name} (${c.author.email}) · ${when(c.createdAt)}</div>
                  <p class="comment-text">${c.comment}</p>
                </li>`
              )}
            </ul>`
          : html`<p class="muted">No comments yet.</p>`)}
    <//>`;
}
