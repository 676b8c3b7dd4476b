/* The live room: one WebSocket, resume without loss, calm states.
 *
 * Delivery rule (docs/protocol.md): every `message` frame names `prev`, the id
 * of the message published before it.  This page remembers the last id it has
 * shown; when a frame's `prev` is newer than that, some broadcast was lost, so it
 * asks for everything after its last id (`resume`).  On reconnect it opens the
 * socket with `?since=<last id>` and the server replays what it missed.
 *
 * Layout rule: everything that needs the reader's eye (connection state, your
 * own messages on their way, notices, a crisis card, a staff alert, errors)
 * sits in the dock right above the message box, never above the list.  The
 * list follows new messages only while it is scrolled to its end; otherwise a
 * "N new messages" button offers the way down.
 *
 * No window.prompt/confirm/alert: every question is an in-page <dialog>.
 * CSP-clean: no inline styles or scripts; data comes from data-* attributes.
 */
(function () {
  "use strict";

  var root = document.getElementById("room");
  if (!root) return;

  var slug = root.dataset.slug;
  var circleName = root.dataset.circle || "this circle";
  var myAlias = root.dataset.alias;
  var role = root.dataset.role || "member";
  var isStaff = root.dataset.staff === "1";
  var editWindowMs = (parseInt(root.dataset.editWindow, 10) || 900) * 1000;
  var touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
  var REACTIONS = [
    ["heart", "\u2764\ufe0f", "Heart"],
    ["hug", "\ud83e\udec2", "Hug"],
    ["thanks", "\ud83d\ude4f", "Thank you"],
    ["seedling", "\ud83c\udf31", "Growing"],
  ];
  var STAFF_ROLES = { facilitator: "Facilitator", moderator: "Moderator" };

  function $(id) {
    return document.getElementById(id);
  }

  var el = {
    frame: $("room-frame"),
    status: $("room-status"),
    scroller: $("messages-scroll"),
    log: $("messages-log"),
    list: $("messages"),
    loading: $("messages-loading"),
    empty: $("messages-empty"),
    earlier: $("load-earlier"),
    jump: $("jump-new"),
    connection: $("connection-note"),
    closed: $("room-closed"),
    slow: $("slow-mode"),
    alerts: $("alerts"),
    crisisSlot: $("crisis-slot"),
    notices: $("notices"),
    form: $("composer"),
    body: $("composer-body"),
    send: $("composer-send"),
    error: $("composer-error"),
    count: $("composer-count"),
    keys: $("composer-keys"),
    pendingNote: $("composer-pending"),
    presenceCount: $("presence-count"),
    presenceList: $("presence-list"),
    pinned: $("pinned"),
    pinnedBody: $("pinned-body"),
    hiddenBox: $("hidden-members"),
    hiddenCount: $("hidden-count"),
    hiddenList: $("hidden-list"),
    toggleRoom: $("toggle-room"),
    slowButton: $("slow-mode-button"),
    leaveForm: $("leave-form"),
    skip: $("skip-to-composer"),
  };

  // --- small helpers -----------------------------------------------------------

  function make(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function button(label, cls, onClick) {
    var b = make("button", cls, label);
    b.type = "button";
    if (onClick) b.addEventListener("click", onClick);
    return b;
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function clock(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function duration(seconds) {
    if (seconds < 60) return plural(seconds, "second", "seconds");
    var minutes = Math.round(seconds / 60);
    return plural(minutes, "minute", "minutes");
  }

  // Storage may be unavailable (private mode, full): the page works without it.
  function stored(kind, key, value) {
    try {
      var store = kind === "session" ? window.sessionStorage : window.localStorage;
      if (value === undefined) return store.getItem(key);
      if (value === null) store.removeItem(key);
      else store.setItem(key, value);
    } catch (e) {
      /* not available: nothing kept */
    }
    return null;
  }
  var DRAFT_KEY = "ic-draft:" + slug + ":" + myAlias;
  var CRISIS_KEY = "ic-crisis:" + slug + ":" + myAlias;

  // --- state ---------------------------------------------------------------------

  var ws = null;
  var lastId = 0; // newest published id shown (the resume point)
  var oldestId = null; // for "show earlier"
  var shown = new Map(); // id -> <li>
  var views = new Map(); // id -> the message as the server sent it
  var pending = new Map(); // client_id -> {li, body}
  var mine = new Set(); // "id:kind": your own reactions
  var present = new Map(); // alias -> true
  var hidden = new Set(); // aliases you chose not to see
  var revealed = new Set(); // ids of hidden members' messages shown once
  var alertsShown = new Map(); // flag -> card
  var requests = new Map(); // ref -> {resolve, reject}
  var refSeq = 0;
  var attempt = 0;
  var reconnectTimer = null;
  var retryAfter = 0; // seconds the server asked us to wait (4429)
  var resumeInFlight = false;
  var roomState = { closed: false, slow_mode: 0 };
  var firstHello = true;
  var ended = false; // access ended for good: no more reconnects
  var unseen = 0; // new messages below while scrolled up
  var current = null; // the message <li> in the tab order (roving tabindex)
  var mutedUntil = null;
  var editTexts = new Map(); // id -> the words of an edit waiting for a reply

  // --- connection ----------------------------------------------------------------

  var STATUS_TEXT = {
    connecting: "Connecting\u2026",
    live: "Live",
    reconnecting: "Reconnecting\u2026",
    offline: "Offline",
    closed: "Disconnected",
  };

  function setStatus(state, note) {
    el.status.dataset.state = state;
    el.status.textContent = STATUS_TEXT[state] || state;
    root.dataset.connection = state;
    el.connection.dataset.state = state;
    el.connection.hidden = state === "live";
    el.connection.textContent = note || "";
    updatePendingNote();
  }

  function connect() {
    if (ended) return;
    clearTimeout(reconnectTimer);
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var since = gapFrom !== null ? gapFrom : lastId; // never skip past a gap still open
    var url = proto + location.host + root.dataset.wsPath + (since ? "?since=" + since : "");
    if (attempt) setStatus("reconnecting", "Reconnecting\u2026 What you write is kept and sent when the room is back.");
    else setStatus("connecting", "Connecting to the room\u2026");
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
      failRequests();
      if (ev.code === 4401) {
        endAccess("Your session has ended. Please log in again to rejoin the room.", true);
        return;
      }
      if (ev.code === 4403) {
        endAccess("You are no longer part of this room.", false);
        return;
      }
      if (ev.code === 1012 && !retryAfter) {
        // The server is restarting: back in a moment; spread the reconnects.
        retryAfter = 1 + Math.random() * 4;
      }
      scheduleReconnect(REASONS[ev.code]);
    };
    ws.onerror = function () {
      /* onclose follows */
    };
  }

  function endAccess(text, login) {
    ended = true;
    setStatus("closed", text);
    if (login) {
      var a = make("a", null, "Log in");
      a.href = "/accounts/login/?next=" + encodeURIComponent(location.pathname);
      el.connection.append(" ", a);
    }
    el.send.disabled = true;
    el.body.disabled = true;
  }

  var REASONS = {
    1012: "The room is restarting.",
    1013: "The room is briefly unavailable.",
    4008: "The connection fell behind.",
    4429: "Too many connection attempts.",
  };

  function scheduleReconnect(reason) {
    if (ended) return;
    attempt += 1;
    var delay = Math.min(30000, 500 * Math.pow(2, Math.min(attempt, 6))) * (0.75 + Math.random() / 2);
    if (retryAfter) delay = Math.max(delay, retryAfter * 1000);
    retryAfter = 0;
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, delay);
    if (navigator.onLine === false) {
      setStatus("offline", "You are offline. What you write is kept here and sent when you are back online.");
      return;
    }
    var at = Date.now() + delay;
    var tick = function () {
      if (ws || ended || root.dataset.connection === "offline") {
        clearInterval(countdown);
        return;
      }
      var left = Math.max(1, Math.round((at - Date.now()) / 1000));
      setStatus(
        "reconnecting",
        (reason ? reason + " " : "") +
          "Reconnecting\u2026 (trying again in " +
          left +
          " s). What you write is kept and sent when the room is back."
      );
    };
    clearInterval(countdown);
    tick();
    countdown = setInterval(tick, 1000);
  }
  var countdown = null;

  window.addEventListener("offline", function () {
    if (ended) return;
    setStatus("offline", "You are offline. What you write is kept here and sent when you are back online.");
  });
  window.addEventListener("online", function () {
    if (ended || (ws && ws.readyState === WebSocket.OPEN)) return;
    attempt = Math.max(attempt, 1);
    connect();
  });

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  var OFFLINE = { code: "offline", message: "The room is not connected right now. Please try again in a moment." };

  // A frame whose answer (done, source or error) comes back with its ref.
  function request(frame) {
    return new Promise(function (resolve, reject) {
      refSeq += 1;
      var ref = "q" + refSeq;
      frame.ref = ref;
      if (!send(frame)) {
        reject(OFFLINE);
        return;
      }
      var timer = setTimeout(function () {
        requests.delete(ref);
        reject({ code: "timeout", message: "The room did not answer. Please try again." });
      }, 15000);
      requests.set(ref, {
        resolve: function (f) {
          clearTimeout(timer);
          resolve(f);
        },
        reject: function (f) {
          clearTimeout(timer);
          reject(f);
        },
      });
    });
  }

  function failRequests() {
    requests.forEach(function (r) {
      r.reject(OFFLINE);
    });
    requests.clear();
  }

  // --- frames from the server ------------------------------------------------------

  function handle(f) {
    if (f.ref && requests.has(f.ref) && (f.type === "done" || f.type === "error" || f.type === "source")) {
      var r = requests.get(f.ref);
      requests.delete(f.ref);
      if (f.type === "error") r.reject(f);
      else r.resolve(f);
      return;
    }
    switch (f.type) {
      case "hello":
        hello(f);
        break;
      case "message":
        receive([f]);
        break;
      case "messages": // several published together, in id order
        receive(f.items);
        break;
      case "batch":
        if (f.kind === "resume") {
          resumeInFlight = false;
          appendMessages(f.messages, true);
          if (f.more) requestResume();
        } else {
          prependMessages(f.messages);
          if (f.messages.length) oldestId = f.messages[0].id;
          el.earlier.hidden = !f.more;
          historyArrived(f);
        }
        updateEmpty();
        break;
      case "ack":
        acked(f);
        break;
      case "edited":
        if (shown.has(f.message.id)) keepPlace(function () {
          addMessage(f.message);
        });
        break;
      case "removed":
        keepPlace(function () {
          removeMessage(f.id, f.reason);
        });
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
        serverNotice(f);
        break;
      case "approved": // your held message is published (as message f.id): drop the placeholder
        dropOwnPlaceholders(f.held_id);
        notice("A moderator approved your message; everyone can see it now.", "approved", { ttl: 20000 });
        updateEmpty();
        break;
      case "crisis_resources":
        crisisCard(f, false);
        break;
      case "alert":
        staffAlert(f.alert);
        break;
      case "alert_cleared":
        alertCleared(f.flag, f.by);
        break;
      case "error":
        serverError(f);
        break;
    }
  }

  function hello(f) {
    attempt = 0;
    role = f.you.role;
    myAlias = f.you.alias;
    setStatus("live");
    el.log.setAttribute("aria-busy", "false");
    if (el.loading) {
      el.loading.remove();
      el.loading = null;
    }
    setPresence(f.present);
    showHeld(f.you.held || []);
    applyState(f.room);
    setPinned(f.room.pinned);
    setHiddenList(f.you.hidden || []);
    setMuted(f.you.muted_until || null);
    if (isStaff) syncAlerts(f.you.alerts || []);
    if (f.reset) {
      // Too far behind to replay: start over from the newest messages.
      shown.forEach(function (li) {
        li.remove();
      });
      shown.clear();
      views.clear();
      lastId = 0;
      oldestId = null;
    }
    if (firstHello) {
      f.messages.forEach(function (m) {
        addMessage(m);
      });
      drawDivider(f.you.last_read || 0);
      readSent = f.you.last_read || 0;
    } else {
      appendMessages(f.messages, true);
    }
    if (f.more_after) requestResume();
    else lastId = Math.max(lastId, f.room.last_id || 0);
    resendPending();
    updateEmpty();
    if (oldestId === null && f.messages.length) oldestId = f.messages[0].id;
    if (firstHello) el.earlier.hidden = !(f.messages.length && f.messages[0].id > 1);
    if (firstHello) {
      firstHello = false;
      settleOnEntry();
      soughtFromLink();
    }
    markReadSoon();
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

  function receive(items) {
    items.forEach(function (item) {
      if (item.prev !== null && item.prev > lastId && !shown.has(item.prev)) suspectGap(item.prev, lastId);
    });
    appendMessages(
      items.map(function (item) {
        return item.message;
      }),
      true
    );
    updateEmpty();
  }

  function requestResume(since) {
    if (resumeInFlight) return;
    resumeInFlight = send({ type: "resume", since: since === undefined ? lastId : since });
  }

  // --- the list's own scroll ---------------------------------------------------------

  function atBottom() {
    var s = el.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight <= 32;
  }

  function scrollToBottom() {
    el.scroller.scrollTop = el.scroller.scrollHeight;
    seenAll();
  }

  function seenAll() {
    unseen = 0;
    el.jump.hidden = true;
    markReadSoon();
  }

  function showUnseen(n) {
    unseen += n;
    el.jump.textContent = "";
    el.jump.append(plural(unseen, "new message", "new messages") + " ");
    var arrow = make("span", null, "\u2193");
    arrow.setAttribute("aria-hidden", "true");
    el.jump.append(arrow);
    el.jump.hidden = false;
  }

  // Run a change to the list, then stay where the reader was: at the end if
  // they were at the end, else on the same messages.
  function keepPlace(change) {
    var follow = atBottom();
    var fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop;
    change();
    if (follow) scrollToBottom();
    else el.scroller.scrollTop = el.scroller.scrollHeight - fromBottom;
  }

  function appendMessages(list, live) {
    if (!list.length) return;
    var follow = atBottom();
    var fresh = 0;
    list.forEach(function (m) {
      if (addMessage(m) && m.alias !== myAlias && !hidden.has(m.alias)) fresh += 1;
    });
    if (follow) scrollToBottom();
    else if (live && fresh) showUnseen(fresh);
  }

  function prependMessages(list) {
    var fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop;
    list
      .slice()
      .reverse()
      .forEach(function (m) {
        addMessage(m, true);
      });
    el.scroller.scrollTop = el.scroller.scrollHeight - fromBottom;
  }

  // Whether the reader is at the end, as of their last scroll: when the list
  // changes size (a card opens in the dock, the phone's keyboard appears) it
  // stays at the end if it was there.
  var stuck = true;
  el.scroller.addEventListener(
    "scroll",
    function () {
      stuck = atBottom();
      if (stuck) seenAll();
    },
    { passive: true }
  );
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      if (stuck && !atBottom()) el.scroller.scrollTop = el.scroller.scrollHeight;
    }).observe(el.scroller);
  }
  el.jump.addEventListener("click", function () {
    scrollToBottom();
    var last = lastMessageLi();
    if (last) {
      setCurrent(last);
      last.focus({ preventScroll: true });
    }
  });

  // On arrival: the newest message and the message box, together on screen.
  function settleOnEntry() {
    scrollToBottom();
    if (window.scrollY < 8 && !location.hash) {
      el.frame.scrollIntoView({ block: "end" });
    }
    var card = el.crisisSlot.querySelector(".crisis-card");
    if (card) card.scrollIntoView({ block: "nearest" });
  }

  // --- rendering -----------------------------------------------------------------------

  // Returns true when ``m`` is new to this page and went to the end of the list.
  function addMessage(m, atTop) {
    var li = shown.get(m.id);
    var fresh = !li;
    if (fresh) {
      dropOwnPlaceholders(m.id); // your own message: acked before its broadcast, or approved
      li = make("li", "message");
      li.dataset.id = m.id;
      li.id = "m-" + m.id; // the review queue links here: /circles/<slug>/#m-<id>
      li.tabIndex = -1;
      shown.set(m.id, li);
      insertInOrder(li, m.id, atTop);
    }
    (m.mine || []).forEach(function (kind) {
      mine.add(m.id + ":" + kind);
    });
    views.set(m.id, m);
    renderMessage(li, m);
    if (fresh && m.alias === myAlias) hideSentCopy(li);
    if (m.id > lastId) lastId = m.id;
    if (!current || (fresh && !atTop && !el.list.contains(document.activeElement))) setCurrent(lastMessageLi());
    return fresh && !atTop && li === lastMessageLi();
  }

  function renderMessage(li, m) {
    var active = document.activeElement;
    var focusTool = li !== active && li.contains(active) ? active.dataset.tool : null;
    var own = m.alias === myAlias;
    var folded = hidden.has(m.alias) && !revealed.has(m.id) && !own;
    li.className = "message";
    li.classList.toggle("own", own);
    li.classList.toggle("hidden-pending", !!m.hidden);
    li.classList.toggle("from-staff", !!STAFF_ROLES[m.role]);
    li.classList.toggle("folded", folded);
    li.dataset.alias = m.alias;
    li.dataset.at = m.at;
    li.innerHTML = "";
    if (folded) {
      // One quiet line: you chose not to see this member's messages.
      var note = make("p", "folded-note", "A message from " + m.alias + ", whom you chose not to see. ");
      note.append(
        button("Show this one", "link", function () {
          revealed.add(m.id);
          renderMessage(li, m);
          li.focus();
        })
      );
      li.append(note);
      return;
    }
    var head = make("p", "message-head");
    var who = make("strong", "alias", m.alias + (own ? " (you)" : ""));
    head.append(who);
    if (STAFF_ROLES[m.role]) head.append(" ", make("span", "role-badge", STAFF_ROLES[m.role]));
    var when = make("time", null, clock(m.at) + (m.edited ? " \u00b7 edited" : ""));
    when.dateTime = m.at;
    head.append(" ", when);
    li.append(head);
    var body = make("div", "message-body");
    if (m.hidden) {
      body.textContent = "Hidden pending review by a moderator.";
      body.classList.add("muted");
    } else {
      body.innerHTML = m.html; // cleaned by bleach on the server (chat/text.py)
      if (m.resource) body.append(resourceCard(m.resource)); // library (docs/library.md)
    }
    li.append(body, toolbar(m, li));
    var status = make("p", "message-status");
    status.hidden = true;
    li.append(status);
    syncTabStops(li);
    if (focusTool) {
      var again = li.querySelector('[data-tool="' + focusTool + '"]');
      if (again) {
        setToolbarActive(li, again);
        again.focus();
      }
    }
  }

  // A library resource shared into the room (message.resource): a card linking to its page.
  function resourceCard(r) {
    var card = document.createElement("a");
    card.className = "resource-card";
    card.href = r.url;
    var meta = document.createElement("span");
    meta.className = "resource-card-meta";
    meta.textContent = "Library \u00b7 " + r.kind_label + " \u00b7 " + r.phase_label;
    var title = document.createElement("strong");
    title.className = "resource-card-title";
    title.textContent = r.title;
    card.append(meta, title);
    return card;
  }

  function insertInOrder(li, id, atTop) {
    var items = el.list.querySelectorAll("li.message[data-id]");
    if (atTop || !items.length) {
      for (var i = 0; i < items.length; i++) {
        if (+items[i].dataset.id > id) {
          el.list.insertBefore(li, beforeDivider(items[i]));
          return;
        }
      }
      if (items.length) items[items.length - 1].after(li);
      else el.list.prepend(li);
      return;
    }
    // Usually the newest: walk back from the end.
    for (var j = items.length - 1; j >= 0; j--) {
      if (+items[j].dataset.id < id) {
        items[j].after(li);
        return;
      }
    }
    el.list.insertBefore(li, beforeDivider(items[0]));
  }

  function beforeDivider(item) {
    var prev = item.previousElementSibling;
    return prev && prev.classList.contains("divider") ? prev : item;
  }

  function lastMessageLi() {
    var items = el.list.querySelectorAll("li.message[data-id]");
    return items.length ? items[items.length - 1] : null;
  }

  // "New since you were here": above the first message by someone else that is
  // newer than your read mark (from the server, so it holds across devices).
  function drawDivider(lastRead) {
    if (!lastRead) return;
    var items = el.list.querySelectorAll("li.message[data-id]");
    for (var i = 0; i < items.length; i++) {
      if (+items[i].dataset.id > lastRead && items[i].dataset.alias !== myAlias) {
        if (i === 0) return; // everything on screen is new: no line needed
        var divider = make("li", "divider", "New since you were here");
        el.list.insertBefore(divider, items[i]);
        return;
      }
    }
  }

  // --- reactions and actions ------------------------------------------------------------

  function reactionLabel(r, n, on) {
    return r[2] + (n ? ", " + n : "") + (on ? ", yours" : "");
  }

  function paintReaction(b, r, n, on) {
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.setAttribute("aria-label", reactionLabel(r, n, on));
    b.title = r[2];
    b.textContent = r[1] + (n ? " " + n : "");
  }

  function toolbar(m, li) {
    var bar = make("div", "message-tools");
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "Reactions and actions for the message from " + m.alias);
    REACTIONS.forEach(function (r) {
      var b = make("button", "reaction");
      b.type = "button";
      b.dataset.kind = r[0];
      b.dataset.tool = "r-" + r[0];
      b.disabled = readOnly();
      var n = (m.reactions && m.reactions[r[0]]) || 0;
      paintReaction(b, r, n, mine.has(m.id + ":" + r[0]));
      b.addEventListener("click", function () {
        toggleReaction(m.id, r, b);
      });
      bar.appendChild(b);
    });
    var own = m.alias === myAlias;
    if (own && !m.hidden && Date.now() - Date.parse(m.at) < editWindowMs) {
      bar.appendChild(tool("Edit", "edit", function (b) {
        startEdit(m.id, b);
      }));
    }
    var more = tool("\u22ef", "more", function (b) {
      openActions(m.id, b);
    });
    more.classList.add("more");
    more.setAttribute("aria-haspopup", "dialog");
    more.setAttribute("aria-label", "More actions for this message");
    more.title = "More actions";
    bar.appendChild(more);
    return bar;
  }

  function tool(label, name, fn) {
    var b = make("button", "tool", label);
    b.type = "button";
    b.dataset.tool = name;
    b.addEventListener("click", function () {
      fn(b);
    });
    return b;
  }

  function toggleReaction(id, r, b) {
    var key = id + ":" + r[0];
    var turnOn = !mine.has(key);
    var li = shown.get(id);
    request({ type: "react", message: id, reaction: r[0], on: turnOn }).then(
      function (done) {
        if (turnOn) mine.add(key);
        else mine.delete(key);
        setReactions(id, done.counts);
      },
      function (err) {
        messageStatus(li, err.message, err.code);
      }
    );
    // Shown at once; put right when the answer comes.
    b.setAttribute("aria-pressed", turnOn ? "true" : "false");
  }

  function setReactions(id, counts) {
    var li = shown.get(id);
    var m = views.get(id);
    if (m) m.reactions = counts;
    if (!li) return;
    li.querySelectorAll("button.reaction").forEach(function (b) {
      var r = REACTIONS.find(function (x) {
        return x[0] === b.dataset.kind;
      });
      paintReaction(b, r, counts[r[0]] || 0, mine.has(id + ":" + r[0]));
    });
  }

  function messageStatus(li, text, code) {
    if (!li) {
      notice(text, code || "message", { dismiss: true });
      return;
    }
    var p = li.querySelector(".message-status");
    if (!p) return;
    p.hidden = false;
    p.dataset.code = code || "";
    p.setAttribute("role", "status");
    p.textContent = text;
  }

  // The "More" sheet: every action on a message that is not a reaction.
  function openActions(id, from) {
    var m = views.get(id);
    if (!m) return;
    var dlg = $("actions-dialog");
    $("actions-title").textContent = "Message from " + m.alias;
    $("actions-excerpt").textContent = excerpt(id);
    var list = $("actions-list");
    list.innerHTML = "";
    var own = m.alias === myAlias;
    function add(label, cls, fn) {
      list.appendChild(
        button(label, cls, function () {
          chainDialog(dlg, fn);
        })
      );
    }
    if (own) {
      add("Delete this message\u2026", "danger", function (back) {
        askDelete(id, back);
      });
    }
    if (!own) {
      add("Report to the moderators\u2026", "", function (back) {
        openReport(id, back);
      });
      if (!STAFF_ROLES[m.role]) {
        add("Stop seeing " + m.alias + "\u2019s messages\u2026", "", function (back) {
          askHide(m.alias, back);
        });
      }
    }
    if (isStaff) {
      var pinnedNow = el.pinned.dataset.id === String(id);
      add(pinnedNow ? "Unpin\u2026" : "Pin for everyone\u2026", "", function (back) {
        askPin(pinnedNow ? null : id, back);
      });
      add("Remove for everyone\u2026", "danger", function (back) {
        openRemove(id, back);
      });
      if (!own && !STAFF_ROLES[m.role]) {
        add("Pause " + m.alias + "\u2019s posting\u2026", "", function (back) {
          openMute(m.alias, back);
        });
      }
    }
    openDialog(dlg, from);
  }

  function excerpt(id) {
    var li = shown.get(id);
    var body = li && li.querySelector(".message-body");
    var text = body ? body.textContent.trim() : "";
    return text.length > 140 ? text.slice(0, 139) + "\u2026" : text;
  }

  // --- roving focus: one message in the tab order, one tool in its toolbar ---------------

  function setCurrent(li) {
    if (!li || li === current) return;
    var before = current;
    current = li;
    if (before && before.isConnected) syncTabStops(before);
    syncTabStops(li);
  }

  function syncTabStops(li) {
    var isCurrent = li === current;
    li.tabIndex = isCurrent ? 0 : -1;
    var tools = li.querySelectorAll(".message-tools button");
    var active = li.querySelector(".message-tools button[data-active]") || tools[0];
    tools.forEach(function (b) {
      b.tabIndex = isCurrent && b === active ? 0 : -1;
    });
  }

  function setToolbarActive(li, b) {
    li.querySelectorAll(".message-tools button[data-active]").forEach(function (x) {
      delete x.dataset.active;
    });
    b.dataset.active = "1";
    syncTabStops(li);
  }

  function focusable(li) {
    return li && li.matches("li.message[tabindex]");
  }

  el.list.addEventListener("focusin", function (ev) {
    var li = ev.target.closest("li.message");
    if (!li) return;
    setCurrent(li);
    if (ev.target.matches(".message-tools button")) setToolbarActive(li, ev.target);
  });

  el.list.addEventListener("keydown", function (ev) {
    var li = ev.target.closest("li.message");
    if (!li) return;
    if (ev.target === li) {
      var items = Array.prototype.filter.call(el.list.querySelectorAll("li.message"), focusable);
      var i = items.indexOf(li);
      var next = null;
      if (ev.key === "ArrowDown") next = items[i + 1];
      else if (ev.key === "ArrowUp") next = items[i - 1];
      else if (ev.key === "Home") next = items[0];
      else if (ev.key === "End") next = items[items.length - 1];
      else return;
      ev.preventDefault();
      if (!next) {
        if (ev.key === "ArrowUp" && !el.earlier.hidden) el.earlier.focus();
        return;
      }
      setCurrent(next);
      next.focus();
      next.scrollIntoView({ block: "nearest" });
      return;
    }
    if (!ev.target.matches(".message-tools button")) return;
    var tools = Array.prototype.slice.call(li.querySelectorAll(".message-tools button"));
    var t = tools.indexOf(ev.target);
    var to = null;
    if (ev.key === "ArrowRight") to = tools[(t + 1) % tools.length];
    else if (ev.key === "ArrowLeft") to = tools[(t - 1 + tools.length) % tools.length];
    else if (ev.key === "Home") to = tools[0];
    else if (ev.key === "End") to = tools[tools.length - 1];
    else if (ev.key === "Escape") {
      ev.preventDefault();
      li.focus();
      return;
    } else return;
    ev.preventDefault();
    setToolbarActive(li, to);
    to.focus();
  });

  // --- dialogs -----------------------------------------------------------------------------

  var FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

  function openDialog(dlg, from) {
    dlg.returnTo = from || document.activeElement;
    dlg.querySelectorAll(".dialog-error").forEach(function (p) {
      p.hidden = true;
      p.textContent = "";
    });
    busy(dlg, false);
    if (!dlg.open) dlg.showModal();
    var first = dlg.querySelector("textarea:not([disabled]), input[type=number], input[type=radio]:checked");
    (first || dlg.querySelector(FOCUSABLE)).focus();
  }

  // From the "More" sheet to the dialog of the chosen action; focus goes back
  // to where the sheet was opened from.
  function chainDialog(sheet, open) {
    var back = sheet.returnTo;
    sheet.returnTo = null;
    sheet.close();
    open(back);
  }

  function returnFocus(target) {
    if (target && target.isConnected && !target.closest("[hidden]") && target.offsetParent !== null) {
      target.focus();
      return;
    }
    var li = target && target.closest && target.closest("li.message");
    if (li && li.isConnected) li.focus();
    else el.body.focus();
  }

  document.querySelectorAll("dialog.room-dialog").forEach(function (dlg) {
    dlg.addEventListener("close", function () {
      var target = dlg.returnTo;
      dlg.returnTo = null;
      if (target) returnFocus(target);
    });
    // Focus stays inside the open dialog.
    dlg.addEventListener("keydown", function (ev) {
      if (ev.key !== "Tab") return;
      var items = Array.prototype.filter.call(dlg.querySelectorAll(FOCUSABLE), function (x) {
        return x.offsetParent !== null;
      });
      if (!items.length) return;
      var first = items[0];
      var last = items[items.length - 1];
      if (ev.shiftKey && document.activeElement === first) {
        ev.preventDefault();
        last.focus();
      } else if (!ev.shiftKey && document.activeElement === last) {
        ev.preventDefault();
        first.focus();
      }
    });
    dlg.querySelectorAll(".dialog-cancel").forEach(function (b) {
      b.addEventListener("click", function () {
        dlg.close();
      });
    });
  });

  function dialogError(dlg, text) {
    var p = dlg.querySelector(".dialog-error");
    p.hidden = false;
    p.textContent = text;
  }

  function busy(dlg, on) {
    dlg.querySelectorAll(".actions button[type=submit]").forEach(function (b) {
      b.disabled = on;
    });
    dlg.setAttribute("aria-busy", on ? "true" : "false");
  }

  // Submit a dialog's form: check, send, and close only once the room said yes.
  function onSubmit(dlg, form, run) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var work = run();
      if (!work) return;
      busy(dlg, true);
      work.then(
        function () {
          busy(dlg, false);
          if (dlg.open) dlg.close();
        },
        function (err) {
          busy(dlg, false);
          if (err && err.handled) {
            if (dlg.open) dlg.close();
            return;
          }
          dialogError(dlg, (err && err.message) || "That did not work. Please try again.");
        }
      );
    });
  }

  // One confirmation dialog for every yes-or-no question.
  var confirmDlg = $("confirm-dialog");
  var confirmRun = null;
  function ask(opts, from) {
    $("confirm-title").textContent = opts.title;
    $("confirm-text").textContent = opts.text;
    var ok = $("confirm-ok");
    ok.textContent = opts.ok;
    ok.className = opts.danger ? "danger" : "primary";
    confirmRun = opts.run;
    openDialog(confirmDlg, from);
  }
  onSubmit(confirmDlg, $("confirm-form"), function () {
    return confirmRun ? confirmRun() : null;
  });

  function askDelete(id, from) {
    ask(
      {
        title: "Delete this message?",
        text: "It disappears for everyone. This cannot be undone.",
        ok: "Delete message",
        danger: true,
        run: function () {
          return request({ type: "delete", message: id });
        },
      },
      from
    );
  }

  function askPin(id, from) {
    ask(
      id === null
        ? {
            title: "Unpin this message?",
            text: "It stays in the room; it is no longer shown at the top.",
            ok: "Unpin",
            run: function () {
              return request({ type: "unpin" });
            },
          }
        : {
            title: "Pin this message for everyone?",
            text: "It is shown at the top of the room" + (el.pinned.hidden ? "." : ", instead of the message pinned now."),
            ok: "Pin it",
            run: function () {
              return request({ type: "pin", message: id });
            },
          },
      from
    );
  }

  function askHide(alias, from) {
    ask(
      {
        title: "Stop seeing " + alias + "\u2019s messages?",
        text:
          "Only you stop seeing them; " +
          alias +
          " is not told, and nothing changes for anyone else. You can undo this at any time.",
        ok: "Stop seeing them",
        run: function () {
          return setHidden(alias, true);
        },
      },
      from
    );
  }

  // Report
  var reportDlg = $("report-dialog");
  var reportId = null;
  function openReport(id, from) {
    reportId = id;
    $("report-reason").value = "";
    openDialog(reportDlg, from);
  }
  onSubmit(reportDlg, $("report-form"), function () {
    var reason = $("report-reason").value.trim();
    if (!reason) {
      dialogError(reportDlg, "Please say briefly what is wrong, so the moderators can help.");
      $("report-reason").focus();
      return null;
    }
    var id = reportId;
    return request({ type: "report", message: id, reason: reason }).then(
      function (done) {
        messageStatus(shown.get(id), "Reported. Thank you \u2014 a moderator will look at it.", "reported");
        return done;
      },
      function (err) {
        if (err.code === "already_reported") {
          messageStatus(shown.get(id), "You have already reported this message. Thank you.", err.code);
          err.handled = true;
        }
        throw err;
      }
    );
  });

  // Edit: starts from your own Markdown (the server gives it to you alone).
  // The field exists only while the dialog is open: one "your message" box on
  // the page at rest.
  var editDlg = $("edit-dialog");
  var editBody = null;
  var editId = null;
  function editField() {
    var label = make("label", null, "Edit your message");
    label.htmlFor = "edit-body";
    var ta = make("textarea");
    ta.id = "edit-body";
    ta.rows = 5;
    ta.maxLength = 4000;
    ta.setAttribute("aria-describedby", "edit-help edit-error");
    $("edit-field").replaceChildren(label, ta);
    return ta;
  }
  editDlg.addEventListener("close", function () {
    $("edit-field").replaceChildren();
    editBody = null;
  });
  function startEdit(id, from) {
    editId = id;
    editBody = editField();
    editBody.disabled = true;
    editBody.placeholder = "Loading your words\u2026";
    openDialog(editDlg, from);
    var field = editBody;
    request({ type: "source", message: id }).then(
      function (f) {
        if (editBody !== field) return; // closed meanwhile
        editBody.disabled = false;
        editBody.placeholder = "";
        editBody.value = f.body;
        editBody.focus();
      },
      function (err) {
        if (editBody !== field) return;
        editBody.placeholder = "";
        dialogError(editDlg, err.message);
      }
    );
  }
  onSubmit(editDlg, $("edit-form"), function () {
    var text = editBody.value;
    if (!text.trim()) {
      dialogError(editDlg, "A message cannot be empty. To take it back, delete it instead.");
      return null;
    }
    editTexts.set(editId, text);
    return request({ type: "edit", message: editId, body: text });
  });

  // Remove (staff): a reason is required; it goes to the audit log.
  var removeDlg = $("remove-dialog");
  var removeId = null;
  function openRemove(id, from) {
    removeId = id;
    $("remove-excerpt").textContent = excerpt(id);
    $("remove-reason").value = "";
    openDialog(removeDlg, from);
  }
  if (removeDlg) {
    onSubmit(removeDlg, $("remove-form"), function () {
      var reason = $("remove-reason").value.trim();
      if (!reason) {
        dialogError(removeDlg, "Please give a reason; it is kept in the audit log.");
        $("remove-reason").focus();
        return null;
      }
      return request({ type: "remove", message: removeId, reason: reason }).then(function (done) {
        notice("Message removed. The reason is in the audit log.", "removed_by_you", { ttl: 12000 });
        return done;
      });
    });
  }

  // Mute (staff): minutes 1 to 1440, and a reason.
  var muteDlg = $("mute-dialog");
  var muteAlias = null;
  function muteMinutes() {
    var raw = $("mute-minutes").value.trim();
    if (!/^\d+$/.test(raw)) return null;
    var n = parseInt(raw, 10);
    return n >= 1 && n <= 1440 ? n : null;
  }
  function muteSummary() {
    var n = muteMinutes();
    var until = n ? new Date(Date.now() + n * 60000).toISOString() : null;
    $("mute-summary").textContent = n
      ? muteAlias + " will not be able to post for " + plural(n, "minute", "minutes") + ", until " + clock(until) + "."
      : "Enter a whole number of minutes from 1 to 1440 (24 hours).";
    $("mute-submit").textContent = n ? "Mute for " + plural(n, "minute", "minutes") : "Mute";
  }
  function openMute(alias, from) {
    muteAlias = alias;
    $("mute-title").textContent = "Pause " + alias + "\u2019s posting";
    $("mute-minutes").value = "10";
    $("mute-reason").value = "";
    muteSummary();
    openDialog(muteDlg, from);
  }
  if (muteDlg) {
    $("mute-minutes").addEventListener("input", muteSummary);
    muteDlg.querySelectorAll("button.preset").forEach(function (b) {
      b.addEventListener("click", function () {
        $("mute-minutes").value = b.dataset.minutes;
        muteSummary();
      });
    });
    onSubmit(muteDlg, $("mute-form"), function () {
      var n = muteMinutes();
      if (!n) {
        dialogError(muteDlg, "Please enter a whole number of minutes from 1 to 1440.");
        $("mute-minutes").focus();
        return null;
      }
      var reason = $("mute-reason").value.trim();
      if (!reason) {
        dialogError(muteDlg, "Please give a reason; it is kept in the audit log.");
        $("mute-reason").focus();
        return null;
      }
      var alias = muteAlias;
      return request({ type: "mute", alias: alias, minutes: n, reason: reason }).then(function (done) {
        notice(alias + " cannot post until " + clock(done.until) + ".", "muted_by_you", { ttl: 15000 });
        return done;
      });
    });
  }

  // Slow mode and closing (staff).
  var slowDlg = $("slow-dialog");
  if (slowDlg) {
    el.slowButton.addEventListener("click", function () {
      var value = String(roomState.slow_mode);
      var radios = slowDlg.querySelectorAll("input[name=slow]");
      var matched = false;
      radios.forEach(function (r) {
        r.checked = r.value === value;
        matched = matched || r.checked;
      });
      if (!matched) radios[0].checked = true;
      openDialog(slowDlg, el.slowButton);
    });
    onSubmit(slowDlg, $("slow-form"), function () {
      var picked = slowDlg.querySelector("input[name=slow]:checked");
      return request({ type: "slow_mode", seconds: parseInt(picked ? picked.value : "0", 10) });
    });
  }
  if (el.toggleRoom) {
    el.toggleRoom.addEventListener("click", function () {
      if (roomState.closed) {
        request({ type: "open_room" }).catch(function (err) {
          notice(err.message, err.code, { dismiss: true });
        });
        return;
      }
      ask(
        {
          title: "Close the room?",
          text: "Members can still read, but cannot write or react until you reopen it.",
          ok: "Close the room",
          danger: true,
          run: function () {
            return request({ type: "close_room" });
          },
        },
        el.toggleRoom
      );
    });
  }

  // Leave the circle: the form posts only after a clear yes.
  if (el.leaveForm) {
    el.leaveForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      ask(
        {
          title: "Leave " + circleName + "?",
          text:
            "You lose your alias, " +
            myAlias +
            ", for good: if you join again later you get a new one. What you wrote stays, under " +
            myAlias +
            ".",
          ok: "Leave the circle",
          danger: true,
          run: function () {
            el.leaveForm.submit();
            return new Promise(function () {}); // the page moves on
          },
        },
        el.leaveForm.querySelector("button")
      );
    });
  }

  // --- members you chose not to see ------------------------------------------------------

  function setHidden(alias, on) {
    return request({ type: "hide", alias: alias, on: on }).then(function (done) {
      if (on) hidden.add(alias);
      else hidden.delete(alias);
      renderHiddenList();
      refold(alias);
      if (on) {
        notice("You no longer see " + alias + "\u2019s messages.", "hid:" + alias, {
          ttl: 30000,
          action: {
            label: "Undo",
            run: function () {
              setHidden(alias, false).catch(function (err) {
                notice(err.message, err.code, { dismiss: true });
              });
            },
          },
        });
      } else {
        dropNotice("hid:" + alias);
        notice("You see " + alias + "\u2019s messages again.", "unhid", { ttl: 8000 });
      }
      return done;
    });
  }

  function setHiddenList(list) {
    var before = Array.from(hidden).sort().join("\n");
    hidden = new Set(list);
    renderHiddenList();
    if (before !== list.slice().sort().join("\n")) {
      views.forEach(function (m, id) {
        var li = shown.get(id);
        if (li) renderMessage(li, m);
      });
    }
  }

  function refold(alias) {
    keepPlace(function () {
      views.forEach(function (m, id) {
        if (m.alias !== alias) return;
        revealed.delete(id);
        var li = shown.get(id);
        if (li) renderMessage(li, m);
      });
    });
  }

  function renderHiddenList() {
    el.hiddenList.innerHTML = "";
    Array.from(hidden)
      .sort()
      .forEach(function (alias) {
        var li = make("li", null, alias + " ");
        li.append(
          button("Show their messages again", "link", function () {
            setHidden(alias, false).catch(function (err) {
              notice(err.message, err.code, { dismiss: true });
            });
          })
        );
        el.hiddenList.appendChild(li);
      });
    el.hiddenCount.textContent = String(hidden.size);
    el.hiddenBox.hidden = hidden.size === 0;
  }

  // --- removals, held messages -------------------------------------------------------------

  function removeMessage(id, reason) {
    var li = shown.get(id);
    if (li && reason === "held" && li.classList.contains("own")) {
      // Your own edit is waiting for a moderator: keep it here, saying so.
      shown.delete(id);
      views.delete(id);
      toHeldPlaceholder(li, id);
      updateEmpty();
      return;
    }
    var wasOwn = li && li.classList.contains("own");
    if (li) {
      if (li === current) {
        current = null;
        var near = li.nextElementSibling || li.previousElementSibling;
        if (li.contains(document.activeElement) && near && focusable(near)) near.focus();
      }
      li.remove();
      shown.delete(id);
      views.delete(id);
      if (!current) setCurrent(lastMessageLi());
    }
    if (wasOwn && reason === "removed") {
      notice("A facilitator or moderator took one of your messages out of the room.", "removed", { dismiss: true });
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
      notice("A moderator reviewed your message and did not publish it.", "not_published", { dismiss: true });
    }
    updateEmpty();
  }

  // Your message's broadcast comes just before its ack: hide the "sending"
  // copy with the same words meanwhile, so it is never shown twice.
  function squash(text) {
    return text.replace(/[*_`>#-]/g, "").replace(/\s+/g, " ").trim();
  }

  function hideSentCopy(li) {
    var body = li.querySelector(".message-body");
    if (!body || !pending.size) return;
    var words = squash(body.textContent);
    var found = null;
    pending.forEach(function (p) {
      if (!found && !p.li.hidden && squash(p.body) === words) found = p.li;
    });
    if (found) found.hidden = true;
  }

  function heldLi(id) {
    return el.list.querySelector('li[data-held-id="' + Number(id) + '"]');
  }

  function dropOwnPlaceholders(id) {
    el.list
      .querySelectorAll('li[data-acked-id="' + Number(id) + '"], li[data-held-id="' + Number(id) + '"]')
      .forEach(function (li) {
        li.remove();
      });
  }

  function heldPlaceholder(li, id) {
    li.className = "message own held";
    li.dataset.heldId = id;
    li.tabIndex = -1;
    li.querySelector(".message-head").textContent =
      myAlias + " (you) \u00b7 waiting for a moderator before others see it";
  }

  function toHeldPlaceholder(li, id) {
    var words = editTexts.get(id);
    var body = li.querySelector(".message-body");
    if (words !== undefined) {
      body = make("div", "message-body", words); // the words you just saved
    }
    var head = make("p", "message-head");
    li.innerHTML = "";
    li.append(head, body);
    delete li.dataset.id;
    if (li === current) current = null;
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
      var li = make("li");
      var head = make("p", "message-head");
      var body = make("div", "message-body");
      body.innerHTML = m.html; // cleaned by bleach on the server (chat/text.py)
      li.append(head, body);
      heldPlaceholder(li, m.id);
      el.list.appendChild(li);
    });
  }

  // --- the pin, the room's state, presence -------------------------------------------------

  function setPinned(m) {
    el.pinnedBody.innerHTML = "";
    if (!m) {
      el.pinned.hidden = true;
      el.pinned.dataset.id = "";
      return;
    }
    el.pinned.hidden = false;
    el.pinned.dataset.id = m.id;
    var who = make("p", "pinned-who");
    who.append(make("strong", null, m.alias));
    if (STAFF_ROLES[m.role]) who.append(" ", make("span", "role-badge", STAFF_ROLES[m.role]));
    var body = make("div", "pinned-text");
    body.innerHTML = m.html; // cleaned on the server
    if (m.resource) body.append(resourceCard(m.resource));
    var row = make("p", "pinned-actions");
    row.append(
      button("Go to the message", "link", function () {
        goToMessage(m.id);
      })
    );
    if (isStaff) {
      row.append(
        " ",
        button("Unpin", "link", function (ev) {
          askPin(null, ev.currentTarget);
        })
      );
    }
    el.pinnedBody.append(who, body, row);
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
    el.body.disabled = closedToYou || ended;
    updateSendButton();
    el.list.querySelectorAll("button.reaction").forEach(function (b) {
      b.disabled = closedToYou;
    });
    el.slow.hidden = !roomState.slow_mode;
    el.slow.textContent = roomState.slow_mode
      ? "Slow mode is on: one message every " + duration(roomState.slow_mode) + ", to give each share some space."
      : "";
    if (!closedToYou) clearComposerError("room_closed");
    if (!roomState.slow_mode) clearComposerError("slow_mode");
    if (el.toggleRoom) el.toggleRoom.textContent = roomState.closed ? "Reopen the room" : "Close the room";
    if (el.slowButton) {
      el.slowButton.textContent = "Slow mode: " + (roomState.slow_mode ? duration(roomState.slow_mode) : "off");
    }
    // schedules (issue 12): the Schedule card (static/js/schedule.js) follows the room.
    document.dispatchEvent(new CustomEvent("ic:room-state", { detail: { closed: roomState.closed } }));
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
    el.presenceCount.textContent = plural(count, "person", "people");
    el.presenceList.textContent = names.length <= 12 ? "(" + names.join(", ") + ")" : "";
  }

  function updateEmpty() {
    // Your own sending, sent or waiting messages count: the room is not empty to you.
    el.empty.hidden = shown.size > 0 || el.list.querySelector("li.message") !== null;
  }

  // --- notices, beside the message box ------------------------------------------------------

  // One notice per code: a newer one replaces it.  ``until``: shown until then
  // (a mute); ``ttl``: a passing word; ``dismiss``: until you close it.
  function notice(text, code, opts) {
    opts = opts || {};
    dropNotice(code);
    var box = make("div", "notice");
    box.dataset.code = code || "";
    var p = make("p", "notice-text", text);
    box.append(p);
    if (opts.action) {
      box.append(
        button(opts.action.label, "notice-action", function () {
          box.remove();
          opts.action.run();
        })
      );
    }
    if (opts.dismiss) {
      var x = button("Dismiss", "notice-action quiet", function () {
        box.remove();
        el.body.focus();
      });
      x.setAttribute("aria-label", "Dismiss this notice");
      box.append(x);
    }
    dockChange(function () {
      el.notices.appendChild(box);
    });
    var wait = opts.until ? Date.parse(opts.until) - Date.now() : opts.ttl;
    if (wait) {
      box.timer = setTimeout(function () {
        dockChange(function () {
          box.remove();
        });
        if (opts.ended) opts.ended();
      }, Math.max(0, Math.min(wait, 2147483000)));
    }
    return box;
  }

  function dropNotice(code) {
    el.notices.querySelectorAll('.notice[data-code="' + CSS.escape(code || "") + '"]').forEach(function (n) {
      clearTimeout(n.timer);
      n.remove();
    });
  }

  function setMuted(until) {
    if (!until || Date.parse(until) <= Date.now()) {
      mutedUntil = null;
      dropNotice("muted");
      updateSendButton();
      return;
    }
    mutedUntil = until;
    notice("Your posting is paused until " + clock(until) + ". You can still read along, and write a draft.", "muted", {
      until: until,
      ended: function () {
        mutedUntil = null;
        clearComposerError("muted");
        updateSendButton();
      },
    });
    updateSendButton();
  }

  function serverNotice(f) {
    if (f.code === "muted") {
      setMuted(f.until || null);
      return;
    }
    if (f.code === "warning") {
      notice(f.message, "warning", { dismiss: true });
      return;
    }
    notice(f.message, f.code, { dismiss: true }); // access changes: why the socket closes
  }

  function updateSendButton() {
    var muted = mutedUntil && Date.parse(mutedUntil) > Date.now();
    el.send.disabled = readOnly() || ended || !!muted;
  }

  // --- the crisis card (to the author alone) --------------------------------------------------

  function safeHref(href) {
    return /^(tel:|sms:|https:)/.test(href || "");
  }

  function crisisCard(f, restoring) {
    stored("session", CRISIS_KEY, JSON.stringify({ tier: f.tier, message: f.message, resources: f.resources }));
    el.crisisSlot.innerHTML = "";
    var crisis = f.tier !== "concern";
    var box = make("section", "crisis-card");
    box.dataset.tier = crisis ? "crisis" : "concern";
    box.setAttribute("aria-labelledby", "crisis-title");
    if (!restoring) {
      // Announced: at once for a crisis, politely for a concern.
      box.setAttribute("role", crisis ? "alert" : "status");
      box.setAttribute("aria-live", crisis ? "assertive" : "polite");
    }
    el.crisisSlot.appendChild(box);
    var top = make("div", "crisis-top");
    var h = make("h3", null, crisis ? "You are not alone" : "If things feel heavy");
    h.id = "crisis-title";
    var close = button("Close", "quiet crisis-close", function () {
      stored("session", CRISIS_KEY, null);
      dockChange(function () {
        box.remove();
        el.frame.classList.remove("has-card");
      });
      el.body.focus({ preventScroll: true });
    });
    close.setAttribute("aria-label", "Close this card (what you wrote stays as it is)");
    top.append(h, close);
    var p = make("p", "crisis-message", f.message);
    var ul = make("ul", "crisis-lines");
    (f.resources || []).forEach(function (r) {
      var li = make("li");
      var links = (r.links || []).filter(function (l) {
        return safeHref(l.href);
      });
      var text = make("span", "crisis-text");
      text.append(make("strong", null, r.name));
      // The number in words (to dial from another phone), unless a tap dials it.
      text.append(make("span", "crisis-contact", " \u00b7 " + r.contact));
      if (r.detail) text.append(make("span", "crisis-detail", " \u00b7 " + r.detail));
      li.append(text);
      if (links.length) {
        li.classList.add("has-links");
        var row = make("span", "crisis-links");
        links.forEach(function (l) {
          var a = make("a", "button primary", l.label);
          a.href = l.href;
          row.append(a);
        });
        li.append(row);
      }
      ul.appendChild(li);
    });
    el.frame.classList.add("has-card");
    // Filled after the region is in place, so screen readers read it.
    setTimeout(function () {
      box.append(top, p, ul);
      bringIntoView(box);
    }, restoring ? 0 : 50);
  }

  // A card in the dock: on screen together with the message box.
  function bringIntoView(node) {
    el.form.scrollIntoView({ block: "nearest" });
    node.scrollIntoView({ block: "nearest" });
  }

  // The message box is (at least partly) on screen.
  function boxInView() {
    var r = el.form.getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight;
  }

  // Change what the dock holds; if the message box was on screen, it stays there
  // (the room frame lined up with the screen when it fits).
  function dockChange(change) {
    var was = boxInView();
    change();
    if (!was) return;
    if (el.frame.offsetHeight <= window.innerHeight) el.frame.scrollIntoView({ block: "end" });
    else el.form.scrollIntoView({ block: "nearest" });
  }

  function restoreCrisis() {
    var saved = stored("session", CRISIS_KEY);
    if (!saved) return;
    try {
      crisisCard(JSON.parse(saved), true);
    } catch (e) {
      stored("session", CRISIS_KEY, null);
    }
  }

  // --- crisis alerts (to facilitators and moderators) ------------------------------------------

  function syncAlerts(list) {
    var wanted = new Set(
      list.map(function (a) {
        return a.flag;
      })
    );
    alertsShown.forEach(function (card, flag) {
      if (!wanted.has(flag) && !card.dataset.done) {
        card.remove();
        alertsShown.delete(flag);
      }
    });
    list.forEach(staffAlert);
  }

  function staffAlert(a) {
    var card = alertsShown.get(a.flag);
    if (card) {
      // Already on screen (a reconnect, or raised again): no second announcement.
      var title = card.querySelector("h3");
      if (a.repeat && title && !card.dataset.done) title.textContent = "Still waiting for someone: " + a.alias;
      return;
    }
    card = make("section", "alert-card");
    card.dataset.flag = a.flag;
    card.dataset.alias = a.alias;
    card.setAttribute("role", "alert");
    card.setAttribute("aria-labelledby", "alert-title-" + a.flag);
    alertsShown.set(a.flag, card);
    el.alerts.appendChild(card);
    var h = make("h3", null, a.repeat ? "Still waiting for someone: " + a.alias : "Someone may need help now: " + a.alias);
    h.id = "alert-title-" + a.flag;
    var quote = make("blockquote", "alert-excerpt", a.excerpt);
    var when = make("p", "alert-when", "Written at " + clock(a.created_at) + ". Nobody has said they are on it yet.");
    var row = make("div", "actions");
    var onIt = button("I am on it", "primary", function () {
      onIt.disabled = true;
      request({ type: "ack_alert", flag: a.flag }).then(
        function () {
          alertDone(a.flag, "Thank you. You are with " + a.alias + " now. Reach out gently.");
        },
        function (err) {
          if (err.code === "already_handled") alertDone(a.flag, "Someone else is already with " + a.alias + ".");
          else {
            onIt.disabled = false;
            when.textContent = err.message;
          }
        }
      );
    });
    var go = button("Show the message", "", function () {
      goToMessage(a.message_id);
    });
    row.append(onIt, go);
    setTimeout(function () {
      card.append(h, quote, when, row);
      bringIntoView(card);
    }, 50);
  }

  function alertDone(flag, text) {
    var card = alertsShown.get(flag);
    if (!card) return;
    card.dataset.done = "1";
    card.className = "alert-card done";
    card.setAttribute("role", "status");
    card.innerHTML = "";
    card.append(make("p", null, text));
    var hadFocus = document.activeElement === document.body || card.contains(document.activeElement);
    setTimeout(function () {
      card.remove();
      alertsShown.delete(flag);
    }, 15000);
    if (hadFocus) el.body.focus();
  }

  function alertCleared(flag, by) {
    var card = alertsShown.get(flag);
    if (!card || card.dataset.done) return;
    alertDone(flag, (by || "Someone") + " is with " + (card.dataset.alias || "them") + " now.");
  }

  // Scroll a message into view in the list, paging back through history if it
  // is older than what is shown.
  var seeking = null;
  function goToMessage(id) {
    var li = shown.get(id);
    if (li) {
      seeking = null;
      li.scrollIntoView({ block: "center" });
      setCurrent(li);
      li.focus({ preventScroll: true });
      li.classList.add("sought");
      setTimeout(function () {
        li.classList.remove("sought");
      }, 4000);
      return;
    }
    if (oldestId && id < oldestId && !el.earlier.hidden) {
      seeking = { id: id, pages: (seeking && seeking.pages) || 0 };
      if (seeking.pages < 20) {
        seeking.pages += 1;
        send({ type: "history", before: oldestId });
        return;
      }
    }
    seeking = null;
    notice("That message is no longer in the room.", "gone", { ttl: 10000 });
  }

  function historyArrived() {
    if (seeking) goToMessage(seeking.id);
  }

  // A link to one message (#m-<id>, from the review queue or a notification):
  // bring it into view once the room is here, paging back when it is older.
  function soughtFromLink() {
    var found = /^#m-(\d+)$/.exec(location.hash);
    if (found) goToMessage(parseInt(found[1], 10));
  }
  window.addEventListener("hashchange", soughtFromLink);

  // --- errors ------------------------------------------------------------------------------------

  // Errors under the message box go when their cause does.
  var errorTimer = null;
  var CLEARS_ON_INPUT = ["blocked", "empty_body", "too_large", "render_failed", "bad_frame"];

  function composerError(code, text, f) {
    clearInterval(errorTimer);
    el.error.hidden = false;
    el.error.dataset.code = code;
    var wait = f && f.retry_after ? Math.ceil(f.retry_after) : 0;
    var until = f && f.until ? Date.parse(f.until) : 0;
    if (wait) {
      var ends = Date.now() + wait * 1000;
      var tick = function () {
        var left = Math.ceil((ends - Date.now()) / 1000);
        if (left <= 0) {
          clearComposerError(code);
          return;
        }
        el.error.textContent =
          code === "slow_mode"
            ? "Slow mode: you can send your next message in " + plural(left, "second", "seconds") + "."
            : "Please wait " + plural(left, "second", "seconds") + " before sending again.";
      };
      tick();
      errorTimer = setInterval(tick, 1000);
      return;
    }
    el.error.textContent = text;
    if (until) {
      errorTimer = setTimeout(function () {
        clearComposerError(code);
      }, Math.max(0, until - Date.now()));
    }
  }

  // The server could not store just now (its database is away, or it is
  // restarting): nothing was stored.  A waiting message stays waiting and goes
  // again after retry_after, each time a little later and with jitter, so a
  // room full of pages does not come back all at the same instant.
  var storeAttempts = 0;
  var storeTimer = null;
  function unavailable(f) {
    var wait = Math.max(1, f.retry_after || 2);
    if (!f.ref || !pending.has(f.ref)) {
      retryAfter = wait; // at connect: the socket closes (1013) and comes back later
      return;
    }
    storeAttempts += 1;
    var delay = Math.min(60000, wait * 1000 * Math.pow(1.5, Math.min(storeAttempts - 1, 6))) * (1 + Math.random() / 2);
    notice(
      "The room cannot store messages for a moment. Yours " +
        (pending.size === 1 ? "is" : "are") +
        " kept here and sent again in " +
        plural(Math.max(1, Math.round(delay / 1000)), "second", "seconds") +
        ".",
      "unavailable",
      { ttl: delay }
    );
    clearTimeout(storeTimer);
    storeTimer = setTimeout(resendPending, delay);
  }

  function clearComposerError(code) {
    if (code && el.error.dataset.code !== code) return;
    clearInterval(errorTimer);
    clearTimeout(errorTimer);
    el.error.hidden = true;
    el.error.textContent = "";
    el.error.dataset.code = "";
  }

  function serverError(f) {
    if (f.code === "session_ended") {
      endAccess("Your session has ended. Please log in again to rejoin the room.", true);
      return;
    }
    if (f.code === "rate_limited" && f.retry_after && !f.ref) retryAfter = f.retry_after;
    if (f.code === "unavailable") {
      unavailable(f);
      return;
    }
    if (f.ref && pending.has(f.ref)) {
      var p = pending.get(f.ref);
      pending.delete(f.ref);
      p.li.remove();
      if (!el.body.value) {
        el.body.value = p.body; // give the words back
        saveDraft();
      }
      updatePendingNote();
      updateEmpty();
      if (f.code === "muted" && f.until) setMuted(f.until);
      composerError(f.code, f.message, f);
      return;
    }
    if (f.code === "rate_limited" || f.code === "slow_mode") {
      composerError(f.code, f.message, f);
      return;
    }
    notice(f.message, f.code, { dismiss: true });
  }

  // --- sending -----------------------------------------------------------------------------------

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function submit() {
    var body = el.body.value;
    if (!body.trim() || el.send.disabled) return;
    clearComposerError();
    var clientId = uuid();
    var li = make("li", "message own pending");
    li.dataset.clientId = clientId;
    li.append(
      make("p", "message-head", myAlias + " (you) \u00b7 sending\u2026"),
      make("div", "message-body", body)
    );
    el.list.appendChild(li);
    pending.set(clientId, { li: li, body: body });
    el.body.value = "";
    saveDraft();
    updateCount();
    send({ type: "send", client_id: clientId, body: body, ref: clientId });
    updateEmpty();
    updatePendingNote();
    scrollToBottom(); // you wrote it: follow it
  }

  function updatePendingNote() {
    if (!el.pendingNote) return;
    var n = pending.size;
    var live = root.dataset.connection === "live";
    el.pendingNote.hidden = n === 0;
    el.pendingNote.textContent = !n
      ? ""
      : live
        ? (n === 1 ? "Sending your message\u2026" : "Sending your " + n + " messages\u2026")
        : n === 1
          ? "1 message waiting to send. It goes out as soon as the room is back."
          : n + " messages waiting to send. They go out as soon as the room is back.";
  }

  function acked(f) {
    var p = pending.get(f.client_id);
    if (!p) return;
    storeAttempts = 0;
    dropNotice("unavailable");
    pending.delete(f.client_id);
    updatePendingNote();
    if (f.verdict === "blocked") {
      p.li.remove();
      if (!el.body.value) {
        el.body.value = p.body; // give the words back to edit
        saveDraft();
      }
      composerError("blocked", f.reason);
      updateEmpty();
      return;
    }
    clearComposerError();
    var reroll = $("reroll-form");
    if (reroll) reroll.remove(); // the alias is fixed once you have posted
    if (f.verdict === "held") {
      if (heldLi(f.id)) p.li.remove(); // hello drew it
      else heldPlaceholder(p.li, f.id);
      return;
    }
    if (f.verdict === "removed") {
      // A retry of a message taken out of the room while this page was away.
      p.li.remove();
      notice("A moderator or facilitator took that message out of the room.", "removed", { dismiss: true });
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
    updatePendingNote();
  }

  function updateCount() {
    var n = el.body.value.length;
    el.count.textContent = n > 3500 ? n + " / 4000 characters" : "";
  }

  // Drafts stay on this device only (never sent anywhere), per circle.
  function saveDraft() {
    var text = el.body.value;
    stored("local", DRAFT_KEY, text.trim() ? text : null);
  }

  el.form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    submit();
  });
  if (touch) el.keys.textContent = "Enter starts a new line; tap Send to send.";
  el.body.addEventListener("keydown", function (ev) {
    // On a phone Enter is a new line (the Send button sends); at a keyboard
    // Enter sends and Shift+Enter starts a new line.
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && !touch) {
      ev.preventDefault();
      submit();
    }
  });
  el.body.addEventListener("input", function () {
    updateCount();
    saveDraft();
    if (CLEARS_ON_INPUT.indexOf(el.error.dataset.code) >= 0) clearComposerError();
  });
  el.earlier.addEventListener("click", function () {
    if (oldestId) send({ type: "history", before: oldestId });
  });
  if (el.skip) {
    el.skip.addEventListener("click", function (ev) {
      ev.preventDefault();
      el.body.focus();
      el.form.scrollIntoView({ block: "nearest" });
    });
  }

  // --- how far you have read -------------------------------------------------------------------

  // Sent while the list is at its end and the page is seen, at most every few
  // seconds; the server keeps the newest.
  var readSent = 0;
  var readTimer = null;
  var readAt = 0;
  var READ_EVERY = 4000;

  function markReadSoon() {
    if (readTimer || lastId <= readSent || firstHello) return;
    if (document.visibilityState !== "visible" || !atBottom()) return;
    var wait = Math.max(600, readAt + READ_EVERY - Date.now());
    readTimer = setTimeout(flushRead, wait);
  }

  function flushRead() {
    clearTimeout(readTimer);
    readTimer = null;
    if (lastId <= readSent || !atBottom() || !ws || ws.readyState !== WebSocket.OPEN) return;
    var upto = lastId;
    readSent = upto;
    readAt = Date.now();
    // Quietly: a refused read mark is tried again with the next one.
    request({ type: "read", upto: upto }).catch(function () {
      if (readSent === upto) readSent = 0;
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flushRead();
    else markReadSoon();
  });
  window.addEventListener("pagehide", flushRead);

  // Keep an idle socket honest: proxies drop silent connections.
  setInterval(function () {
    send({ type: "ping" });
  }, 25000);

  // --- start --------------------------------------------------------------------------------------

  var draft = stored("local", DRAFT_KEY);
  if (draft && !el.body.value) {
    el.body.value = draft;
    updateCount();
  }
  restoreCrisis();
  connect();
})();
