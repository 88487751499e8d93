// The console's style sheet, served as /assets/console.css (the Content-Security-Policy allows no inline style
// element).

export const CONSOLE_CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1d2430; margin: 0; background: #f3f4f7; }
header { background: #1d2430; color: #fff; padding: 8px 24px; display: flex; gap: 20px; align-items: baseline; flex-wrap: wrap; }
header a { color: #cfe0ff; text-decoration: none; }
header a.here { color: #fff; font-weight: 600; border-bottom: 2px solid #fff; }
header .brand { font-weight: 700; color: #fff; margin-right: 12px; }
main { max-width: 1280px; margin: 0 auto; padding: 16px 24px 48px; background: #fff; min-height: 100vh; box-sizing: border-box; }
h1 { font-size: 1.4em; margin: 4px 0 8px; }
h2 { font-size: 1.1em; margin: 28px 0 8px; border-bottom: 1px solid #e3e6ea; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9em; max-width: 100%; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e8eaee; text-align: left; vertical-align: top; }
th { background: #f1f3f6; font-weight: 600; white-space: nowrap; }
th a { color: inherit; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f3f6; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
code.window { color: #4a5566; }
.note { color: #5b6575; font-size: 0.9em; }
.flash { background: #eaf6ea; border: 1px solid #b7dfb7; padding: 6px 10px; }
.warn { background: #fff4e0; border: 1px solid #f0d29a; padding: 6px 10px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { border: 1px solid #e3e6ea; border-radius: 6px; padding: 8px 14px; min-width: 140px; }
.card b { display: block; font-size: 1.4em; }
.chart { margin: 8px 0 16px; min-height: 40px; overflow-x: auto; }
.chart[data-error]::before { content: "chart failed: " attr(data-error); color: #b00020; }
form.inline { display: inline; }
header form.logout { margin-left: auto; }
form.filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: end; margin: 8px 0; }
form.filters label { display: flex; flex-direction: column; font-size: 0.85em; color: #4a5566; }
button { padding: 3px 10px; }
button.danger { background: #b00020; color: #fff; border: 1px solid #800018; }
.prio-critical, .prio-emergency, .prio-alert, .prio-error { color: #b00020; font-weight: 600; }
.prio-warning { color: #a05a00; }
tr.new td { background: #fffbe0; }
.pager a { margin-right: 12px; }
`;
