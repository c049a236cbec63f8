// The printable monthly summary of one commune, for the report to the level
// above: the dashboard's figures on one A4 page (Ctrl+P, or "Save as PDF").
'use strict';

(() => {
  const { t, api, el, num, pct, waited } = DSS;
  const $ = (id) => document.getElementById(id);
  const labels = {
    vi: { figures: 'Số liệu chính', targets: 'Mục tiêu chiến dịch', trend: 'Diễn biến theo tuần', top: 'Tình nguyện viên tiêu biểu trong tháng',
      map: 'Bản đồ nhu cầu', branches: 'Các chi đoàn', maker: 'Người lập báo cáo', head: 'T/M Ban Chấp hành Đoàn xã',
      sign: '(Ký, ghi rõ họ tên)', made: 'Lập lúc', campaign: 'Chiến dịch', mentorsActive: 'Tình nguyện viên đang hoạt động' },
    en: { figures: 'Key figures', targets: 'Campaign targets', trend: 'Week by week', top: 'Leading volunteers this month',
      map: 'Need map', branches: 'Branches', maker: 'Prepared by', head: 'For the commune Youth Union committee',
      sign: '(Signature and full name)', made: 'Made at', campaign: 'Campaign', mentorsActive: 'Active volunteers' },
  };
  const L = (k) => labels[DSS.lang][k];
  let data = null, board = null, geo = null, outlines = null;

  function render() {
    const d = data, r = d.total;
    $('month').textContent = DSS.monthOf(d.generated_at);
    $('unit').textContent = d.unit.name;
    $('meta').textContent = `${L('campaign')}: ${d.campaign.name} · ${L('made')} ${DSS.dateTime(d.generated_at)}`;
    for (const k of ['figures', 'targets', 'trend', 'top', 'map', 'branches']) $('h-' + k).textContent = L(k);
    $('s-maker').textContent = L('maker'); $('s-head').textContent = L('head');
    $('s-sign1').textContent = L('sign'); $('s-sign2').textContent = L('sign');
    const rows = [[L('mentorsActive'), num(r.mentors)], [t('atFive'), `${num(r.mentors_at_five)} (${pct(r.mentors_at_five_share)})`],
      [t('households'), num(r.households)], [t('families'), `${num(r.digital_families)} (${pct(r.digital_family_share)})`],
      [t('certified'), num(r.certified_learners)], [t('sessionsWeek'), num(r.sessions_this_week)],
      [t('waiting'), `${num(r.requests_waiting)} · ${t('oldest')}: ${waited(r.oldest_wait_hours)}`],
      ...['vneid_activated', 'epayment_setup', 'first_online_service', 'scam_lesson'].map((o) => [t(o), num(r.outcomes[o])])];
    $('figures').tBodies[0].replaceChildren(...rows.map(([k, v]) => el('tr', {}, el('th', { text: k }), el('td', { class: 'num', text: v }))));
    DSS.targets($('targets'), d.campaign, d.teams);
    $('trend').tHead.replaceChildren(el('tr', {}, el('th', { text: t('week') }), ...d.weeks.map((w) => el('th', { class: 'num', text: DSS.dayMonth(w) }))));
    $('trend').tBodies[0].replaceChildren(...[['sessions', r.trend.sessions], ['certified_learners', r.trend.certified], ['digital_families', r.trend.families]]
      .map(([k, v]) => el('tr', {}, el('th', { text: t(k) }), ...v.map((n) => el('td', { class: 'num', text: num(n) })))));
    $('top').tBodies[0].replaceChildren(...(board.items.length ? board.items.map((x) => el('tr', {}, el('td', { text: String(x.rank) }),
      el('td', { text: x.name || x.id }), el('td', { class: 'num', text: num(x.points) }))) : [el('tr', {}, el('td', { text: t('empty') }))]));
    const n = DSS.hexMap($('map'), geo, null, outlines);
    $('map').dataset.hexes = String(n);
    DSS.legend($('legend'), $('map').dataset.maxNeed);
    $('branches').tHead.replaceChildren(el('tr', {}, ...[t('branch'), t('mentors'), t('atFive'), t('sessionsWeek')].map((h) => el('th', { text: h }))));
    $('branches').tBodies[0].replaceChildren(...d.branches.map((b) => el('tr', {}, el('td', { text: b.name }), el('td', { class: 'num', text: num(b.mentors) }),
      el('td', { class: 'num', text: `${num(b.mentors_at_five)} (${pct(b.mentors_at_five_share)})` }), el('td', { class: 'num', text: num(b.sessions_this_week) }))));
    document.body.dataset.ready = 'true';
  }

  async function load() {
    const p = new URLSearchParams(location.search);
    const commune = p.get('commune') || '';
    if (!DSS.auth.token) { location.href = '/dashboard'; return; }
    try {
      const q = new URLSearchParams({ branch_id: commune });
      if (p.get('campaign')) q.set('campaign', p.get('campaign'));
      data = await api('/v1/dashboard/indicators?' + q);
      [board, geo] = await Promise.all([
        api(`/v1/leaderboards/${encodeURIComponent(data.campaign.id)}?` + new URLSearchParams({ board: 'volunteers', period: 'month', scope: data.board_scope, limit: 10 })),
        api('/v1/coverage?' + new URLSearchParams({ commune_id: commune, res: '8' })),
      ]);
      outlines = data.unit.commune_code
        ? await api('/public/units/outlines?' + new URLSearchParams({ commune: data.unit.commune_code })).catch(() => null) : null;
      render();
    } catch (err) { $('error').textContent = err.message; }
  }

  $('print').addEventListener('click', () => window.print());
  $('lang').addEventListener('click', () => { DSS.toggleLang(); if (data) render(); });
  DSS.applyLang();
  load();
})();
