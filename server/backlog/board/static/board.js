// backlog board: follow the store live. The server pushes the store's sequence number over
// server-sent events whenever any process commits a change; when it differs from the one
// this page was rendered at, the page fetches itself again and swaps <main> in place.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var busy = false, again = false;

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var main = doc.querySelector("main");
        if (main) {
          document.querySelector("main").replaceWith(main);
          document.body.dataset.seq = doc.body.dataset.seq;
        }
      })
      .catch(function () {})
      .finally(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  if (window.EventSource) {
    var source = new EventSource("/events");
    source.onopen = function () { if (live) live.textContent = "live"; };
    source.onerror = function () { if (live) live.textContent = "reconnecting…"; };
    source.onmessage = function (event) {
      if (Number(event.data) > Number(document.body.dataset.seq)) refresh();
    };
  }
})();
