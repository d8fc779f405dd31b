// The embed builder (/embed): as the options change, fetch the new codes and preview addresses
// from /embed/codes.json, and copy a code with one click. Without JavaScript the form still works.
// What it says comes from the form's data-failed, data-copied and data-select, in the page's language.
(function () {
  "use strict";
  var form = document.getElementById("embed-options");
  if (!form || !window.fetch || !window.URLSearchParams) return;
  var status = document.getElementById("copy-status");
  var frame = document.getElementById("preview-frame");
  var badge = document.getElementById("preview-badge");
  var requested = 0;

  function say(message) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function query() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (value && !(name === "accent" && value.toLowerCase() === "#5a2a82")) params.append(name, value);
    });
    return params.toString();
  }

  function show(data) {
    Object.keys(data.codes).forEach(function (kind) {
      document.getElementById("code-" + kind).textContent = data.codes[kind];
    });
    if (frame.getAttribute("src") !== data.frame.src) frame.src = data.frame.src;
    frame.width = data.frame.width;
    frame.height = data.frame.height;
    badge.src = data.badge.src;
    badge.width = data.badge.width;
    badge.height = data.badge.height;
  }

  function refresh() {
    var current = ++requested, params = query();
    fetch(form.getAttribute("data-codes-url") + "?" + params, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (current !== requested) return;
        if (data.error) return say(data.error.message);
        show(data);
        window.history.replaceState(null, "", "?" + params);
      })
      .catch(function () { say(form.getAttribute("data-failed")); });
  }

  form.addEventListener("change", refresh);
  form.querySelector("[data-update]").hidden = true;

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var code = document.getElementById(button.getAttribute("data-copy"));
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = code.textContent;
      var copied = navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject();
      copied.then(
        function () { say(form.getAttribute("data-copied")); },
        function () {
          window.getSelection().selectAllChildren(code);
          say(form.getAttribute("data-select"));
        }
      );
    });
  });
})();
