/* The live room: one WebSocket, resume without loss, calm states.
 *
 * Delivery rule (docs/protocol.md): every `message` frame names `prev`, the id
 * of the message published before it.  This page remembers the last id it has
 * shown; when a frame's `prev` is newer than that, some broadcast was lost, so it
 * asks for everything after its last id (`resume`).  On reconnect it opens the
 * socket with `?since=<last id>` and the server replays what it missed.
 */
(function () {
  "use strict";

  var root = document.getElementById("room");
  if (!root) return;

  var myAlias = root.dataset.alias;
  var isStaff = root.dataset.staff === "1";
  var editWindowMs = (parseInt(root.dataset.editWindow, 10) || 900) * 1000;
  var REACTIONS = [
    ["heart", "\u2764\ufe0f", "Heart"],
    ["hug", "\ud83e\udec2", "Hug"],
    ["thanks", "\ud83d\ude4f", "Thank you"],
    ["seedling", "\ud83c\udf31", "Growing"],
  ];

  var el = {
    status: document.getElementById("room-status"),
    list: document.getElementById("messages"),
    loading: document.getElementById("messages-loading"),
    empty: document.getElementById("messages-empty"),
    earlier: document.getElementById("load-earlier"),
    form: document.getElementById("composer"),
    body: document.getElementById("composer-body"),
    send: document.getElementById("composer-send"),
    error: document.getElementById("composer-error"),
    count: document.getElementById("composer-count"),
    presenceCount: document.getElementById("presence-count"),
    presenceList: document.getElementById("presence-list"),
    pinned: document.getElementById("pinned"),
    pinnedBody: document.getElementById("pinned-body"),
    closed: document.getElementById("room-closed"),
    slow: document.getElementById("slow-mode"),
    notices: document.getElementById("notices"),
    toggleRoom: document.getElementById("toggle-room"),
    slowSelect: document.getElementById("slow-mode-select"),
    dialog: document.getElementById("report-dialog"),
    reportForm: document.getElementById("report-form"),
    reportReason: document.getElementById("report-reason"),
    reportCancel: document.getElementById("report-cancel"),
  };

  var ws = null;
  var lastId = 0; // newest published id shown (the resume point)
  var oldestId = null; // for "show earlier"
  var shown = new Map(); // id -> <li>
  var pending = new Map(); // client_id -> {li, body}
  var mine = new Set(); // "id:kind" reactions this page sent
  var present = new Map(); // alias -> true
  var attempt = 0;
  var reconnectTimer = null;
  var resumeInFlight = false;
  var roomState = { closed: false, slow_mode: 0 };
  var reportTarget = null;
  var role = "member";

  // --- connection --------------------------------------------------------

  function setStatus(state, text) {
    el.status.dataset.state = state;
    el.status.textContent = text;
    root.dataset.connection = state;
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var since = gapFrom !== null ? gapFrom : lastId; // never skip past a gap still open
    var url = proto + location.host + root.dataset.wsPath + (since ? "?since=" + since : "");
    setStatus(attempt ? "reconnecting" : "connecting", attempt ? "Reconnecting\u2026" : "Connecting\u2026");
    try {
      ws = new WebSocket(url);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws.onmessage = function (ev) {
      var frame;
      try {
        frame = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      handle(frame);
    };
    ws.onclose = function (ev) {
      ws = null;
      if (ev.code === 4401 || ev.code === 4403) {
        setStatus("closed", "You are no longer part of this room.");
        el.send.disabled = true;
        return;
      }
      scheduleReconnect();
    };
    ws.onerror = function () {
      /* onclose follows */
    };
  }

  function scheduleReconnect() {
    attempt += 1;
    var delay = Math.min(30000, 500 * Math.pow(2, Math.min(attempt, 6))) * (0.75 + Math.random() / 2);
    setStatus("reconnecting", "Reconnecting\u2026 (trying again in " + Math.round(delay / 1000) + " s)");
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  // --- frames from the server ------------------------------------------------

  function handle(f) {
    switch (f.type) {
      case "hello":
        attempt = 0;
        role = f.you.role;
        setStatus("live", "Live");
        el.list.setAttribute("aria-busy", "false");
        if (el.loading) {
          el.loading.remove();
          el.loading = null;
        }
        setPresence(f.present);
        showHeld(f.you.held || []);
        applyState(f.room);
        setPinned(f.room.pinned);
        if (f.reset) {
          // Too far behind to replay: start over from the newest messages.
          shown.forEach(function (li) {
            li.remove();
          });
          shown.clear();
          lastId = 0;
          oldestId = null;
        }
        f.messages.forEach(addMessage);
        if (f.more_after) requestResume();
        else lastId = Math.max(lastId, f.room.last_id || 0);
        resendPending();
        updateEmpty();
        if (oldestId === null && f.messages.length) oldestId = f.messages[0].id;
        el.earlier.hidden = !(f.messages.length && f.messages[0].id > 1);
        break;
      case "message":
        receiveMessage(f);
        updateEmpty();
        break;
      case "messages": // several published together, in id order
        f.items.forEach(receiveMessage);
        updateEmpty();
        break;
      case "batch":
        if (f.kind === "resume") {
          resumeInFlight = false;
          f.messages.forEach(addMessage);
          if (f.more) requestResume();
        } else {
          f.messages.slice().reverse().forEach(function (m) {
            addMessage(m, true);
          });
          if (f.messages.length) oldestId = f.messages[0].id;
          el.earlier.hidden = !f.more;
        }
        updateEmpty();
        break;
      case "ack":
        acked(f);
        break;
      case "edited":
        if (shown.has(f.message.id)) addMessage(f.message);
        break;
      case "removed":
        removeMessage(f.id, f.reason);
        break;
      case "reactions":
        setReactions(f.id, f.counts);
        break;
      case "pinned":
        setPinned(f.message);
        break;
      case "room_state":
        applyState(f.state);
        break;
      case "presence":
        f.left.forEach(function (a) {
          present.delete(a);
        });
        f.joined.forEach(function (a) {
          present.set(a, true);
        });
        renderPresence(f.count);
        break;
      case "notice":
        notice(f.message, f.code);
        break;
      case "approved": // your held message is published (as message f.id): drop the placeholder
        dropOwnPlaceholders(f.held_id);
        updateEmpty();
        break;
      case "crisis_resources":
        crisisCard(f);
        break;
      case "alert":
        staffAlert(f.alert);
        break;
      case "error":
        showError(f);
        break;
      case "done":
        if (f.of === "report") notice(f.message || "Thank you for reporting.", "report");
        break;
    }
  }

  // Two processes may broadcast neighbouring messages in either order: give the
  // missing one a moment to arrive before asking the server for it, so a reorder
  // does not send every open page to the database at once.
  var gapTimer = null;
  var gapFrom = null; // newest id before the first gap still open
  var gapMissing = [];
  function suspectGap(missingId, from) {
    gapFrom = gapFrom === null ? from : Math.min(gapFrom, from);
    gapMissing.push(missingId);
    if (gapTimer) return;
    gapTimer = setTimeout(function () {
      gapTimer = null;
      var stillMissing = gapMissing.some(function (id) {
        return !shown.has(id);
      });
      var since = gapFrom;
      gapMissing = [];
      gapFrom = null;
      if (stillMissing) requestResume(since);
    }, 700 + Math.random() * 600);
  }

  function receiveMessage(item) {
    if (item.prev !== null && item.prev > lastId && !shown.has(item.prev)) suspectGap(item.prev, lastId);
    addMessage(item.message);
  }

  function requestResume(since) {
    if (resumeInFlight) return;
    resumeInFlight = send({ type: "resume", since: since === undefined ? lastId : since });
  }

  // --- rendering -------------------------------------------------------------

  function timeText(iso) {
    var d = new Date(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function addMessage(m, atTop) {
    var li = shown.get(m.id);
    var fresh = !li;
    if (fresh) {
      dropOwnPlaceholders(m.id); // your own message: acked before its broadcast, or approved
      li = document.createElement("li");
      li.className = "message";
      li.dataset.id = m.id;
      shown.set(m.id, li);
      insertInOrder(li, m.id, atTop);
    }
    li.dataset.alias = m.alias;
    li.dataset.at = m.at;
    li.classList.toggle("own", m.alias === myAlias);
    li.classList.toggle("hidden-pending", !!m.hidden);
    li.innerHTML = "";
    var head = document.createElement("p");
    head.className = "message-head";
    var who = document.createElement("strong");
    who.className = "alias";
    who.textContent = m.alias + (m.alias === myAlias ? " (you)" : "");
    var when = document.createElement("time");
    when.dateTime = m.at;
    when.textContent = timeText(m.at) + (m.edited ? " \u00b7 edited" : "");
    head.append(who, " ", when);
    var body = document.createElement("div");
    body.className = "message-body";
    if (m.hidden) {
      body.textContent = "Hidden pending review by a moderator.";
      body.classList.add("muted");
    } else {
      body.innerHTML = m.html; // cleaned by bleach on the server (chat/text.py)
    }
    li.append(head, body, reactionBar(m), actionBar(m));
    if (m.id > lastId) lastId = m.id;
    if (fresh && !atTop && nearBottom()) li.scrollIntoView({ block: "nearest" });
  }

  function insertInOrder(li, id, atTop) {
    var items = el.list.querySelectorAll("li.message");
    if (atTop || !items.length) {
      for (var i = 0; i < items.length; i++) {
        if (+items[i].dataset.id > id) {
          el.list.insertBefore(li, items[i]);
          return;
        }
      }
      el.list.appendChild(li);
      return;
    }
    // Usually the newest: walk back from the end.
    for (var j = items.length - 1; j >= 0; j--) {
      if (+items[j].dataset.id < id) {
        items[j].after(li);
        return;
      }
    }
    el.list.insertBefore(li, items[0]);
  }

  function nearBottom() {
    var rect = el.list.getBoundingClientRect();
    return rect.bottom - window.innerHeight < 200;
  }

  function reactionBar(m) {
    var bar = document.createElement("div");
    bar.className = "reactions";
    REACTIONS.forEach(function (r) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "reaction";
      b.dataset.kind = r[0];
      b.disabled = readOnly();
      var n = (m.reactions && m.reactions[r[0]]) || 0;
      var on = mine.has(m.id + ":" + r[0]);
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.setAttribute("aria-label", r[2] + (n ? ", " + n : ""));
      b.textContent = r[1] + " " + r[2] + (n ? " \u00b7 " + n : "");
      b.addEventListener("click", function () {
        var key = m.id + ":" + r[0];
        var turnOn = !mine.has(key);
        if (send({ type: "react", message: m.id, reaction: r[0], on: turnOn })) {
          if (turnOn) mine.add(key);
          else mine.delete(key);
          b.setAttribute("aria-pressed", turnOn ? "true" : "false");
        }
      });
      bar.appendChild(b);
    });
    return bar;
  }

  function actionBar(m) {
    var bar = document.createElement("div");
    bar.className = "message-actions";
    function add(label, fn, cls) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "link" + (cls ? " " + cls : "");
      b.textContent = label;
      b.addEventListener("click", fn);
      bar.appendChild(b);
    }
    var ownRecent = m.alias === myAlias && Date.now() - Date.parse(m.at) < editWindowMs;
    if (ownRecent && !m.hidden) {
      add("Edit", function () {
        startEdit(m);
      });
      add("Delete", function () {
        if (confirm("Delete this message for everyone?")) send({ type: "delete", message: m.id });
      });
    }
    if (m.alias !== myAlias) {
      add("Report", function () {
        openReport(m.id);
      });
    }
    if (isStaff) {
      add("Pin", function () {
        send({ type: "pin", message: m.id });
      });
      add("Remove", function () {
        var reason = prompt("Remove this message for everyone. Reason (kept in the audit log):", "");
        if (reason !== null) send({ type: "remove", message: m.id, reason: reason });
      }, "danger-link");
      if (m.alias !== myAlias) {
        add("Mute author", function () {
          var minutes = parseInt(prompt("Mute " + m.alias + " for how many minutes?", "10"), 10);
          if (minutes > 0) send({ type: "mute", alias: m.alias, minutes: minutes });
        });
      }
    }
    return bar;
  }

  function startEdit(m) {
    var li = shown.get(m.id);
    if (!li) return;
    var body = li.querySelector(".message-body");
    var form = document.createElement("form");
    form.className = "edit-form";
    var label = document.createElement("label");
    label.textContent = "Edit your message";
    label.htmlFor = "edit-" + m.id;
    var ta = document.createElement("textarea");
    ta.id = "edit-" + m.id;
    ta.rows = 3;
    ta.value = body.innerText;
    var save = document.createElement("button");
    save.type = "submit";
    save.className = "primary";
    save.textContent = "Save";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () {
      form.replaceWith(body);
    });
    form.append(label, ta, save, " ", cancel);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (ta.value.trim()) send({ type: "edit", message: m.id, body: ta.value });
    });
    body.replaceWith(form);
    ta.focus();
  }

  function removeMessage(id, reason) {
    var li = shown.get(id);
    if (li && reason === "held" && li.classList.contains("own")) {
      // Your own edit is waiting for a moderator: keep it here, saying so.
      shown.delete(id);
      toHeldPlaceholder(li, id);
      updateEmpty();
      return;
    }
    if (li) {
      li.remove();
      shown.delete(id);
    }
    if (el.pinned.dataset.id === String(id)) setPinned(null);
    el.list.querySelectorAll('li[data-acked-id="' + Number(id) + '"]').forEach(function (sent) {
      sent.remove();
    });
    // An edit that was held also goes out as "removed" (reason "held"): its
    // placeholder stays. Otherwise only its author had it: say what happened.
    var held = reason === "held" ? null : heldLi(id);
    if (held) {
      held.remove();
      notice("A moderator reviewed your message and did not publish it.", "not_published");
    }
    updateEmpty();
  }

  function heldLi(id) {
    return el.list.querySelector('li[data-held-id="' + Number(id) + '"]');
  }

  function dropOwnPlaceholders(id) {
    el.list.querySelectorAll('li[data-acked-id="' + Number(id) + '"], li[data-held-id="' + Number(id) + '"]')
      .forEach(function (li) {
        li.remove();
      });
  }

  function setReactions(id, counts) {
    var li = shown.get(id);
    if (!li) return;
    li.querySelectorAll("button.reaction").forEach(function (b) {
      var kind = b.dataset.kind;
      var r = REACTIONS.find(function (x) {
        return x[0] === kind;
      });
      var n = counts[kind] || 0;
      b.textContent = r[1] + " " + r[2] + (n ? " \u00b7 " + n : "");
      b.setAttribute("aria-label", r[2] + (n ? ", " + n : ""));
    });
  }

  function setPinned(m) {
    if (!m) {
      el.pinned.hidden = true;
      el.pinned.dataset.id = "";
      el.pinnedBody.innerHTML = "";
      return;
    }
    el.pinned.hidden = false;
    el.pinned.dataset.id = m.id;
    el.pinnedBody.innerHTML = "";
    var who = document.createElement("strong");
    who.textContent = m.alias + ": ";
    var body = document.createElement("div");
    body.innerHTML = m.html; // cleaned on the server
    el.pinnedBody.append(who, body);
    if (isStaff) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "link";
      b.textContent = "Unpin";
      b.addEventListener("click", function () {
        send({ type: "unpin" });
      });
      el.pinnedBody.appendChild(b);
    }
  }

  function readOnly() {
    // A closed room is read-only for members (no messages, no reactions).
    return roomState.closed && !(role === "facilitator" || role === "moderator");
  }

  function applyState(state) {
    roomState.closed = !!state.closed;
    roomState.slow_mode = state.slow_mode || 0;
    el.closed.hidden = !roomState.closed;
    var closedToYou = readOnly();
    el.body.disabled = closedToYou;
    el.send.disabled = closedToYou;
    el.list.querySelectorAll("button.reaction").forEach(function (b) {
      b.disabled = closedToYou;
    });
    el.slow.hidden = !roomState.slow_mode;
    el.slow.textContent = roomState.slow_mode
      ? "Slow mode is on: one message every " + roomState.slow_mode + " seconds, to give each share some space."
      : "";
    if (el.toggleRoom) el.toggleRoom.textContent = roomState.closed ? "Reopen the room" : "Close the room";
    if (el.slowSelect) el.slowSelect.value = String(roomState.slow_mode);
  }

  function setPresence(aliases) {
    present = new Map();
    aliases.forEach(function (a) {
      present.set(a, true);
    });
    renderPresence(present.size);
  }

  function renderPresence(count) {
    var names = Array.from(present.keys()).sort();
    el.presenceCount.textContent = count + (count === 1 ? " person" : " people");
    el.presenceList.textContent = names.length <= 12 ? "(" + names.join(", ") + ")" : "";
  }

  function updateEmpty() {
    // Your own sending, sent or waiting messages count: the room is not empty to you.
    el.empty.hidden = shown.size > 0 || el.list.querySelector("li.message") !== null;
  }

  function notice(text, code) {
    var p = document.createElement("p");
    p.className = "notice";
    p.dataset.code = code || "";
    p.textContent = text;
    el.notices.appendChild(p);
    setTimeout(function () {
      p.remove();
    }, 20000);
  }

  function crisisCard(f) {
    var box = document.createElement("section");
    box.className = "crisis-card";
    box.setAttribute("role", "alert");
    box.setAttribute("aria-label", "Support is available now");
    var p = document.createElement("p");
    p.textContent = f.message;
    var ul = document.createElement("ul");
    f.resources.forEach(function (r) {
      var li = document.createElement("li");
      var name = document.createElement("strong");
      name.textContent = r.name + ": ";
      li.append(name, r.contact + (r.detail ? " \u2014 " + r.detail : ""));
      (r.links || []).forEach(function (l) {
        if (!/^(tel|sms|https):/.test(l.href)) return;
        var a = document.createElement("a");
        a.href = l.href;
        a.className = "button";
        a.textContent = l.label;
        li.append(" ", a);
      });
      ul.appendChild(li);
    });
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.addEventListener("click", function () {
      box.remove();
    });
    box.append(p, ul, close);
    el.notices.appendChild(box);
  }

  function csrfToken() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function staffAlert(a) {
    var box = document.createElement("div");
    box.className = "alert-banner";
    box.dataset.flag = a.flag;
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = (a.repeat ? "Still unacknowledged: " : "Someone may be in crisis: ") + a.alias;
    p.append(strong, " \u2014 \u201c" + a.excerpt + "\u201d");
    var ack = document.createElement("button");
    ack.type = "button";
    ack.className = "primary";
    ack.textContent = "I am on it";
    ack.addEventListener("click", function () {
      var body = new URLSearchParams({ next: location.pathname });
      fetch("/moderation/flags/" + a.flag + "/acknowledge/", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken() },
        body: body,
      }).then(function () {
        box.remove();
        notice("Acknowledged. Thank you for reaching out to " + a.alias + ".", "ack");
      });
    });
    box.append(p, ack);
    el.notices.prepend(box);
  }

  function showError(f) {
    el.error.hidden = false;
    el.error.dataset.code = f.code;
    el.error.textContent = f.message;
    if (f.ref && pending.has(f.ref)) {
      var p = pending.get(f.ref);
      pending.delete(f.ref);
      p.li.remove();
      if (!el.body.value) el.body.value = p.body; // give the words back
    }
  }

  // --- sending ---------------------------------------------------------------

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function submit() {
    var body = el.body.value;
    if (!body.trim()) return;
    el.error.hidden = true;
    var clientId = uuid();
    var li = document.createElement("li");
    li.className = "message own pending";
    li.dataset.clientId = clientId;
    var head = document.createElement("p");
    head.className = "message-head";
    head.textContent = myAlias + " (you) \u00b7 sending\u2026";
    var text = document.createElement("div");
    text.className = "message-body";
    text.textContent = body;
    li.append(head, text);
    el.list.appendChild(li);
    pending.set(clientId, { li: li, body: body });
    el.body.value = "";
    updateCount();
    send({ type: "send", client_id: clientId, body: body, ref: clientId });
    updateEmpty();
  }

  function heldPlaceholder(li, id) {
    li.className = "message own held";
    li.dataset.heldId = id;
    li.querySelector(".message-head").textContent =
      myAlias + " (you) \u00b7 waiting for a moderator before others see it";
  }

  function toHeldPlaceholder(li, id) {
    var form = li.querySelector("form.edit-form");
    var body = li.querySelector(".message-body");
    if (form) {
      body = document.createElement("div");
      body.className = "message-body";
      body.textContent = form.querySelector("textarea").value; // the words you just saved
    }
    var head = document.createElement("p");
    head.className = "message-head";
    li.innerHTML = "";
    li.append(head, body);
    delete li.dataset.id;
    heldPlaceholder(li, id);
  }

  function showHeld(list) {
    // The server's word on which of your messages still wait (a reconnect may
    // have missed an approval or a removal): redraw them from it, unless they
    // are the ones already shown (no re-announcing in the live region).
    var drawn = Array.prototype.map.call(el.list.querySelectorAll("li.message.held"), function (li) {
      return li.dataset.heldId;
    });
    var wanted = list.map(function (m) {
      return String(m.id);
    });
    if (drawn.join(",") === wanted.join(",")) return;
    el.list.querySelectorAll("li.message.held").forEach(function (li) {
      li.remove();
    });
    list.forEach(function (m) {
      var li = document.createElement("li");
      var head = document.createElement("p");
      head.className = "message-head";
      var body = document.createElement("div");
      body.className = "message-body";
      body.innerHTML = m.html; // cleaned by bleach on the server (chat/text.py)
      li.append(head, body);
      heldPlaceholder(li, m.id);
      el.list.appendChild(li);
    });
  }

  function acked(f) {
    var p = pending.get(f.client_id);
    if (!p) return;
    pending.delete(f.client_id);
    if (f.verdict === "blocked") {
      p.li.remove();
      el.error.hidden = false;
      el.error.dataset.code = "blocked";
      el.error.textContent = f.reason;
      if (!el.body.value) el.body.value = p.body; // give the words back to edit
      return;
    }
    var reroll = document.getElementById("reroll-form");
    if (reroll) reroll.remove(); // the alias is fixed once you have posted
    if (f.verdict === "held") {
      if (heldLi(f.id)) p.li.remove(); // hello drew it
      else heldPlaceholder(p.li, f.id);
      return;
    }
    if (f.verdict === "removed") {
      // A retry of a message taken out of the room while this page was away.
      p.li.remove();
      notice("A moderator or facilitator took that message out of the room.", "removed");
      updateEmpty();
      return;
    }
    if (shown.has(f.id)) {
      p.li.remove(); // the stored message (by id) is already on screen
      return;
    }
    // The broadcast of the stored message usually follows the ack within a few
    // milliseconds; until it comes, keep the words on screen, marked as sent.
    p.li.dataset.ackedId = f.id;
    p.li.classList.remove("pending");
    p.li.querySelector(".message-head").textContent = myAlias + " (you) \u00b7 sent";
  }

  function resendPending() {
    // Sends that had no ack when the socket dropped: the same client_id makes
    // the retry safe (the server stores one message and acks both).
    pending.forEach(function (p, clientId) {
      send({ type: "send", client_id: clientId, body: p.body, ref: clientId });
    });
  }

  function updateCount() {
    var n = el.body.value.length;
    el.count.textContent = n > 3500 ? n + " / 4000 characters" : "";
  }

  el.form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    submit();
  });
  el.body.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      submit();
    }
  });
  el.body.addEventListener("input", updateCount);
  el.earlier.addEventListener("click", function () {
    if (oldestId) send({ type: "history", before: oldestId });
  });

  // --- reporting -------------------------------------------------------------

  function openReport(id) {
    reportTarget = id;
    el.reportReason.value = "";
    if (el.dialog.showModal) el.dialog.showModal();
    else el.dialog.setAttribute("open", "");
    el.reportReason.focus();
  }
  el.reportForm.addEventListener("submit", function (ev) {
    var reason = el.reportReason.value.trim();
    if (!reason) {
      ev.preventDefault();
      return;
    }
    send({ type: "report", message: reportTarget, reason: reason });
  });
  el.reportCancel.addEventListener("click", function () {
    el.dialog.close();
  });

  // --- facilitator controls --------------------------------------------------

  if (el.toggleRoom) {
    el.toggleRoom.addEventListener("click", function () {
      send({ type: roomState.closed ? "open_room" : "close_room" });
    });
  }
  if (el.slowSelect) {
    el.slowSelect.addEventListener("change", function () {
      send({ type: "slow_mode", seconds: parseInt(el.slowSelect.value, 10) });
    });
  }

  // Keep an idle socket honest: proxies drop silent connections.
  setInterval(function () {
    send({ type: "ping" });
  }, 25000);

  connect();
})();
