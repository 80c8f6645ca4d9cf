// caspian-kg: progressive enhancement only; every page works without this file.
// The query editor's plain form (shown when YASGUI, static/query.js, is not running): Ctrl/Cmd+Enter
// runs, a syntax error puts the caret where it is; result tables sort in place.
// Membership chart: a filter box highlights matching tiles.
(function () {
  "use strict";

  var form = document.getElementById("editor");
  var area = document.getElementById("sparql");
  if (form && area) {
    area.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      }
    });
  }

  // a syntax error names its line and column: put the caret there
  var message = document.querySelector("#results .error .message");
  var where = message && /line:(\d+), col:(\d+)/.exec(message.textContent);
  if (where && area) {
    var lines = area.value.split("\n").slice(0, Number(where[1]) - 1);
    var offset = lines.reduce(function (n, line) { return n + line.length + 1; }, 0) + Number(where[2]) - 1;
    area.focus();
    area.setSelectionRange(offset, offset);
  }

  // sortable tables: the header links sort on the server; here they sort in place
  function cellKey(cell) {
    var text = (cell.querySelector("a") || cell).textContent.trim();
    var number = Number(text);
    return { empty: cell.querySelector(".none") !== null, number: text !== "" && !isNaN(number) ? number : null, text: text.toLowerCase() };
  }
  function compare(a, b) {
    if (a.empty !== b.empty) { return a.empty ? 1 : -1; }
    if (a.number !== null && b.number !== null) { return a.number - b.number; }
    return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var headers = table.querySelectorAll("thead th");
    Array.prototype.forEach.call(headers, function (th, column) {
      var link = th.querySelector("a.sort");
      if (!link) { return; }
      link.setAttribute("role", "button");
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var descending = th.getAttribute("aria-sort") === "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (row) {
          return { row: row, key: cellKey(row.cells[column]) };
        });
        rows.sort(function (a, b) {
          if (a.key.empty || b.key.empty) { return compare(a.key, b.key); }
          return descending ? compare(b.key, a.key) : compare(a.key, b.key);
        });
        rows.forEach(function (r) { body.appendChild(r.row); });
      });
    });
  });

  // membership chart: highlight tiles whose name matches
  var filter = document.getElementById("tile-filter");
  if (filter) {
    filter.parentNode.hidden = false;
    filter.addEventListener("input", function () {
      var wanted = filter.value.trim().toLowerCase();
      Array.prototype.forEach.call(document.querySelectorAll("svg.membership a.tile"), function (tile) {
        var name = tile.querySelector("title").textContent.toLowerCase();
        tile.classList.toggle("dim", wanted !== "" && name.indexOf(wanted) === -1);
      });
    });
  }
})();
