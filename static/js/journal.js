/* The journal's voice recorder: MediaRecorder into the entry form's file input,
   so the recording is saved with the entry like an uploaded file (and checked
   on the server by its bytes).  Nothing leaves the device until the member
   saves.  Without MediaRecorder or a microphone the upload field remains. */
(function () {
  "use strict";
  var box = document.getElementById("recorder");
  var input = document.getElementById("id_voice");
  var seconds = document.getElementById("id_voice_seconds");
  if (!box || !input || !window.MediaRecorder || !navigator.mediaDevices || !window.DataTransfer) return;

  var startBtn = document.getElementById("record-start");
  var stopBtn = document.getElementById("record-stop");
  var discardBtn = document.getElementById("record-discard");
  var status = document.getElementById("record-status");
  var preview = document.getElementById("record-preview");
  var save = document.getElementById("entry-save");
  var maxSeconds = parseInt(box.dataset.maxSeconds, 10) || 180;
  var maxBytes = parseInt(box.dataset.maxBytes, 10) || 5 * 1024 * 1024;
  var recorder = null;
  var stream = null;
  var chunks = [];
  var began = 0;
  var timer = null;
  var url = null;
  box.hidden = false;

  function clock(s) {
    s = Math.max(0, Math.round(s));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function pickType() {
    var types = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];
    for (var i = 0; i < types.length; i++) {
      if (MediaRecorder.isTypeSupported(types[i])) return types[i];
    }
    return "";
  }

  function extension(type) {
    if (type.indexOf("ogg") !== -1) return "ogg";
    if (type.indexOf("mp4") !== -1) return "m4a";
    return "webm";
  }

  function tick() {
    var elapsed = (Date.now() - began) / 1000;
    status.textContent = "Recording… " + clock(elapsed) + " of " + clock(maxSeconds);
    if (elapsed >= maxSeconds) stop();
  }

  function stop() {
    clearInterval(timer);
    if (recorder && recorder.state !== "inactive") recorder.stop();
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
  }

  function clear() {
    input.value = "";
    if (seconds) seconds.value = "";
    if (url) URL.revokeObjectURL(url);
    url = null;
    preview.removeAttribute("src");
    preview.hidden = true;
    discardBtn.hidden = true;
  }

  function finished() {
    var type = (recorder.mimeType || "audio/webm").split(";")[0];
    var blob = new Blob(chunks, { type: type });
    var length = Math.round((Date.now() - began) / 1000);
    startBtn.disabled = false;
    stopBtn.disabled = true;
    save.disabled = false;
    if (!blob.size) {
      status.textContent = "Nothing was recorded. Please try again.";
      return;
    }
    if (blob.size > maxBytes) {
      status.textContent = "That recording is too large to keep. Please record a shorter one.";
      return;
    }
    var transfer = new DataTransfer();
    transfer.items.add(new File([blob], "voice-note." + extension(type), { type: type }));
    input.files = transfer.files;
    if (seconds) seconds.value = String(length);
    url = URL.createObjectURL(blob);
    preview.src = url;
    preview.hidden = false;
    discardBtn.hidden = false;
    startBtn.textContent = "Record again";
    status.textContent = "Recorded " + clock(length) + ". It is saved with the entry when you press Save.";
    box.dataset.state = "recorded";
  }

  startBtn.addEventListener("click", function () {
    clear();
    navigator.mediaDevices
      .getUserMedia({ audio: true })
      .then(function (s) {
        stream = s;
        var type = pickType();
        recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
        chunks = [];
        recorder.addEventListener("dataavailable", function (e) {
          if (e.data && e.data.size) chunks.push(e.data);
        });
        recorder.addEventListener("stop", finished);
        recorder.start(1000);
        began = Date.now();
        timer = setInterval(tick, 250);
        startBtn.disabled = true;
        stopBtn.disabled = false;
        save.disabled = true; // stop first: a half-made recording is not saved
        box.dataset.state = "recording";
        tick();
        stopBtn.focus();
      })
      .catch(function () {
        status.textContent =
          "The microphone is not available (no permission, or none on this device). You can upload a recording instead.";
        box.dataset.state = "unavailable";
      });
  });

  stopBtn.addEventListener("click", stop);
  discardBtn.addEventListener("click", function () {
    clear();
    status.textContent = "Discarded. Nothing was saved.";
    startBtn.textContent = "Record";
    startBtn.focus();
  });
})();
