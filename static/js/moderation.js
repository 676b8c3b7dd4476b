/* The moderators' pages, live.
 *
 * Site moderators: the moderators' socket brings crisis alerts (a banner at the
 * top of every moderation page, with "I am on it") and queue changes (the queue
 * refetches its list, keeping the filters; new reports appear without a reload).
 * When anyone acknowledges an alert, its banner clears on every screen.
 * Facilitators have no socket (it carries every circle's alerts): their queue
 * refreshes every 30 seconds.  Reconnects with back-off. */
(function () {
  "use strict";
  var live = document.getElementById("staff-live");
  if (!live) return;
  var queue = document.getElementById("queue");
  var status = document.getElementById("queue-status");
  var alerts = document.getElementById("alerts");
  var attempt = 0;
  var refreshTimer = null;
  var POLL_MS = 30000;

  function setStatus(state, text) {
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- the queue list -----------------------------------------------------------

  function busyHere() {
    // Keep what a reviewer is doing: no refresh while any decision is half made
    // (a decision chosen or a reason typed), wherever the focus went meanwhile.
    return Array.prototype.some.call(queue.querySelectorAll("form.review-form"), function (form) {
      return (form.elements.reason && form.elements.reason.value.trim()) ||
        (form.elements.action && form.elements.action.value);
    });
  }

  function refresh(delay) {
    if (!queue) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      if (busyHere()) {
        setStatus("live", "Live · new changes show when you finish this decision");
        refresh(2000);
        return;
      }
      queue.setAttribute("aria-busy", "true");
      fetch(queue.dataset.fragmentUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.text();
        })
        .then(function (html) {
          queue.innerHTML = html;
          queue.setAttribute("aria-busy", "false");
          syncAllMinutes();
          tickWaited();
          setStatus(live.dataset.live === "socket" ? "live" : "polling",
            live.dataset.live === "socket" ? "Live" : "Updates every 30 seconds");
        })
        .catch(function () {
          queue.setAttribute("aria-busy", "false");
          setStatus("error", "Could not refresh the queue; trying again…");
          refresh(5000);
        });
    }, delay === undefined ? 300 : delay);
  }

  // --- crisis banners -------------------------------------------------------------

  function clearBanner(flag) {
    alerts.querySelectorAll('.alert-banner[data-flag="' + flag + '"]').forEach(function (b) { b.remove(); });
  }

  function showAlert(a) {
    clearBanner(a.flag);
    var box = document.createElement("div");
    box.className = "alert-banner";
    box.dataset.flag = a.flag;
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Crisis alert");
    var title = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = (a.repeat ? "Still nobody on it: " : "Crisis alert: ") + a.alias + " in " + a.circle;
    var waited = document.createElement("time");
    waited.className = "waited";
    waited.dateTime = a.created_at;
    title.append(strong, " · waiting ", waited);
    var excerpt = document.createElement("p");
    excerpt.className = "excerpt";
    excerpt.textContent = "\u201c" + a.excerpt + "\u201d";
    var row = document.createElement("div");
    row.className = "actions";
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/moderation/flags/" + a.flag + "/acknowledge/";
    form.className = "ack-form";
    var token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = csrfToken();
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "primary";
    button.textContent = "I am on it";
    form.append(token, button);
    var link = document.createElement("a");
    link.className = "button";
    link.href = "/circles/" + a.circle_slug + "/#m-" + a.message_id;
    link.textContent = "Open in the room";
    row.append(form, link);
    box.append(title, excerpt, row);
    alerts.prepend(box);
    tickWaited();
  }

  // "I am on it" without leaving the page; the socket clears it everywhere else.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("ack-form")) return;
    ev.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: new FormData(form),
    })
      .then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
      })
      .then(function (res) {
        var flag = form.action.match(/flags\/(\d+)\//)[1];
        if (res.ok || res.body.code === "already_handled") {
          clearBanner(flag);
          refresh(0);
          setStatus(status ? status.dataset.state : "live", res.ok ? "Thank you: everyone can see you are on it." : "Someone else is already on it.");
        } else {
          button.disabled = false;
          var note = document.createElement("p");
          note.className = "error";
          note.textContent = res.body.message || "That did not work. Please try again.";
          form.after(note);
        }
      })
      .catch(function () {
        button.disabled = false;
        form.submit(); // fall back to the plain form
      });
  });

  // "Minutes" matters only for a mute: shown when a mute is chosen.
  function syncMinutes(form) {
    var box = form.querySelector(".minutes");
    if (box) box.hidden = !(form.elements.action && form.elements.action.value === "mute");
  }
  function syncAllMinutes() {
    document.querySelectorAll("form.review-form").forEach(syncMinutes);
  }
  document.addEventListener("change", function (ev) {
    var form = ev.target.closest && ev.target.closest("form.review-form");
    if (form && ev.target.name === "action") syncMinutes(form);
  });
  syncAllMinutes();

  function tickWaited() {
    document.querySelectorAll("time.waited").forEach(function (t) {
      var mins = Math.floor((Date.now() - Date.parse(t.dateTime)) / 60000);
      if (isNaN(mins)) return;
      t.textContent = mins < 1 ? "under a minute" : mins < 60 ? mins + " min" : Math.floor(mins / 60) + " h " + (mins % 60) + " min";
    });
  }
  setInterval(tickWaited, 30000);
  tickWaited();

  // --- updates ----------------------------------------------------------------------

  if (live.dataset.live !== "socket") {
    if (queue) {
      setInterval(function () { if (!document.hidden) refresh(0); }, POLL_MS);
    }
    return;
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + live.dataset.wsPath);
    ws.onopen = function () {
      attempt = 0;
      setStatus("live", "Live");
      refresh(); // catch up on anything that changed while disconnected
    };
    ws.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.type === "alert") {
        showAlert(f.alert);
        refresh();
      } else if (f.type === "queue") {
        if (f.change === "acknowledged" || f.change === "handled") clearBanner(f.flag);
        refresh();
      }
    };
    ws.onclose = function (ev) {
      if (ev.code === 4401 || ev.code === 4403) {
        setStatus("closed", "Live updates are for site moderators; reload the page to see changes.");
        return;
      }
      attempt += 1;
      var delay = Math.min(30000, 500 * Math.pow(2, Math.min(attempt, 6)));
      setStatus("reconnecting", "Reconnecting\u2026");
      setTimeout(connect, delay);
    };
  }
  connect();
})();
