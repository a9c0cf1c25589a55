// The embeddable button: adds a link to the room's front door right after its own script
// element, resolving the link against the script's own address. Values come in as JSON
// string literals that are also safe inside HTML.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !me.parentNode) { return; }
  var a = document.createElement("a");
  a.href = new URL({{ path }}, me.src).href;
  a.textContent = "Join the waiting room";
  a.title = {{ title }};
  a.setAttribute("data-frontdesk-button", "");
  a.style.cssText = "display:inline-block;padding:.7em 1.2em;border-radius:.5em;background:#0b57d0;color:#fff;font:600 1rem/1.2 system-ui,sans-serif;text-decoration:none";
  me.parentNode.insertBefore(a, me.nextSibling);
})();
