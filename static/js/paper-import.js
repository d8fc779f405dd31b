// The paper-form import's progress bar: starts the import, then sends the previewed file back in
// batches, moving the bar after each; the server imports the next rows each time. Without this
// script the form posts normally and the server imports every row before showing the result.
// Its words come from the form's data-text-* attributes, in the page's language.
(function () {
  "use strict";
  var form = document.querySelector("[data-paper-import]");
  if (!form || !window.fetch || !window.FormData) return;
  var box = form.querySelector("[data-paper-progress]");
  var bar = box.querySelector("progress");
  var status = box.querySelector("[data-paper-status]");
  var button = form.querySelector("button");
  var text = form.dataset;

  function filled(template, done) {
    return template.split("{done}").join(String(done));
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || text.textStopped);
        return data;
      });
    });
  }

  function show(data) {
    bar.max = data.total;
    bar.value = data.processed;
    bar.textContent = filled(text.textProgress, data.processed);
    status.textContent = filled(text.textDone, data.processed);
  }

  function next(data) {
    show(data);
    if (data.finished) {
      window.location.assign(data.result_url);
      return;
    }
    var body = new FormData();
    body.append("csrf_token", form.elements.csrf_token.value);
    body.append("text", form.elements.text.value);
    return post(data.batch_url, body).then(next);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    box.hidden = false;
    status.textContent = text.textStarting;
    post(form.action, new FormData(form))
      .then(next)
      .catch(function (error) {
        status.textContent = error.message + " " + text.textReload;
      });
  });
})();
