/* eigyo dashboard: draw the charts a page or an HTMX fragment carries, show upload progress.
   Chart data sits in <script type="application/json"> blocks (never executed); this file is the
   only script of the page besides Plotly and HTMX, so the CSP can forbid inline scripts. */
(function () {
  "use strict";
  var config = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"]};

  function drawCharts(root) {
    if (typeof Plotly === "undefined") { return; }
    var blocks = (root || document).querySelectorAll("script.chart-data");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      if (block.dataset.drawn) { continue; }
      var el = document.getElementById(block.dataset.target);
      if (!el) { continue; }
      var fig = JSON.parse(block.textContent);
      Plotly.newPlot(el, fig.data, fig.layout, config);
      linkBars(el);
      block.dataset.drawn = "1";
    }
    document.documentElement.dataset.chartsReady = "1";
  }

  /* A mark's click opens its records: the link under the chart that lists the clicked point
     (data-points: "trace:point", a heatmap's point "row,column"), else whose data-x is the
     mark's label (the same links work without JavaScript). */
  function linkBars(el) {
    var list = document.querySelector('.bar-links[data-plot="' + el.id + '"]');
    if (!list || typeof el.on !== "function") { return; }
    el.classList.add("clickable");
    el.on("plotly_click", function (ev) {
      var p = ev && ev.points && ev.points[0];
      if (!p || p.sourceLinks) { return; }  // a Sankey's node is not a mark; its links are
      var id = String(p.curveNumber || 0) + ":" + String(p.pointNumber);
      var x = String(p.data && p.data.orientation === "h" ? p.y : p.x);
      var links = list.querySelectorAll("a.bar-link");
      for (var i = 0; i < links.length; i++) {
        if ((" " + (links[i].dataset.points || "") + " ").indexOf(" " + id + " ") >= 0) {
          window.location.assign(links[i].href); return;
        }
      }
      for (var j = 0; j < links.length; j++) {
        if (links[j].dataset.x === x) { window.location.assign(links[j].href); return; }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSwap", function (e) { drawCharts(e.target); });
  // a box whose refusals are sentences for the box itself (data-swap-errors: the simulation's
  // "choose one candidate", "busy"): htmx leaves 4xx/5xx answers unswapped unless told
  document.addEventListener("htmx:beforeSwap", function (e) {
    var elt = e.detail.elt;
    if (e.detail.isError && elt && elt.closest && elt.closest("[data-swap-errors]")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  document.addEventListener("htmx:xhr:progress", function (e) {
    var bar = document.getElementById("upload-progress");
    if (bar && e.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round(e.detail.loaded / e.detail.total * 100);
    }
  });
})();
