/* The review queue, live: crisis alerts appear at once; the list refreshes
 * itself when items arrive or are handled elsewhere.  Reconnects with back-off. */
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue) return;
  var status = document.getElementById("queue-status");
  var alerts = document.getElementById("alerts");
  var attempt = 0;
  var refreshTimer = null;

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function refresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      // Keep what a moderator is typing: only refresh when no reason is being written.
      var typing = document.activeElement && queue.contains(document.activeElement) &&
        document.activeElement.tagName === "TEXTAREA" && document.activeElement.value;
      if (typing) {
        setStatus("live", "Live · new changes below when you finish");
        refresh();
        return;
      }
      fetch(queue.dataset.fragmentUrl, { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error(r.status);
          return r.text();
        })
        .then(function (html) {
          queue.innerHTML = html;
          tickWaited();
          setStatus("live", "Live");
        })
        .catch(function () {
          setStatus("error", "Could not refresh the queue; retrying…");
          refresh();
        });
    }, 300);
  }

  function showAlert(a) {
    var box = document.createElement("div");
    box.className = "alert-banner";
    box.dataset.flag = a.flag;
    var title = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = (a.repeat ? "Still unacknowledged: " : "Crisis alert: ") + a.alias + " in " + a.circle;
    title.appendChild(strong);
    var excerpt = document.createElement("p");
    excerpt.textContent = "\u201c" + a.excerpt + "\u201d";
    var link = document.createElement("a");
    link.href = "/circles/" + a.circle_slug + "/";
    link.textContent = "Open the circle";
    box.append(title, excerpt, link);
    alerts.prepend(box);
    refresh();
  }

  function tickWaited() {
    queue.querySelectorAll("time.waited").forEach(function (t) {
      var mins = Math.floor((Date.now() - Date.parse(t.dateTime)) / 60000);
      t.textContent = mins < 1 ? "under a minute" : mins < 60 ? mins + " min" : Math.floor(mins / 60) + " h " + (mins % 60) + " min";
    });
  }
  setInterval(tickWaited, 30000);
  tickWaited();

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + queue.dataset.wsPath);
    ws.onopen = function () {
      attempt = 0;
      setStatus("live", "Live");
      refresh(); // catch up on anything that changed while disconnected
    };
    ws.onmessage = function (ev) {
      var f = JSON.parse(ev.data);
      if (f.type === "alert") showAlert(f.alert);
      else if (f.type === "queue") refresh();
    };
    ws.onclose = function (ev) {
      if (ev.code === 4401 || ev.code === 4403) {
        setStatus("closed", "Live updates are for moderators only.");
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
