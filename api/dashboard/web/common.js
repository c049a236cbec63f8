// Shared by the dashboard and the printable report: language, sign-in,
// calls to the API, and the drawings (hexagon map, weekly bars).
'use strict';

const DSS = (() => {
  const SVGNS = 'http://www.w3.org/2000/svg';

  // ---- language: Vietnamese first, English on request ----
  const texts = {
    en: {
      'title': 'Digital Ambassadors — Union dashboard', 'signout': 'Sign out',
      'signin.title': 'Sign in', 'signin.who': 'For Youth Union officers and commune digital technology teams.',
      'signin.email': 'E-mail', 'signin.password': 'Password', 'signin.go': 'Sign in',
      'signin.token': 'Sign-in token', 'signin.dev': 'Test mode: get a token for an existing user.',
      'signin.user': 'User id', 'signin.devgo': 'Get a token and sign in',
      'unit': 'Unit', 'campaign': 'Campaign', 'refresh': 'Refresh',
      'indicators': 'Indicators against targets', 'trend': 'Confirmed sessions per week',
      'board': 'Leaderboard', 'board.volunteers': 'Volunteers', 'board.branches': 'Branches', 'board.communes': 'Communes',
      'period.week': 'Week', 'period.month': 'Month', 'period.campaign': 'Whole campaign', 'board.scope': 'Scope',
      'name': 'Name', 'points': 'Points',
      'map': 'Need map (H3)', 'map.legend': 'Colour: learners waiting and households without a certified member. Green ring: volunteers\' free places.',
      'table': 'By commune and branch', 'csv': 'Export CSV (Excel)',
      'run': 'Batch matching', 'run.help': 'Compute the optimal proposal for a commune\'s waiting requests; review it, then apply or discard it.',
      'commune': 'Commune', 'run.start': 'Run matching', 'run.status': 'Status', 'run.apply': 'Apply', 'run.discard': 'Discard proposal',
      'bc': 'Campaign message', 'bc.unit': 'To', 'bc.audience': 'Audience', 'bc.volunteers': 'Volunteers',
      'bc.everyone': 'Everyone in the unit', 'bc.title': 'Title', 'bc.body': 'Message', 'bc.send': 'Send',
      'report': 'Monthly report', 'print': 'Print', 'back': 'Back to the dashboard',
    },
  };
  // Words made in code (not in the page), in both languages.
  const words = {
    vi: {
      updated: 'Cập nhật lúc', atFive: 'Đủ "1 kèm 5"', families: 'Gia đình số', certified: 'Người đạt chuẩn',
      sessionsWeek: 'Buổi tuần này', waiting: 'Yêu cầu đang chờ', oldest: 'chờ lâu nhất', hours: 'giờ', days: 'ngày',
      of: 'trên', target: 'Mục tiêu', noTargets: 'Chiến dịch này chưa đặt mục tiêu.', level: 'Cấp', commune: 'Xã',
      branch: 'Chi đoàn', total: 'Tổng', mentors: 'TNV', households: 'Hộ', trend: 'Xu hướng', report: 'Báo cáo',
      cell: 'Ô', learnersWaiting: 'Người học chờ', withoutCertified: 'Hộ chưa đạt chuẩn', freePlaces: 'Chỗ trống TNV',
      mentorsHere: 'Tình nguyện viên', householdsHere: 'Hộ gia đình', pickCell: 'Bấm vào một ô để xem số liệu.',
      empty: 'Chưa có ai trên bảng này.', myUnit: 'Đơn vị của tôi', province: 'Cả tỉnh', national: 'Toàn quốc', partOf: 'thuộc',
      notAllowed: 'Trang này dành cho cán bộ Đoàn và tổ công nghệ số cộng đồng.',
      needUnit: 'Tài khoản chưa gắn với đơn vị nào; hãy nhập mã đơn vị.', sessionsKind: 'Buổi hướng dẫn',
      certified_learners: 'Người đạt chuẩn', digital_families: 'Gia đình số', mentors_at_five: 'TNV đủ 1 kèm 5', sessions: 'Buổi hướng dẫn',
      computing: 'đang tính', proposed: 'đã có phương án', applied: 'đã áp dụng', discarded: 'đã huỷ', failed: 'lỗi',
      requests: 'Yêu cầu', served: 'Được ghép', underQuota: 'TNV dưới 5', meanKm: 'Quãng đường TB (km)', took: 'Thời gian tính (ms)',
      appliedN: 'Đã ghép', skippedN: 'Bỏ qua (đã thay đổi)', sent: 'Đã lên lịch gửi tới', people: 'người',
      nothingWaiting: 'Không có yêu cầu nào đang chờ.', waitingFor: 'chờ', expired: 'Phiên đăng nhập đã hết hạn, hãy đăng nhập lại.',
      network: 'Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.', week: 'Tuần',
      name: 'Tên', oldestWait: 'Chờ lâu nhất', underHour: 'dưới 1 giờ', month: 'Tháng',
      branch_admin: 'Cán bộ Đoàn', commune_staff: 'Tổ công nghệ số', admin: 'Quản trị',
      people_supported: 'Người được hỗ trợ', problems_solved: 'Việc đã giải quyết', vneid_activated: 'Kích hoạt VNeID',
      epayment_setup: 'Cài thanh toán điện tử', first_online_service: 'Dùng dịch vụ công lần đầu', scam_lesson: 'Học phòng chống lừa đảo',
      teamTargets: 'Mục tiêu của', needLegend: 'người học chờ và hộ chưa đạt chuẩn trong một ô', perMonth: 'tháng này', perCampaign: 'trong chiến dịch', outcomes: 'Kết quả của người học',
    },
    en: {
      updated: 'Updated at', atFive: '"1 to 5" reached', families: 'Digital families', certified: 'Certified learners',
      sessionsWeek: 'Sessions this week', waiting: 'Requests waiting', oldest: 'oldest', hours: 'h', days: 'days',
      of: 'of', target: 'Target', noTargets: 'This campaign has no targets.', level: 'Level', commune: 'Commune',
      branch: 'Branch', total: 'Total', mentors: 'Mentors', households: 'Households', trend: 'Trend', report: 'Report',
      cell: 'Cell', learnersWaiting: 'Learners waiting', withoutCertified: 'Households not certified', freePlaces: 'Free places',
      mentorsHere: 'Volunteers', householdsHere: 'Households', pickCell: 'Click a cell to see its figures.',
      empty: 'No one on this board yet.', myUnit: 'My unit', province: 'Province', national: 'National', partOf: 'part of',
      notAllowed: 'This page is for Youth Union officers and commune technology teams.',
      needUnit: 'Your account has no unit; enter a unit id.', sessionsKind: 'Sessions',
      certified_learners: 'Certified learners', digital_families: 'Digital families', mentors_at_five: 'Mentors at 1-to-5', sessions: 'Sessions',
      computing: 'computing', proposed: 'proposed', applied: 'applied', discarded: 'discarded', failed: 'failed',
      requests: 'Requests', served: 'Served', underQuota: 'Mentors under 5', meanKm: 'Mean distance (km)', took: 'Computed in (ms)',
      appliedN: 'Matched', skippedN: 'Skipped (changed meanwhile)', sent: 'Scheduled for', people: 'people',
      nothingWaiting: 'No request is waiting.', waitingFor: 'waiting', expired: 'Your sign-in has expired; please sign in again.',
      network: 'Cannot reach the server. Check the connection and try again.', week: 'Week',
      name: 'Name', oldestWait: 'Longest wait', underHour: 'under 1 h', month: 'Month',
      branch_admin: 'Union officer', commune_staff: 'Technology team', admin: 'Administrator',
      people_supported: 'People supported', problems_solved: 'Problems solved', vneid_activated: 'VNeID activated',
      epayment_setup: 'E-payment set up', first_online_service: 'First online service', scam_lesson: 'Scam-safety lesson',
      teamTargets: 'Targets of', needLegend: 'learners waiting and households not yet certified in a cell', perMonth: 'this month', perCampaign: 'in the campaign', outcomes: 'Learners\' outcomes',
    },
  };
  const vi = {};
  let lang = localStorage.getItem('dss.lang') === 'en' ? 'en' : 'vi';

  function t(key) { return (words[lang] && words[lang][key]) || words.vi[key] || key; }

  function applyLang() {
    document.documentElement.lang = lang;
    document.querySelectorAll('[data-i18n]').forEach((el) => {
      const k = el.dataset.i18n;
      if (!(k in vi)) vi[k] = el.textContent; // the page is written in Vietnamese
      el.textContent = lang === 'en' ? (texts.en[k] || vi[k]) : vi[k];
    });
    const b = document.getElementById('lang');
    if (b) b.textContent = lang === 'en' ? 'Tiếng Việt' : 'English';
  }

  function toggleLang() {
    lang = lang === 'en' ? 'vi' : 'en';
    localStorage.setItem('dss.lang', lang);
    applyLang();
  }

  // ---- sign-in: a dev token, or a Firebase ID token with its refresh ----
  const auth = {
    get token() { return localStorage.getItem('dss.token') || ''; },
    set(token, refresh, expiresIn) {
      localStorage.setItem('dss.token', token);
      if (refresh) {
        localStorage.setItem('dss.refresh', refresh);
        localStorage.setItem('dss.expires', String(Date.now() + (Number(expiresIn) || 3600) * 1000));
      }
    },
    clear() { ['dss.token', 'dss.refresh', 'dss.expires'].forEach((k) => localStorage.removeItem(k)); },
  };
  let config = null;

  async function loadConfig() {
    if (!config) config = await (await fetch('/dashboard/config.json')).json();
    return config;
  }

  // Google's Identity Toolkit, over plain HTTPS: no SDK to embed.
  async function firebaseSignIn(email, password) {
    const key = encodeURIComponent(config.firebase_api_key);
    const res = await fetch('https://identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=' + key, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password, returnSecureToken: true }),
    });
    const data = await res.json();
    if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
    auth.set(data.idToken, data.refreshToken, data.expiresIn);
  }

  async function refreshIfNeeded() {
    const refresh = localStorage.getItem('dss.refresh');
    const expires = Number(localStorage.getItem('dss.expires') || 0);
    if (!refresh || !config || !config.firebase_api_key || Date.now() < expires - 5 * 60 * 1000) return;
    const res = await fetch('https://securetoken.googleapis.com/v1/token?key=' + encodeURIComponent(config.firebase_api_key), {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=' + encodeURIComponent(refresh),
    });
    if (res.ok) {
      const d = await res.json();
      auth.set(d.id_token, d.refresh_token, d.expires_in);
    }
  }

  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  // api calls the service with the token and the page's language; errors
  // carry the service's own (translated) message.
  async function api(path, opts = {}) {
    await refreshIfNeeded();
    const headers = { 'Accept-Language': lang };
    if (auth.token) headers.Authorization = 'Bearer ' + auth.token;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.idem) headers['Idempotency-Key'] = opts.idem;
    let res;
    try {
      res = await fetch(path, { method: opts.method || 'GET', headers,
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined });
    } catch (e) {
      throw new ApiError(0, 'network', t('network'));
    }
    if (opts.raw && res.ok) return res;
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!res.ok) {
      const err = (data && data.error) || {};
      if (res.status === 401) {
        auth.clear();
        throw new ApiError(401, err.code || 'unauthenticated', t('expired'));
      }
      throw new ApiError(res.status, err.code || 'error', err.message || res.statusText);
    }
    return data;
  }

  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // ---- small helpers ----
  function el(tag, attrs = {}, ...children) {
    const e = tag.startsWith('svg:') ? document.createElementNS(SVGNS, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.setAttribute('class', v);
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  // Times are shown in Vietnam's time, wherever the browser is.
  const ZONE = 'Asia/Ho_Chi_Minh';
  const locale = () => (lang === 'en' ? 'en-GB' : 'vi-VN');
  function time(iso) { return new Date(iso).toLocaleTimeString(locale(), { timeZone: ZONE }); }
  function dateTime(iso) { return new Date(iso).toLocaleString(locale(), { timeZone: ZONE }); }
  function monthOf(iso) {
    const p = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit' }).formatToParts(new Date(iso));
    const get = (k) => p.find((x) => x.type === k).value;
    return get('month') + '/' + get('year');
  }
  // periodName turns a board's period id (w2026-48, m2026-11) into words.
  function periodName(id, campaignName) {
    let m = /^w(\d{4})-(\d{2})$/.exec(id);
    if (m) return `${t('week')} ${Number(m[2])}/${m[1]}`;
    m = /^m(\d{4})-(\d{2})$/.exec(id);
    if (m) return `${t('month')} ${m[2]}/${m[1]}`;
    return campaignName || id;
  }

  const nf = () => new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'vi-VN');
  function num(n) { return n === undefined || n === null ? '—' : nf().format(n); }
  function pct(x) { return x === undefined || x === null ? '—' : nf().format(Math.round(x * 1000) / 10) + '%'; }
  function waited(hours) {
    if (hours === undefined || hours === null) return '—';
    if (hours < 1) return t('underHour');
    return hours >= 48 ? num(Math.round(hours / 24)) + ' ' + t('days') : num(Math.round(hours)) + ' ' + t('hours');
  }

  // bars draws a weekly series as small bars with the latest value labelled.
  // dayMonth writes a week's Monday (YYYY-MM-DD) as Vietnamese readers
  // write a date, day first: 2026-10-12 is 12/10.
  function dayMonth(iso) { const [, m, d] = iso.split('-'); return `${d}/${m}`; }

  function bars(svg, values, labels, opts = {}) {
    const w = opts.width || 360, h = opts.height || 90, pad = opts.small ? 1 : 18;
    svg.replaceChildren();
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    svg.setAttribute('class', (svg.getAttribute('class') || '').replace(/\bbars\b/, '') + ' bars');
    const max = Math.max(1, ...values);
    const bw = (w - 2 * pad) / Math.max(1, values.length);
    values.forEach((v, i) => {
      const bh = (h - 2 * pad) * v / max;
      const x = pad + i * bw + bw * 0.15, y = h - pad - bh;
      const r = el('svg:rect', { x: x.toFixed(1), y: y.toFixed(1), width: (bw * 0.7).toFixed(1), height: Math.max(bh, v > 0 ? 1 : 0.5).toFixed(1),
        class: i === values.length - 1 ? 'bar last' : 'bar' });
      r.append(el('svg:title', { text: (labels ? labels[i] + ': ' : '') + v }));
      svg.append(r);
      if (!opts.small) {
        svg.append(el('svg:text', { x: (x + bw * 0.35).toFixed(1), y: (y - 3).toFixed(1), class: 'barv', 'text-anchor': 'middle', text: String(v) }));
        if (labels) svg.append(el('svg:text', { x: (x + bw * 0.35).toFixed(1), y: h - 4, class: 'barl', 'text-anchor': 'middle', text: dayMonth(labels[i]) }));
      }
    });
  }

  // need is what the map colours: learners waiting plus households that
  // have no certified member yet.
  function need(p) { return p.learners_waiting + Math.max(0, p.households - p.certified_households); }

  // rings lists the rings of a GeoJSON Polygon or MultiPolygon.
  function ringsOf(g) {
    if (!g) return [];
    return g.type === 'MultiPolygon' ? g.coordinates.flat() : g.coordinates;
  }

  // hexMap draws GeoJSON H3 cells as SVG paths (an equirectangular
  // projection scaled by the latitude's cosine: true shapes at a
  // province's size), coloured by need, with free places as green rings,
  // over the outlines of the area's communes (official list), each named.
  function hexMap(svg, geojson, onPick, outlines) {
    svg.replaceChildren();
    const feats = geojson.features || [];
    const areas = (outlines && outlines.features) || [];
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    const grow = ([x, y]) => { minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y); };
    feats.forEach((f) => f.geometry.coordinates[0].forEach(grow));
    areas.forEach((f) => ringsOf(f.geometry).forEach((r) => r.forEach(grow)));
    const W = 600;
    if (!feats.length && !areas.length) {
      svg.setAttribute('viewBox', `0 0 ${W} 120`);
      svg.append(el('svg:text', { x: W / 2, y: 60, 'text-anchor': 'middle', class: 'maptext', text: '—' }));
      return 0;
    }
    const k = Math.cos(((minY + maxY) / 2) * Math.PI / 180);
    const spanX = Math.max((maxX - minX) * k, 1e-6), spanY = Math.max(maxY - minY, 1e-6);
    const s = (W - 20) / Math.max(spanX, spanY * 1.2);
    const H = Math.round(spanY * s + 20);
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    const px = ([x, y]) => [10 + (x - minX) * k * s, 10 + (maxY - y) * s];
    const maxNeed = Math.max(1, ...feats.map((f) => need(f.properties)));
    const maxFree = Math.max(1, ...feats.map((f) => f.properties.free_capacity));
    const outline = el('svg:rect', { x: 2, y: 2, width: W - 4, height: H - 4, class: 'mapframe', rx: 6 });
    svg.append(outline);
    const communes = el('svg:g', { class: 'communes' });
    for (const f of areas) {
      const d = ringsOf(f.geometry).map((r) => 'M' + r.map((q) => px(q).map((v) => v.toFixed(1)).join(',')).join('L') + 'Z').join('');
      const path = el('svg:path', { d, class: 'commune', 'data-commune': f.properties.code });
      path.append(el('svg:title', { text: f.properties.name }));
      communes.append(path);
    }
    svg.append(communes);
    const hexes = el('svg:g', { class: 'hexes' });
    const rings = el('svg:g', { class: 'rings' });
    for (const f of feats) {
      const p = f.properties;
      const pts = f.geometry.coordinates[0].map(px);
      const d = 'M' + pts.map((q) => q[0].toFixed(1) + ',' + q[1].toFixed(1)).join('L') + 'Z';
      const level = Math.min(5, Math.ceil((need(p) / maxNeed) * 5));
      p.number = feats.indexOf(f) + 1; // a cell is named by its number on this map, not its H3 id
      const path = el('svg:path', { d, class: 'hex n' + level, 'data-cell': p.cell, tabindex: 0 });
      path.append(el('svg:title', { text: `${p.commune_name ? p.commune_name + ' · ' : ''}${t('learnersWaiting')}: ${p.learners_waiting} · ${t('freePlaces')}: ${p.free_capacity}` }));
      const pick = () => {
        svg.querySelectorAll('.hex.picked').forEach((x) => x.classList.remove('picked'));
        path.classList.add('picked');
        onPick && onPick(p);
      };
      path.addEventListener('click', pick);
      path.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') pick(); });
      hexes.append(path);
      if (p.free_capacity > 0) {
        const cx = pts.slice(0, -1).reduce((a, q) => a + q[0], 0) / (pts.length - 1);
        const cy = pts.slice(0, -1).reduce((a, q) => a + q[1], 0) / (pts.length - 1);
        const r = 1.5 + 4 * Math.sqrt(p.free_capacity / maxFree) * Math.min(1, s / 2000);
        rings.append(el('svg:circle', { cx: cx.toFixed(1), cy: cy.toFixed(1), r: Math.max(r, 1.5).toFixed(1), class: 'free' }));
      }
    }
    svg.append(hexes, rings);
    svg.dataset.maxNeed = String(maxNeed);
    return feats.length;
  }

  function cellInfo(box, p, place) {
    if (!p) { box.replaceChildren(el('p', { class: 'muted small', text: t('pickCell') })); return; }
    const dl = el('dl');
    [[t('householdsHere'), p.households], [t('families'), p.certified_households], [t('learnersWaiting'), p.learners_waiting],
      [t('mentorsHere'), p.mentors], [t('freePlaces'), p.free_capacity]].forEach(([k, v]) => dl.append(el('dt', { text: k }), el('dd', { text: num(v) })));
    const where = p.commune_name || place;
    box.replaceChildren(el('h3', { 'data-cell': p.cell, text: `${t('cell')} ${p.number}${where ? ' · ' + where : ''}` }), dl);
  }

  // targets draws progress bars: a campaign's targets, then each
  // technology team's under its name and period.
  function targets(box, campaign, teams) {
    const bar = (x) => el('div', { class: 'target', 'data-kind': x.kind }, el('span', { class: 'tk', text: t(x.kind) }),
      el('progress', { max: x.target, value: Math.min(x.value, x.target) }),
      el('span', { class: 'tn', text: `${num(x.value)} / ${num(x.target)} (${pct(x.share)})` }));
    const out = campaign.targets.length ? campaign.targets.map(bar) : [el('p', { class: 'muted small', text: t('noTargets') })];
    for (const tm of teams || []) {
      out.push(el('h3', { class: 'team', 'data-team': tm.id,
        text: `${t('teamTargets')} ${tm.name} (${t(tm.period === 'month' ? 'perMonth' : 'perCampaign')})` }), ...tm.targets.map(bar));
    }
    box.replaceChildren(...out);
  }

  // legend says what the colours count, from none to the most of any cell
  // on the map (max).
  function legend(box, max) {
    box.replaceChildren(el('span', { class: 'small muted', text: '0 ' }), ...[0, 1, 2, 3, 4, 5].map((i) => el('span', { class: 'sw n' + i })),
      el('span', { class: 'small muted', text: ` ${num(Number(max) || 0)} ${t('needLegend')}` }));
  }

  return { t, applyLang, toggleLang, get lang() { return lang; }, auth, loadConfig, firebaseSignIn, api, ApiError, newKey,
    el, num, pct, waited, time, dateTime, monthOf, periodName, dayMonth, bars, hexMap, cellInfo, legend, targets, need };
})();
