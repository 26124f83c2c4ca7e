// Parallel coordinates of the compare page, drawn as SVG.
//
// Reads <script type="application/json" id="parallel-data">:
//   {runs: [{id, name}], axes: [{label, kind: "param"|"metric", numeric, values: [per run]}]}
// and draws into #parallel-chart one vertical axis per entry of `axes` and one line per
// run. Numeric axes are linear from the smallest to the largest value; categorical axes
// space their distinct values evenly. A missing value breaks the run's line. When drawn,
// the container gets data-state="drawn" and data-lines=<number of runs drawn>.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var HEIGHT = 360;
  var MARGIN = { top: 48, right: 70, bottom: 28, left: 70 };

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) {
      node.setAttribute(k, String(attrs[k]));
    });
    if (parent) {
      parent.appendChild(node);
    }
    return node;
  }

  function text(parent, x, y, content, cls, anchor) {
    var node = el("text", { x: x, y: y, "class": cls, "text-anchor": anchor || "middle" }, parent);
    node.textContent = content;
    return node;
  }

  function shorten(value, n) {
    var s = String(value);
    return s.length > n ? s.slice(0, n - 1) + "…" : s;
  }

  function formatNumber(v) {
    if (v === 0) {
      return "0";
    }
    var a = Math.abs(v);
    return a >= 1e5 || a < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(4)));
  }

  // A function from value to y (or null when the value is missing) plus tick labels.
  function scale(axis, top, bottom) {
    if (axis.numeric) {
      var finite = axis.values.filter(function (v) { return typeof v === "number"; });
      var lo = Math.min.apply(null, finite);
      var hi = Math.max.apply(null, finite);
      if (!finite.length) {
        lo = 0;
        hi = 1;
      } else if (lo === hi) {
        lo -= 1;
        hi += 1;
      }
      return {
        y: function (v) {
          return typeof v === "number" ? bottom - ((v - lo) / (hi - lo)) * (bottom - top) : null;
        },
        ticks: [[lo, bottom], [(lo + hi) / 2, (top + bottom) / 2], [hi, top]].map(function (t) {
          return { label: formatNumber(t[0]), y: t[1] };
        }),
      };
    }
    var categories = [];
    axis.values.forEach(function (v) {
      if (v !== null && categories.indexOf(v) < 0) {
        categories.push(v);
      }
    });
    categories.sort();
    var step = categories.length > 1 ? (bottom - top) / (categories.length - 1) : 0;
    var position = function (v) {
      var i = categories.indexOf(v);
      if (i < 0) {
        return null;
      }
      return categories.length > 1 ? bottom - i * step : (top + bottom) / 2;
    };
    return {
      y: position,
      ticks: categories.map(function (c) {
        return { label: shorten(c, 14), y: position(c) };
      }),
    };
  }

  function draw(container, data) {
    while (container.firstChild) {
      container.removeChild(container.firstChild);
    }
    var axes = data.axes;
    if (!axes.length) {
      var p = document.createElement("p");
      p.className = "empty";
      p.textContent = "The runs share every param and logged no metrics: nothing to compare.";
      container.appendChild(p);
      container.dataset.state = "empty";
      return;
    }
    var width = Math.max(480, Math.floor(container.getBoundingClientRect().width));
    var svg = el("svg", {
      width: width,
      height: HEIGHT,
      viewBox: "0 0 " + width + " " + HEIGHT,
      "class": "parcoords",
      focusable: "false",
    }, container);
    var top = MARGIN.top;
    var bottom = HEIGHT - MARGIN.bottom;
    var span = width - MARGIN.left - MARGIN.right;
    var xs = axes.map(function (_, i) {
      return axes.length > 1 ? MARGIN.left + (i * span) / (axes.length - 1) : width / 2;
    });
    var scales = axes.map(function (axis) { return scale(axis, top, bottom); });
    var spacing = axes.length > 1 ? span / (axes.length - 1) : span;
    var crowded = spacing < 130;
    var labelChars = Math.max(6, Math.floor((crowded ? 2 * spacing : spacing) / 7.5));

    // Lines first, axes and their labels on top of them.
    var lines = el("g", { "class": "lines" }, svg);
    axes.forEach(function (axis, i) {
      var g = el("g", { "class": "axis axis-" + axis.kind }, svg);
      el("line", { x1: xs[i], x2: xs[i], y1: top, y2: bottom }, g);
      // When axes are close, alternate label rows so that neighbouring names do not overlap.
      var raised = crowded && i % 2 === 1;
      var label = text(g, xs[i], raised ? top - 24 : top - 10, shorten(axis.label, labelChars), "axis-label");
      el("title", {}, label).textContent = axis.kind + " " + axis.label;
      scales[i].ticks.forEach(function (tick) {
        el("line", { x1: xs[i] - 4, x2: xs[i], y1: tick.y, y2: tick.y, "class": "tick" }, g);
        text(g, xs[i] - 6, tick.y + 4, tick.label, "tick-label", "end");
      });
    });

    var drawn = 0;
    data.runs.forEach(function (run, r) {
      var d = "";
      var pen = false;
      axes.forEach(function (axis, i) {
        var y = scales[i].y(axis.values[r]);
        if (y === null) {
          pen = false;
          return;
        }
        d += (pen ? " L " : " M ") + xs[i].toFixed(1) + " " + y.toFixed(1);
        pen = true;
      });
      if (!d) {
        return;
      }
      var colours = window.loopmlPalette || ["#1f77b4"];
      var path = el("path", {
        d: d.trim(),
        "class": "run",
        stroke: colours[r % colours.length],
        "data-run": run.id,
      }, lines);
      el("title", {}, path).textContent = run.name;
      drawn += 1;
    });
    container.dataset.lines = String(drawn);
    container.dataset.state = "drawn";
  }

  function start() {
    var block = document.getElementById("parallel-data");
    var container = document.getElementById("parallel-chart");
    if (!block || !container) {
      return;
    }
    var data = JSON.parse(block.textContent);
    draw(container, data);
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { draw(container, data); }, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
