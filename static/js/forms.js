// Moves focus to the error summary so screen reader users hear what went wrong.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
})();
