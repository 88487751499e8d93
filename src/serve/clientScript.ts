// The console's one script, served as /assets/console.js (the Content-Security-Policy allows no inline script):
// it embeds the page's Vega-Lite charts (specs from the page's JSON data element; SVG renderer; Vega's expression
// interpreter instead of `new Function`, which the policy forbids; no injected style element) and, on the Alerts
// page, appends the alerts the /events stream pushes, building every cell with textContent (never as markup).
// Pages work without it: it only adds the charts and the live rows.

export const CONSOLE_JS = `(function () {
  "use strict";
  function embedCharts() {
    var specs = document.getElementById("chart-specs");
    if (!specs || typeof vegaEmbed !== "function") return;
    var all = JSON.parse(specs.textContent);
    Object.keys(all).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) return;
      function fail(e) { el.setAttribute("data-error", String((e && e.message) || e)); }
      try {
        vegaEmbed(el, all[id], { renderer: "svg", actions: false, ast: true, defaultStyle: false, tooltip: false })
          .then(function () { el.setAttribute("data-rendered", "true"); })
          .catch(fail);
      } catch (e) {
        fail(e);
      }
    });
  }
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function linked(td, href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    td.appendChild(a);
  }
  // One cell per column the table names in data-columns (the host console's and the fleet console's differ).
  var CELLS = {
    time: function (tr, a) { cell(tr, a.time); },
    host: function (tr, a) { linked(cell(tr, ""), "/alerts?host=" + encodeURIComponent(a.host), a.host); },
    priority: function (tr, a) { cell(tr, a.priority, "prio prio-" + String(a.priority).toLowerCase()); },
    rule: function (tr, a) { cell(tr, a.rule); },
    program: function (tr, a) {
      var td = cell(tr, "");
      if (a.key) linked(td, "/profile?key=" + encodeURIComponent(a.key), a.program || a.key);
      else td.textContent = a.program || "-";
    },
    exe: function (tr, a) {
      var td = cell(tr, "");
      if (a.exe) linked(td, "/alerts?exe=" + encodeURIComponent(a.exe), a.name || a.exe);
      else td.textContent = "-";
    },
    pid: function (tr, a) { cell(tr, a.pid === null || a.pid === undefined ? "-" : String(a.pid), "n"); },
    output: function (tr, a) {
      var text = cell(tr, a.output);
      if (a.window && a.window.length > 0) {
        var code = document.createElement("code");
        code.className = "window";
        code.textContent = a.window.join(" ");
        text.appendChild(document.createElement("br"));
        text.appendChild(code);
      }
    }
  };
  function alertRow(a, columns) {
    var tr = document.createElement("tr");
    tr.className = "new";
    tr.setAttribute("data-id", String(a.id));
    columns.forEach(function (c) { if (CELLS[c]) CELLS[c](tr, a); else cell(tr, ""); });
    return tr;
  }
  function liveAlerts() {
    var table = document.getElementById("alerts-table");
    var url = table && table.getAttribute("data-events");
    if (!url || typeof EventSource !== "function") return;
    var body = table.querySelector("tbody");
    var columns = (table.getAttribute("data-columns") || "time priority rule program pid output").split(" ");
    var status = document.getElementById("live-status");
    var source = new EventSource(url);
    function say(text) { if (status) status.textContent = text; }
    source.addEventListener("open", function () { say("live: new alerts appear here"); });
    source.addEventListener("error", function () { say("live updates interrupted; retrying"); });
    source.addEventListener("alert", function (ev) {
      var a = JSON.parse(ev.data);
      if (body.querySelector('tr[data-id="' + String(Number(a.id)) + '"]')) return;
      var empty = body.querySelector("tr.empty");
      if (empty) empty.remove();
      body.insertBefore(alertRow(a, columns), body.firstChild);
    });
  }
  embedCharts();
  liveAlerts();
})();
`;
