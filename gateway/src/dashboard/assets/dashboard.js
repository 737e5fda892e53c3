// ml-connector dashboard: local times, and the live view (pages marked
// data-live refresh their content when the server says events were stored).
(function () {
  "use strict";

  var sameDay = function (a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  };
  var two = function (n) { return (n < 10 ? "0" : "") + n; };
  var clock = function (d) { return two(d.getHours()) + ":" + two(d.getMinutes()); };
  var dateLabel = function (d) {
    return d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
  };
  var ago = function (d) {
    var s = Math.round((Date.now() - d.getTime()) / 1000);
    if (s < 45) return "just now";
    if (s < 5400) return Math.round(s / 60) + " min ago";
    if (s < 129600) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " days ago";
  };

  // Times are rendered in UTC; show them in the reader's time zone.
  function localTimes(root) {
    var now = new Date();
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      var show = el.getAttribute("data-show");
      if (show === "ago") {
        el.textContent = ago(d);
        el.title = dateLabel(d) + " " + clock(d);
      } else if (show === "time") {
        el.textContent = sameDay(d, now) ? clock(d) : dateLabel(d) + " " + clock(d);
      } else {
        el.textContent = (sameDay(d, now) ? "Today" : dateLabel(d)) + " " + clock(d) + ":" + two(d.getSeconds());
      }
    });
  }

  // Someone is typing in, or has changed, a field of the content: do not
  // replace it under their hands.
  function busy() {
    var content = document.getElementById("content");
    if (!content) return false;
    var a = document.activeElement;
    if (a && content.contains(a) && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA")) return true;
    var changed = false;
    content.querySelectorAll("input[type=text], input[type=search], select").forEach(function (el) {
      if (el.tagName === "SELECT") {
        for (var i = 0; i < el.options.length; i++) {
          if (el.options[i].selected !== el.options[i].defaultSelected) changed = true;
        }
      } else if (el.value !== el.defaultValue) {
        changed = true;
      }
    });
    return changed;
  }

  var refreshing = false, again = false;
  function refresh() {
    if (refreshing) { again = true; return; }
    if (busy()) { again = true; setTimeout(refresh, 2000); return; }
    refreshing = true;
    fetch(location.href, { headers: { "X-Live": "1" }, credentials: "same-origin", redirect: "manual" })
      .then(function (r) {
        if (r.type === "opaqueredirect" || r.status === 401) { location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("content");
        var current = document.getElementById("content");
        if (!next || !current || busy()) return;
        // Keep open "technical details" open.
        var open = [];
        current.querySelectorAll("details[open]").forEach(function (d, i) { open.push(i); });
        if (next.innerHTML !== current.innerHTML) {
          localTimes(next);
          current.innerHTML = next.innerHTML;
          var details = current.querySelectorAll("details");
          open.forEach(function (i) { if (details[i]) details[i].open = true; });
          document.body.setAttribute("data-refreshed", String(Date.now()));
        }
      })
      .catch(function () {})
      .then(function () {
        refreshing = false;
        if (again) { again = false; setTimeout(refresh, 300); }
      });
  }

  function live() {
    if (document.body.getAttribute("data-live") !== "1" || !window.EventSource) return;
    var badge = document.getElementById("live");
    var source = new EventSource("/live");
    source.addEventListener("open", function () { if (badge) badge.classList.add("on"); });
    source.addEventListener("error", function () { if (badge) badge.classList.remove("on"); });
    source.addEventListener("change", refresh);
    // A safety net: the stream's wake-ups are hints.
    setInterval(function () { if (!document.hidden) refresh(); }, 20000);
    // Relative times age even when nothing happens.
    setInterval(function () { localTimes(document); }, 30000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    live();
  });
})();
