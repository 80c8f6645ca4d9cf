// caspian-kg: the query editor is YASGUI (static/vendor/yasgui/, @zazuko/yasgui), set up here
// for this server from the page's #editor-config (web/editor.py). Without this file (or without
// JavaScript) the page's own form runs queries on the server.
//
// - queries go to this server's /sparql (GET, so answers are cached and shared with the page);
// - the data's prefixes are predeclared on the server, and the editor knows them: no "prefix not
//   defined" marks, completion after PREFIX from our list, yasr shortens IRIs with them;
// - classes and properties complete from the graph's own declarations (never from LOV: no
//   request leaves the server), as does the endpoint list;
// - saved queries open in a new tab and never replace what is in the editor;
// - share links are /query?query=… (no PREFIX lines, no YASGUI settings), which the page without
//   JavaScript understands too; "asserted facts only" (the tab's request argument inference=none,
//   set by the page's box) is kept in them, and opening one restores it (YASGUI reads a link's
//   other parameters into the tab's request arguments);
// - literals show as text (no quotes, no @en or ^^xsd:…), their language or kind in small type.
(function () {
  "use strict";

  var mount = document.getElementById("yasgui");
  var data = document.getElementById("editor-config");
  var Yasgui = window.Yasgui;
  if (!mount || !data || !Yasgui) { return; }
  var config = JSON.parse(data.textContent);
  var Yasqe = Yasgui.Yasqe;

  // the predeclared prefixes count as declared in every query the editor checks
  var sparql11 = Yasqe.modes.sparql11;
  Yasqe.defineMode("sparql11", function (cmConfig, parserConfig) {
    var mode = sparql11(cmConfig, parserConfig);
    var start = mode.startState;
    mode.startState = function () {
      var state = start.apply(mode, arguments);
      state.prefixes = Object.assign({}, config.prefixes);
      return state;
    };
    return mode;
  });

  function startingWith(list) {
    return function (yasqe, token) {
      var wanted = (token && token.autocompletionString) || "";
      return Promise.resolve(list.filter(function (iri) { return iri.indexOf(wanted) === 0; }));
    };
  }
  var prefixLines = Object.keys(config.prefixes).sort().map(function (p) { return p + ": <" + config.prefixes[p] + ">"; });
  Yasqe.forkAutocompleter("prefixes", { name: "caspian-prefixes", persistenceId: null, get: prefixLines }, false);
  Yasqe.forkAutocompleter("property", { name: "caspian-property", get: startingWith(config.properties) }, false);
  Yasqe.forkAutocompleter("class", { name: "caspian-class", get: startingWith(config.classes) }, false);

  // asserted facts only: the tab's request argument inference=none, which /sparql reads
  function inferenceOf(tab) {
    var args = tab && tab.getRequestConfig().args;
    var found = (Array.isArray(args) ? args : []).filter(function (a) { return a && a.name === "inference"; });
    return found.length ? found[found.length - 1].value : null;
  }
  function setAssertedOnly(tab, on) {
    var args = tab.getRequestConfig().args;
    args = (Array.isArray(args) ? args : []).filter(function (a) { return a && a.name !== "inference"; });
    if (on) { args.push({ name: "inference", value: "none" }); }
    tab.setRequestConfig({ args: args });
  }

  // short share links, the same the page without JavaScript gives, with what the tab was asked for
  Yasgui.Tab.prototype.getShareableLink = function () {
    var inference = inferenceOf(this);
    return window.location.origin + config.editor + "?query=" + encodeURIComponent(this.getQuery()) +
      (inference ? "&inference=" + encodeURIComponent(inference) : "");
  };

  var Table = Yasgui.Yasr.plugins.table;
  var KINDS = config.kinds;  // a datatype in words: the server's one table (helpers.LITERAL_KINDS)
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }
  if (Table) {
    // a literal as text, as Wikidata's query service shows it: no quotes, no @en, no ^^xsd:…; its
    // language (or a kind other than plain text) in small type after it
    var formatLiteral = Table.prototype.formatLiteral;
    Table.prototype.formatLiteral = function (binding, prefixes) {
      var text = formatLiteral.call(this, { type: "literal", value: binding.value }, prefixes);
      var lang = binding["xml:lang"];
      var datatype = binding.datatype || "";
      var local = datatype.split(/[#/]/).pop();
      var note = lang ? lang : datatype && !/#(string|langString)$/.test(datatype) ? KINDS[local] || local : "";
      if (!note) { return text; }
      var title = lang ? "language: " + lang : "datatype: " + datatype;
      return text + " <small class=\"literal-note\" title=\"" + escapeHtml(title) + "\">" + escapeHtml(note) + "</small>";
    };

    // IRIs of this dataset open their page on this server (not the w3id.org IRI)
    var iriLink = Table.prototype.getUriLinkFromBinding;
    Table.prototype.getUriLinkFromBinding = function (binding, prefixes) {
      var html = iriLink.call(this, binding, prefixes);
      if (binding.value.indexOf(config.base) !== 0) { return html; }
      return html.split("href=\"" + config.base).join("href=\"" + config.root)
        .split("href='" + config.base).join("href='" + config.root);
    };
  }

  var yasgui = new Yasgui(mount, {
    persistenceId: "caspian-kg-editor",
    autofocus: false,
    tabName: "Query",
    copyEndpointOnNewTab: false,
    requestConfig: {
      endpoint: config.endpoint,
      method: "GET",
      acceptHeaderSelect: config.accept,
      acceptHeaderGraph: config.accept
    },
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: config.endpoint }]; } },
    yasqe: {
      value: config.query,
      autocompleters: ["variables", "caspian-prefixes", "caspian-property", "caspian-class"],
      // Tab leaves the editor (keyboard users are never trapped); Ctrl/Cmd+Enter runs the query
      extraKeys: { Tab: false, "Shift-Tab": false },
      // the editor grows with its query (no scroll box inside the page to reach by keyboard)
      editorHeight: "auto",
      resizeable: false,
      viewportMargin: Infinity
    },
    yasr: {
      prefixes: config.prefixes,
      defaultPlugin: "table",
      pluginOrder: ["table", "response"]
    }
  });
  window.caspianEditor = yasgui;  // for the browser tests and the curious

  // accessible names YASGUI leaves out (axe: label, select-name), and a tab list holding only
  // tabs (aria-required-children): its "+" button is hidden from assistive technology and the
  // keyboard, and a "New query tab" button before the editor does the same for everyone
  var names = [
    [".CodeMirror textarea", "SPARQL query (Ctrl+Enter runs it; Tab leaves the editor)"],
    [".autocomplete", "SPARQL endpoint"],
    ["select.tableSizer", "Rows per page"],
    [".tabsList .tab input[type=text]", "Tab name"],
    [".yasqe_sharePopup input[type=text]", "Link to this query"]
  ];
  function repair() {
    names.forEach(function (pair) {
      Array.prototype.forEach.call(mount.querySelectorAll(pair[0]), function (el) {
        if (!el.hasAttribute("aria-label")) { el.setAttribute("aria-label", pair[1]); }
      });
    });
    Array.prototype.forEach.call(mount.querySelectorAll(".tabsList .addTab"), function (button) {
      if (button.parentNode.getAttribute("aria-hidden") !== "true") {
        button.parentNode.setAttribute("aria-hidden", "true");
        button.tabIndex = -1;
      }
    });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; repair(); });
  }).observe(mount, { childList: true, subtree: true });
  repair();
  var newTab = document.createElement("button");
  newTab.type = "button";
  newTab.className = "new-tab";
  newTab.textContent = "New query tab";
  newTab.addEventListener("click", function () { yasgui.addTab(true); });
  mount.parentNode.insertBefore(newTab, mount);

  // the page's own form, results and share box are for the page without JavaScript
  var plain = document.getElementById("plain");
  if (plain) { plain.hidden = true; }

  // the page's "asserted facts only" box shows and sets the active tab's choice
  var asserted = document.getElementById("asserted-only");
  function showChoice(tab) {
    if (asserted && tab) { asserted.checked = inferenceOf(tab) === "none"; }
  }
  if (asserted) {
    showChoice(yasgui.getTab());
    yasgui.on("tabSelect", function (instance, id) { showChoice(yasgui.getTab(id)); });
    yasgui.on("tabChange", function (instance, tab) { if (tab === yasgui.getTab()) { showChoice(tab); } });
    asserted.addEventListener("change", function () {
      var tab = yasgui.getTab();
      if (!tab) { return; }
      setAssertedOnly(tab, asserted.checked);
      if (tab.hasResults()) { tab.query().catch(function () {}); }  // the results match the box
    });
  }

  function openExample(name, run) {
    var example = config.examples[name];
    if (!example) { return; }
    var wanted = asserted ? asserted.checked : config.inference === "none";
    var options = { name: name, yasqe: { value: example.text } };
    if (wanted) { options.requestConfig = { args: [{ name: "inference", value: "none" }] }; }
    var tab = yasgui.addTab(true, options, { avoidDuplicateTabs: true });
    if (run) { tab.query().catch(function () {}); }
  }

  var form = document.getElementById("examples");
  var select = document.getElementById("example");
  if (form && select) {
    Array.prototype.forEach.call(form.querySelectorAll(".js-only"), function (el) { el.hidden = false; });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      openExample(select.value, true);
    });
  }
  // /query?example=name (the saved-query pages link here): that example, in its own tab
  if (config.example) {
    openExample(config.example, true);
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", config.editor);
    }
  }
})();
