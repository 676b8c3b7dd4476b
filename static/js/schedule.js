// Schedules (issue 12): the browser's time zone for the server (a cookie, used
// until the member sets one), and each session's live status: "starts in 12
// minutes", "live now", "ended".  The room's state frames (room.js fires
// "ic:room-state") say when the scheduler opened or closed the room.
(function () {
  "use strict";
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz) document.cookie = "ic_tz=" + encodeURIComponent(tz) + "; path=/; max-age=31536000; SameSite=Lax";
  } catch (e) {
    /* no Intl: the server shows UTC */
  }
  var card = document.getElementById("schedule");
  var roomOpen = card ? card.getAttribute("data-room-closed") === "false" : false;

  function minutes(ms) {
    var m = Math.max(1, Math.round(ms / 60000));
    if (m < 60) return m === 1 ? "1 minute" : m + " minutes";
    var h = Math.round(m / 60);
    if (h < 48) return h === 1 ? "1 hour" : h + " hours";
    var d = Math.round(h / 24);
    return d + " days";
  }

  function label(item, now) {
    var state = item.getAttribute("data-state");
    if (state === "cancelled") return "Cancelled";
    var start = Date.parse(item.getAttribute("data-start"));
    var end = Date.parse(item.getAttribute("data-end"));
    var opens = Date.parse(item.getAttribute("data-opens"));
    if (state === "ended" || now >= end) return "Ended";
    if (now >= start || (roomOpen && now >= opens) || state === "live") return "Live now";
    return "Starts in " + minutes(start - now);
  }

  function refresh() {
    var now = Date.now();
    document.querySelectorAll(".session[data-start]").forEach(function (item) {
      var status = item.querySelector(".session-status");
      if (!status) return;
      var text = label(item, now);
      if (status.textContent !== text) status.textContent = text;
      item.setAttribute("data-live", text === "Live now" ? "true" : "false");
    });
  }

  document.addEventListener("ic:room-state", function (event) {
    var open = !event.detail.closed;
    if (open && !roomOpen) {
      // Opened by the schedule or a facilitator opening early: the next session
      // (if it starts within two hours) is live.
      var next = document.querySelector('.session[data-state="upcoming"]');
      if (next && Date.parse(next.getAttribute("data-start")) - Date.now() < 2 * 3600 * 1000) {
        next.setAttribute("data-state", "live");
      }
    }
    roomOpen = open;
    refresh();
  });
  refresh();
  setInterval(refresh, 30000);
})();
