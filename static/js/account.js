/* The recovery-codes page: copy the codes, or download them as a text file.
 * The codes exist only in this page; nothing is sent anywhere. */
(function () {
  "use strict";
  var list = document.getElementById("codes");
  var tools = document.getElementById("codes-tools");
  var status = document.getElementById("codes-status");
  if (!list || !tools) return;

  function codes() {
    return Array.prototype.map.call(list.querySelectorAll("code"), function (c) { return c.textContent; });
  }
  function say(text) { status.textContent = text; }

  var copy = document.getElementById("copy-codes");
  var download = document.getElementById("download-codes");
  if (!(navigator.clipboard && window.isSecureContext)) copy.hidden = true;
  tools.hidden = false;

  copy.addEventListener("click", function () {
    navigator.clipboard.writeText(codes().join("\n")).then(
      function () { say("Copied. Paste them somewhere private."); },
      function () { say("Copying did not work here: please write them down or download them."); }
    );
  });
  download.addEventListener("click", function () {
    var text = "Recovery codes\n\nEach code works once. You also need your handle.\n\n" + codes().join("\n") + "\n";
    var url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = "recovery-codes.txt";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    say("Downloaded as recovery-codes.txt. Keep the file somewhere private.");
  });
})();
