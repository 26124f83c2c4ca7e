// Metric charts of the run and compare pages, drawn with uPlot.
//
// The page lists the runs and metric keys in <script type="application/json" id="chart-data">
// ({runs: [{id, name}], metrics: [key], max_points: N}); each <figure class="chart"> with
// data-metric-index=i gets one chart of metrics[i], with one line per run. The points come
// from the metric API, already downsampled on the server. When a chart is drawn its figure
// gets data-state="drawn", data-points=<points drawn> and data-drawn-ms=<milliseconds since
// the page's navigation started>; on failure data-state="error". On a one-run page, a
// metric with a single point gets no chart (data-state="single", hidden).
(function () {
  "use strict";

  var HEIGHT = 220;
  var MAX_PARALLEL = 6;
  var FEW_POINTS = 40;
  var charts = [];
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

  function draw(figure, key, runs, seriesList) {
    var target = figure.querySelector(".chart-canvas");
    var note = figure.querySelector(".chart-note");
    var drawn = 0;
    var total = 0;
    seriesList.forEach(function (s) {
      drawn += s.steps.length;
      total += typeof s.n_points === "number" ? s.n_points : s.steps.length;
    });
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
      var key = data.metrics[Number(figure.dataset.metricIndex)];
      figure.dataset.state = "loading";
      tasks.push(function () {
        return Promise.all(data.runs.map(function (run) {
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
      }, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
