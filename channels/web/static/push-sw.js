/* Crieur's service worker for Web Push: shows the mairie's alerts as notifications.
 * A push carries JSON {"title", "body", "url"}; a click focuses or opens that url.
 * It handles nothing else (no fetch handler, no cache): pages load as if it were absent. */
"use strict";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function safeUrl(value) {
  try {
    var url = new URL(value || "/", self.location.origin);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : self.location.origin + "/";
  } catch (e) {
    return self.location.origin + "/";
  }
}

self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try {
      data = event.data.json() || {};
    } catch (e) {
      data = { body: event.data.text() };
    }
  }
  var title = typeof data.title === "string" && data.title ? data.title : "Message de la mairie";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof data.body === "string" ? data.body : "",
      lang: "fr",
      data: { url: safeUrl(data.url) },
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = safeUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === url && "focus" in windows[i]) return windows[i].focus();
      }
      return self.clients.openWindow ? self.clients.openWindow(url) : undefined;
    })
  );
});
