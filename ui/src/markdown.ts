import DOMPurify from 'dompurify';
import { marked } from 'marked';

/**
 * Captured text rendered as Markdown. The text is untrusted (a prompt or an answer
 * may hold any markup): marked's HTML goes through DOMPurify with a small allow-list,
 * raw HTML in the source is escaped first, and the page's CSP stops anything that
 * slipped through from running anyway.
 */
const ALLOWED_TAGS = ['p', 'br', 'hr', 'em', 'strong', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'a'];

const renderer = new marked.Renderer();
// Inline and block HTML in the captured text is shown as text, never parsed as markup.
renderer.html = ({ text }) => escapeHtml(text);

// `start`: a numbered list a fold cut in two goes on counting in its rest (DOMPurify checks
// other attributes' values as URLs, so it is named URL-safe: its value is only a number).
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false, gfm: true, breaks: true, renderer }) as string;
  return DOMPurify.sanitize(html, { ALLOWED_TAGS, ALLOWED_ATTR: ['href', 'title', 'start'], ADD_URI_SAFE_ATTR: ['start'], ALLOWED_URI_REGEXP: /^https?:/i });
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
