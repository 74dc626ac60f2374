/* Live Markdown preview: an enhancement of the "Preview" button (which works without it).
   Each .markdown-field names its textarea and the URL that renders Markdown to clean
   HTML (POST /preview, the same sanitiser as saving). Nothing is saved. */
(function () {
  "use strict";
  if (window.hubPreview) { return; }
  window.hubPreview = true;

  function setup(box) {
    var textarea = document.getElementById(box.getAttribute("data-preview-source"));
    var region = document.getElementById(box.getAttribute("data-preview-source") + "-preview");
    var output = region && region.querySelector(".md-preview-body");
    var form = textarea && textarea.form;
    if (!textarea || !output || !form || !window.fetch || !window.FormData) { return; }
    var token = form.querySelector('input[name="csrf_token"]');
    var timer = null;
    var latest = 0;

    function refresh() {
      var mine = ++latest;
      var data = new FormData();
      data.append("source", textarea.value);
      if (token) { data.append("csrf_token", token.value); }
      fetch(box.getAttribute("data-preview-url"), {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "Accept": "text/html" }
      }).then(function (response) {
        if (!response.ok) { throw new Error("preview " + response.status); }
        return response.text();
      }).then(function (html) {
        if (mine !== latest) { return; }  /* an older answer arriving late */
        output.innerHTML = html;  /* clean HTML from the server's sanitiser */
        region.hidden = textarea.value.trim() === "";
      }).catch(function () { /* the Preview button still works */ });
    }

    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 600);
    });
  }

  function start() {
    var boxes = document.querySelectorAll(".markdown-field[data-preview-url]");
    for (var i = 0; i < boxes.length; i++) { setup(boxes[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
