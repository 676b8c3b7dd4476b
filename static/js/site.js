/* Every page: the header's unread count, and confirmations asked in the page
 * (a <dialog>, never window.confirm).  No inline script anywhere: the
 * Content-Security-Policy allows only this site's own files. */
(function () {
  "use strict";

  // --- the header's unread count ------------------------------------------------
  // A page that learns a new count (the room page, from its socket's
  // "notification" frame) tells the header with:
  //   document.dispatchEvent(new CustomEvent("ic:unread", {detail: {unread: n}}))
  var count = document.getElementById("header-unread");
  var link = document.getElementById("header-notifications");
  function setUnread(n) {
    if (!count || !link || typeof n !== "number" || n < 0) return;
    link.dataset.unread = String(n);
    count.firstChild.nodeValue = String(n);
    count.hidden = n === 0;
  }
  document.addEventListener("ic:unread", function (ev) {
    setUnread(ev.detail && ev.detail.unread);
  });

  // --- confirmations ---------------------------------------------------------------
  // <form data-confirm="Question?" data-confirm-button="Do it"> asks first;
  // data-confirm-when-action="ban" asks only when its "action" select says so.
  var dialog = null;
  var pending = null;

  function buildDialog() {
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-text");
    var text = document.createElement("p");
    text.id = "confirm-text";
    var row = document.createElement("div");
    row.className = "actions";
    var ok = document.createElement("button");
    ok.type = "button";
    ok.id = "confirm-ok";
    ok.className = "primary";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.id = "confirm-cancel";
    cancel.textContent = "Cancel";
    row.append(ok, cancel);
    dialog.append(text, row);
    document.body.appendChild(dialog);
    cancel.addEventListener("click", function () { dialog.close(); });
    ok.addEventListener("click", function () {
      var p = pending;
      pending = null;
      dialog.close();
      if (p) {
        p.form.dataset.confirmed = "yes";
        if (p.submitter && p.form.requestSubmit) p.form.requestSubmit(p.submitter);
        else p.form.submit();
      }
    });
    dialog.addEventListener("close", function () {
      // Escape or Cancel: nothing happens, and focus goes back where it was.
      if (pending && pending.submitter) pending.submitter.focus();
      pending = null;
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    var when = form.dataset.confirmWhenAction;
    if (when && !(form.elements.action && form.elements.action.value === when)) return;
    if (form.dataset.confirmed === "yes") {
      delete form.dataset.confirmed;
      return;
    }
    ev.preventDefault();
    if (!dialog) buildDialog();
    pending = { form: form, submitter: ev.submitter || null };
    dialog.querySelector("#confirm-text").textContent = form.dataset.confirm;
    var ok = dialog.querySelector("#confirm-ok");
    ok.textContent = form.dataset.confirmButton || "Yes, go ahead";
    ok.className = form.querySelector("button.danger") ? "danger" : "primary";
    dialog.showModal();
    dialog.querySelector("#confirm-cancel").focus();
  }, true);
})();
