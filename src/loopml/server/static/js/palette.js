// Colours of runs in charts, legends and parallel coordinates (the same order as the
// .c0 ... .c9 classes in css/loopml.css). Tableau 10: distinguishable for most readers.
(function () {
  "use strict";
  window.loopmlPalette = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  ];
})();
