// The local stack's inbox page: sign in as a demo user, watch notifications arrive over the
// WebSocket API, act on them through the HTTP API, fire sample Kafka events, and keep an eye on
// the emails SES sent, the pushes SNS sent and the dead letters the functions gave up on.
//
// The page speaks the inbox v2 API (grouped entries, seen/unread counts, archive, sync on
// reconnect) and falls back quietly where the API it talks to predates it: the badge then counts
// unread entries, and the Mentions and Archived views and the v2-only actions are hidden.

const PAGE_SIZE = 20;
const POLL_MS = 2000;
const PING_MS = 4 * 60_000; // API Gateway closes a WebSocket connection after 10 idle minutes
const SYNC_TIMEOUT_MS = 5000;
const RECONNECT_MAX_MS = 10_000;
const TYPES = ['like', 'follow', 'reply', 'repost', 'mention'];
const MENTION_TYPES = new Set(['mention', 'reply']);
// What the actors did, after their names ("Alice and Bob" + " liked your post").
const PREDICATES = {
  like: (what) => `liked your ${what}`,
  follow: () => 'followed you',
  reply: (what) => `replied to your ${what}`,
  repost: (what) => `reposted your ${what}`,
  mention: () => 'mentioned you',
};
const MAX_AVATARS = 3;
const VIEWS = {
  all: { query: {}, shows: (entry) => !entry.archived },
  mentions: { query: { type: [...MENTION_TYPES].join(',') }, shows: (entry) => !entry.archived && MENTION_TYPES.has(entry.type) },
  archived: { query: { status: 'archived' }, shows: (entry) => entry.archived },
};
const PUSH_ALERTS = [
  ['APNS', (payload) => payload.aps?.alert],
  ['GCM', (payload) => payload.notification],
];
const TIME_UNITS = [
  ['year', 31_536_000], ['month', 2_592_000], ['week', 604_800], ['day', 86_400], ['hour', 3600], ['minute', 60],
];

const state = { config: null, session: null, pollError: '', view: 'all' };
const $ = (selector) => document.querySelector(selector);
const relativeTime = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

class StaleSession extends Error {}

// ---- plumbing ----------------------------------------------------------------------------

function el(tag, { dataset = {}, ...props } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  node.append(...children);
  return node;
}

const option = (value) => el('option', { value, textContent: value });

function jsonDetails(summary, value) {
  const json = JSON.stringify(value, null, 2);
  return el('details', {}, el('summary', { textContent: summary }), el('pre', { textContent: json }));
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function report(error) {
  if (error instanceof StaleSession) return;
  $('#error-message').textContent = error?.message || String(error);
  $('#error').hidden = false;
}

const guard = (handler) => async (event) => {
  try {
    await handler(event);
  } catch (error) {
    report(error);
  }
};

async function settle(...promises) {
  const results = await Promise.allSettled(promises);
  results.filter((result) => result.status === 'rejected').forEach((result) => report(result.reason));
}

async function request(url, { method = 'GET', body, token } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    const origin = new URL(url, location.href).origin;
    throw new ApiError(0, 'network_error', `Cannot reach ${origin}: is the local stack running?`);
  }
  const text = await response.text();
  const data = text ? parseJson(text) ?? { message: text } : null;
  if (!response.ok) {
    const message = data?.error?.message ?? data?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, data?.error?.code ?? 'http_error', message);
  }
  return data;
}

function currentSession() {
  if (!state.session) throw new ApiError(401, 'signed_out', 'Sign in first');
  return state.session;
}

// A call to the HTTP API as the signed-in user; its answer is dropped if the user changed meanwhile.
async function api(path, options = {}) {
  const session = currentSession();
  let data;
  try {
    data = await request(`${state.config.httpApiUrl}${path}`, { ...options, token: session.token });
  } catch (error) {
    if (session === state.session) throw error;
  }
  if (session !== state.session) throw new StaleSession();
  return data;
}

// A call only the v2 API answers: on an older API (404) the session remembers it and the call is a no-op.
async function apiV2(path, options = {}) {
  const session = currentSession();
  if (session.v2 === false) return { served: false };
  try {
    const data = await api(path, options);
    setV2(session, true);
    return { served: true, data };
  } catch (error) {
    if (error.status !== 404 || error.code !== 'http_error') throw error;
    setV2(session, false);
    return { served: false };
  }
}

function setV2(session, served) {
  if (session !== state.session || session.v2 === served) return;
  session.v2 = served;
  document.body.classList.toggle('v1', !served);
  if (!served && state.view !== 'all') showView('all');
}

const time = (iso) => Date.parse(iso) || 0;

function ago(iso) {
  const seconds = (time(iso) - Date.now()) / 1000;
  if (Math.abs(seconds) < 45) return 'just now';
  const [unit, size] = TIME_UNITS.find(([, length]) => Math.abs(seconds) >= length) ?? ['minute', 60];
  return relativeTime.format(Math.round(seconds / size), unit);
}

function timeAgo(iso) {
  return el('time', { className: 'ago', dateTime: iso, title: new Date(iso).toLocaleString(), textContent: ago(iso) });
}

function refreshTimes() {
  document.querySelectorAll('time.ago').forEach((node) => { node.textContent = ago(node.dateTime); });
}

// ---- session and live connection --------------------------------------------------------

function resetUi(user) {
  $('#signed-in-as').textContent = user ?? 'nobody';
  showStatus(false);
  renderCounts(null);
  $('#notifications').replaceChildren();
  $('#load-more').hidden = true;
  $('#devices').replaceChildren();
  $('#fire-result').replaceChildren();
  $('#preferences-status').textContent = '';
  renderPreferences(null);
  $('#save-preferences').disabled = true;
  $('#digest-status').textContent = '';
  document.querySelectorAll('[data-needs-user]').forEach((node) => { node.disabled = !user; });
  document.body.classList.remove('v1');
  const others = state.config.users.filter((name) => name !== user);
  $('#fire-actor').replaceChildren(...others.map(option));
}

function showStatus(live) {
  const status = $('#connection-status');
  status.textContent = live ? 'live' : 'offline';
  status.classList.toggle('live', live);
}

function endSession() {
  const session = state.session;
  state.session = null;
  if (!session) return;
  clearTimeout(session.retryTimer);
  clearTimeout(session.syncTimer);
  session.socket?.close();
}

async function signIn(event) {
  event.preventDefault();
  const user = $('#user').value.trim();
  if (!user) return;
  endSession();
  resetUi(null);
  const button = $('#sign-in');
  button.disabled = true;
  let token;
  try {
    ({ token } = await request('/dev/token', { method: 'POST', body: { user } }));
  } finally {
    button.disabled = false;
  }
  const session = {
    user,
    token,
    socket: null,
    retries: 0,
    retryTimer: 0,
    wasLive: false,
    countSeq: 0,
    counts: null,
    listing: null,
    entries: new Map(), // every entry the page holds, by id, whichever view it came from
    v2: null, // whether the API serves inbox v2; null until the first answer says
    syncTimer: 0,
    syncPending: null,
    seeing: null,
  };
  state.session = session;
  resetUi(user);
  connect(session);
  // Signing in opens the inbox: one request brings the first page and the counts and makes
  // whatever was new seen. Another view, or an API without it, marks seen, then lists.
  const opening = (async () => {
    if (state.view === 'all' && !$('#unread-only').checked) {
      try {
        await loadFirstPage({ open: true });
        return;
      } catch (error) {
        if (error.status !== 404) throw error;
      }
    }
    await markSeen({ always: true });
    await loadFirstPage();
  })();
  await settle(opening, loadPreferences(), loadDevices());
}

function connect(session) {
  let socket;
  let closedForCap = false;
  try {
    // The token travels as a subprotocol (Sec-WebSocket-Protocol: bearer, <token>), not in the URL,
    // where proxies' logs and the browser's history would keep it.
    socket = new WebSocket(state.config.webSocketUrl, ['bearer', session.token]);
  } catch (error) {
    report(error);
    return;
  }
  session.socket = socket;
  socket.addEventListener('open', () => {
    if (session !== state.session) return;
    showStatus(true);
    session.retries = 0;
    onSocketOpen(session, socket);
  });
  socket.addEventListener('message', (event) => {
    // The user opened more connections than the server keeps: it closes the oldest, this one.
    if (parseJson(event.data)?.reason === 'too_many_connections') closedForCap = true;
    onSocketMessage(session, event.data);
  });
  socket.addEventListener('close', () => {
    if (session !== state.session) return;
    showStatus(false);
    if (closedForCap) {
      // Reconnecting would close the user's next oldest tab, and that one would do the same.
      report(new Error('This tab stopped updating: the inbox is open in too many tabs. Reload to use it here.'));
      return;
    }
    const delay = Math.min(500 * 2 ** session.retries, RECONNECT_MAX_MS);
    session.retries += 1;
    session.retryTimer = setTimeout(() => connect(session), delay);
  });
}

function send(socket, message) {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

// A socket that (re)opens asks for what changed since the newest entry the page holds, in one round trip.
function onSocketOpen(session, socket) {
  const reconnected = session.wasLive;
  session.wasLive = true;
  const pinger = setInterval(() => {
    if (socket.readyState === WebSocket.OPEN) send(socket, { type: 'ping' });
    else clearInterval(pinger);
  }, PING_MS);
  if (session.v2 === false) {
    if (reconnected) reloadAfterOutage(session);
    return;
  }
  const since = newestUpdate(session);
  send(socket, since ? { type: 'sync', since } : { type: 'sync' });
  // An API without sync never answers it with a page: the page catches up over HTTP then.
  clearTimeout(session.syncTimer);
  session.syncPending = { catchUp: reconnected };
  session.syncTimer = setTimeout(() => endSync(session, { fallBack: true }), SYNC_TIMEOUT_MS);
}

function endSync(session, { fallBack }) {
  const pending = session.syncPending;
  clearTimeout(session.syncTimer);
  session.syncPending = null;
  if (pending?.catchUp && fallBack) reloadAfterOutage(session);
}

// Whatever happened while the socket was down is only in the API now.
function reloadAfterOutage(session) {
  if (session === state.session) loadFirstPage().catch(report);
}

function newestUpdate(session) {
  let newest = '';
  session.entries.forEach((entry) => {
    if (time(entry.updatedAt) > time(newest)) newest = entry.updatedAt;
  });
  return newest;
}

// Changes to the listed entries, by WebSocket message type.
const CHANGES = {
  'notification.created': ({ notification }) => upsert(normalise(notification), { fresh: true }),
  'notification.updated': ({ notification }) => upsert(normalise(notification), { fresh: true }),
  'notification.deleted': ({ id }) => forget(id),
  'notification.read': ({ id }) => patch(id, { read: true }),
  'notification.unread': ({ id }) => patch(id, { read: false }),
  'notification.archived': ({ id }) => patch(id, { archived: true }),
  'notification.unarchived': ({ id }) => patch(id, { archived: false }),
  'notifications.read_all': ({ readAt }) => patchUpTo(readAt, { read: true }),
  'notifications.seen_all': ({ seenAt }) => keepUpTo(seenAt, { seen: true }),
  'notifications.cleared': ({ clearedAt }) => clearUpTo(clearedAt),
  sync: ({ page }) => (page?.items ?? []).forEach((notification) => upsert(normalise(notification))),
};

function onSocketMessage(session, data) {
  const message = parseJson(data);
  if (session !== state.session || typeof message?.type !== 'string') return;
  if (message.type === 'sync') endSync(session, { fallBack: false });
  if (message.type === 'error' && session.syncPending) {
    // An API that predates v2 answers sync with an error: it sends no counts or groups either.
    if (message.error?.code === 'unsupported_message') setV2(session, false);
    endSync(session, { fallBack: true });
    return;
  }
  if (!Object.hasOwn(CHANGES, message.type)) return;
  CHANGES[message.type](message);
  // A first page still loading may predate this change: it is replayed once the page is shown.
  session.listing?.journal?.push(message);
  if (message.counts) {
    setV2(session, true);
    renderCounts(message.counts);
    session.countSeq += 1; // an HTTP answer asked for before this change is older than it
  } else if (message.type !== 'sync') {
    refreshCounts().catch(report); // an API that predates v2 sends no counts
  }
}

// ---- entries ----------------------------------------------------------------------------

// An entry as the page keeps it, whether the API sent a v2 group or a single v1 notification.
function normalise(notification) {
  const actors = notification.actors?.length ? notification.actors.slice(0, MAX_AVATARS) : [notification.actor];
  return {
    ...notification,
    actors,
    actorCount: Math.max(notification.actorCount ?? actors.length, actors.length),
    updatedAt: notification.updatedAt ?? notification.createdAt,
    archived: Boolean(notification.archived),
    seen: Boolean(notification.seen),
    cleared: false,
  };
}

const nameOf = (actor) => actor?.username || actor?.id || 'Someone';

// "Alice", "Alice and Bob", "Alice, Bob and Carol", "Alice, Bob and 3 others".
function actorsText({ actors, actorCount }) {
  const names = actors.map(nameOf);
  if (actorCount <= 1) return names[0];
  if (actorCount === 2) return names.length >= 2 ? `${names[0]} and ${names[1]}` : `${names[0]} and 1 other`;
  if (actorCount === 3 && names.length >= 3) return `${names[0]}, ${names[1]} and ${names[2]}`;
  const others = actorCount - 2;
  const [first, second = '1 other'] = names;
  return `${first}, ${second} and ${others} other${others === 1 ? '' : 's'}`;
}

function sentenceOf(entry) {
  const who = actorsText(entry);
  const what = String(entry.resource?.type ?? 'post').toLowerCase();
  const predicate = PREDICATES[entry.type];
  return predicate ? `${who} ${predicate(what)}` : `${who}: ${entry.type}`;
}

function avatar(actor) {
  const who = nameOf(actor);
  const badge = el('span', { className: 'avatar', title: who, textContent: who.charAt(0).toUpperCase() });
  if (/^https?:\/\//i.test(actor?.avatar ?? '')) {
    const image = el('img', { src: actor.avatar, alt: '', loading: 'lazy', referrerPolicy: 'no-referrer' });
    image.addEventListener('error', () => image.remove(), { once: true });
    badge.append(image);
  }
  return badge;
}

function button(className, textContent, { v2 = false, hidden = false } = {}) {
  const node = el('button', { type: 'button', className, textContent, hidden });
  if (v2) node.dataset.v2 = '';
  return node;
}

function renderEntry(entry) {
  const { actors, resource, read, archived } = entry;
  const excerpt = resource?.excerpt ? [el('p', { className: 'excerpt', textContent: resource.excerpt })] : [];
  const item = el(
    'li',
    { className: 'notification', dataset: { id: entry.id, type: entry.type, updatedAt: entry.updatedAt } },
    el('div', { className: `avatars count-${actors.length}`, ariaHidden: 'true' }, ...actors.map(avatar)),
    el(
      'div',
      { className: 'content' },
      el('p', { className: 'sentence', textContent: sentenceOf(entry) }),
      ...excerpt,
      timeAgo(entry.updatedAt),
    ),
    el(
      'div',
      { className: 'actions' },
      button('mark-read', 'Mark read', { hidden: read }),
      button('mark-unread', 'Mark unread', { v2: true, hidden: !read }),
      button('archive', 'Archive', { v2: true, hidden: archived }),
      button('unarchive', 'Unarchive', { v2: true, hidden: !archived }),
      button('delete', 'Delete'),
    ),
  );
  item.classList.toggle('unread', !read);
  return item;
}

function findItem(id) {
  return $('#notifications').querySelector(`li.notification[data-id="${CSS.escape(id)}"]`);
}

const listed = () => [...$('#notifications').querySelectorAll('li.notification')];

function shownIn(listing, entry) {
  return !entry.cleared && VIEWS[listing.view].shows(entry) && !(listing.unreadOnly && entry.read);
}

// Keeps the entry and shows, moves or hides it in the current view, newest updatedAt first.
function upsert(entry, { fresh = false } = {}) {
  const session = state.session;
  if (!session) return;
  const before = session.entries.get(entry.id);
  session.entries.set(entry.id, entry);
  const listing = session.listing;
  const existing = findItem(entry.id);
  if (!listing || !shownIn(listing, entry)) {
    existing?.remove();
    return;
  }
  const item = renderEntry(entry);
  const later = time(entry.updatedAt);
  const next = listed().find((node) => node !== existing && time(node.dataset.updatedAt) < later);
  if (!next && !existing && listing.cursor) return; // older than the loaded pages: "Load more" brings it
  existing?.remove();
  $('#notifications').insertBefore(item, next ?? null);
  const changed = !before || before.updatedAt !== entry.updatedAt || before.actorCount !== entry.actorCount;
  if (fresh && changed) {
    item.classList.add('fresh');
    item.addEventListener('animationend', () => item.classList.remove('fresh'), { once: true });
  }
}

function patch(id, changes) {
  const entry = state.session?.entries.get(id);
  if (entry) upsert({ ...entry, ...changes });
}

function patchUpTo(iso, changes) {
  const limit = iso ? time(iso) : Infinity;
  state.session?.entries.forEach((entry) => {
    if (time(entry.updatedAt) <= limit) upsert({ ...entry, ...changes });
  });
}

// A change the list does not show (seen): kept, not rendered again.
function keepUpTo(iso, changes) {
  const limit = iso ? time(iso) : Infinity;
  state.session?.entries.forEach((entry, id, entries) => {
    if (time(entry.updatedAt) <= limit) entries.set(id, { ...entry, ...changes });
  });
}

// Clear all hides what the inbox held then (the archive keeps its entries); entries that changed later show.
function clearUpTo(iso) {
  const session = state.session;
  if (!session) return;
  const limit = iso ? time(iso) : Infinity;
  session.entries.forEach((entry) => {
    if (!entry.archived && time(entry.updatedAt) <= limit) upsert({ ...entry, cleared: true });
  });
  if (session.listing && session.listing.view !== 'archived') showCursor(session.listing, null);
}

function forget(id) {
  state.session?.entries.delete(id);
  findItem(id)?.remove();
}

// ---- inbox: counts, listing, actions ----------------------------------------------------

function countText(count, capped) {
  return capped && count >= 99 ? '99+' : String(count);
}

function renderCounts(counts) {
  const badge = $('#badge');
  const session = state.session;
  if (session) session.counts = counts;
  if (!counts) {
    badge.textContent = session ? '…' : '0';
    badge.classList.add('zero');
    $('#unread-count').textContent = '';
    document.title = 'Inbox · local stack';
    return;
  }
  // WebSocket counts carry no capped flag: 99 or more shows as "99+" then.
  const capped = counts.capped ?? true;
  const unseen = countText(counts.unseen, capped);
  badge.textContent = unseen;
  badge.classList.toggle('zero', counts.unseen === 0);
  $('#unread-count').textContent = `${countText(counts.unread, capped)} unread`;
  document.title = counts.unseen > 0 ? `(${unseen}) Inbox · local stack` : 'Inbox · local stack';
}

function showCounts(session, seq, counts) {
  if (session === state.session && seq === session.countSeq) renderCounts(counts);
}

async function refreshCounts() {
  const session = currentSession();
  const seq = ++session.countSeq;
  const v2 = await apiV2('/notifications/counts');
  if (v2.served) {
    showCounts(session, seq, v2.data);
    return;
  }
  // An API that predates v2 counts unread entries only: the badge shows those.
  const { count, capped } = await api('/notifications/unread-count');
  showCounts(session, seq, { unread: count, unseen: count, capped });
}

// Opening or showing the inbox: the badge clears, here and (through the WebSocket) in the user's other tabs.
async function markSeen({ always = false } = {}) {
  const session = state.session;
  if (!session || session.v2 === false || session.seeing) return;
  if (!always && session.counts?.unseen === 0) return;
  session.seeing = apiV2('/notifications/seen-all', { method: 'POST' });
  try {
    const { served } = await session.seeing;
    if (served && session.counts) {
      session.countSeq += 1;
      renderCounts({ ...session.counts, unseen: 0 });
    }
    if (served) keepUpTo(null, { seen: true });
  } finally {
    session.seeing = null;
  }
}

function onInboxShown() {
  if (document.visibilityState === 'visible') markSeen().catch(report);
}

function listQuery({ view, unreadOnly, cursor }) {
  const params = new URLSearchParams({ limit: PAGE_SIZE, unreadOnly, ...VIEWS[view].query });
  if (cursor) params.set('cursor', cursor);
  return params;
}

function showCursor(listing, cursor) {
  listing.cursor = cursor;
  $('#load-more').hidden = !cursor;
}

function showView(view) {
  state.view = view;
  document.querySelectorAll('#views [role=tab]').forEach((tab) => {
    const selected = tab.dataset.view === view;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
  });
  $('#notifications').dataset.empty = view === 'archived' ? 'Nothing archived' : 'No notifications';
  $('#clear-all').disabled = view === 'archived';
  if (state.session) loadFirstPage().catch(report);
}

async function loadFirstPage({ open = false } = {}) {
  const session = currentSession();
  const listing = { view: state.view, unreadOnly: $('#unread-only').checked, cursor: null, journal: [] };
  session.listing = listing;
  $('#load-more').hidden = true;
  $('#notifications').replaceChildren();
  try {
    const seq = ++session.countSeq;
    const page = open
      ? await api(`/notifications/open?limit=${PAGE_SIZE}`, { method: 'POST' })
      : await api(`/notifications?${listQuery(listing)}`);
    // The first page carries the counts; an API that predates them is asked separately.
    if (page.counts) showCounts(session, seq, page.counts);
    else refreshCounts().catch(report);
    if (session.listing !== listing) return;
    $('#notifications').replaceChildren();
    page.items.map(normalise).forEach((entry) => upsert(entry));
    listing.journal.forEach((message) => CHANGES[message.type](message));
    showCursor(listing, page.nextCursor);
  } finally {
    listing.journal = null;
  }
}

async function loadMore() {
  const session = currentSession();
  const listing = session.listing;
  if (!listing?.cursor) return;
  const more = $('#load-more');
  more.disabled = true;
  try {
    const page = await api(`/notifications?${listQuery(listing)}`);
    if (session.listing !== listing) return;
    const entries = page.items.map(normalise).filter((entry) => !findItem(entry.id));
    entries.forEach((entry) => session.entries.set(entry.id, entry));
    $('#notifications').append(...entries.filter((entry) => shownIn(listing, entry)).map(renderEntry));
    showCursor(listing, page.nextCursor);
  } finally {
    more.disabled = false;
  }
}

// Each action: its API call, and the change it makes here (the WebSocket tells the user's other tabs).
const ACTIONS = {
  'mark-read': { path: '/read', method: 'POST', apply: (id) => patch(id, { read: true }) },
  'mark-unread': { path: '/unread', method: 'POST', apply: (id) => patch(id, { read: false }) },
  archive: { path: '/archive', method: 'POST', apply: (id) => patch(id, { archived: true }) },
  unarchive: { path: '/unarchive', method: 'POST', apply: (id) => patch(id, { archived: false }) },
  delete: { path: '', method: 'DELETE', apply: forget },
};

async function onNotificationClick(event) {
  const target = event.target.closest('li.notification button');
  const action = target && Object.entries(ACTIONS).find(([name]) => target.classList.contains(name))?.[1];
  if (!action) return;
  const { id } = target.closest('li.notification').dataset;
  target.disabled = true;
  try {
    await api(`/notifications/${encodeURIComponent(id)}${action.path}`, { method: action.method });
    action.apply(id);
    // The entry was drawn again: keep the keyboard where it was, on the entry's next action.
    if (!target.isConnected) findItem(id)?.querySelector('.actions button:not([hidden])')?.focus();
    if (currentSession().v2 !== true) await refreshCounts(); // without v2 no counts come over the WebSocket
  } catch (error) {
    if (error.status === 404 && error.code !== 'http_error') forget(id);
    throw error;
  } finally {
    target.disabled = false;
  }
}

async function markAllRead() {
  await api('/notifications/read-all', { method: 'POST' });
  patchUpTo(null, { read: true });
  if (currentSession().v2 !== true) await refreshCounts();
}

async function clearAll() {
  const { served } = await apiV2('/notifications/clear-all', { method: 'POST' });
  if (served) clearUpTo(null);
}

function onTabKey(event) {
  const tabs = [...document.querySelectorAll('#views [role=tab]')].filter((tab) => !tab.hidden && tab.offsetParent);
  const at = tabs.indexOf(event.target);
  const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
  if (at < 0 || !step) return;
  const next = tabs[(at + step + tabs.length) % tabs.length];
  next.focus();
  showView(next.dataset.view);
}

// ---- preferences and devices ------------------------------------------------------------

const CHANNELS = ['inbox', 'push', 'email'];
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

// The preference grid: a row per type, a box per channel; an API of the first version only sends
// mutedTypes and two switches, which read as the inbox column and the global switches.
function renderPreferences(preferences) {
  const muted = new Set(preferences?.mutedTypes ?? []);
  for (const type of TYPES) {
    for (const channel of CHANNELS) {
      const box = $(`#pref-${type}-${channel}`);
      const fromGrid = preferences?.types?.[type]?.[channel];
      box.checked = preferences ? (fromGrid ?? (channel === 'inbox' ? !muted.has(type) : true)) : false;
    }
  }
  for (const channel of ['inbox', 'websocket', 'push', 'email']) {
    $(`#pref-${channel}`).checked = Boolean(preferences && (preferences.channels?.[channel] ?? true));
  }
  const quiet = preferences?.quietHours;
  $('#quiet-on').checked = Boolean(quiet);
  if (quiet) {
    $('#quiet-start').value = quiet.start;
    $('#quiet-end').value = quiet.end;
  }
  const digest = preferences?.digest ?? { frequency: 'off', hour: 8, weekday: 'monday' };
  $('#digest-frequency').value = digest.frequency;
  $('#digest-hour').value = digest.hour;
  $('#digest-weekday').value = digest.weekday;
  $('#digest-address').textContent = preferences?.email ?? 'the verified address of your token';
}

function readPreferences() {
  const types = Object.fromEntries(TYPES.map((type) => [
    type, Object.fromEntries(CHANNELS.map((channel) => [channel, $(`#pref-${type}-${channel}`).checked])),
  ]));
  const channels = Object.fromEntries(['inbox', 'websocket', 'push', 'email'].map((name) => [name, $(`#pref-${name}`).checked]));
  const quietHours = $('#quiet-on').checked
    ? { start: $('#quiet-start').value, end: $('#quiet-end').value, timezone: TIME_ZONE }
    : null;
  const digest = {
    frequency: $('#digest-frequency').value,
    hour: Number($('#digest-hour').value),
    weekday: $('#digest-weekday').value,
    timezone: TIME_ZONE,
  };
  return { types, channels, quietHours, digest };
}

// Saving replaces the whole document: the button waits for the saved one to be shown first.
async function loadPreferences() {
  renderPreferences(await api('/preferences'));
  $('#save-preferences').disabled = false;
}

async function savePreferences(event) {
  event.preventDefault();
  const status = $('#preferences-status');
  status.textContent = 'Saving…';
  try {
    renderPreferences(await api('/preferences', { method: 'PUT', body: readPreferences() }));
    status.textContent = `Saved at ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    status.textContent = '';
    throw error;
  }
}

function preferenceGridRows() {
  return TYPES.map((type) => el(
    'tr',
    {},
    el('th', { scope: 'row', textContent: type }),
    ...CHANNELS.map((channel) => el(
      'td',
      {},
      el('input', { type: 'checkbox', id: `pref-${type}-${channel}`, ariaLabel: `${type} by ${channel}` }),
    )),
  ));
}

function renderDevice(device) {
  return el(
    'li',
    { className: 'device', dataset: { id: device.id } },
    el('span', { className: 'grow' }, el('strong', { textContent: device.platform }), ` ${device.id}`),
    el('span', { className: device.enabled ? 'tag' : 'tag off', textContent: device.enabled ? 'enabled' : 'disabled' }),
    timeAgo(device.createdAt),
    el('button', { type: 'button', className: 'remove-device', textContent: 'Remove' }),
  );
}

async function loadDevices() {
  const devices = await api('/devices');
  $('#devices').replaceChildren(...devices.map(renderDevice));
}

async function addDevice(event) {
  event.preventDefault();
  const body = { platform: $('#device-platform').value, token: $('#device-token').value.trim() };
  await api('/devices', { method: 'POST', body });
  $('#device-token').value = '';
  await loadDevices();
}

async function onDeviceClick(event) {
  const target = event.target.closest('button.remove-device');
  if (!target) return;
  const item = target.closest('li.device');
  target.disabled = true;
  try {
    await api(`/devices/${encodeURIComponent(item.dataset.id)}`, { method: 'DELETE' });
    item.remove();
  } finally {
    target.disabled = false;
  }
}

// ---- dev tools: fire events, send digests, watch emails, pushes and dead letters ------------------------------

async function fire(event) {
  event.preventDefault();
  const body = { topic: $('#fire-topic').value, actor: $('#fire-actor').value, recipient: currentSession().user };
  const resourceId = $('#fire-post').value.trim();
  if (resourceId) body.resourceId = resourceId;
  const result = await request('/dev/events', { method: 'POST', body });
  const summary = `${new Date().toLocaleTimeString()} · ${result.topic}: ${body.actor} → ${body.recipient}`;
  $('#fire-result').replaceChildren(jsonDetails(summary, result.value));
}

function pushText(message) {
  if (message === null || typeof message !== 'object') return { title: String(message) };
  for (const [key, alertOf] of PUSH_ALERTS) {
    const alert = alertOf(parseJson(message[key]) ?? {});
    if (typeof alert === 'string') return { title: alert };
    if (alert?.title) return alert;
  }
  return { title: String(message.default ?? JSON.stringify(message)) };
}

function renderPush({ endpointArn, messageId, message }) {
  const { title, body } = pushText(message);
  return el(
    'li',
    { className: 'push', title: `${endpointArn}\nmessage ${messageId}` },
    el('code', { className: 'endpoint', textContent: `…/${String(endpointArn).split('/').pop()}` }),
    el('strong', { textContent: title }),
    ...(body ? [el('span', { className: 'excerpt', textContent: body })] : []),
  );
}

function renderDeadLetter({ at, source, function: name, reason, records = [] }) {
  const when = new Date(at * 1000);
  const count = `${records.length} record${records.length === 1 ? '' : 's'}`;
  return el(
    'li',
    { className: 'dead-letter' },
    el(
      'div',
      { className: 'meta' },
      el('time', { dateTime: when.toISOString(), textContent: when.toLocaleTimeString() }),
      ` ${source} · ${name}`,
    ),
    el('p', { className: 'reason', textContent: reason }),
    jsonDetails(count, records),
  );
}

// A sent email as a mail client shows it: the HTML part in a sandboxed frame (no scripts, no
// requests of its own), the plain-text part and the unsubscribe headers below it.
function renderEmail({ to, subject, date, html, text, listUnsubscribe, listUnsubscribePost }) {
  const frame = el('iframe', { className: 'email-body', title: `Email to ${to}: ${subject}` });
  frame.setAttribute('sandbox', '');
  frame.srcdoc = html ?? '';
  return el(
    'li',
    { className: 'email' },
    el('div', { className: 'meta' }, `${date} · to ${to}`),
    el('strong', { className: 'email-subject', textContent: subject }),
    frame,
    jsonDetails('Text part and headers', { text, listUnsubscribe, listUnsubscribePost }),
  );
}

async function sendDigest() {
  const { user } = currentSession();
  const status = $('#digest-status');
  status.textContent = 'Sending…';
  const result = await request('/dev/digests', { method: 'POST', body: { users: [user] } });
  status.textContent = result.sentTo?.includes(user)
    ? `Sent to ${user} at ${new Date().toLocaleTimeString()}`
    : `Nothing sent: ${user} has nothing unseen, no digest address, or email off`;
  await pollFeed(FEEDS.find((feed) => feed.path === '/dev/emails'));
}

const FEEDS = [
  { path: '/dev/emails', list: '#emails', render: renderEmail, snapshot: '' },
  { path: '/dev/pushes', list: '#pushes', render: renderPush, snapshot: '' },
  { path: '/dev/dead-letters', list: '#dead-letters', render: renderDeadLetter, snapshot: '' },
];

async function pollFeed(feed) {
  const { items } = await request(feed.path);
  const snapshot = JSON.stringify(items);
  if (snapshot === feed.snapshot) return;
  feed.snapshot = snapshot;
  $(feed.list).replaceChildren(...[...items].reverse().map(feed.render));
}

async function pollForever() {
  const results = await Promise.allSettled(FEEDS.map(pollFeed));
  const failure = results.find((result) => result.status === 'rejected');
  const message = failure?.reason?.message ?? '';
  if (failure && message !== state.pollError) report(failure.reason);
  state.pollError = message;
  setTimeout(pollForever, POLL_MS);
}

// ---- start ------------------------------------------------------------------------------

async function start() {
  $('#dismiss-error').addEventListener('click', () => { $('#error').hidden = true; });
  $('#sign-in-form').addEventListener('submit', guard(signIn));
  $('#views').addEventListener('click', (event) => {
    const tab = event.target.closest('[role=tab]');
    if (tab && tab.getAttribute('aria-selected') !== 'true') showView(tab.dataset.view);
  });
  $('#views').addEventListener('keydown', onTabKey);
  $('#unread-only').addEventListener('change', guard(loadFirstPage));
  $('#load-more').addEventListener('click', guard(loadMore));
  $('#mark-all-read').addEventListener('click', guard(markAllRead));
  $('#clear-all').addEventListener('click', guard(clearAll));
  $('#notifications').addEventListener('click', guard(onNotificationClick));
  $('#preferences').addEventListener('submit', guard(savePreferences));
  $('#device-form').addEventListener('submit', guard(addDevice));
  $('#devices').addEventListener('click', guard(onDeviceClick));
  $('#fire-form').addEventListener('submit', guard(fire));
  window.addEventListener('focus', onInboxShown);
  document.addEventListener('visibilitychange', onInboxShown);
  $('#preference-grid').replaceChildren(...preferenceGridRows());
  $('#digest-weekday').replaceChildren(...WEEKDAYS.map(option));
  $('#digest-zone').textContent = TIME_ZONE;
  $('#send-digest').addEventListener('click', guard(sendDigest));
  setInterval(refreshTimes, 30_000);
  pollForever();

  state.config = await request('/dev/config');
  $('#fire-topic').replaceChildren(...state.config.topics.map(option));
  resetUi(null);
  showView(state.view);
  $('#sign-in').disabled = false;
}

start().catch(report);
