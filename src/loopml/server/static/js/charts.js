// Metric charts of the run and compare pages: lines drawn with uPlot, bars as SVG.
//
// The page lists the runs and metric keys in <script type="application/json" id="chart-data">
// ({runs: [{id, name}], metrics: [key], max_points: N, and optionally logged: [[bool per
// run] per metric], saying which runs logged each metric: the others are not fetched});
// each <figure class="chart"> with data-metric-index=i gets one chart of metrics[i], with
// one line per run. The points come from the metric API, already downsampled on the server.
// When a chart is drawn its figure gets data-state="drawn", data-kind="lines",
// data-points=<points drawn> and data-drawn-ms=<milliseconds since the page's navigation
// started>; on failure data-state="error". On a one-run page, a metric with a single point
// gets no chart (data-state="single", hidden). With several runs, a metric that no run
// logged more than once has no history to draw: it gets a horizontal bar chart instead
// (data-kind="bars"), one bar per run in the page's run order, each a <rect data-run=id>;
// NaN, the infinities and runs without the metric get a text label instead of a bar. Bar
// charts move into #bar-charts when the page has it.
(function () {
  "use strict";

  var HEIGHT = 220;
  var MAX_PARALLEL = 6;
  var FEW_POINTS = 40;
  var SVG = "http://www.w3.org/2000/svg";
  var BAR_ROW = 30; // px per run in a bar chart
  var BAR_THICKNESS = 18;
  var BAR_PAD = 8; // above the first and below the last bar
  var charts = [];
  var barCharts = [];
  window.loopmlCharts = charts;

  function palette(i) {
    var colours = window.loopmlPalette || ["#1f77b4"];
    return colours[i % colours.length];
  }

  function number(value) {
    // The API sends NaN and the infinities as strings; a chart shows them as gaps.
    return typeof value === "number" && isFinite(value) ? value : null;
  }

  function metricUrl(runId, key, maxPoints) {
    return "/api/v1/runs/" + encodeURIComponent(runId) + "/metrics/" +
      encodeURIComponent(key) + "?max_points=" + encodeURIComponent(String(maxPoints));
  }

  function fetchSeries(runId, key, maxPoints) {
    return fetch(metricUrl(runId, key, maxPoints), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("the server answered " + response.status);
      }
      return response.json();
    });
  }

  // Run tasks (functions returning promises) with at most `limit` in flight.
  function pool(tasks, limit) {
    var next = 0;
    function worker() {
      if (next >= tasks.length) {
        return Promise.resolve();
      }
      var task = tasks[next++];
      return task().then(worker, worker);
    }
    var workers = [];
    for (var i = 0; i < Math.min(limit, tasks.length); i++) {
      workers.push(worker());
    }
    return Promise.all(workers);
  }

  function chartData(seriesList) {
    if (seriesList.length === 1) {
      var s = seriesList[0];
      return [s.steps, s.values.map(number)];
    }
    var tables = seriesList.map(function (s) {
      return [s.steps, s.values.map(number)];
    });
    return window.uPlot.join(tables);
  }

  function width(element) {
    return Math.max(240, Math.floor(element.getBoundingClientRect().width));
  }

  function pointCount(s) {
    return typeof s.n_points === "number" ? s.n_points : s.steps.length;
  }

  // Like Python's "{:.6g}", as the page's tables show numbers.
  function formatNumber(v) {
    if (v === 0) {
      return "0";
    }
    var exponent = Math.floor(Math.log10(Math.abs(v)));
    if (exponent < -4 || exponent >= 6) {
      return v.toExponential(5).replace(/\.?0+e/, "e");
    }
    return String(Number(v.toPrecision(6)));
  }

  // What a bar chart shows for one run: a finite value gets a bar, anything else a text.
  function barValue(series) {
    if (!series.steps.length) {
      return { bar: false, text: "not logged", spoken: "not logged", kind: "missing" };
    }
    var raw = series.values[0];
    if (typeof raw === "number" && isFinite(raw)) {
      var shown = formatNumber(raw);
      return { bar: true, value: raw, text: shown, spoken: shown, step: series.steps[0] };
    }
    var labels = {
      "Infinity": ["+Inf", "infinity"],
      "-Infinity": ["-Inf", "minus infinity"],
    };
    var label = labels[String(raw)] || ["NaN", "NaN (not a number)"];
    return { bar: false, text: label[0], spoken: label[1], kind: "nonfinite", step: series.steps[0] };
  }

  function svgNode(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) {
      node.setAttribute(k, String(attrs[k]));
    });
    if (parent) {
      parent.appendChild(node);
    }
    return node;
  }

  function svgText(parent, x, y, content, cls, anchor) {
    var node = svgNode("text", { x: x, y: y, "class": cls, "text-anchor": anchor }, parent);
    node.textContent = content;
    return node;
  }

  // Shorten a <text> with an ellipsis until it fits in maxWidth pixels.
  function fit(node, full, maxWidth) {
    if (node.getComputedTextLength() <= maxWidth) {
      return;
    }
    var keep = full.length;
    while (keep > 1 && node.getComputedTextLength() > maxWidth) {
      keep -= 1;
      node.textContent = full.slice(0, keep) + "\u2026";
    }
  }

  // A horizontal bar chart: a name column, bars from a zero line, a value after each bar.
  function drawBars(target, runs, rows) {
    while (target.firstChild) {
      target.removeChild(target.firstChild);
    }
    var w = width(target);
    var h = BAR_PAD * 2 + rows.length * BAR_ROW;
    var svg = svgNode("svg", {
      width: w,
      height: h,
      viewBox: "0 0 " + w + " " + h,
      "class": "bars",
      focusable: "false",
      "aria-hidden": "true",
    }, target);
    var middle = function (i) { return BAR_PAD + i * BAR_ROW + BAR_ROW / 2; };

    // One group per run, whose title shows the run's full name and value on hover.
    var groups = runs.map(function (run, i) {
      var g = svgNode("g", { "class": "bar-row" }, svg);
      svgNode("title", {}, g).textContent = run.name + ": " + rows[i].text;
      return g;
    });

    // Run names on the left, right-aligned against the bars, at most a quarter of the width.
    var nameNodes = runs.map(function (run, i) {
      return svgText(groups[i], 0, middle(i), run.name, "bar-name", "end");
    });
    var nameWidth = 0;
    nameNodes.forEach(function (node, i) {
      fit(node, runs[i].name, Math.floor(w * 0.25));
      nameWidth = Math.max(nameWidth, node.getComputedTextLength());
    });
    var nameRight = Math.ceil(nameWidth) + 4;
    nameNodes.forEach(function (node) { node.setAttribute("x", String(nameRight)); });

    // Room for the value labels: measured, on the side(s) where bars can end.
    var values = rows.filter(function (r) { return r.bar; }).map(function (r) { return r.value; });
    var lo = Math.min.apply(null, [0].concat(values));
    var hi = Math.max.apply(null, [0].concat(values));
    if (lo === hi) {
      hi = 1;
    }
    var probe = svgText(svg, 0, 0, "", "bar-value", "start");
    var labelWidth = 0;
    rows.forEach(function (r) {
      probe.textContent = r.text;
      labelWidth = Math.max(labelWidth, probe.getComputedTextLength());
    });
    svg.removeChild(probe);
    var gap = 6;
    var room = Math.ceil(labelWidth) + gap + 2;
    var left = nameRight + 12 + (lo < 0 ? room : 0);
    var right = w - room;
    if (right - left < 40) {
      right = left + 40;
    }
    var x = function (v) { return left + ((v - lo) / (hi - lo)) * (right - left); };
    var zero = x(0);

    rows.forEach(function (r, i) {
      var y = middle(i);
      if (!r.bar) {
        svgText(groups[i], zero + gap, y, r.text, "bar-value bar-" + r.kind, "start");
        return;
      }
      var end = x(r.value);
      svgNode("rect", {
        x: Math.min(zero, end).toFixed(1),
        y: (y - BAR_THICKNESS / 2).toFixed(1),
        width: Math.max(1, Math.abs(end - zero)).toFixed(1),
        height: BAR_THICKNESS,
        rx: 2,
        fill: palette(i),
        "class": "bar",
        "data-run": runs[i].id,
      }, groups[i]);
      var negative = r.value < 0;
      svgText(groups[i], negative ? end - gap : end + gap, y, r.text, "bar-value",
        negative ? "end" : "start");
    });
    svgNode("line", { x1: zero, x2: zero, y1: 2, y2: h - 2, "class": "bar-zero" }, svg);
  }

  function bars(figure, key, runs, seriesList) {
    var target = figure.querySelector(".chart-canvas");
    var note = figure.querySelector(".chart-note");
    var rows = seriesList.map(barValue);
    var steps = [];
    rows.forEach(function (r) {
      if (typeof r.step === "number" && steps.indexOf(r.step) < 0) {
        steps.push(r.step);
      }
    });
    figure.dataset.kind = "bars";
    // Bar charts are short: grouped apart from the line charts (in the page's metric order),
    // they share rows with each other rather than leave gaps beside a tall line chart.
    var group = document.getElementById("bar-charts");
    if (group) {
      var index = Number(figure.dataset.metricIndex);
      var before = null;
      Array.prototype.forEach.call(group.children, function (other) {
        if (!before && Number(other.dataset.metricIndex) > index) {
          before = other;
        }
      });
      group.insertBefore(figure, before);
      group.hidden = false;
    }
    target.setAttribute("aria-label", "Bar chart of metric " + key + ", one value per run: " +
      runs.map(function (run, i) { return run.name + " " + rows[i].spoken; }).join("; "));
    // Focusable, so that a keyboard user reaches the chart and a screen reader reads its label.
    target.tabIndex = 0;
    drawBars(target, runs, rows);
    barCharts.push({ target: target, runs: runs, rows: rows });
    if (note) {
      note.textContent = steps.length === 1
        ? "(one value per run, at step " + steps[0].toLocaleString() + ")"
        : "(one value per run)";
    }
    figure.dataset.points = String(rows.filter(function (r) { return r.step !== undefined; }).length);
    figure.dataset.drawnMs = String(Math.round(window.performance.now()));
    figure.dataset.state = "drawn";
  }

  function draw(figure, key, runs, seriesList) {
    var target = figure.querySelector(".chart-canvas");
    var note = figure.querySelector(".chart-note");
    var drawn = 0;
    var total = 0;
    seriesList.forEach(function (s) {
      drawn += s.steps.length;
      total += pointCount(s);
    });
    if (runs.length > 1 && seriesList.every(function (s) { return pointCount(s) <= 1; })) {
      // No run has a history of this metric: a line chart would be a few lone dots.
      bars(figure, key, runs, seriesList);
      return;
    }
    var opts = {
      width: width(target),
      height: HEIGHT,
      scales: { x: { time: false } },
      legend: { show: runs.length > 1 },
      cursor: { drag: { x: true, y: false } },
      axes: [{ label: "step" }, { size: 64 }],
      series: [{ label: "step" }].concat(runs.map(function (run, i) {
        // Few points are drawn as dots too, so that a single point is visible.
        var few = seriesList[i].steps.length <= FEW_POINTS;
        return {
          label: run.name,
          stroke: palette(i),
          width: 1.5,
          spanGaps: true,
          points: { show: few, size: 7, fill: palette(i) },
        };
      })),
    };
    if (runs.length === 1 && drawn <= 1) {
      // A metric logged once has no history to draw: the page's table shows its value.
      figure.hidden = true;
      figure.dataset.state = "single";
      var hint = document.getElementById("single-metrics-note");
      if (hint) {
        hint.hidden = false;
      }
      return;
    }
    figure.dataset.kind = "lines";
    var plot = new window.uPlot(opts, chartData(seriesList), target);
    charts.push({ key: key, plot: plot, target: target, points: drawn });
    if (note) {
      note.textContent = total > drawn
        ? "(" + total.toLocaleString() + " points, " + drawn.toLocaleString() + " shown)"
        : "(" + total.toLocaleString() + (total === 1 ? " point)" : " points)");
    }
    figure.dataset.points = String(drawn);
    // Milliseconds from the start of the page's navigation until this chart was drawn.
    figure.dataset.drawnMs = String(Math.round(window.performance.now()));
    figure.dataset.state = "drawn";
  }

  function fail(figure, error) {
    figure.dataset.state = "error";
    var note = figure.querySelector(".chart-note");
    if (note) {
      note.textContent = "(could not load: " + error.message + ")";
    }
  }

  function start() {
    var block = document.getElementById("chart-data");
    if (!block || !window.uPlot) {
      return;
    }
    var data = JSON.parse(block.textContent);
    var tasks = [];
    document.querySelectorAll("figure.chart[data-metric-index]").forEach(function (figure) {
      var index = Number(figure.dataset.metricIndex);
      var key = data.metrics[index];
      var logged = data.logged ? data.logged[index] : null;
      figure.dataset.state = "loading";
      tasks.push(function () {
        return Promise.all(data.runs.map(function (run, r) {
          if (logged && !logged[r]) {
            return Promise.resolve({ steps: [], values: [], n_points: 0 });
          }
          return fetchSeries(run.id, key, data.max_points).catch(function (error) {
            return { failed: error };
          });
        })).then(function (results) {
          var failures = results.filter(function (r) { return r.failed; });
          if (failures.length === results.length) {
            throw failures[0].failed;
          }
          // A run without this metric draws no line; the others still do.
          draw(figure, key, data.runs, results.map(function (r) {
            return r.failed ? { steps: [], values: [], n_points: 0 } : r;
          }));
        }).catch(function (error) {
          fail(figure, error);
        });
      });
    });
    pool(tasks, MAX_PARALLEL);
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        charts.forEach(function (chart) {
          chart.plot.setSize({ width: width(chart.target), height: HEIGHT });
        });
        barCharts.forEach(function (chart) {
          drawBars(chart.target, chart.runs, chart.rows);
        });
      }, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
