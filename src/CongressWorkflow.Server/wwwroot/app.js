// The monitoring dashboard: progress of a subtree on a chosen day, drill-down, deadlines, timeline.
const levelNames = {
  central: 'Trung ương · Central', bloc: 'Đảng bộ khối · bloc', ministry: 'Đảng bộ cấp trên cơ sở · committee',
  grassroots: 'Tổ chức cơ sở đảng · grassroots', branch: 'Chi bộ · branch',
};
const milestoneNames = {
  'subcommittees-formed': 'Thành lập các tiểu ban', 'drafts-prepared': 'Dự thảo văn kiện', 'comments-collected': 'Lấy ý kiến dự thảo',
  'personnel-plan-prepared': 'Đề án nhân sự', 'submitted-to-superior': 'Trình cấp trên', 'submission-decided': 'Cấp trên cho ý kiến',
  'congress-held': 'Tổ chức đại hội', 'new-date-set': 'Ấn định lại ngày đại hội', 'results-recognised': 'Chuẩn y kết quả bầu cử',
  'resolution-disseminated': 'Quán triệt nghị quyết',
};
const stepNames = { reminder: 'Nhắc hạn', overdue: 'Quá hạn', escalation: 'Báo cáo cấp trên', 'further-escalation': 'Báo cáo cấp trên (lần 2)' };
const state = { campaign: null, path: [], asOf: null, asShown: false, inbox: null, me: null };

/** Both axes of time: the day the figures are for, and, when "as shown that day" is ticked, only what had been recorded by its end. */
const when = () => `asOf=${state.asOf}` + (state.asShown ? `&knownAt=${state.asOf}` : '');
const $ = (id) => document.getElementById(id);
const n = (value) => value.toLocaleString('en-US');
const pct = (value) => value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + '%';
const fmtDay = (iso) => iso ? iso.split('-').reverse().join('/') : '';
const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; };
const bar = (percent) => { const td = document.createElement('td'); td.innerHTML = `<div class="bar"><div style="width:${percent}%"></div></div>`; return td; };

// The token lives for this browser tab only; every API call carries it.
const token = () => sessionStorage.getItem('congress-token');

async function call(url, options = {}) {
  const response = await fetch(url, { ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${token()}` } });
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (response.status === 401) { signOut(body && body.detail); throw new Error(body ? body.detail : 'sign in'); }
  if (!response.ok) throw new Error((body && (body.detail || body.title)) || response.statusText);
  return body;
}

const get = (url) => call(url);
const post = (url, body) => call(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
const can = (capability) => state.me && state.me.capabilities.includes(capability);

function signOut(reason) {
  sessionStorage.removeItem('congress-token');
  if (state.inbox) state.inbox.source.close();
  state.inbox = null;
  showSignIn(reason);
}

async function showSignIn(reason) {
  document.querySelector('main').hidden = true;
  $('controls').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').hidden = !reason;
  $('sign-in-error').textContent = reason || '';
  const response = await fetch('/api/auth/demo-users');
  if (!response.ok) return;
  const list = $('demo-users').querySelector('ul');
  list.textContent = '';
  for (const u of await response.json()) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.org = u.organizationId;
    button.dataset.role = u.role;
    button.textContent = `${u.organizationName} · ${u.role}`;
    button.onclick = async () => {
      const signed = await fetch('/api/auth/demo-sign-in', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ organizationId: u.organizationId, role: u.role }),
      });
      if (signed.ok) { sessionStorage.setItem('congress-token', (await signed.json()).token); location.hash = ''; start(); }
    };
    li.append(button);
    list.append(li);
  }
  $('demo-users').hidden = false;
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem('congress-token', $('token').value.trim());
  $('token').value = '';
  start();
});
$('sign-out').addEventListener('click', () => signOut());

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { campaign: params.get('campaign'), path: (params.get('path') || '').split('/').filter(Boolean), asOf: params.get('asOf'),
    asShown: params.get('asShown') === 'true' };
}

function writeHash() {
  const params = new URLSearchParams({ campaign: state.campaign, path: state.path.join('/'), asOf: state.asOf, asShown: state.asShown });
  history.replaceState(null, '', '#' + params);
}

let listening = false;

async function start() {
  if (!token()) { showSignIn(); return; }
  try {
    state.me = await get('/api/auth/me');
  } catch (e) {
    return;
  }
  $('sign-in').hidden = true;
  document.querySelector('main').hidden = false;
  $('controls').hidden = false;
  $('who').hidden = false;
  $('who-text').textContent = `${state.me.user} · ${state.me.role} · ${state.me.organizationName || state.me.organizationId}`;
  document.body.dataset.role = state.me.role;
  const saved = readHash();
  const campaigns = await get('/api/campaigns');
  $('campaign').textContent = '';
  for (const c of campaigns) $('campaign').add(new Option(c.name, c.id));
  state.campaign = saved.campaign || (campaigns[0] && campaigns[0].id);
  $('campaign').value = state.campaign;
  state.asOf = saved.asOf || new Date().toISOString().slice(0, 10);
  $('as-of').value = state.asOf;
  state.asShown = saved.asShown;
  $('as-shown').checked = state.asShown;
  if (saved.path.length) {
    state.path = saved.path;
  } else {
    // A top-level user starts at the first bloc; everyone else at their own organisation, the top of what they may see.
    const roots = await get('/api/organizations');
    const top = roots.length && !roots[0].parentId;
    const blocs = top ? await get(`/api/organizations/${roots[0].id}/children`) : [];
    state.path = blocs.length ? [blocs[0].id] : roots.map((r) => r.id).slice(0, 1);
  }
  if (!listening) {
    listening = true;
    $('campaign').addEventListener('change', () => { state.campaign = $('campaign').value; render(); });
    $('as-of').addEventListener('change', () => { state.asOf = $('as-of').value; render(); });
    $('as-shown').addEventListener('change', () => { state.asShown = $('as-shown').checked; render(); });
    setInterval(() => { if (token()) renderProjections(); }, 5000);
  }
  await render();
}

async function render() {
  writeHash();
  $('error').hidden = true;
  const root = state.path[state.path.length - 1];
  const base = `/api/campaigns/${state.campaign}/progress/${root}`;
  try {
    const deadlinesBase = `/api/campaigns/${state.campaign}`;
    const [report, subordinates, overdue, upcoming, timeline, deadlines, ledger] = await Promise.all([
      get(`${base}?${when()}`), get(`${base}/subordinates?${when()}`), get(`${base}/overdue?${when()}`),
      get(`${base}/upcoming?${when()}&days=30`), get(`${base}/timeline?to=${state.asOf}` + (state.asShown ? `&knownAt=${state.asOf}` : '')),
      get(`${deadlinesBase}/deadlines/${root}?${when()}&days=30`),
      get(`${deadlinesBase}/notifications/${root}?subtree=true&to=${state.asOf}` + (state.asShown ? `&knownAt=${state.asOf}` : '')),
    ]);
    await renderBreadcrumb();
    renderReport(report);
    renderSubordinates(subordinates);
    renderDeadlines('overdue', overdue, 'overdue');
    renderDeadlines('upcoming', upcoming, '');
    renderTimeline(timeline);
    renderDeadlineBoard(deadlines);
    renderLedger(ledger);
    renderActions(deadlines);
    $('trail').hidden = !can('audit');
    if (can('audit')) renderTrail(await get(trailUrl('json')));
    await followInbox(root);
    document.body.dataset.loaded = `${root}@${state.asOf}` + (state.asShown ? '/as-shown' : '');
  } catch (e) {
    $('error').textContent = e.message;
    $('error').hidden = false;
  }
  renderProjections();
}

async function renderBreadcrumb() {
  const nav = $('breadcrumb');
  nav.textContent = '';
  for (const [i, id] of state.path.entries()) {
    const org = await get(`/api/organizations/${id}`);
    const link = document.createElement('a');
    link.textContent = org.name;
    link.onclick = () => { state.path = state.path.slice(0, i + 1); render(); };
    if (i) nav.append(' › ');
    nav.append(link);
  }
}

/** A name as of the day shown, with today's after it when the unit has been renamed since. */
const nameOfTheDay = (o) => o.currentName && o.currentName !== o.name ? `${o.name} (nay: ${o.currentName})` : o.name;

function renderReport(report) {
  $('root-name').textContent = `${nameOfTheDay(report)} — tính đến ${fmtDay(report.asOf)}`;
  const body = $('levels').querySelector('tbody');
  body.textContent = '';
  for (const l of report.levels) {
    const tr = document.createElement('tr');
    tr.dataset.level = l.level;
    tr.append(cell(levelNames[l.level] || l.level), cell(`${n(l.held)} / ${n(l.total)} (${pct(l.percent)})`, 'num held'), bar(l.percent),
      cell(n(l.early), 'num'), cell(n(l.onTime), 'num'), cell(n(l.late), 'num late'), cell(n(l.overdue), 'num overdue'),
      cell(n(l.notYetDue), 'num'), cell(n(l.notPlanned), 'num'));
    body.append(tr);
  }
  const s = report.subordinates;
  $('subordinates-done').textContent = s.total
    ? `${n(s.completed)} / ${n(s.total)} đảng bộ trực thuộc đã xong đại hội các chi bộ · committees with all their branches done`
    : '';
  const c = report.completion;
  $('completion').textContent = c.completedOn
    ? `Hoàn thành ${fmtDay(c.completedOn)}` + (c.deadline ? ` · hạn ${fmtDay(c.deadline)} · ${c.daysEarly >= 0 ? `sớm ${c.daysEarly} ngày (${c.daysEarly} days early)` : `muộn ${-c.daysEarly} ngày (${-c.daysEarly} days late)`}` : '')
    : (c.deadline ? `Đang tiến hành · hạn hoàn thành ${fmtDay(c.deadline)}` : 'Đang tiến hành · in progress');
}

function renderSubordinates(rows) {
  const body = $('subordinates').querySelector('tbody');
  body.textContent = '';
  for (const r of rows) {
    const tr = document.createElement('tr');
    const name = document.createElement('td');
    const link = document.createElement('a');
    link.textContent = nameOfTheDay(r);
    link.onclick = () => { state.path = [...state.path, r.organizationId]; render(); };
    const congress = document.createElement('a');
    congress.textContent = ' · đại hội';
    congress.className = 'congress-link';
    congress.dataset.org = r.organizationId;
    congress.onclick = () => openCongress(r.organizationId, r.name);
    name.append(link, congress);
    const own = r.heldOn ? `${fmtDay(r.heldOn)}${r.daysLate < 0 ? ` (sớm ${-r.daysLate})` : r.daysLate > 0 ? ` (muộn ${r.daysLate})` : ''}` : 'chưa';
    tr.append(name, cell(levelNames[r.level] || r.level), cell(`${n(r.held)} / ${n(r.units)} (${pct(r.percent)})`, 'num'), bar(r.percent),
      cell(n(r.overdue), r.overdue ? 'num overdue' : 'num'), cell(own));
    body.append(tr);
  }
}

function renderDeadlines(id, items, cls) {
  const body = $(id).querySelector('tbody');
  body.textContent = '';
  for (const i of items.slice(0, 50)) {
    const tr = document.createElement('tr');
    tr.append(cell(nameOfTheDay(i)), cell(i.parentName || ''), cell(fmtDay(id === 'overdue' ? i.deadline : i.plannedDate)), cell(`${i.days} ngày`, cls));
    body.append(tr);
  }
  if (!items.length) body.append(Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="4">—</td>' }));
}

function renderTimeline(points) {
  const svg = $('timeline');
  const max = Math.max(1, ...points.map((p) => Math.max(p.completed, p.planned)));
  const x = (i) => 40 + (i * 740) / Math.max(1, points.length - 1);
  const y = (v) => 200 - (v * 180) / max;
  const line = (key) => points.map((p, i) => `${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
  svg.innerHTML = `<line x1="40" y1="200" x2="780" y2="200" stroke="#ccc"/>
    <text x="4" y="24" font-size="12">${n(max)}</text><text x="4" y="200" font-size="12">0</text>
    <text x="40" y="216" font-size="11">${fmtDay(points[0] && points[0].day)}</text>
    <text x="700" y="216" font-size="11">${fmtDay(points.length && points[points.length - 1].day)}</text>
    <polyline fill="none" stroke="#9ca3af" stroke-width="2" stroke-dasharray="4 3" points="${line('planned')}"/>
    <polyline fill="none" stroke="#2d6a4f" stroke-width="2.5" points="${line('completed')}"/>`;
}

function renderDeadlineBoard(rows) {
  const body = $('deadlines').querySelector('tbody');
  body.textContent = '';
  for (const d of rows.slice(0, 50)) {
    const tr = document.createElement('tr');
    tr.dataset.milestone = d.milestone;
    tr.append(cell(d.organizationName), cell(milestoneNames[d.milestone] || d.milestone), cell(fmtDay(d.dueOn)),
      cell(d.daysLeft < 0 ? `quá ${-d.daysLeft} ngày` : `còn ${d.daysLeft} ngày`, d.daysLeft < 0 ? 'overdue' : ''),
      cell(d.responsibleId === d.organizationId ? 'đơn vị' : 'cấp trên'));
    body.append(tr);
  }
  if (!rows.length) body.append(Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="5">—</td>' }));
}

function renderLedger(rows) {
  const body = $('ledger').querySelector('tbody');
  body.textContent = '';
  for (const n of rows.filter((r) => r.status === 'sent').slice(0, 40)) {
    const tr = document.createElement('tr');
    tr.dataset.step = n.stepKey;
    const deliveries = n.deliveries.map((d) => `${d.channel}: ${d.status}`).join(', ');
    tr.append(cell(fmtDay(n.onDay)), cell(stepNames[n.step] + (n.late ? ' (muộn)' : ''), `step-${n.step}`), cell(n.organizationName),
      cell(milestoneNames[n.milestone] || n.milestone), cell(fmtDay(n.dueOn)), cell(n.recipients.join(', ')), cell(deliveries));
    body.append(tr);
  }
  if (!rows.length) body.append(Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="7">—</td>' }));
}

// The inbox of the organisation on screen, kept live over server-sent events.
async function followInbox(organization) {
  if (state.inbox && state.inbox.organization === organization) return;
  if (state.inbox) state.inbox.source.close();
  const list = $('inbox');
  list.textContent = '';
  $('inbox-name').textContent = '· ' + organization;
  const current = await get(`/api/organizations/${organization}/inbox`);
  for (const item of current.items) addInboxItem(item);
  const after = current.items.length ? current.items[current.items.length - 1].sequence : 0;
  const source = new EventSource(`/api/organizations/${organization}/inbox/stream?after=${after}&access_token=${encodeURIComponent(token())}`);
  source.addEventListener('inbox-item', (e) => addInboxItem(JSON.parse(e.data)));
  state.inbox = { organization, source };
  countUnread();
}

function addInboxItem(item) {
  const list = $('inbox');
  if (list.querySelector(`[data-item="${item.itemId}"]`)) return;
  const li = document.createElement('li');
  li.dataset.item = item.itemId;
  li.className = item.readAt ? '' : 'unread';
  li.textContent = item.title;
  const when = document.createElement('small');
  when.textContent = new Date(item.createdAt).toLocaleString('vi-VN');
  li.append(when);
  li.onclick = async () => {
    await post(`/api/organizations/${item.organizationId}/inbox/${item.itemId}/read`);
    li.className = '';
    countUnread();
  };
  list.prepend(li);
  countUnread();
}

function countUnread() {
  const unread = $('inbox').querySelectorAll('li.unread').length;
  $('inbox-unread').textContent = `(${unread} chưa đọc · unread)`;
}

async function renderProjections() {
  try {
    const projections = await get('/api/projections');
    $('projections').textContent = 'Read models: ' + projections.map((p) =>
      `${p.name} ${p.state}${p.lag ? `, ${n(p.lag)} events behind` : ', up to date'}${p.error ? ` — ${p.error}` : ''}`).join(' · ');
  } catch (e) {
    $('projections').textContent = e.message;
  }
}

// Only what the signed-in role may do is offered: a committee decides its direct subordinates' submissions, an
// operator runs the deadline sweep; monitors and auditors get no buttons at all.
function renderActions(deadlines) {
  const list = $('action-list');
  list.textContent = '';
  const action = (label, run) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'action';
    button.textContent = label;
    button.onclick = async () => {
      try { $('action-result').textContent = await run(); render(); } catch (e) { $('action-result').textContent = e.message; }
    };
    return button;
  };
  if (can('decide')) {
    for (const d of deadlines.filter((x) => x.milestone === 'submission-decided' && x.responsibleId === state.me.organizationId)) {
      const row = document.createElement('p');
      row.textContent = `${d.organizationName}: đề án chờ phê duyệt · awaiting your decision (hạn ${fmtDay(d.dueOn)}) `;
      const url = `/api/campaigns/${state.campaign}/congresses/${d.organizationId}`;
      row.append(
        action('Phê duyệt · approve', async () => {
          const decision = prompt('Số quyết định · decision number (e.g. 95-QĐ/ĐUK)');
          if (!decision) return '';
          await post(`${url}/approval`, { decision });
          return `Đã phê duyệt · approved ${d.organizationName}`;
        }),
        action('Trả lại · return', async () => {
          const comments = prompt('Ý kiến · what to change');
          if (!comments) return '';
          await post(`${url}/return`, { comments });
          return `Đã trả lại · returned ${d.organizationName}`;
        }));
      list.append(row);
    }
  }
  if (can('operate')) {
    list.append(action('Quét hạn ngay · run the deadline sweep now', async () => {
      const result = await post('/api/deadlines/sweep/trigger');
      return `Đã yêu cầu · queued job ${result.job}`;
    }));
  }
  $('actions').hidden = !list.childElementCount;
}

// The congress page: its recorded history (for those who may read raw histories) and a replay slider that asks the
// server for the congress as its own events left it at each recorded moment.
const congressPage = { org: null, events: [] };

// Opens a congress's page; with a version (from the trail), the replay starts at that event, highlighted.
async function openCongress(org, name, version) {
  congressPage.org = org;
  $('congress-page').hidden = false;
  $('congress-title').textContent = `Đại hội · congress: ${name}`;
  const base = `/api/campaigns/${state.campaign}/congresses/${org}`;
  try {
    const current = await get(base);
    congressPage.events = can('audit') ? await get(`/api/streams/${encodeURIComponent(current.congressId)}/events`) : [];
    const body = $('congress-events').querySelector('tbody');
    body.textContent = '';
    for (const e of congressPage.events) {
      const tr = document.createElement('tr');
      tr.dataset.type = e.eventType;
      tr.dataset.version = String(e.streamVersion);
      if (e.streamVersion === version) tr.className = 'selected';
      const d = e.data || {};
      tr.append(cell(String(e.streamVersion)), cell(new Date(e.recordedAt).toLocaleString('vi-VN')), cell(e.eventType),
        cell(`${e.actor.userId} (${e.actor.role}${e.actor.organizationId ? ', ' + e.actor.organizationId : ''})`),
        cell(d.decision || d.resolution || d.comments || d.reason || (d.terms && d.terms.document) || ''));
      body.append(tr);
    }
    const slider = $('replay');
    slider.max = String(Math.max(0, congressPage.events.length - 1));
    const at = congressPage.events.findIndex(e => e.streamVersion === version);
    slider.value = at >= 0 ? String(at) : slider.max;
    slider.disabled = congressPage.events.length === 0;
    renderCongressState(current, congressPage.events.length ? congressPage.events[congressPage.events.length - 1] : null);
    if (at >= 0 && at < congressPage.events.length - 1) slider.dispatchEvent(new Event('input'));
    $('congress-page').scrollIntoView();
  } catch (e) {
    $('congress-state').textContent = e.message;
  }
}

$('replay').addEventListener('input', async () => {
  const e = congressPage.events[Number($('replay').value)];
  if (!e) return;
  const asOf = await get(`/api/campaigns/${state.campaign}/congresses/${congressPage.org}?knownAt=${encodeURIComponent(e.recordedAt)}`);
  if (congressPage.events[Number($('replay').value)] === e) renderCongressState(asOf, e);
});
$('congress-close').addEventListener('click', () => { $('congress-page').hidden = true; });

function renderCongressState(view, event) {
  const s = view.state;
  $('replay-label').textContent = event ? `#${event.streamVersion} ${event.eventType} — ${new Date(event.recordedAt).toLocaleString('vi-VN')}` : '';
  const dl = $('congress-state');
  dl.dataset.stage = s.stage;
  dl.dataset.version = String(view.version);
  dl.textContent = '';
  const row = (term, value) => { const dt = document.createElement('dt'); dt.textContent = term; const dd = document.createElement('dd'); dd.textContent = value; dl.append(dt, dd); };
  row('Giai đoạn · stage', s.stage);
  row('Kế hoạch · plan in force', view.planInForce ? `${view.planInForce.document} (dự kiến ${fmtDay(view.planInForce.plannedDate)}, hạn ${fmtDay(view.planInForce.window.end)})` : '—');
  row('Trình · submission round', `${s.submissionRound} (trả lại · returned ${s.returnedRounds})`);
  row('Cấp trên · decided on', s.decidedOn ? fmtDay(s.decidedOn) : '—');
  row('Đại hội · convened', s.convened ? `${fmtDay(s.convened.convenedOn)}, ${s.convened.delegatesPresent}/${s.convened.delegatesExpected}` : '—');
  row('Bầu cử · elections', s.elections ? `${s.elections.executiveCommittee} cấp ủy, bí thư ${s.elections.secretary}` : '—');
  row('Phiên bản · version', String(view.version));
}

// The trail of the subtree on screen up to the chosen day, narrowed by kind and actor.
function trailUrl(format) {
  const root = state.path[state.path.length - 1];
  const params = new URLSearchParams({ to: state.asOf, format });
  if ($('trail-action').value) params.set('action', $('trail-action').value);
  if ($('trail-actor').value.trim()) params.set('actor', $('trail-actor').value.trim());
  return `/api/campaigns/${state.campaign}/progress/${root}/audit?${params}`;
}

$('trail-filter').addEventListener('submit', async (e) => {
  e.preventDefault();
  try { renderTrail(await get(trailUrl('json'))); } catch (error) { $('error').textContent = error.message; $('error').hidden = false; }
});

// Finding a unit anywhere below the organisation shown, on the day shown; a result opens it in the drill-down.
$('find-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const root = state.path[state.path.length - 1];
  const params = new URLSearchParams({ q: $('find-name').value.trim(), level: $('find-level').value, sector: $('find-sector').value,
    pilot: $('find-pilot').checked, overdue: $('find-overdue').checked, limit: 50 });
  try {
    const page = await get(`/api/campaigns/${state.campaign}/progress/${root}/units?${params}&${when()}`);
    renderFound(page);
  } catch (e) { $('error').textContent = e.message; $('error').hidden = false; }
});

function renderFound(page) {
  $('find-count').textContent = `${n(page.total)} đơn vị · units` + (page.total > page.units.length ? ` (${page.units.length} đầu tiên · first shown)` : '');
  const body = $('find-results').querySelector('tbody');
  body.textContent = '';
  for (const u of page.units) {
    const tr = document.createElement('tr');
    if (u.isOverdue) tr.classList.add('overdue-row');
    const name = document.createElement('td');
    const link = Object.assign(document.createElement('a'), { href: '#', textContent: nameOfTheDay(u) + (u.isPilot ? ' ★' : '') });
    link.onclick = (e) => { e.preventDefault(); openUnit(u.organizationId); };
    name.append(link);
    const held = u.heldOn ? `${fmtDay(u.heldOn)}${u.daysLate < 0 ? ` (sớm ${-u.daysLate})` : u.daysLate > 0 ? ` (muộn ${u.daysLate})` : ''}` : (u.isOverdue ? 'quá hạn · overdue' : 'chưa');
    tr.append(name, cell(levelNames[u.level] || u.level), cell(u.parentName || ''), cell(u.deadline ? fmtDay(u.deadline) : ''), cell(held));
    body.append(tr);
  }
  $('find-results').hidden = page.units.length === 0;
}

/** Opens a unit found below: the drill-down path runs from the organisation shown at the top down to it. */
async function openUnit(id) {
  const path = [];
  for (let at = id; at && !state.path.includes(at); ) {
    path.unshift(at);
    at = (await get(`/api/organizations/${at}`)).parentId;
  }
  const top = state.path.indexOf((await get(`/api/organizations/${path[0]}`)).parentId);
  state.path = [...state.path.slice(0, top + 1), ...path];
  await render();
  $('root-name').scrollIntoView();
}

// The export needs the token, so it is fetched and handed to the browser as a file.
$('trail-csv').addEventListener('click', async () => {
  const response = await fetch(trailUrl('csv'), { headers: { Authorization: `Bearer ${token()}` } });
  if (!response.ok) { $('error').textContent = 'export: ' + response.statusText; $('error').hidden = false; return; }
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = `trail-${state.path[state.path.length - 1]}-${state.asOf}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
});

function renderTrail(entries) {
  const body = $('trail-table').querySelector('tbody');
  body.textContent = '';
  for (const e of entries.slice(-200).reverse()) {
    const tr = document.createElement('tr');
    tr.dataset.action = e.action;
    if (e.backDated) tr.classList.add('back-dated');
    // The unit and the event both open the congress page, the event at its own place in the replay.
    const unit = document.createElement('td');
    const unitLink = Object.assign(document.createElement('a'), { textContent: e.organizationId, className: 'congress-link' });
    unitLink.dataset.org = e.organizationId;
    unitLink.onclick = () => openCongress(e.organizationId, e.organizationId);
    unit.append(unitLink);
    const event = document.createElement('td');
    const eventLink = Object.assign(document.createElement('a'), { textContent: `${e.streamId}@${e.streamVersion} · #${e.globalPosition}`, className: 'event-link' });
    eventLink.title = `sha-256 ${e.hash}`;
    eventLink.onclick = () => openCongress(e.organizationId, e.organizationId, e.streamVersion);
    event.append(eventLink);
    const day = cell(fmtDay(e.occurredOn));
    if (e.backDated) day.append(Object.assign(document.createElement('span'), { className: 'flag',
      textContent: ` ghi muộn ${new Date(e.recordedAt).toLocaleDateString('vi-VN')} · entered late`, title: 'recorded more than a day after this date' }));
    tr.append(day, cell(e.action), unit, cell(e.round == null ? '' : String(e.round)), cell(e.byOrganization),
      cell(`${e.byUser} (${e.byRole})`), cell(e.document || e.comments || ''), event);
    body.append(tr);
  }
  if (!entries.length) body.append(Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="8">—</td>' }));
}

// The conformance replay of the subtree on screen: each finding links its events to their congress pages.
$('conformance-run').addEventListener('click', async () => {
  const root = state.path[state.path.length - 1];
  $('conformance-summary').textContent = 'đang chạy · replaying…';
  try {
    const report = await get(`/api/campaigns/${state.campaign}/progress/${root}/conformance`);
    $('conformance-summary').textContent =
      `${n(report.eventsReplayed)} sự kiện · events of ${n(report.organizations)} đơn vị · units: ${n(report.violations)} vi phạm quy tắc · rule violations, ${n(report.findings.length)} phát hiện · findings`;
    const body = $('conformance-table').querySelector('tbody');
    body.textContent = '';
    const prefix = `congress-${state.campaign}-`;
    for (const f of report.findings) {
      const tr = document.createElement('tr');
      tr.dataset.code = f.code;
      const events = document.createElement('td');
      for (const e of f.evidence) {
        const link = Object.assign(document.createElement('a'), { textContent: `${e.streamId}@${e.version} `, className: 'event-link' });
        const congressOf = e.streamId.startsWith(prefix) ? e.streamId.slice(prefix.length) : null;
        if (congressOf) link.onclick = () => openCongress(congressOf, congressOf, e.version);
        events.append(link);
      }
      tr.append(cell(f.code), cell(f.organizationId), cell(fmtDay(f.on)), cell(f.message), events);
      body.append(tr);
    }
    $('conformance-table').hidden = report.findings.length === 0;
  } catch (error) {
    $('conformance-summary').textContent = error.message;
  }
});

start();
