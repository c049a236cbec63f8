// The branch dashboard: sign-in, indicators, leaderboards, the need map,
// batch matching and campaign messages, all through the /v1 API.
'use strict';

(() => {
  const { t, api, el, num, pct, waited } = DSS;
  const $ = (id) => document.getElementById(id);
  const STAFF = ['branch_admin', 'commune_staff', 'admin'];
  const ACTORS = ['branch_admin', 'admin'];
  const OUTCOMES = ['vneid_activated', 'epayment_setup', 'first_online_service', 'scam_lesson'];

  const state = {
    me: null, home: '', unit: '', campaign: '', data: null,
    board: 'volunteers', period: 'week', scope: '', mine: new Set(), run: null, cell: null, timers: [],
  };

  function showError(id, err) {
    $(id).textContent = err ? (err.message || String(err)) : '';
    if (err && err.status === 401) signedOut(err.message);
  }

  // ---- sign-in ----
  async function showSignIn(message) {
    $('app').hidden = true; $('who').hidden = true; $('signout').hidden = true;
    $('signin').hidden = false;
    $('signin-error').textContent = message || '';
    const cfg = await DSS.loadConfig();
    $('signin-firebase').hidden = !cfg.firebase_api_key;
    $('signin-token').hidden = !cfg.dev_mode && !!cfg.firebase_api_key;
    $('signin-dev').hidden = !cfg.dev_mode;
  }

  function signedOut(message) {
    state.timers.forEach(clearInterval);
    state.timers = [];
    DSS.auth.clear();
    showSignIn(message);
  }

  $('signin-token').addEventListener('submit', (e) => {
    e.preventDefault();
    DSS.auth.set($('token').value.trim());
    start();
  });
  $('signin-dev').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api('/v1/dev/token', { method: 'POST', body: { user_id: $('dev-user').value.trim() } });
      DSS.auth.set(r.token);
      start();
    } catch (err) { $('signin-error').textContent = err.message; }
  });
  $('signin-firebase').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await DSS.firebaseSignIn($('email').value, $('password').value);
      start();
    } catch (err) { $('signin-error').textContent = err.message; }
  });
  $('signout').addEventListener('click', () => signedOut(''));
  $('lang').addEventListener('click', () => { DSS.toggleLang(); if (state.data) { render(); loadBoard(); } });

  async function start() {
    let me;
    try { me = await api('/v1/me'); } catch (err) { return showSignIn(err.message); }
    if (!STAFF.includes(me.role)) return signedOut(t('notAllowed'));
    state.me = me;
    state.home = me.branch_id || new URLSearchParams(location.search).get('unit') || '';
    state.unit = state.home;
    $('signin').hidden = true; $('app').hidden = false; $('who').hidden = false; $('signout').hidden = false;
    $('role-name').textContent = t(me.role);
    const canAct = ACTORS.includes(me.role);
    $('run-card').hidden = true; $('bc-card').hidden = !canAct; // until the unit's actions are known
    if (!state.unit) return showError('app-error', new Error(t('needUnit')));
    try {
      const list = await api('/v1/campaigns?limit=200');
      $('campaign').replaceChildren(...list.items.map((c) => el('option', { value: c.id, text: c.name + (c.active ? '' : ' ✕') })));
    } catch (err) { showError('app-error', err); }
    await loadAll();
    state.timers.push(setInterval(loadBoard, 30_000), setInterval(loadIndicators, 120_000));
  }

  // ---- data ----
  async function loadAll() {
    await loadIndicators();
    await Promise.all([loadBoard(), loadMap()]);
  }

  async function loadIndicators() {
    try {
      const q = new URLSearchParams({ branch_id: state.unit });
      if (state.campaign) q.set('campaign', state.campaign);
      state.data = await api('/v1/dashboard/indicators?' + q);
      state.campaign = state.data.campaign.id;
      state.mine = new Set([state.data.unit.id, ...state.data.communes.map((r) => r.id), ...state.data.branches.map((r) => r.id)]);
      render();
      showError('app-error', null);
    } catch (err) { showError('app-error', err); }
  }

  function render() {
    const d = state.data;
    // A branch's figures are its own; its commune is named above them.
    $('unit-name').textContent = d.context ? `${d.unit.name} · ${t('partOf')} ${d.context.name}` : d.unit.name;
    const canAct = state.me && ACTORS.includes(state.me.role);
    $('run-card').hidden = !canAct || !d.actions.batch_matching;
    $('bc-card').hidden = !canAct || !d.actions.broadcast;
    $('campaign').value = d.campaign.id;
    $('updated').textContent = t('updated') + ' ' + DSS.time(d.generated_at);
    if (state.me) $('role-name').textContent = t(state.me.role);
    fillUnits(d);
    renderTiles(d.total);
    renderTargets(d);
    DSS.bars($('trend'), d.total.trend.sessions, d.weeks);
    renderTable(d);
    fillScopes(d);
    DSS.legend($('legend'), $('map').dataset.maxNeed);
    DSS.cellInfo($('cell'), state.cell, d.unit.name);
    if (state.run) renderRun(state.run);
  }

  function fillUnits(d) {
    const keep = state.unit;
    if (!$('unit').options.length || $('unit').dataset.home !== state.home) {
      const opts = [el('option', { value: state.home, text: d.unit.id === state.home ? d.unit.name : state.home })];
      if (d.unit.id === state.home) d.communes.filter((c) => c.id !== state.home).forEach((c) => opts.push(el('option', { value: c.id, text: '— ' + c.name })));
      $('unit').replaceChildren(...opts);
      $('unit').dataset.home = state.home;
    }
    $('unit').value = keep;
    $('run-commune').replaceChildren(...d.communes.map((c) => el('option', { value: c.id, text: c.name })));
    $('bc-unit').replaceChildren(...[d.unit, ...d.communes.filter((c) => c.id !== d.unit.id), ...d.branches]
      .map((u) => el('option', { value: u.id, text: u.name })));
  }

  function tile(label, value, sub) {
    return el('div', { class: 'tile' }, el('div', { class: 'tv', text: value }), el('div', { class: 'tl', text: label }),
      sub ? el('div', { class: 'ts muted', text: sub }) : null);
  }

  function renderTiles(r) {
    $('tiles').replaceChildren(
      tile(t('atFive'), pct(r.mentors_at_five_share), `${num(r.mentors_at_five)} / ${num(r.mentors)} ${t('mentors')}`),
      tile(t('families'), pct(r.digital_family_share), `${num(r.digital_families)} / ${num(r.households)} ${t('households')}`),
      tile(t('certified'), num(r.certified_learners)),
      tile(t('sessionsWeek'), num(r.sessions_this_week)),
      tile(t('waiting'), num(r.requests_waiting), r.oldest_wait_hours != null ? `${t('oldest')}: ${waited(r.oldest_wait_hours)}` : null),
    );
  }

  function renderTargets(d) { DSS.targets($('targets'), d.campaign, d.teams); }

  function renderTable(d) {
    const head = [t('level'), t('name'), t('mentors'), t('atFive'), t('sessionsWeek'), t('households'), t('families'),
      t('certified'), t('waiting'), t('oldestWait'), t('outcomes'), t('trend'), ''];
    $('indicators').tHead.replaceChildren(el('tr', {}, ...head.map((h, i) => el('th', { class: i >= 2 && i <= 9 ? 'num' : '', text: h }))));
    const rows = [['total', d.total], ...d.communes.map((r) => ['commune', r]), ...d.branches.map((r) => ['branch', r])];
    $('indicators').tBodies[0].replaceChildren(...rows.map(([level, r]) => {
      const spark = el('svg:svg', { class: 'spark', role: 'img' });
      DSS.bars(spark, r.trend.sessions, d.weeks, { small: true, width: 80, height: 22 });
      const report = level === 'commune'
        ? el('a', { href: '/dashboard/report.html?' + new URLSearchParams({ commune: r.id, campaign: d.campaign.id }), text: t('report') })
        : null;
      return el('tr', { class: 'lvl-' + level, 'data-id': r.id },
        el('td', { text: t(level) }), el('td', { text: r.name }),
        el('td', { class: 'num', text: num(r.mentors) }),
        el('td', { class: 'num', text: `${num(r.mentors_at_five)} (${pct(r.mentors_at_five_share)})` }),
        el('td', { class: 'num', text: num(r.sessions_this_week) }),
        el('td', { class: 'num', text: num(r.households) }),
        el('td', { class: 'num', text: r.households == null ? '—' : `${num(r.digital_families)} (${pct(r.digital_family_share)})` }),
        el('td', { class: 'num', text: num(r.certified_learners) }),
        el('td', { class: 'num', text: num(r.requests_waiting) }),
        el('td', { class: 'num', text: waited(r.oldest_wait_hours) }),
        el('td', { class: 'outcomes small' }, ...OUTCOMES.map((o) => el('div', { 'data-outcome': o, text: `${t(o)}: ${num(r.outcomes[o])}` }))),
        el('td', {}, spark), el('td', {}, report));
    }));
  }

  // ---- leaderboards ----
  // The scopes the server offers for this unit, each with the boards it
  // ranks: a board that cannot work in the chosen scope is not offered.
  function fillScopes(d) {
    const label = (s) => (s.level === 'unit' ? t('myUnit') : t(s.level)) + (s.name ? ' (' + s.name + ')' : '');
    const keep = state.scope && d.board_scopes.some((s) => s.scope === state.scope) ? state.scope : d.board_scope;
    $('board-scope').replaceChildren(...d.board_scopes.map((s) => el('option', { value: s.scope, text: label(s) })));
    $('board-scope').value = keep;
    state.scope = keep;
    syncBoards();
  }

  function syncBoards() {
    const s = state.data && state.data.board_scopes.find((x) => x.scope === state.scope);
    if (!s) return;
    if (!s.boards.includes(state.board)) state.board = s.boards[0];
    $('board-kind').querySelectorAll('button').forEach((b) => {
      b.hidden = !s.boards.includes(b.dataset.board);
      b.classList.toggle('on', b.dataset.board === state.board);
    });
  }

  async function loadBoard() {
    if (!state.campaign || !state.scope) return;
    const q = new URLSearchParams({ board: state.board, period: state.period, scope: state.scope, limit: 20 });
    try {
      const b = await api(`/v1/leaderboards/${encodeURIComponent(state.campaign)}?` + q);
      const body = $('board').tBodies[0];
      if (!b.items.length) {
        body.replaceChildren(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: t('empty') })));
      } else {
        body.replaceChildren(...b.items.map((r) => el('tr', { class: state.board !== 'volunteers' && state.mine.has(r.id) ? 'mine' : '', 'data-id': r.id },
          el('td', { text: String(r.rank) }), el('td', { class: 'who', text: r.name || r.id }), el('td', { class: 'num', text: num(r.points) }))));
      }
      $('board').dataset.period = b.period;
      $('board-note').textContent = DSS.periodName(b.period, state.data && state.data.campaign.name);
    } catch (err) { showError('app-error', err); }
  }

  function segmented(id, key) {
    $(id).addEventListener('click', (e) => {
      const b = e.target.closest('button');
      if (!b) return;
      $(id).querySelectorAll('button').forEach((x) => x.classList.toggle('on', x === b));
      state[key] = b.dataset[key];
      loadBoard();
    });
  }
  segmented('board-kind', 'board');
  segmented('board-period', 'period');
  $('board-scope').addEventListener('change', () => { state.scope = $('board-scope').value; syncBoards(); loadBoard(); });

  // ---- map ----
  async function loadMap() {
    try {
      const unitKind = state.data && state.data.unit.kind;
      const q = new URLSearchParams({ branch_id: state.unit, res: unitKind === 'province' ? '7' : '8' });
      const unit = state.data ? state.data.unit : {};
      const area = unit.commune_code ? { commune: unit.commune_code } : { province: unit.province_code };
      const [g, outlines] = await Promise.all([api('/v1/coverage?' + q),
        (unit.commune_code || unit.province_code) ? api('/public/units/outlines?' + new URLSearchParams(area)).catch(() => null) : null]);
      const place = unit.name || '';
      const n = DSS.hexMap($('map'), g, (p) => { state.cell = p; DSS.cellInfo($('cell'), p, place); }, outlines);
      $('map').dataset.communes = String(outlines ? outlines.features.length : 0);
      $('map').dataset.hexes = String(n);
      state.cell = null;
      DSS.cellInfo($('cell'), null);
      DSS.legend($('legend'), $('map').dataset.maxNeed);
    } catch (err) { showError('app-error', err); }
  }

  // ---- batch matching ----
  function renderRun(r) {
    state.run = r;
    $('run-box').hidden = false;
    $('run-status').textContent = t(r.status);
    $('run-status').dataset.status = r.status;
    const s = r.summary;
    const items = [[t('requests'), num(s.requests)], [t('served'), `${num(s.served_learners)} / ${num(s.learners)}`],
      [t('underQuota'), num(s.mentors_under_quota)], [t('meanKm'), num(Math.round(s.mean_distance_km * 10) / 10)],
      [t('took'), num(s.took_ms)]];
    if (r.status === 'applied') items.push([t('appliedN'), num(r.applied)], [t('skippedN'), num(r.skipped)]);
    $('run-summary').replaceChildren(...items.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
    const open = r.status === 'proposed';
    $('run-apply').disabled = !open || s.served_requests === 0;
    $('run-discard').disabled = !open;
  }

  async function pollRun(id) {
    for (let i = 0; i < 120; i++) {
      const r = await api('/v1/matching/runs/' + encodeURIComponent(id));
      renderRun(r);
      if (r.status !== 'computing') return;
      await new Promise((ok) => setTimeout(ok, 1000));
    }
  }

  $('run-start').addEventListener('click', async () => {
    showError('run-error', null);
    $('run-start').disabled = true;
    try {
      const r = await api('/v1/matching/runs', { method: 'POST', body: { commune_id: $('run-commune').value } });
      renderRun(r);
      if (r.status === 'computing') await pollRun(r.id);
    } catch (err) { showError('run-error', err); } finally { $('run-start').disabled = false; }
  });
  for (const [id, verb] of [['run-apply', 'apply'], ['run-discard', 'discard']]) {
    $(id).addEventListener('click', async () => {
      if (!state.run) return;
      showError('run-error', null);
      $(id).disabled = true;
      try {
        renderRun(await api(`/v1/matching/runs/${encodeURIComponent(state.run.id)}/${verb}`, { method: 'POST' }));
        if (verb === 'apply') { await loadIndicators(); await loadMap(); }
      } catch (err) { showError('run-error', err); }
    });
  }

  // ---- campaign messages ----
  $('bc-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('bc-error', null);
    $('bc-result').textContent = '';
    $('bc-send').disabled = true;
    try {
      const r = await api('/v1/notifications/broadcasts', { method: 'POST', idem: DSS.newKey(), body: {
        branch_id: $('bc-unit').value, audience: $('bc-audience').value, title: $('bc-title').value, body: $('bc-body').value } });
      $('bc-result').textContent = `${t('sent')} ${num(r.recipients)} ${t('people')} (${DSS.dateTime(r.send_at)})`;
      $('bc-result').dataset.recipients = String(r.recipients);
      $('bc-form').reset();
    } catch (err) { showError('bc-error', err); } finally { $('bc-send').disabled = false; }
  });

  // ---- CSV ----
  $('csv').addEventListener('click', async () => {
    try {
      const q = new URLSearchParams({ branch_id: state.unit, campaign: state.campaign });
      const res = await api('/v1/dashboard/indicators.csv?' + q, { raw: true });
      const name = (/filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '') || [])[1] || 'chi-so.csv';
      const url = URL.createObjectURL(await res.blob());
      const a = el('a', { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) { showError('app-error', err); }
  });

  $('unit').addEventListener('change', () => { state.unit = $('unit').value; state.scope = ''; loadAll(); });
  $('campaign').addEventListener('change', () => { state.campaign = $('campaign').value; loadAll(); });
  $('refresh').addEventListener('click', loadAll);

  DSS.applyLang();
  if (DSS.auth.token) start(); else showSignIn();
})();
