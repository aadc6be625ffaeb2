import { createHash } from 'node:crypto'

/**
 * The console's only stylesheet and script, served by Registrar itself (no external request; the
 * Content-Security-Policy allows nothing else). Colours meet WCAG 2.1 AA contrast (4.5:1 for text)
 * on their backgrounds; focus is always visible; below 40rem the layout is one column and wide
 * tables scroll sideways.
 */
export const CONSOLE_CSS = `
:root {
  --ink: #1b1f24; --muted: #4d5560; --line: #c9ced6; --paper: #ffffff; --wash: #f3f5f8;
  --accent: #0b57d0; --accent-ink: #ffffff; --danger: #b3261e; --danger-ink: #ffffff;
  --ok: #146c2e; --warn: #7a4f00; --off: #5f6368; --focus: #ffbf47;
  color-scheme: light;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color: var(--ink); background: var(--paper);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--ink); outline-offset: 2px; }
header :focus-visible { outline-color: var(--focus); }
.skip { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem 1rem; }
.skip:focus { left: .5rem; z-index: 1; }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
header { background: var(--ink); color: #fff; }
header .bar { max-width: 72rem; margin: 0 auto; padding: .5rem 1rem; display: flex; flex-wrap: wrap;
  align-items: center; gap: .25rem 1.25rem; }
header .brand { font-weight: 700; margin-right: auto; }
header nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; }
header a { color: #fff; text-underline-offset: 3px; }
header a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
header form { margin: 0; }
header .who { color: #d7dbe0; font-size: .875rem; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.75rem 0 .75rem; }
p { margin: .5rem 0; }
.muted { color: var(--muted); }
code, .mono, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .875rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.notice { border-left: 4px solid var(--accent); background: var(--wash); padding: .75rem 1rem; margin: 1rem 0; }
.notice.error { border-color: var(--danger); }
.notice.warn { border-color: var(--warn); }
.table-wrap { position: relative; overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; padding: .5rem .75rem; color: var(--muted); }
th, td { text-align: left; vertical-align: top; padding: .5rem .75rem; border-top: 1px solid var(--line); }
thead th { background: var(--wash); border-top: 0; white-space: nowrap; }
td.id { max-width: 14rem; overflow-wrap: anywhere; }
tr.pending { background: #fff8e5; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .8125rem;
  font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.badge.active { color: var(--ok); }
.badge.pending { color: var(--warn); }
.badge.disabled { color: var(--off); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
form.filters { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-start; margin: 0 0 1rem; }
/* level with the inputs, below their labels */
form.filters .actions { margin: 1.5625rem 0 0; }
ul.plain { list-style: none; margin: 0; padding: 0; }
time { white-space: nowrap; }
.field { display: flex; flex-direction: column; gap: .25rem; min-width: 10rem; }
.field.grow { flex: 1 1 16rem; }
label { font-weight: 600; font-size: .875rem; }
.hint { color: var(--muted); font-size: .875rem; }
input, select, textarea { font: inherit; color: var(--ink); background: var(--paper);
  border: 1px solid #6b7280; border-radius: 4px; padding: .4rem .5rem; min-height: 2.5rem; }
textarea { width: 100%; min-height: 14rem; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .875rem; }
input.token { width: 100%; font-family: ui-monospace, Menlo, Consolas, monospace; }
button, .button { font: inherit; font-weight: 600; display: inline-flex; align-items: center;
  min-height: 2.5rem; padding: .4rem 1rem; border-radius: 4px; border: 1px solid var(--accent);
  background: var(--accent); color: var(--accent-ink); cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: var(--paper); color: var(--accent); }
button.danger, .button.danger { background: var(--danger); border-color: var(--danger); color: var(--danger-ink); }
header button { background: transparent; border-color: #fff; color: #fff; min-height: 2rem; padding: .1rem .75rem; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; }
.stack { display: flex; flex-direction: column; gap: 1rem; max-width: 40rem; }
.pager { display: flex; gap: 1rem; margin: 1rem 0; }
details { margin: .5rem 0; }
summary { cursor: pointer; }
@media (max-width: 40rem) {
  header .brand { width: 100%; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .5rem; }
  th, td { padding: .4rem .5rem; }
  .field { min-width: 100%; }
  form.filters .actions { margin: 0; }
}
`

/**
 * The console's script: progressive enhancement only (every page works without it). The copy
 * button next to a token shown once.
 */
export const CONSOLE_JS = `'use strict';
document.addEventListener('click', function (event) {
  var button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
  if (!button) return;
  var field = document.getElementById(button.getAttribute('data-copy'));
  var status = document.getElementById(button.getAttribute('aria-describedby') || '');
  if (!field) return;
  var say = function (text) { if (status) status.textContent = text; };
  var fallback = function () {
    field.focus();
    field.select();
    say('Selected: press Ctrl+C (or Cmd+C) to copy.');
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(function () { say('Copied to the clipboard.'); }, fallback);
  } else {
    fallback();
  }
});
`

/** The tab icon (browsers ask for one; without it, a 404 on every page). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#1b1f24"/>
<path d="M10 24V8h7a5 5 0 0 1 0 10h-7m7 0 6 6" fill="none" stroke="#ffbf47" stroke-width="3"
 stroke-linecap="round" stroke-linejoin="round"/>
</svg>
`

/** An asset as served: its body, type and a strong validator. */
export interface Asset {
  body: string
  contentType: string
  etag: string
}

function asset(body: string, contentType: string): Asset {
  return {
    body,
    contentType,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  }
}

export const ASSETS: Readonly<Record<string, Asset>> = Object.freeze({
  'console.css': asset(CONSOLE_CSS, 'text/css; charset=utf-8'),
  'console.js': asset(CONSOLE_JS, 'text/javascript; charset=utf-8'),
  'favicon.svg': asset(FAVICON_SVG, 'image/svg+xml'),
})
