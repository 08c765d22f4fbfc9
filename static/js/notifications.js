// The shared websocket (window.mkRealtime) and the live badges: unread messages and
// notifications in the navigation, unread counts in the conversation list, and a toast
// for each new notification. Pages work without this file (the badges are rendered by
// the server; a reload updates them).
(function () {
  "use strict";
  if (window.mkRealtime) { return; }

  var holder = document.querySelector("[data-ws-url]");
  var path = holder ? holder.getAttribute("data-ws-url") : "/ws/chat/";
  var handlers = {};
  var openHandlers = [];
  var socket = null;
  var attempts = 0;
  var pingTimer = null;
  var stopped = false;

  function emit(type, frame) {
    (handlers[type] || []).forEach(function (fn) { fn(frame); });
  }

  function connect() {
    if (stopped || !("WebSocket" in window)) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + path);
    socket.addEventListener("open", function () {
      attempts = 0;
      pingTimer = window.setInterval(function () { api.send({ type: "ping" }); }, 25000);
      openHandlers.forEach(function (fn) { fn(); });
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (err) { return; }
      if (frame && typeof frame.type === "string") { emit(frame.type, frame); }
    });
    socket.addEventListener("close", function (event) {
      window.clearInterval(pingTimer);
      socket = null;
      emit("close", { code: event.code });
      if (event.code === 4401 || event.code === 4403) { stopped = true; return; }  // signed out or suspended
      attempts += 1;
      var delay = Math.min(30000, 500 * Math.pow(2, Math.min(attempts, 6))) + Math.floor(Math.random() * 500);
      window.setTimeout(connect, delay);
    });
  }

  var api = {
    on: function (type, fn) { (handlers[type] = handlers[type] || []).push(fn); },
    onOpen: function (fn) { openHandlers.push(fn); if (api.isOpen()) { fn(); } },
    isOpen: function () { return socket !== null && socket.readyState === 1; },
    send: function (frame) {
      if (!api.isOpen()) { return false; }
      socket.send(JSON.stringify(frame));
      return true;
    }
  };
  window.mkRealtime = api;

  // --- badges -------------------------------------------------------------------------------

  function setBadge(badge, count) {
    if (!badge) { return; }
    var number = badge.querySelector("[data-role=count]") || badge;
    number.textContent = String(count);
    badge.classList.toggle("d-none", !count);
  }

  api.on("unread", function (frame) {
    setBadge(document.getElementById("nav-messages-count"), frame.total);
    var item = document.querySelector("#conversation-list [data-conversation-id='" + frame.conversation + "']");
    if (item) {
      setBadge(item.querySelector("[data-role=unread]"), frame.unread);
      var list = item.parentNode;
      if (frame.unread && list.firstElementChild !== item) { list.insertBefore(item, list.firstElementChild); }
    }
  });

  api.on("notification", function (frame) {
    setBadge(document.getElementById("nav-notifications-count"), frame.unread_notifications);
    showToast(frame.notification);
  });

  api.on("notifications_read", function (frame) {
    setBadge(document.getElementById("nav-notifications-count"), frame.unread_notifications);
  });

  function showToast(notification) {
    var box = document.getElementById("mk-toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "mk-toasts";
      box.className = "toast-container position-fixed bottom-0 end-0 p-3";
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    var toast = document.createElement("div");
    toast.className = "toast show";
    toast.setAttribute("role", "status");
    var body = document.createElement("div");
    body.className = "toast-body d-flex gap-2 align-items-start";
    var text = document.createElement(notification.url ? "a" : "span");
    text.textContent = notification.text;
    if (notification.url) { text.href = notification.url; }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close ms-auto";
    close.setAttribute("aria-label", "Close");
    close.addEventListener("click", function () { toast.remove(); });
    body.appendChild(text);
    body.appendChild(close);
    toast.appendChild(body);
    box.appendChild(toast);
    window.setTimeout(function () { toast.remove(); }, 8000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
