// Keeps the waiting screen current: polls the patient's own visit every 2 s and writes the
// status, the staff note and the messages as text nodes; saves each intake answer as the
// patient leaves its field. The patient's token rides in the page's own cookie, which this
// script cannot read: it never appears in the page.
(function () {
  "use strict";
  var root = document.getElementById("wait");
  if (!root) { return; }
  var words = JSON.parse(document.getElementById("status-words").textContent);
  var box = document.getElementById("status-box");
  var title = document.getElementById("status");
  var detail = document.getElementById("status-detail");
  var declineBox = document.getElementById("decline");
  var declineNote = document.getElementById("decline-note");
  var list = document.getElementById("messages");
  var none = document.getElementById("no-messages");
  var intake = document.getElementById("intake");
  var saved = document.getElementById("intake-saved");
  var leave = document.getElementById("leave");
  var place = document.getElementById("place");
  var call = document.getElementById("call");
  var callLink = document.getElementById("call-link");
  var ownForm = false;
  var shownMessages = list.children.length;
  var stopped = false;

  function setText(el, text) { if (el.textContent !== text) { el.textContent = text; } }

  function render(v) {
    var w = words[v.status] || { title: v.status, detail: "", intake: false, terminal: false };
    setText(title, w.title);
    setText(detail, w.detail);
    box.setAttribute("data-status", v.status);
    var note = v.decline_note || "";
    setText(declineNote, note);
    declineBox.hidden = note === "";
    var messages = v.messages || [];
    if (messages.length < shownMessages) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      shownMessages = 0;
    }
    for (var i = shownMessages; i < messages.length; i++) {
      var li = document.createElement("li");
      li.textContent = messages[i];
      list.appendChild(li);
    }
    shownMessages = messages.length;
    none.hidden = messages.length > 0;
    var placeText = "";
    if (v.position) {
      placeText = v.position === 1 ? "You are next in line." : "You are number " + v.position + " in line.";
      if (v.estimated_wait_minutes) { placeText += " Estimated wait: about " + v.estimated_wait_minutes + " minutes."; }
    }
    setText(place, placeText);
    place.hidden = placeText === "";
    var link = v.video_link || "";
    if (callLink.getAttribute("href") !== link) { callLink.setAttribute("href", link); }
    call.hidden = link === "";
    var afterHours = document.getElementById("after-hours");
    if (afterHours) { afterHours.hidden = !(v.status === "intake" || v.status === "waiting"); }
    if (intake && (!w.intake || v.intake_finished)) { intake.hidden = true; }
    if (w.terminal) {
      leave.hidden = true;
      stopped = true;
      var welcome = document.getElementById("welcome");
      if (welcome) { welcome.hidden = true; }
    }
  }

  function gone(expired) {
    stopped = true;
    setText(title, expired ? "This link has expired" : "This link is no longer valid");
    setText(detail, "If you still need to be seen, open the clinic's link again.");
    leave.hidden = true;
    if (intake) { intake.hidden = true; }
  }

  function poll() {
    if (stopped) { return; }
    fetch("/v1/patient/visit", { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401 || r.status === 404 || r.status === 410) { gone(r.status === 410); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (v) { if (v) { render(v); } })
      .catch(function () { /* offline for a moment: try again */ })
      .then(function () { if (!stopped) { setTimeout(poll, 2000); } });
  }

  if (intake) {
    var fields = intake.querySelectorAll("[data-question]");
    Array.prototype.forEach.call(fields, function (field) {
      field.addEventListener("change", function () {
        var value = field.value.trim();
        if (value === "") { return; }
        var answers = {};
        answers[field.getAttribute("data-question")] = value;
        setText(saved, "Saving your answer\u2026");
        fetch("/v1/patient/visit/intake", {
          method: "PUT",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ answers: answers }),
          credentials: "same-origin"
        }).then(function (r) {
          setText(saved, r.ok ? "Answer saved." : "That answer could not be saved. Press Save answers to try again.");
        }).catch(function () {
          setText(saved, "You seem to be offline. Press Save answers when you are back.");
        });
      });
    });
  }

  // Closing the page (not moving between our own pages) tells the clinic; if the page comes
  // back (a reload), the next poll cancels it.
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (f) {
    f.addEventListener("submit", function () { ownForm = true; });
  });
  window.addEventListener("pagehide", function () {
    if (ownForm || stopped || !navigator.sendBeacon) { return; }
    navigator.sendBeacon("/wait/closed");
  });

  if (!words[box.getAttribute("data-status")].terminal) { setTimeout(poll, 2000); }
})();
