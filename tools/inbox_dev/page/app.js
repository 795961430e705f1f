// The local stack's inbox page: sign in as a demo user, watch notifications arrive over the
// WebSocket API, act on them through the HTTP API, fire sample Kafka events, and keep an eye on
// the pushes SNS sent and the dead letters the functions gave up on.

const PAGE_SIZE = 10;
const POLL_MS = 2000;
const RECONNECT_MAX_MS = 10_000;
const TYPES = ['like', 'follow', 'reply', 'repost', 'mention'];
const SENTENCES = {
  like: (who, what) => `${who} liked your ${what}`,
  follow: (who) => `${who} followed you`,
  reply: (who, what) => `${who} replied to your ${what}`,
  repost: (who, what) => `${who} reposted your ${what}`,
  mention: (who) => `${who} mentioned you`,
};
const PUSH_ALERTS = [
  ['APNS', (payload) => payload.aps?.alert],
  ['GCM', (payload) => payload.notification],
];
const TIME_UNITS = [
  ['year', 31_536_000], ['month', 2_592_000], ['week', 604_800], ['day', 86_400], ['hour', 3600], ['minute', 60],
];

const state = { config: null, session: null, pollError: '' };
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

function ago(iso) {
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  if (Math.abs(seconds) < 45) return 'just now';
  const [unit, size] = TIME_UNITS.find(([, length]) => Math.abs(seconds) >= length) ?? ['minute', 60];
  return relativeTime.format(Math.round(seconds / size), unit);
}

function timeAgo(iso) {
  return el('time', { className: 'ago', dateTime: iso, title: new Date(iso).toLocaleString(), textContent: ago(iso) });
}

function refreshTimes() {
  document.querySelectorAll('time.ago').forEach((time) => { time.textContent = ago(time.dateTime); });
}

// ---- session and live connection --------------------------------------------------------

function resetUi(user) {
  $('#signed-in-as').textContent = user ?? 'nobody';
  showStatus(false);
  renderBadge(user ? '…' : '0', false);
  $('#notifications').replaceChildren();
  $('#load-more').hidden = true;
  $('#devices').replaceChildren();
  $('#fire-result').replaceChildren();
  $('#preferences-status').textContent = '';
  renderPreferences({ mutedTypes: [], channels: { websocket: false, push: false } });
  document.querySelectorAll('[data-needs-user]').forEach((node) => { node.disabled = !user; });
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
  const session = { user, token, socket: null, retries: 0, retryTimer: 0, wasLive: false, countSeq: 0, listing: null };
  state.session = session;
  resetUi(user);
  connect(session);
  await settle(loadFirstPage(), refreshBadge(), loadPreferences(), loadDevices());
}

function connect(session) {
  let socket;
  try {
    socket = new WebSocket(`${state.config.webSocketUrl}?token=${encodeURIComponent(session.token)}`);
  } catch (error) {
    report(error);
    return;
  }
  session.socket = socket;
  socket.addEventListener('open', () => {
    if (session !== state.session) return;
    showStatus(true);
    session.retries = 0;
    // Whatever happened while the socket was down is only in the API now.
    if (session.wasLive) settle(loadFirstPage(), refreshBadge());
    session.wasLive = true;
  });
  socket.addEventListener('message', (event) => onSocketMessage(session, event.data));
  socket.addEventListener('close', () => {
    if (session !== state.session) return;
    showStatus(false);
    const delay = Math.min(500 * 2 ** session.retries, RECONNECT_MAX_MS);
    session.retries += 1;
    session.retryTimer = setTimeout(() => connect(session), delay);
  });
}

const CHANGES = {
  'notification.created': ({ notification }) => showCreated(notification),
  'notification.read': ({ id }) => showRead(id),
  'notification.deleted': ({ id }) => findItem(id)?.remove(),
  'notifications.read_all': () => document.querySelectorAll('#notifications li.notification').forEach(markItemRead),
};

function onSocketMessage(session, data) {
  const message = parseJson(data);
  if (session !== state.session || !Object.hasOwn(CHANGES, message?.type)) return;
  CHANGES[message.type](message);
  // A first page still loading may predate this change: it is replayed once the page is shown.
  session.listing?.journal?.push(message);
  refreshBadge().catch(report);
}

// ---- inbox ------------------------------------------------------------------------------

function renderBadge(text, any) {
  const badge = $('#badge');
  badge.textContent = text;
  badge.classList.toggle('zero', !any);
  document.title = any ? `(${text}) Inbox · local stack` : 'Inbox · local stack';
}

async function refreshBadge() {
  const session = currentSession();
  const seq = ++session.countSeq;
  const { count, capped } = await api('/notifications/unread-count');
  if (seq === session.countSeq) renderBadge(capped ? `${count}+` : String(count), count > 0);
}

function avatar(actor, who) {
  const badge = el('span', { className: 'avatar', textContent: who.charAt(0).toUpperCase() });
  if (/^https?:\/\//i.test(actor.avatar ?? '')) {
    const image = el('img', { src: actor.avatar, alt: '', loading: 'lazy', referrerPolicy: 'no-referrer' });
    image.addEventListener('error', () => image.remove(), { once: true });
    badge.append(image);
  }
  return badge;
}

function renderNotification(notification) {
  const { actor, resource, type } = notification;
  const who = actor.username || actor.id;
  const sentence = SENTENCES[type]?.(who, resource.type) ?? `${who}: ${type}`;
  const excerpt = resource.excerpt ? [el('p', { className: 'excerpt', textContent: resource.excerpt })] : [];
  const item = el(
    'li',
    { className: 'notification', dataset: { id: notification.id } },
    avatar(actor, who),
    el(
      'div',
      { className: 'content' },
      el('p', { className: 'sentence', textContent: sentence }),
      ...excerpt,
      timeAgo(notification.createdAt),
    ),
    el(
      'div',
      { className: 'actions' },
      el('button', { type: 'button', className: 'mark-read', textContent: 'Mark read' }),
      el('button', { type: 'button', className: 'delete', textContent: 'Delete' }),
    ),
  );
  setRead(item, notification.read);
  return item;
}

function setRead(item, read) {
  item.classList.toggle('unread', !read);
  item.querySelector('.mark-read').hidden = read;
}

function findItem(id) {
  return $('#notifications').querySelector(`li.notification[data-id="${CSS.escape(id)}"]`);
}

function markItemRead(item) {
  if (state.session?.listing?.unreadOnly) item.remove();
  else setRead(item, true);
}

function showRead(id) {
  const item = findItem(id);
  if (item) markItemRead(item);
}

function showCreated(notification) {
  if (state.session?.listing?.unreadOnly && notification.read) return;
  const item = renderNotification(notification);
  const existing = findItem(notification.id);
  if (existing) {
    existing.replaceWith(item);
    return;
  }
  item.classList.add('fresh');
  item.addEventListener('animationend', () => item.classList.remove('fresh'), { once: true });
  $('#notifications').prepend(item);
}

function listQuery({ unreadOnly, cursor }) {
  const params = new URLSearchParams({ limit: PAGE_SIZE, unreadOnly });
  if (cursor) params.set('cursor', cursor);
  return params;
}

function showCursor(listing, cursor) {
  listing.cursor = cursor;
  $('#load-more').hidden = !cursor;
}

async function loadFirstPage() {
  const session = currentSession();
  const listing = { unreadOnly: $('#unread-only').checked, cursor: null, journal: [] };
  session.listing = listing;
  $('#load-more').hidden = true;
  try {
    const page = await api(`/notifications?${listQuery(listing)}`);
    if (session.listing !== listing) return;
    $('#notifications').replaceChildren(...page.items.map(renderNotification));
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
  const button = $('#load-more');
  button.disabled = true;
  try {
    const page = await api(`/notifications?${listQuery(listing)}`);
    if (session.listing !== listing) return;
    const fresh = page.items.filter((notification) => !findItem(notification.id));
    $('#notifications').append(...fresh.map(renderNotification));
    showCursor(listing, page.nextCursor);
  } finally {
    button.disabled = false;
  }
}

async function onNotificationClick(event) {
  const button = event.target.closest('li.notification button');
  if (!button) return;
  const { id } = button.closest('li.notification').dataset;
  const path = `/notifications/${encodeURIComponent(id)}`;
  button.disabled = true;
  try {
    if (button.classList.contains('mark-read')) {
      await api(`${path}/read`, { method: 'POST' });
      showRead(id);
    } else if (button.classList.contains('delete')) {
      await api(path, { method: 'DELETE' });
      findItem(id)?.remove();
    }
    await refreshBadge();
  } catch (error) {
    if (error.status === 404) findItem(id)?.remove();
    throw error;
  } finally {
    button.disabled = false;
  }
}

async function markAllRead() {
  await api('/notifications/read-all', { method: 'POST' });
  CHANGES['notifications.read_all']();
  await refreshBadge();
}

// ---- preferences and devices ------------------------------------------------------------

function renderPreferences({ mutedTypes, channels }) {
  document.querySelectorAll('input[name=muted]').forEach((box) => { box.checked = mutedTypes.includes(box.value); });
  $('#pref-websocket').checked = channels.websocket;
  $('#pref-push').checked = channels.push;
}

async function loadPreferences() {
  renderPreferences(await api('/preferences'));
}

async function savePreferences(event) {
  event.preventDefault();
  const mutedTypes = [...document.querySelectorAll('input[name=muted]:checked')].map((box) => box.value);
  const channels = { websocket: $('#pref-websocket').checked, push: $('#pref-push').checked };
  const status = $('#preferences-status');
  status.textContent = 'Saving…';
  try {
    renderPreferences(await api('/preferences', { method: 'PUT', body: { mutedTypes, channels } }));
    status.textContent = `Saved at ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    status.textContent = '';
    throw error;
  }
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
  const button = event.target.closest('button.remove-device');
  if (!button) return;
  const item = button.closest('li.device');
  button.disabled = true;
  try {
    await api(`/devices/${encodeURIComponent(item.dataset.id)}`, { method: 'DELETE' });
    item.remove();
  } finally {
    button.disabled = false;
  }
}

// ---- dev tools: fire events, watch pushes and dead letters ------------------------------

async function fire(event) {
  event.preventDefault();
  const body = { topic: $('#fire-topic').value, actor: $('#fire-actor').value, recipient: currentSession().user };
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

const FEEDS = [
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
  $('#unread-only').addEventListener('change', guard(loadFirstPage));
  $('#load-more').addEventListener('click', guard(loadMore));
  $('#mark-all-read').addEventListener('click', guard(markAllRead));
  $('#notifications').addEventListener('click', guard(onNotificationClick));
  $('#preferences').addEventListener('submit', guard(savePreferences));
  $('#device-form').addEventListener('submit', guard(addDevice));
  $('#devices').addEventListener('click', guard(onDeviceClick));
  $('#fire-form').addEventListener('submit', guard(fire));
  $('#muted-types').replaceChildren(
    ...TYPES.map((type) => el('label', {}, el('input', { type: 'checkbox', name: 'muted', value: type }), ` ${type}`)),
  );
  setInterval(refreshTimes, 30_000);
  pollForever();

  state.config = await request('/dev/config');
  $('#fire-topic').replaceChildren(...state.config.topics.map(option));
  resetUi(null);
  $('#sign-in').disabled = false;
}

start().catch(report);
