// The app's service worker: the app's own files are served from the
// network when it answers and from this cache when it does not, so that the
// app opens with no signal. API calls are not cached here: the page keeps
// what it read and what waits to be sent in IndexedDB.
'use strict';
const CACHE = 'daisuso-app-v1';
const FILES = ['/app/', '/app/app.js', '/app/app.css', '/app/manifest.webmanifest', '/app/icon-192.png', '/app/icon-512.png'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin || !(url.pathname === '/app' || url.pathname.startsWith('/app/'))) {
    return;
  }
  const key = url.pathname === '/app' || url.pathname === '/app/index.html' ? '/app/' : url.pathname;
  e.respondWith(fetch(e.request).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(key, copy));
    }
    return res;
  }).catch(() => caches.match(key).then((hit) => hit || new Response('', { status: 503, statusText: 'offline' }))));
});
