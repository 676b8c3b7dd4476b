/* The library's pages: share a resource into the live room without leaving the
   page, and show only the fields that fit the chosen kind on the resource form.
   No inline script anywhere: everything is read from data-* attributes. */
(function () {
  "use strict";

  function newId() {
    if (window.crypto && crypto.randomUUID) return "s-" + crypto.randomUUID().replace(/-/g, "");
    return "s-" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // Share forms (circle page, resource page): POST, then say what happened.
  document.querySelectorAll("form[data-share]").forEach(function (form) {
    if (form.dataset.bound) return; // the script may be included twice on one page
    form.dataset.bound = "1";
    var status = form.querySelector(".lib-share-status");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      status.textContent = "Sharing…";
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json().then(function (data) {
            return { ok: response.ok, data: data };
          });
        })
        .then(function (result) {
          status.textContent = result.data.message || (result.ok ? "Shared." : "That did not work.");
          status.dataset.state = result.ok && result.data.verdict !== "blocked" ? "ok" : "error";
          if (result.ok) {
            // The next share is a new message; a retry of this one would not be.
            var id = form.querySelector("input[name=client_id]");
            if (id) id.value = newId();
          }
        })
        .catch(function () {
          status.textContent = "The connection dropped. Please try again.";
          status.dataset.state = "error";
        })
        .finally(function () {
          button.disabled = false;
        });
    });
  });

  // Resource form: playlist fields for playlists, prompts for worksheets and prompts.
  var form = document.getElementById("resource-form");
  if (form) {
    var kind = form.querySelector("select[name=kind]");
    var groups = form.querySelectorAll(".lib-kind-fields");
    var sync = function () {
      groups.forEach(function (group) {
        var kinds = (group.dataset.for || "").split(" ");
        var wanted = kinds.indexOf(kind.value) !== -1;
        var hasError = group.querySelector(".error");
        group.hidden = !wanted && !hasError;
      });
    };
    if (kind) {
      kind.addEventListener("change", sync);
      sync();
    }
  }
})();
