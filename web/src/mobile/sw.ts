/**
 * The phone app's service worker (scope /m/): the app opens without a
 * connection. Hashed assets are cached on first use and never change; the
 * page itself is fetched from the network first and from the cache when
 * offline. The API is never cached here (reports wait in IndexedDB instead).
 */
// The few service-worker types used, declared here: the project compiles against the DOM library,
// and adding the WebWorker library beside it makes the two clash.
interface ExtendableEvent extends Event { waitUntil(p: Promise<unknown>): void }
interface FetchEvent extends ExtendableEvent { readonly request: Request; respondWith(r: Promise<Response> | Response): void }
interface ServiceWorkerScope {
  skipWaiting(): Promise<void>
  readonly clients: { claim(): Promise<void> }
  addEventListener(type: 'install' | 'activate', fn: (ev: ExtendableEvent) => void): void
  addEventListener(type: 'fetch', fn: (ev: FetchEvent) => void): void
}
const sw = self as unknown as ServiceWorkerScope
const CACHE = 'wangge-m-v1'

sw.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(['/m/', '/m/manifest.webmanifest', '/m/icon.svg'])).then(() => sw.skipWaiting()))
})

sw.addEventListener('activate', (ev) => {
  ev.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => sw.clients.claim()))
})

sw.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url)
  if (ev.request.method !== 'GET' || url.origin !== location.origin || url.pathname.startsWith('/api/')) return
  if (url.pathname.startsWith('/assets/')) {
    ev.respondWith(caches.match(ev.request).then((hit) => hit ?? fetch(ev.request).then((res) => {
      if (res.ok) { const copy = res.clone(); void caches.open(CACHE).then((c) => c.put(ev.request, copy)) }
      return res
    })))
    return
  }
  if (url.pathname.startsWith('/m/')) {
    ev.respondWith(fetch(ev.request).then((res) => {
      if (res.ok) { const copy = res.clone(); void caches.open(CACHE).then((c) => c.put(ev.request, copy)) }
      return res
    }).catch(async () => (await caches.match(ev.request)) ?? (await caches.match('/m/')) ?? Response.error()))
  }
})
