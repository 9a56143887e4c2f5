// The monitoring dashboard: progress of a subtree on a chosen day, drill-down, deadlines, timeline.
const state = { campaign: null, path: [], asOf: null, asShown: false, inbox: null, me: null,
  lang: localStorage.getItem('congress-lang') === 'en' ? 'en' : 'vi' };

// The language, Vietnamese by default or English, kept in this browser. The page's own labels are written once as
// "tiếng Việt · English" and show one side (applyLanguage); what the script writes picks its words with t(vi, en),
// and numbers are written the language's way (3.940 / 5.408 (72,86%) or 3,940 / 5,408 (72.86%)).
const t = (vi, en) => (state.lang === 'en' ? en : vi);
const levelName = (level) => ({
  central: t('Trung ương', 'Central'), bloc: t('Đảng bộ khối', 'bloc'), ministry: t('Đảng bộ cấp trên cơ sở', 'committee'),
  grassroots: t('Tổ chức cơ sở đảng', 'grassroots'), branch: t('Chi bộ', 'branch'),
})[level] || level;
const milestoneName = (milestone) => ({
  'subcommittees-formed': t('Thành lập các tiểu ban', 'subcommittees formed'), 'drafts-prepared': t('Dự thảo văn kiện', 'drafts prepared'),
  'comments-collected': t('Lấy ý kiến dự thảo', 'comments collected'), 'personnel-plan-prepared': t('Đề án nhân sự', 'personnel plan'),
  'submitted-to-superior': t('Trình cấp trên', 'submitted to the superior'), 'submission-decided': t('Cấp trên cho ý kiến', 'superior decides'),
  'congress-held': t('Tổ chức đại hội', 'congress held'), 'new-date-set': t('Ấn định lại ngày đại hội', 'new date set'),
  'results-recognised': t('Chuẩn y kết quả bầu cử', 'results recognised'), 'resolution-disseminated': t('Quán triệt nghị quyết', 'resolution disseminated'),
})[milestone] || milestone;
const stepName = (step) => ({
  reminder: t('Nhắc hạn', 'reminder'), overdue: t('Quá hạn', 'overdue'), escalation: t('Báo cáo cấp trên', 'escalation'),
  'further-escalation': t('Báo cáo cấp trên (lần 2)', 'further escalation'),
})[step] || step;
const actionName = (action) => ({
  submitted: t('trình', 'submitted'), approved: t('phê duyệt', 'approved'), returned: t('trả lại', 'returned'),
  'exemption-granted': t('miễn trừ', 'exemption granted'), 'results-recognised': t('chuẩn y', 'results recognised'),
})[action] || action;
const locale = () => t('vi-VN', 'en-US');

const bilingual = [];
/** The page's own "tiếng Việt · English" texts and attributes, noted once before the script writes anything. */
function collectBilingual() {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.data.includes(' · ')) bilingual.push({ node, text: node.data });
  }
  for (const element of document.querySelectorAll('[title], [placeholder], [aria-label]')) {
    for (const attribute of ['title', 'placeholder', 'aria-label']) {
      const text = element.getAttribute(attribute);
      if (text && text.includes(' · ')) bilingual.push({ node: element, attribute, text });
    }
  }
}

/** One side of "tiếng Việt · English", keeping the whitespace around it. */
function side(text) {
  const at = text.indexOf(' · ');
  const lead = text.match(/^\s*/)[0];
  const trail = text.match(/\s*$/)[0];
  return state.lang === 'en' ? lead + text.slice(at + 3).trimEnd() + trail : text.slice(0, at) + trail;
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.body.dataset.lang = state.lang;
  $('lang').value = state.lang;
  for (const b of bilingual) {
    if (b.attribute) b.node.setAttribute(b.attribute, side(b.text)); else b.node.data = side(b.text);
  }
}

/** Both axes of time: the day the figures are for, and, when "as shown that day" is ticked, only what had been recorded by its end. */
const when = () => `asOf=${state.asOf}` + (state.asShown ? `&knownAt=${state.asOf}` : '');
const $ = (id) => document.getElementById(id);
const n = (value) => value.toLocaleString(locale());
const pct = (value) => value.toLocaleString(locale(), { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + '%';
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

/** A unit's own congress: the day it was held and how early or late, or what stands instead ("not yet" by default). */
const heldText = (o, otherwise = t('chưa', 'not yet')) => o.heldOn
  ? `${fmtDay(o.heldOn)}${o.daysLate < 0 ? ` (${t('sớm', 'early')} ${-o.daysLate})` : o.daysLate > 0 ? ` (${t('muộn', 'late')} ${o.daysLate})` : ''}`
  : otherwise;

/** A name as of the day shown, with today's after it when the unit has been renamed since. */
const nameOfTheDay = (o) => o.currentName && o.currentName !== o.name ? `${o.name} (${t('nay', 'now')}: ${o.currentName})` : o.name;

function renderReport(report) {
  $('root-name').textContent = `${nameOfTheDay(report)} — ${t('tính đến', 'as of')} ${fmtDay(report.asOf)}`;
  const body = $('levels').querySelector('tbody');
  body.textContent = '';
  for (const l of report.levels) {
    const tr = document.createElement('tr');
    tr.dataset.level = l.level;
    tr.append(cell(levelName(l.level)), cell(`${n(l.held)} / ${n(l.total)} (${pct(l.percent)})`, 'num held'), bar(l.percent),
      cell(n(l.early), 'num'), cell(n(l.onTime), 'num'), cell(n(l.late), 'num late'), cell(n(l.overdue), 'num overdue'),
      cell(n(l.notYetDue), 'num'), cell(n(l.notPlanned), 'num'));
    body.append(tr);
  }
  const s = report.subordinates;
  $('subordinates-done').textContent = s.total
    ? `${n(s.completed)} / ${n(s.total)} ` + t('đảng bộ trực thuộc đã xong đại hội các chi bộ', 'committees with all their branches done')
    : '';
  const c = report.completion;
  const margin = c.daysEarly >= 0 ? t(`sớm ${c.daysEarly} ngày`, `${c.daysEarly} days early`) : t(`muộn ${-c.daysEarly} ngày`, `${-c.daysEarly} days late`);
  $('completion').textContent = c.completedOn
    ? t('Hoàn thành', 'Completed') + ` ${fmtDay(c.completedOn)}` + (c.deadline ? ` · ${t('hạn', 'deadline')} ${fmtDay(c.deadline)} · ${margin}` : '')
    : (c.deadline ? t(`Đang tiến hành · hạn hoàn thành ${fmtDay(c.deadline)}`, `In progress · to finish by ${fmtDay(c.deadline)}`) : t('Đang tiến hành', 'In progress'));
}

function renderSubordinates(rows) {
  const body = $('subordinates').querySelector('tbody');
  body.textContent = '';
  for (const r of rows) body.append(subordinateRow(r, 0));
}

/**
 * A subordinate and its own subtree's progress. ▸ loads the units just below it and shows them beneath, indented
 * (each with its own ▸): a bloc of thousands of units opens with its direct subordinates only.
 */
function subordinateRow(r, depth) {
  const tr = document.createElement('tr');
  tr.dataset.org = r.organizationId;
  tr.dataset.depth = String(depth);
  const name = document.createElement('td');
  if (r.level !== 'branch' && r.units > 1) {
    const expand = Object.assign(document.createElement('button'), { type: 'button', className: 'expand' });
    expand.setAttribute('aria-expanded', 'false');
    expand.setAttribute('aria-label', t(`mở các đơn vị của ${r.name}`, `show the units of ${r.name}`));
    expand.onclick = () => toggleSubtree(tr, expand, r, depth);
    name.append(expand);
  }
  const link = document.createElement('a');
  link.textContent = nameOfTheDay(r);
  link.href = '#';
  link.onclick = (e) => { e.preventDefault(); openUnit(r.organizationId); };
  const congress = document.createElement('a');
  congress.textContent = t(' · đại hội', ' · congress');
  congress.className = 'congress-link';
  congress.dataset.org = r.organizationId;
  congress.onclick = () => openCongress(r.organizationId, r.name);
  name.append(link, congress);
  tr.append(name, cell(levelName(r.level)), cell(`${n(r.held)} / ${n(r.units)} (${pct(r.percent)})`, 'num'), bar(r.percent),
    cell(n(r.overdue), r.overdue ? 'num overdue' : 'num'), cell(heldText(r)));
  return tr;
}

/** Opens a row's subtree one level down (asking the server for that unit's subordinates), or closes everything below it. */
async function toggleSubtree(tr, button, r, depth) {
  const below = [];
  for (let next = tr.nextElementSibling; next && Number(next.dataset.depth) > depth; next = next.nextElementSibling) below.push(next);
  if (button.getAttribute('aria-expanded') === 'true') {
    below.forEach((row) => row.remove());
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  try {
    const rows = await get(`/api/campaigns/${state.campaign}/progress/${r.organizationId}/subordinates?${when()}`);
    tr.after(...rows.map((child) => subordinateRow(child, depth + 1)));
    button.setAttribute('aria-expanded', 'true');
  } catch (e) {
    $('error').textContent = e.message;
    $('error').hidden = false;
  }
}

function renderDeadlines(id, items, cls) {
  const body = $(id).querySelector('tbody');
  body.textContent = '';
  for (const i of items.slice(0, 50)) {
    const tr = document.createElement('tr');
    tr.append(cell(nameOfTheDay(i)), cell(i.parentName || ''), cell(fmtDay(id === 'overdue' ? i.deadline : i.plannedDate)), cell(t(`${i.days} ngày`, `${i.days} days`), cls));
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
    tr.append(cell(d.organizationName), cell(milestoneName(d.milestone)), cell(fmtDay(d.dueOn)),
      cell(d.daysLeft < 0 ? t(`quá ${-d.daysLeft} ngày`, `${-d.daysLeft} days overdue`) : t(`còn ${d.daysLeft} ngày`, `in ${d.daysLeft} days`), d.daysLeft < 0 ? 'overdue' : ''),
      cell(d.responsibleId === d.organizationId ? t('đơn vị', 'the unit') : t('cấp trên', 'the superior')));
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
    tr.append(cell(fmtDay(n.onDay)), cell(stepName(n.step) + (n.late ? t(' (muộn)', ' (late)') : ''), `step-${n.step}`), cell(n.organizationName),
      cell(milestoneName(n.milestone)), cell(fmtDay(n.dueOn)), cell(n.recipients.join(', ')), cell(deliveries));
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
  when.textContent = new Date(item.createdAt).toLocaleString(locale());
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
  $('inbox-unread').textContent = t(`(${unread} chưa đọc)`, `(${unread} unread)`);
}

async function renderProjections() {
  try {
    const projections = await get('/api/projections');
    $('projections').textContent = t('Bảng tổng hợp: ', 'Read models: ') + projections.map((p) =>
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
      row.textContent = `${d.organizationName}: ` + t(`đề án chờ phê duyệt (hạn ${fmtDay(d.dueOn)}) `, `awaiting your decision (due ${fmtDay(d.dueOn)}) `);
      const url = `/api/campaigns/${state.campaign}/congresses/${d.organizationId}`;
      row.append(
        action(t('Phê duyệt', 'Approve'), async () => {
          const decision = prompt(t('Số quyết định (vd. 95-QĐ/ĐUK)', 'Decision number (e.g. 95-QĐ/ĐUK)'));
          if (!decision) return '';
          await post(`${url}/approval`, { decision });
          return t(`Đã phê duyệt ${d.organizationName}`, `Approved ${d.organizationName}`);
        }),
        action(t('Trả lại', 'Return'), async () => {
          const comments = prompt(t('Ý kiến: cần sửa gì', 'What to change'));
          if (!comments) return '';
          await post(`${url}/return`, { comments });
          return t(`Đã trả lại ${d.organizationName}`, `Returned ${d.organizationName}`);
        }));
      list.append(row);
    }
  }
  if (can('operate')) {
    list.append(action(t('Quét hạn ngay', 'Run the deadline sweep now'), async () => {
      const result = await post('/api/deadlines/sweep/trigger');
      return t(`Đã yêu cầu, việc ${result.job}`, `Queued job ${result.job}`);
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
  $('congress-title').textContent = `${t('Đại hội', 'Congress')}: ${name}`;
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
      tr.append(cell(String(e.streamVersion)), cell(new Date(e.recordedAt).toLocaleString(locale())), cell(e.eventType),
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
  $('replay-label').textContent = event ? `#${event.streamVersion} ${event.eventType} — ${new Date(event.recordedAt).toLocaleString(locale())}` : '';
  const dl = $('congress-state');
  dl.dataset.stage = s.stage;
  dl.dataset.version = String(view.version);
  dl.textContent = '';
  const row = (term, value) => { const dt = document.createElement('dt'); dt.textContent = term; const dd = document.createElement('dd'); dd.textContent = value; dl.append(dt, dd); };
  row(t('Giai đoạn', 'Stage'), s.stage);
  const plan = view.planInForce;
  row(t('Kế hoạch', 'Plan in force'), plan
    ? `${plan.document} (${t('dự kiến', 'planned')} ${fmtDay(plan.plannedDate)}, ${t('hạn', 'deadline')} ${fmtDay(plan.window.end)})` : '—');
  row(t('Trình', 'Submission round'), `${s.submissionRound} (${t('trả lại', 'returned')} ${s.returnedRounds})`);
  row(t('Cấp trên cho ý kiến', 'Decided on'), s.decidedOn ? fmtDay(s.decidedOn) : '—');
  row(t('Đại hội', 'Convened'), s.convened ? `${fmtDay(s.convened.convenedOn)}, ${s.convened.delegatesPresent}/${s.convened.delegatesExpected}` : '—');
  row(t('Bầu cử', 'Elections'), s.elections
    ? t(`${s.elections.executiveCommittee} cấp ủy, bí thư ${s.elections.secretary}`, `${s.elections.executiveCommittee} on the committee, secretary ${s.elections.secretary}`)
    : '—');
  row(t('Phiên bản', 'Version'), String(view.version));
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
  $('find-count').textContent = `${n(page.total)} ${t('đơn vị', 'units')}`
    + (page.total > page.units.length ? t(` (${page.units.length} đầu tiên)`, ` (the first ${page.units.length} shown)`) : '');
  const body = $('find-results').querySelector('tbody');
  body.textContent = '';
  for (const u of page.units) {
    const tr = document.createElement('tr');
    if (u.isOverdue) tr.classList.add('overdue-row');
    const name = document.createElement('td');
    const link = Object.assign(document.createElement('a'), { href: '#', textContent: nameOfTheDay(u) + (u.isPilot ? ' ★' : '') });
    link.onclick = (e) => { e.preventDefault(); openUnit(u.organizationId); };
    name.append(link);
    const held = heldText(u, u.isOverdue ? t('quá hạn', 'overdue') : undefined);
    tr.append(name, cell(levelName(u.level)), cell(u.parentName || ''), cell(u.deadline ? fmtDay(u.deadline) : ''), cell(held));
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
      textContent: t(` ghi muộn ${new Date(e.recordedAt).toLocaleDateString(locale())}`, ` entered late, ${new Date(e.recordedAt).toLocaleDateString(locale())}`),
      title: t('ghi nhận sau ngày này hơn một ngày', 'recorded more than a day after this date') }));
    tr.append(day, cell(actionName(e.action)), unit, cell(e.round == null ? '' : String(e.round)), cell(e.byOrganization),
      cell(`${e.byUser} (${e.byRole})`), cell(e.document || e.comments || ''), event);
    body.append(tr);
  }
  if (!entries.length) body.append(Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="8">—</td>' }));
}

// The conformance replay of the subtree on screen: each finding links its events to their congress pages.
$('conformance-run').addEventListener('click', async () => {
  const root = state.path[state.path.length - 1];
  $('conformance-summary').textContent = t('đang chạy…', 'replaying…');
  try {
    const report = await get(`/api/campaigns/${state.campaign}/progress/${root}/conformance`);
    $('conformance-summary').textContent =
      t(`${n(report.eventsReplayed)} sự kiện của ${n(report.organizations)} đơn vị: ${n(report.violations)} vi phạm quy tắc, ${n(report.findings.length)} phát hiện`,
        `${n(report.eventsReplayed)} events of ${n(report.organizations)} units: ${n(report.violations)} rule violations, ${n(report.findings.length)} findings`);
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

collectBilingual();
applyLanguage();
$('lang').addEventListener('change', () => {
  state.lang = $('lang').value === 'en' ? 'en' : 'vi';
  localStorage.setItem('congress-lang', state.lang);
  applyLanguage();
  if (!document.querySelector('main').hidden) render();
  if (state.inbox) countUnread();
});
start();
