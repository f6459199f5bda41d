// Filters of the findings table. Without this script the page reads fully: nothing is hidden
// by default, and the form (useless without it) stays hidden. When it has run, it marks
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
    form.hidden = false;
    apply();
  }
  document.documentElement.setAttribute("data-js", "ok");
})();
