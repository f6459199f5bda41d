// Filters of the findings table. Without this script the page reads fully: nothing is hidden
// by default, and the form (useless without it) stays hidden. The page's query string may
// preselect them (report.html?enterprise=E01&status=missing). When it has run, it marks
// <html data-js="ok">.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var table = document.getElementById("findings-table");
  if (form && table && table.tBodies.length) {
    var selects = form.querySelectorAll("select");
    var rows = table.tBodies[0].querySelectorAll("tr.finding");
    var count = document.getElementById("filter-count");
    var apply = function () {
      var shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var keep = true;
        for (var j = 0; j < selects.length; j++) {
          var want = selects[j].value;
          if (want && rows[i].getAttribute("data-" + selects[j].name) !== want) {
            keep = false;
          }
        }
        rows[i].hidden = !keep;
        if (keep) {
          shown += 1;
        }
      }
      count.textContent = "显示 " + shown + " / " + rows.length + " 项";
    };
    form.addEventListener("change", apply);
    form.addEventListener("reset", function () {
      window.setTimeout(apply, 0);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
    });
    // ?enterprise=E01&status=late&rule=… preselects the filters (a link to a view)
    var params = new URLSearchParams(window.location.search);
    for (var k = 0; k < selects.length; k++) {
      var given = params.get(selects[k].name);
      if (given !== null && selects[k].querySelector("option[value=\"" + CSS.escape(given) + "\"]")) {
        selects[k].value = given;
      }
    }
    form.hidden = false;
    apply();
  }
  document.documentElement.setAttribute("data-js", "ok");
})();
