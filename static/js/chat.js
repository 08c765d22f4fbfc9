// The live chat thread: messages arrive without reloading, the composer sends over the
// websocket (files are uploaded over HTTP first), Enter sends, older messages load when
// scrolling up, typing and presence show, "Seen" follows read receipts.
// Without this file (or without a connection) the page still works: the composer is a
// plain form post and a reload shows new messages.
(function () {
  "use strict";

  var root = document.getElementById("chat");
  var rt = window.mkRealtime;
  if (!root || !rt) { return; }

  var conversationId = parseInt(root.getAttribute("data-conversation"), 10);
  var me = parseInt(root.getAttribute("data-user"), 10);
  var lastSeq = parseInt(root.getAttribute("data-last-seq"), 10) || 0;
  var paged = root.getAttribute("data-paged") === "1";
  var editMs = (parseInt(root.getAttribute("data-edit-minutes"), 10) || 15) * 60000;
  var siteName = root.getAttribute("data-site-name") || "the marketplace";
  var thread = document.getElementById("chat-thread");
  var list = document.getElementById("chat-messages");
  var form = document.getElementById("chat-form");
  var textarea = form.querySelector("textarea");
  var fileInput = form.querySelector("input[type=file]");
  var replyInput = form.querySelector("input[name=reply_to]");
  var idInput = form.querySelector("input[name=client_msg_id]");
  var csrfToken = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var sendButton = document.getElementById("chat-send");
  var errorBox = document.getElementById("chat-error");
  var typingBox = document.getElementById("chat-typing");
  var pendingBox = document.getElementById("chat-pending-files");
  var subscribed = false;
  var waiting = {};  // client_msg_id -> {resolve, reject, timer}
  var lastTypingSent = 0;
  var typingTimers = {};
  var readSent = 0;

  // --- layout -----------------------------------------------------------------------------

  // A scrolling thread, sized through the CSSOM (allowed by a strict Content-Security-Policy).
  thread.style.maxHeight = "60vh";
  thread.style.minHeight = "16rem";
  document.getElementById("chat-enter-hint").classList.remove("d-none");

  function nearBottom() {
    return thread.scrollHeight - thread.scrollTop - thread.clientHeight < 120;
  }

  function scrollToBottom() { thread.scrollTop = thread.scrollHeight; }

  function localiseTimes(scope) {
    scope.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when.getTime())) {
        el.textContent = when.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
      }
    });
  }

  // --- rendering (mirrors templates/messaging/partials/message.html) ----------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function url(attribute, seq) {
    return root.getAttribute(attribute).replace("/m/0/", "/m/" + seq + "/");
  }

  function timeElement(iso) {
    var time = el("time");
    time.setAttribute("datetime", iso);
    localiseTimes({ querySelectorAll: function () { return [time]; } });
    return time;
  }

  function buildMessage(m) {
    var mine = m.sender !== null && m.sender.id === me;
    var li = el("li", "chat-message d-flex mb-3" + (mine ? " justify-content-end" : ""));
    li.id = "m" + m.seq;
    li.setAttribute("data-seq", m.seq);
    li.setAttribute("data-sender", m.sender ? m.sender.id : "");
    if (m.kind === "system") {
      var line = el("div", "w-100 text-center small text-secondary");
      line.setAttribute("data-role", "system");
      var icon = el("i", "bi bi-info-circle");
      icon.setAttribute("aria-hidden", "true");
      var body = el("span", "chat-body");
      body.innerHTML = m.body_html;  // escaped and linkified by the server
      line.append(icon, " ", body, " · ", timeElement(m.created_at));
      li.appendChild(line);
      return li;
    }
    var bubble = el("div", "col-11 col-md-9 p-2 px-3 rounded-3 border " + (mine ? "bg-success-subtle" : "bg-body"));
    var head = el("div", "small text-secondary mb-1");
    head.append(el("strong", "text-body", mine ? "You" : m.sender.name), " · ", timeElement(m.created_at));
    if (m.edited_at && !m.deleted_at) {
      var edited = el("span", "", "edited");
      edited.setAttribute("data-role", "edited");
      head.append(" · ", edited);
    }
    bubble.appendChild(head);
    if (m.reply_to && !m.deleted_at) {
      var quote = el("a", "d-block border-start border-3 ps-2 mb-1 small text-secondary text-decoration-none text-truncate",
        m.reply_to.sender_name + ": " + m.reply_to.excerpt);
      quote.href = "#m" + m.reply_to.seq;
      quote.setAttribute("data-role", "reply-quote");
      bubble.appendChild(quote);
    }
    if (m.deleted_at) {
      var gone = el("p", "fst-italic text-secondary mb-0", "This message was deleted");
      gone.setAttribute("data-role", "deleted");
      bubble.appendChild(gone);
    } else if (m.hidden) {
      var removed = el("p", "fst-italic text-secondary mb-0", "Removed by a moderator");
      removed.setAttribute("data-role", "hidden");
      bubble.appendChild(removed);
    } else {
      if (m.flagged_off_platform && !mine) {
        var warn = el("div", "alert alert-warning py-1 px-2 small mb-2");
        warn.setAttribute("role", "note");
        warn.setAttribute("data-role", "off-platform-warning");
        var shield = el("i", "bi bi-shield-exclamation");
        shield.setAttribute("aria-hidden", "true");
        warn.append(shield, " ", el("strong", "", "Be careful:"),
          " this message seems to ask you to talk or pay outside " + siteName +
          ". Payments outside the marketplace are not protected, and asking for them before a contract is against our terms.");
        bubble.appendChild(warn);
      }
      if (m.body_html) {
        var text = el("div", "chat-body text-break");
        text.innerHTML = m.body_html;  // escaped and linkified by the server
        bubble.appendChild(text);
      }
      if (m.attachments.length) {
        var files = el("ul", "list-unstyled mb-0 mt-1");
        files.setAttribute("data-role", "attachments");
        m.attachments.forEach(function (a) {
          var item = el("li", "mt-1");
          if (a.is_image) {
            var link = el("a");
            link.href = a.url;
            link.target = "_blank";
            link.rel = "noopener";
            var img = el("img", "img-thumbnail d-block");
            img.src = a.thumbnail_url;
            img.alt = "Image: " + a.name;
            img.loading = "lazy";
            link.appendChild(img);
            var download = el("a", "small", "Download " + a.name);
            download.href = a.url + "?download=1";
            item.append(link, download);
          } else {
            var file = el("a");
            file.href = a.url;
            var clip = el("i", "bi bi-paperclip");
            clip.setAttribute("aria-hidden", "true");
            file.append(clip, " " + a.name);
            item.append(file, " ", el("span", "small text-secondary", "(" + humanSize(a.size_bytes) + ")"));
          }
          files.appendChild(item);
        });
        bubble.appendChild(files);
      }
      bubble.appendChild(buildActions(m, mine));
    }
    if (mine) {
      var seen = el("div", "small text-secondary text-end");
      seen.setAttribute("data-role", "seen");
      seen.hidden = true;
      var check = el("i", "bi bi-check2-all");
      check.setAttribute("aria-hidden", "true");
      seen.append(check, " Seen");
      bubble.appendChild(seen);
    }
    li.appendChild(bubble);
    return li;
  }

  function buildActions(m, mine) {
    var actions = el("div", "small mt-1 d-flex gap-3");
    actions.setAttribute("data-role", "actions");
    var reply = el("a", "", "Reply");
    reply.href = "?reply_to=" + m.seq + "#chat-composer";
    reply.setAttribute("data-action", "reply");
    reply.setAttribute("data-seq", m.seq);
    actions.appendChild(reply);
    if (mine && Date.now() - new Date(m.created_at).getTime() < editMs) {
      var edit = el("a", "", "Edit");
      edit.href = url("data-edit-url", m.seq);
      edit.setAttribute("data-action", "edit");
      var del = el("form", "d-inline");
      del.method = "post";
      del.action = url("data-delete-url", m.seq);
      var token = el("input");
      token.type = "hidden";
      token.name = "csrfmiddlewaretoken";
      token.value = csrfToken;
      var button = el("button", "btn btn-link btn-sm p-0 align-baseline", "Delete");
      button.type = "submit";
      button.setAttribute("data-confirm", "Delete this message for everyone?");
      del.append(token, button);
      actions.append(edit, del);
    }
    if (!mine) {
      var report = el("a", "", "Report");
      report.href = url("data-report-url", m.seq);
      report.setAttribute("data-action", "report");
      actions.appendChild(report);
    }
    return actions;
  }

  function humanSize(bytes) {
    if (bytes >= 1048576) { return (bytes / 1048576).toFixed(1) + " MB"; }
    if (bytes >= 1024) { return Math.floor(bytes / 1024) + " KB"; }
    return bytes + " bytes";
  }

  // --- incoming frames --------------------------------------------------------------------

  function placeMessage(frame) {
    var existing = document.getElementById("m" + frame.seq);
    if (frame.event !== "new") {
      if (existing) { existing.replaceWith(buildMessage(frame)); updateSeen(); }
      return;
    }
    if (existing) { return; }
    var stick = nearBottom() || (frame.sender && frame.sender.id === me);
    var empty = document.getElementById("chat-empty");
    if (empty) { empty.remove(); }
    list.appendChild(buildMessage(frame));
    lastSeq = Math.max(lastSeq, frame.seq);
    if (frame.sender) { clearTyping(frame.sender.id); }
    updatePreview(frame);
    if (stick) { scrollToBottom(); }
    updateSeen();
    markRead();
  }

  // the conversation list beside the thread shows the latest message
  function updatePreview(frame) {
    var item = document.querySelector("#conversation-list [data-conversation-id='" + conversationId + "']");
    var preview = item && item.querySelector("[data-role=preview]");
    if (!preview) { return; }
    var who = frame.sender ? (frame.sender.id === me ? "You: " : frame.sender.name + ": ") : "";
    preview.textContent = who + (frame.body ? frame.body.replace(/\s+/g, " ").slice(0, 70) : "Sent a file");
    if (item.parentNode.firstElementChild !== item) { item.parentNode.insertBefore(item, item.parentNode.firstElementChild); }
  }

  function markRead() {
    if (document.visibilityState !== "visible" || lastSeq <= readSent || !nearBottom()) { return; }
    if (rt.send({ type: "read", conversation: conversationId, seq: lastSeq })) { readSent = lastSeq; }
  }

  function readByOthers() {
    var seqs = [];
    document.querySelectorAll("#chat-people [data-user]").forEach(function (item) {
      seqs.push(parseInt(item.getAttribute("data-read"), 10) || 0);
    });
    return seqs.length ? Math.min.apply(null, seqs) : 0;
  }

  function updateSeen() {
    var upTo = readByOthers();
    var best = null;
    list.querySelectorAll("li[data-sender='" + me + "']").forEach(function (item) {
      var seq = parseInt(item.getAttribute("data-seq"), 10);
      if (seq <= upTo && (!best || seq > parseInt(best.getAttribute("data-seq"), 10))) { best = item; }
    });
    list.querySelectorAll("[data-role=seen]").forEach(function (seen) {
      seen.hidden = !best || !best.contains(seen);
    });
  }

  function clearTyping(userId) {
    if (typingTimers[userId]) {
      window.clearTimeout(typingTimers[userId].timer);
      delete typingTimers[userId];
      renderTyping();
    }
  }

  function renderTyping() {
    var names = Object.keys(typingTimers).map(function (k) { return typingTimers[k].name; });
    typingBox.textContent = names.length ? names.join(", ") + (names.length > 1 ? " are" : " is") + " typing…" : "";
  }

  rt.on("message", function (frame) {
    if (frame.conversation === conversationId) { placeMessage(frame); }
  });

  rt.on("subscribed", function (frame) {
    if (frame.conversation === conversationId) { subscribed = true; markRead(); }
  });

  rt.on("ack", function (frame) {
    var entry = waiting[frame.client_msg_id];
    if (entry) { window.clearTimeout(entry.timer); delete waiting[frame.client_msg_id]; entry.resolve(frame); }
  });

  rt.on("error", function (frame) {
    var entry = frame.client_msg_id && waiting[frame.client_msg_id];
    if (entry) {
      window.clearTimeout(entry.timer);
      delete waiting[frame.client_msg_id];
      entry.reject(new Error(frame.message));
    } else if (frame.conversation === conversationId) {
      errorBox.textContent = frame.message;
    }
  });

  rt.on("typing", function (frame) {
    if (frame.conversation !== conversationId || frame.user === me) { return; }
    clearTyping(frame.user);
    typingTimers[frame.user] = { name: frame.name, timer: window.setTimeout(function () { clearTyping(frame.user); }, 4000) };
    renderTyping();
  });

  rt.on("presence", function (frame) {
    if (frame.conversation !== conversationId) { return; }
    var person = document.querySelector("#chat-people [data-user='" + frame.user + "']");
    if (!person) { return; }
    var dot = person.querySelector("[data-role=presence-dot]");
    dot.classList.toggle("text-success", frame.online);
    dot.classList.toggle("text-secondary", !frame.online);
    person.querySelector("[data-role=presence-label]").textContent = frame.online ? "online" : "offline";
  });

  rt.on("read", function (frame) {
    if (frame.conversation !== conversationId || frame.user === me) { return; }
    var person = document.querySelector("#chat-people [data-user='" + frame.user + "']");
    if (person) { person.setAttribute("data-read", frame.seq); updateSeen(); }
  });

  rt.on("close", function () { subscribed = false; });

  if (!paged) {
    rt.onOpen(function () {
      rt.send({ type: "subscribe", conversation: conversationId, last_seq: lastSeq });
    });
  }

  document.addEventListener("visibilitychange", markRead);
  thread.addEventListener("scroll", function () { if (nearBottom()) { markRead(); } });

  // --- composer -----------------------------------------------------------------------------

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function sendFrame(frame) {
    return new Promise(function (resolve, reject) {
      if (!rt.send(frame)) { reject(new Error("Not connected; try again in a moment.")); return; }
      waiting[frame.client_msg_id] = {
        resolve: resolve,
        reject: reject,
        timer: window.setTimeout(function () {
          delete waiting[frame.client_msg_id];
          reject(new Error("The message was not confirmed; check your connection and send again."));
        }, 15000)
      };
    });
  }

  function upload(file) {
    var data = new FormData();
    data.append("file", file);
    return fetch(root.getAttribute("data-upload-url"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) { throw new Error(file.name + ": " + (json.message || "upload failed")); }
        return json;
      });
    });
  }

  function setBusy(busy) {
    sendButton.disabled = busy;
    textarea.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function clearReply() {
    replyInput.value = "";
    document.getElementById("chat-reply").classList.add("d-none");
  }

  function showPendingFiles() {
    pendingBox.textContent = "";
    Array.prototype.forEach.call(fileInput.files, function (file) {
      pendingBox.appendChild(el("li", "", "📎 " + file.name + " (" + humanSize(file.size) + ")"));
    });
  }

  form.addEventListener("submit", function (event) {
    if (!subscribed || !rt.isOpen()) { return; }  // the plain form post does the work
    event.preventDefault();
    var body = textarea.value.trim();
    var files = Array.prototype.slice.call(fileInput.files);
    errorBox.textContent = "";
    if (!body && !files.length) { errorBox.textContent = "Write a message or attach a file."; return; }
    if (!idInput.value) { idInput.value = newId(); }
    setBusy(true);
    var uploads = files.reduce(function (chain, file) {
      return chain.then(function (ids) { return upload(file).then(function (a) { return ids.concat([a.id]); }); });
    }, Promise.resolve([]));
    uploads.then(function (ids) {
      return sendFrame({
        type: "send",
        conversation: conversationId,
        client_msg_id: idInput.value,
        body: body,
        reply_to: replyInput.value ? parseInt(replyInput.value, 10) : null,
        attachment_ids: ids
      });
    }).then(function () {
      textarea.value = "";
      textarea.dispatchEvent(new Event("input"));
      fileInput.value = "";
      showPendingFiles();
      clearReply();
      idInput.value = newId();  // the next message is a new one; a retry of this one kept its id
    }).catch(function (error) {
      errorBox.textContent = error.message;
    }).then(function () {
      setBusy(false);
      textarea.focus();
    });
  });

  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }
  });

  textarea.addEventListener("input", function () {
    var now = Date.now();
    if (subscribed && textarea.value && now - lastTypingSent > 3000) {
      lastTypingSent = now;
      rt.send({ type: "typing", conversation: conversationId });
    }
  });

  fileInput.addEventListener("change", showPendingFiles);

  document.addEventListener("click", function (event) {
    var reply = event.target.closest("[data-action=reply]");
    if (reply && root.contains(reply)) {
      event.preventDefault();
      var item = document.getElementById("m" + reply.getAttribute("data-seq"));
      var author = item.querySelector("strong");
      var bodyText = item.querySelector(".chat-body");
      replyInput.value = reply.getAttribute("data-seq");
      document.getElementById("chat-reply-text").textContent =
        (author ? author.textContent : "") + ": " + (bodyText ? bodyText.textContent.slice(0, 60) : "a file");
      document.getElementById("chat-reply").classList.remove("d-none");
      textarea.focus();
      return;
    }
    if (event.target.closest("#chat-reply-cancel")) {
      event.preventDefault();
      clearReply();
    }
  });

  // --- older messages: infinite scroll upwards ---------------------------------------------

  var loadingOlder = false;
  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) { if (entry.isIntersecting) { loadOlder(entry.target); } });
  }, { root: thread, rootMargin: "200px 0px 0px 0px" }) : null;

  function watchOlder() {
    var link = list.querySelector("[data-role=older-link]");
    if (link && observer) { observer.observe(link); }
  }

  function loadOlder(link) {
    if (loadingOlder) { return; }
    loadingOlder = true;
    if (observer) { observer.unobserve(link); }
    var before = link.getAttribute("data-before");
    fetch(root.getAttribute("data-history-url") + "?before=" + encodeURIComponent(before), {
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("Could not load earlier messages."); }
      return response.text();
    }).then(function (html) {
      var holder = document.createElement("template");
      holder.innerHTML = html;
      localiseTimes(holder.content);
      var previousHeight = thread.scrollHeight;
      var previousTop = thread.scrollTop;
      link.closest("li").remove();
      list.insertBefore(holder.content, list.firstChild);
      thread.scrollTop = previousTop + (thread.scrollHeight - previousHeight);
      updateSeen();
      loadingOlder = false;
      watchOlder();
    }).catch(function (error) {
      errorBox.textContent = error.message;
      loadingOlder = false;
    });
  }

  list.addEventListener("click", function (event) {
    var link = event.target.closest("[data-role=older-link]");
    if (link) { event.preventDefault(); loadOlder(link); }
  });

  localiseTimes(list);
  updateSeen();
  if (!paged) {
    var target = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
    if (target && list.contains(target)) {
      target.scrollIntoView();
    } else {
      scrollToBottom();
    }
  }
  watchOlder();
})();
