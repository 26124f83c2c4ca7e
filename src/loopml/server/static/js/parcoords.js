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
  var EXTRA_TOP = 70; // room for slanted axis names

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
    var estimate = axes.length > 1 ? (width - MARGIN.left - MARGIN.right) / (axes.length - 1) : width;
    var crowded = estimate < 110;
    var height = HEIGHT + (crowded ? EXTRA_TOP : 0);
    var svg = el("svg", {
      width: width,
      height: height,
      viewBox: "0 0 " + width + " " + height,
      "class": "parcoords",
      focusable: "false",
    }, container);
    var top = MARGIN.top + (crowded ? EXTRA_TOP : 0);
    var bottom = height - MARGIN.bottom;
    // Slanted names run up and to the right: the last ones need room on that side.
    var span = width - MARGIN.left - (crowded ? 150 : MARGIN.right);
    var xs = axes.map(function (_, i) {
      return axes.length > 1 ? MARGIN.left + (i * span) / (axes.length - 1) : width / 2;
    });
    var scales = axes.map(function (axis) { return scale(axis, top, bottom); });
    var spacing = axes.length > 1 ? span / (axes.length - 1) : span;
    var labelChars = Math.max(6, Math.floor(spacing / 7.5));

    // Lines first, axes and their labels on top of them.
    var lines = el("g", { "class": "lines" }, svg);
    axes.forEach(function (axis, i) {
      var g = el("g", { "class": "axis axis-" + axis.kind }, svg);
      el("line", { x1: xs[i], x2: xs[i], y1: top, y2: bottom }, g);
      var label;
      if (crowded) {
        // Close axes get slanted names, which have room whatever their length.
        label = text(g, xs[i], top - 10, shorten(axis.label, 24), "axis-label rotated", "start");
        label.setAttribute("transform", "rotate(-35 " + xs[i] + " " + (top - 10) + ")");
      } else {
        label = text(g, xs[i], top - 10, shorten(axis.label, labelChars), "axis-label");
      }
      el("title", {}, label).textContent = axis.kind + " " + axis.label;
      var ticks = scales[i].ticks;
      if (crowded && axis.numeric) {
        ticks = [ticks[0], ticks[ticks.length - 1]];
      }
      ticks.forEach(function (tick) {
        el("line", { x1: xs[i] - 4, x2: xs[i], y1: tick.y, y2: tick.y, "class": "tick" }, g);
        text(g, xs[i] - 6, tick.y + 4, tick.label, "tick-label", "end");
      });
    });

    var drawn = 0;
    data.runs.forEach(function (run, r) {
      var d = "";
      var pen = false;
      var points = [];
      axes.forEach(function (axis, i) {
        var y = scales[i].y(axis.values[r]);
        if (y === null) {
          pen = false;
          return;
        }
        d += (pen ? " L " : " M ") + xs[i].toFixed(1) + " " + y.toFixed(1);
        points.push([xs[i], y]);
        pen = true;
      });
      if (!d) {
        return;
      }
      var colours = window.loopmlPalette || ["#1f77b4"];
      var colour = colours[r % colours.length];
      var group = el("g", { "class": "run", "data-run": run.id }, lines);
      el("title", {}, group).textContent = run.name;
      el("path", { d: d.trim(), "class": "run", stroke: colour }, group);
      // Dots too, so that a value between two missing ones still shows.
      points.forEach(function (p) {
        el("circle", { cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: 3, fill: colour }, group);
      });
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
