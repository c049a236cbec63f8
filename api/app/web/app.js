// Đại sứ số: the volunteers' and families' app. Plain browser APIs (no
// framework, nothing loaded from elsewhere) so that it runs in Android's
// WebView on a cheap phone. Everything a person does is written to the
// phone first (IndexedDB, with its Idempotency-Key or item id and a schema
// version) and sent when the network lets it: when the app opens, when the
// network comes back, every 30 s while something waits, and right away.
(function () {
  'use strict';

  const SCHEMA = 1; // of the outbox items and the cache: bump when their shape changes
  const $ = (id) => document.getElementById(id);

  // ---- words ----
  const words = {
    vi: {
      brand: 'Đại sứ số', other: 'English', hello: (n) => `Chào ${n}`, unsent: (n) => `${n} mục chưa gửi`, refused: (n) => `${n} mục bị từ chối`,
      offline: 'Đang không có mạng: việc bạn làm vẫn được lưu trên máy và sẽ tự gửi khi có mạng.',
      signin: 'Đăng nhập', signinWho: 'Dành cho tình nguyện viên Đại sứ số, gia đình cần hỗ trợ và cán bộ tổ công nghệ số xã.',
      devHint: 'Chế độ thử nghiệm: chọn một người có sẵn hoặc nhập mã người dùng.', userId: 'Mã người dùng', roleNew: 'Người mới',
      role: 'Vai trò', roles: { volunteer: 'Tình nguyện viên', household: 'Hộ gia đình', commune_staff: 'Cán bộ tổ công nghệ số xã' },
      email: 'Thư điện tử', password: 'Mật khẩu', go: 'Đăng nhập', signout: 'Đăng xuất',
      demoVol: 'Tình nguyện viên mẫu', demoHh: 'Gia đình mẫu', welcome: 'Chào bạn! Bạn tham gia với tư cách nào?',
      iVolunteer: 'Tôi là tình nguyện viên (Đại sứ số)', iFamily: 'Gia đình tôi cần được hướng dẫn',
      adminHere: 'Tài khoản cán bộ Đoàn dùng bảng điều khiển.', openDashboard: 'Mở bảng điều khiển',
      regVol: 'Đăng ký làm Đại sứ số', name: 'Họ và tên', phone: 'Số điện thoại', province: 'Tỉnh, thành phố', commune: 'Xã, phường, đặc khu',
      branch: 'Chi đoàn', noUnion: 'Xã này chưa có đoàn cơ sở trên hệ thống; hãy hỏi cán bộ Đoàn xã.',
      capacity: 'Số người tối đa tôi kèm', radius: 'Đi xa tối đa (km)', languages: 'Ngôn ngữ tôi nói', topics: 'Nội dung tôi hướng dẫn được',
      availability: 'Thời gian rảnh', day: 'Thứ', from: 'Từ', to: 'Đến', location: 'Vị trí', useLocation: 'Lấy vị trí từ điện thoại',
      located: (lat, lng) => `Đã lấy vị trí (${lat}, ${lng}). Vị trí chỉ dùng để tìm người gần nhà, không được lưu chính xác.`,
      locating: 'Đang lấy vị trí…', noLocation: 'Không lấy được vị trí. Hãy bật định vị và thử lại.',
      consents: 'Tôi đồng ý', save: 'Lưu', saved: 'Đã lưu.', queued: 'Đã lưu trên máy, sẽ gửi khi có mạng.',
      myPoints: 'Điểm của tôi', points: 'Điểm', rank: 'Hạng', streak: 'Tuần liên tiếp', badges: 'Huy hiệu', noBadges: 'Chưa có huy hiệu.',
      myLearners: 'Người tôi kèm', noLearners: 'Chưa có ai. Khi có gia đình gần bạn cần giúp, hệ thống sẽ ghép.',
      learnersOf: (n, q) => `${n} người học (mục tiêu 1 kèm ${q})`, km: (d) => `cách ${d} km`,
      mySessions: 'Buổi hướng dẫn', noSessions: 'Chưa có buổi nào.', schedule: 'Lên lịch buổi học', logHeld: 'Ghi buổi đã học',
      checkIn: 'Điểm danh buổi này', showCode: 'Xem mã xác nhận', progress: 'Tiến độ', registerHh: 'Đăng ký hộ cho người khác',
      pause: 'Tạm nghỉ', resume: 'Tiếp tục nhận người học', paused: 'Bạn đang tạm nghỉ: hệ thống không ghép người mới.',
      notes: 'Thông báo', noNotes: 'Chưa có thông báo.', myData: 'Dữ liệu của tôi', exportData: 'Tải dữ liệu của tôi', deleteData: 'Xoá tài khoản và dữ liệu',
      deleteSure: 'Xoá hẳn tài khoản và mọi dữ liệu của bạn? Không thể hoàn tác.', deleted: 'Đã xoá.', back: 'Quay lại',
      learners: 'Người học', sessionTopics: 'Nội dung buổi học', when: 'Thời gian', minutes: 'Số phút', topicsCovered: 'Nội dung đã học', outcomes: 'Kết quả của',
      code: 'Mã xác nhận', codeHelp: 'Đọc mã này cho người học hoặc cán bộ xã để xác nhận buổi học.', codeLater: 'Mã sẽ có khi buổi học được gửi lên (cần mạng).',
      hhTitle: 'Đăng ký hộ gia đình', members: 'Thành viên', addMember: 'Thêm người', removeMember: 'Bỏ người này', birthYear: 'Năm sinh',
      needs: 'Cần học', language: 'Ngôn ngữ', smartphone: 'Có điện thoại thông minh', selfConsent: 'Người này tự đồng ý',
      guardian: 'Họ tên cha, mẹ hoặc người giám hộ (dưới 16 tuổi)', contactPhone: 'Số điện thoại liên hệ (nếu có)', askHelp: 'Tìm người hướng dẫn ngay',
      communeOfDesk: 'Đăng ký tại xã', askNow: 'Tìm người hướng dẫn', helpState: 'Người hướng dẫn',
      found: (n, p, d) => `${n} (${p}) sẽ hướng dẫn gia đình, cách khoảng ${d} km.`, why: 'Vì sao', waiting: 'Đang chờ',
      noRequest: 'Gia đình chưa nhờ người hướng dẫn.',
      familyProgress: 'Tiến độ từng người', certified: 'Đã đạt chuẩn', digitalFamily: 'Gia đình số: đã đạt', notYetFamily: 'Gia đình số: chưa đạt',
      confirmSession: 'Xác nhận đã học buổi này', confirmed: 'Đã xác nhận. Cảm ơn!', toConfirm: 'Buổi cần xác nhận',
      staffTitle: 'Bàn tiếp nhận của xã', deskRegister: 'Đăng ký người không có điện thoại', deskConfirm: 'Buổi học chờ mã xác nhận',
      enterCode: 'Mã 6 số người hướng dẫn đọc', confirmWithCode: 'Xác nhận bằng mã', waitingRequests: 'Yêu cầu đang chờ người hướng dẫn',
      none: 'Không có.', waitedHours: (h) => `đã chờ ${h} giờ`, outbox: 'Mục chưa gửi', outboxHelp: 'Những việc đã lưu trên máy, chưa gửi được lên hệ thống.',
      sendNow: 'Gửi ngay', discard: 'Bỏ mục này', refusedWhy: 'Bị từ chối', willSend: 'Sẽ gửi khi có mạng',
      lastKnown: (age) => `Dữ liệu lưu lúc ${age}, chưa cập nhật được.`, netFail: 'Không kết nối được. Việc của bạn vẫn được lưu trên máy.',
      states: { scheduled: 'Đã lên lịch', held: 'Chờ xác nhận', confirmed: 'Đã xác nhận', pending_review: 'Đang xem xét', rejected: 'Không được công nhận', cancelled: 'Đã huỷ', unsent: 'Chưa gửi' },
      days: ['', 'Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy', 'Chủ nhật'],
      kinds: { sync: 'Buổi học', household: 'Hộ gia đình', help: 'Yêu cầu hỗ trợ', confirm: 'Xác nhận buổi học', patch: 'Cập nhật hồ sơ' },
    },
    en: {
      brand: 'Digital Ambassadors', other: 'Tiếng Việt', hello: (n) => `Hello, ${n}`, unsent: (n) => `${n} not sent yet`, refused: (n) => `${n} refused`,
      offline: 'No network: what you do is kept on the phone and sent when the network is back.',
      signin: 'Sign in', signinWho: 'For Digital Ambassador volunteers, families who want help and commune digital teams.',
      devHint: 'Test mode: pick a sample person or type a user id.', userId: 'User id', roleNew: 'New person',
      role: 'Role', roles: { volunteer: 'Volunteer', household: 'Household', commune_staff: 'Commune digital team' },
      email: 'E-mail', password: 'Password', go: 'Sign in', signout: 'Sign out',
      demoVol: 'Sample volunteer', demoHh: 'Sample family', welcome: 'Welcome! How do you take part?',
      iVolunteer: 'I am a volunteer (Digital Ambassador)', iFamily: 'My family wants to learn',
      adminHere: 'Union officers use the dashboard.', openDashboard: 'Open the dashboard',
      regVol: 'Become a Digital Ambassador', name: 'Full name', phone: 'Phone number', province: 'Province or city', commune: 'Commune, ward or special zone',
      branch: 'Branch', noUnion: 'This commune has no union in the system yet; ask the commune youth union.',
      capacity: 'Most learners I take', radius: 'Furthest I travel (km)', languages: 'Languages I speak', topics: 'What I can teach',
      availability: 'When I am free', day: 'Day', from: 'From', to: 'To', location: 'Location', useLocation: 'Use the phone\'s location',
      located: (lat, lng) => `Location taken (${lat}, ${lng}). It is used to find people nearby and not kept exactly.`,
      locating: 'Finding the location…', noLocation: 'Could not get the location. Turn location on and try again.',
      consents: 'I agree to', save: 'Save', saved: 'Saved.', queued: 'Kept on the phone; it will be sent when there is network.',
      myPoints: 'My points', points: 'Points', rank: 'Rank', streak: 'Weeks in a row', badges: 'Badges', noBadges: 'No badges yet.',
      myLearners: 'My learners', noLearners: 'Nobody yet. When a family near you asks for help, you will be matched.',
      learnersOf: (n, q) => `${n} learners (aim: 1 with ${q})`, km: (d) => `${d} km away`,
      mySessions: 'Sessions', noSessions: 'No sessions yet.', schedule: 'Schedule a session', logHeld: 'Log a session held',
      checkIn: 'Check in this session', showCode: 'Show the confirmation code', progress: 'Progress', registerHh: 'Register a family for someone',
      pause: 'Pause', resume: 'Take learners again', paused: 'You are paused: nobody new is matched to you.',
      notes: 'Notifications', noNotes: 'No notifications yet.', myData: 'My data', exportData: 'Download my data', deleteData: 'Delete my account and data',
      deleteSure: 'Delete your account and all your data for good? This cannot be undone.', deleted: 'Deleted.', back: 'Back',
      learners: 'Learners', sessionTopics: 'What the session covers', when: 'When', minutes: 'Minutes', topicsCovered: 'Topics covered', outcomes: 'Results for',
      code: 'Confirmation code', codeHelp: 'Read this code to the learner or the commune desk to confirm the session.', codeLater: 'The code comes once the session is sent (needs network).',
      hhTitle: 'Register a family', members: 'Members', addMember: 'Add a person', removeMember: 'Remove this person', birthYear: 'Year of birth',
      needs: 'Wants to learn', language: 'Language', smartphone: 'Has a smartphone', selfConsent: 'This person agrees themself',
      guardian: 'Parent or guardian\'s name (under 16)', contactPhone: 'Contact phone (if any)', askHelp: 'Find a mentor right away',
      communeOfDesk: 'Registered at the commune', askNow: 'Find a mentor', helpState: 'Mentor',
      found: (n, p, d) => `${n} (${p}) will help the family, about ${d} km away.`, why: 'Why', waiting: 'Waiting',
      noRequest: 'The family has not asked for a mentor yet.',
      familyProgress: 'Each person\'s progress', certified: 'Certified', digitalFamily: 'Digital family: yes', notYetFamily: 'Digital family: not yet',
      confirmSession: 'Confirm this session took place', confirmed: 'Confirmed. Thank you!', toConfirm: 'Sessions to confirm',
      staffTitle: 'Commune desk', deskRegister: 'Register someone without a phone', deskConfirm: 'Sessions waiting for their code',
      enterCode: 'The 6-digit code the mentor reads out', confirmWithCode: 'Confirm with the code', waitingRequests: 'Requests waiting for a mentor',
      none: 'None.', waitedHours: (h) => `waiting ${h} hours`, outbox: 'Not sent yet', outboxHelp: 'What was kept on the phone and not sent yet.',
      sendNow: 'Send now', discard: 'Drop this item', refusedWhy: 'Refused', willSend: 'Will be sent when there is network',
      lastKnown: (age) => `Data from ${age}; could not update.`, netFail: 'Could not connect. Your work is kept on the phone.',
      states: { scheduled: 'Scheduled', held: 'Waiting for confirmation', confirmed: 'Confirmed', pending_review: 'Under review', rejected: 'Not accepted', cancelled: 'Cancelled', unsent: 'Not sent yet' },
      days: ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
      kinds: { sync: 'Session', household: 'Family', help: 'Help request', confirm: 'Session confirmation', patch: 'Profile change' },
    },
  };
  // The codes the API takes (GET /openapi.json), with their names.
  const codes = {
    topics: [['smartphone_basics', 'Sử dụng điện thoại thông minh cơ bản', 'Smartphone basics'], ['vneid', 'Định danh điện tử VNeID', 'VNeID digital identity'],
      ['public_services', 'Dịch vụ công trực tuyến', 'Online public services'], ['cashless_payment', 'Thanh toán không dùng tiền mặt', 'Cashless payment'],
      ['scam_safety', 'Phòng tránh lừa đảo trực tuyến', 'Staying safe from online scams'], ['ecommerce', 'Thương mại điện tử', 'E-commerce'],
      ['ai_tools', 'Sử dụng công cụ trí tuệ nhân tạo', 'AI tools']],
    outcomes: [['vneid_activated', 'Đã kích hoạt tài khoản VNeID', 'VNeID account activated'], ['epayment_setup', 'Đã cài đặt thanh toán điện tử', 'E-payment set up'],
      ['first_online_service', 'Đã dùng dịch vụ công trực tuyến lần đầu', 'First online public service used'], ['scam_lesson', 'Đã học cách phòng tránh lừa đảo', 'Scam-safety lesson taken']],
    languages: [['vi', 'Tiếng Việt', 'Vietnamese'], ['tay', 'Tiếng Tày', 'Tày'], ['tha', 'Tiếng Thái', 'Thái'], ['mtq', 'Tiếng Mường', 'Mường'],
      ['hmn', 'Tiếng H\'Mông', 'Hmong'], ['khm', 'Tiếng Khmer', 'Khmer'], ['nut', 'Tiếng Nùng', 'Nùng'], ['ium', 'Tiếng Dao', 'Dao']],
    purposesVol: [['matching', 'Ghép cặp với người học gần nhà', 'Matching with learners nearby'], ['reminders', 'Nhận nhắc nhở qua ứng dụng', 'Receiving reminders'],
      ['public_ranking', 'Hiển thị tên trên bảng xếp hạng công khai', 'Showing my name on public rankings']],
    purposesHh: [['matching', 'Ghép cặp với người hướng dẫn gần nhà', 'Matching with a nearby mentor'], ['reminders', 'Nhận nhắc nhở qua ứng dụng', 'Receiving reminders']],
  };
  let lang = localStorage.getItem('dss.lang') || 'vi';
  const t = (k, ...a) => { const w = words[lang][k] !== undefined ? words[lang][k] : words.vi[k]; return typeof w === 'function' ? w(...a) : w; };
  const nameOf = (list, code) => { const c = codes[list].find((x) => x[0] === code); return c ? (lang === 'en' ? c[2] : c[1]) : code; };
  const locale = () => (lang === 'en' ? 'en-GB' : 'vi-VN');
  const ZONE = 'Asia/Ho_Chi_Minh';
  const when = (iso) => new Date(iso).toLocaleString(locale(), { timeZone: ZONE, weekday: 'short', day: 'numeric', month: 'numeric', hour: '2-digit', minute: '2-digit' });
  const num = (n) => (n === undefined || n === null ? '—' : new Intl.NumberFormat(locale()).format(n));

  // ---- the page ----
  function el(tag, attrs = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k.nodeType ? k : document.createTextNode(String(k)));
    return e;
  }
  let onHome = false; // whether the home screen is shown (redrawn after sending)
  function show(title, ...kids) {
    onHome = false;
    const v = $('view');
    v.replaceChildren(el('h1', { text: title }), ...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
    v.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  function toast(msg) {
    const b = $('toast');
    b.textContent = msg;
    b.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { b.hidden = true; }, 4000);
  }
  // add appends what is given, leaving out the parts a screen does not have.
  const add = (parent, ...kids) => parent.append(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
  const button = (text, onclick, cls) => el('button', { type: 'button', class: cls, onclick }, text);
  const field = (label, input) => el('label', {}, label, input);
  const checks = (legend, list, name, picked = []) => el('fieldset', {}, el('legend', { text: legend }),
    codes[list].map(([c]) => el('label', { class: 'check' }, el('input', { type: 'checkbox', name, value: c, checked: picked.includes(c) }), nameOf(list, c))));
  const picked = (root, name) => [...root.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // ---- the phone's store (IndexedDB) ----
  let dbp = null;
  function db() {
    if (!dbp) {
      dbp = new Promise((resolve, reject) => {
        const r = indexedDB.open('daisuso-app', SCHEMA);
        r.onupgradeneeded = () => {
          const d = r.result;
          if (!d.objectStoreNames.contains('outbox')) d.createObjectStore('outbox', { keyPath: 'id' });
          if (!d.objectStoreNames.contains('cache')) d.createObjectStore('cache', { keyPath: 'key' });
        };
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    }
    return dbp;
  }
  async function tx(store, mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const x = d.transaction(store, mode);
      const req = fn(x.objectStore(store));
      x.oncomplete = () => resolve(req && req.result);
      x.onerror = () => reject(x.error);
      x.onabort = () => reject(x.error);
    });
  }
  const outboxAll = async () => ((await tx('outbox', 'readonly', (s) => s.getAll())) || []).filter((i) => i.owner === (auth && auth.user))
    .sort((a, b) => a.created - b.created);
  const outboxPut = (item) => tx('outbox', 'readwrite', (s) => s.put(item));
  const outboxDel = (id) => tx('outbox', 'readwrite', (s) => s.delete(id));
  const cacheKey = (path) => `${auth ? auth.user : ''}|${path}`;
  const cacheGet = (path) => tx('cache', 'readonly', (s) => s.get(cacheKey(path)));
  const cachePut = (path, data) => tx('cache', 'readwrite', (s) => s.put({ key: cacheKey(path), schema: SCHEMA, data, at: Date.now() }));

  // ---- sign-in ----
  let auth = JSON.parse(localStorage.getItem('dss.auth') || 'null'); // {token, user, role}
  let config = { dev_mode: false };
  function saveAuth(a) { auth = a; if (a) localStorage.setItem('dss.auth', JSON.stringify(a)); else localStorage.removeItem('dss.auth'); }

  // ---- the network ----
  class NetError extends Error {}
  class HttpError extends Error { constructor(status, code, message) { super(message); this.status = status; this.code = code; } }
  const retryable = (e) => e instanceof NetError || (e instanceof HttpError && (e.status >= 500 || e.status === 429 || e.status === 408 || e.code === 'request_in_progress'));
  async function request(method, path, body, key) {
    const headers = { 'Accept-Language': lang };
    if (auth && auth.token) headers.Authorization = 'Bearer ' + auth.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (key) headers['Idempotency-Key'] = key;
    let res;
    try {
      res = await fetch(path, { method, headers, body: body !== undefined ? JSON.stringify(body) : undefined, cache: 'no-store' });
    } catch (e) {
      setOnline(false);
      throw new NetError(t('netFail'));
    }
    setOnline(true);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!res.ok) {
      const err = (data && data.error) || {};
      if (res.status === 401 && auth) { saveAuth(null); start(); }
      throw new HttpError(res.status, err.code || 'error', err.message || res.statusText);
    }
    return data;
  }
  // read gets fresh data and keeps it; without network it gives the last
  // known data with its age.
  async function read(path) {
    try {
      const data = await request('GET', path);
      await cachePut(path, data);
      return { data, at: Date.now(), fresh: true };
    } catch (e) {
      if (!retryable(e)) throw e;
      const c = await cacheGet(path);
      if (c && c.schema === SCHEMA) return { data: c.data, at: c.at, fresh: false };
      throw e;
    }
  }
  const staleNote = (...reads) => {
    const old = reads.filter((r) => r && !r.fresh);
    if (!old.length) return null;
    const at = Math.min(...old.map((r) => r.at));
    return el('p', { class: 'stale', role: 'status', text: t('lastKnown', new Date(at).toLocaleString(locale(), { timeZone: ZONE })) });
  };
  function setOnline(on) { $('net').hidden = on; $('net').textContent = t('offline'); }

  // ---- the outbox ----
  // kinds: sync (a session item for POST /v1/sessions/sync), household,
  // help, confirm, patch (plain requests with their Idempotency-Key).
  // enqueue keeps a request on the phone and tries to send it at once; it
  // says whether it was sent (false: it waits, or was refused).
  async function enqueue(kind, req) {
    const id = uuid();
    await outboxPut({ id, schema: SCHEMA, owner: auth.user, kind, created: Date.now(), state: 'pending', ...req });
    await counter();
    await flush();
    return !(await outboxAll()).some((i) => i.id === id);
  }
  const savedToast = (sent) => toast(sent ? t('saved') : t('queued'));
  let flushing = null;
  function flush() {
    if (!flushing) {
      flushing = (async () => {
        const before = (await outboxAll()).length;
        await sendAll();
        const sent = before - (await outboxAll()).length;
        if (sent > 0 && onHome) home();
      })().finally(() => { flushing = null; counter(); });
    }
    return flushing;
  }
  async function sendAll() {
    if (!auth) return;
    const items = (await outboxAll()).filter((i) => i.state === 'pending' && i.schema === SCHEMA);
    const sync = items.filter((i) => i.kind === 'sync').slice(0, 200);
    if (sync.length) {
      let out;
      try {
        out = await request('POST', '/v1/sessions/sync', { items: sync.map((i) => i.item) });
      } catch (e) {
        if (retryable(e)) return;
        for (const i of sync) await outboxPut({ ...i, state: 'refused', error: e.message });
        return;
      }
      for (const r of out.results) {
        const i = sync.find((x) => x.item.item_id === r.item_id);
        if (!i) continue;
        if (r.status === 'applied' || r.status === 'already_applied') await outboxDel(i.id);
        else if (r.status === 'rejected') await outboxPut({ ...i, state: 'refused', error: (r.error && r.error.message) || r.status });
      }
    }
    for (const i of items.filter((x) => x.kind !== 'sync')) {
      try {
        const res = await request(i.method, i.path, i.body, i.key);
        await outboxDel(i.id);
        if (i.then === 'help' && res && res.id) {
          await outboxPut({ id: uuid(), schema: SCHEMA, owner: auth.user, kind: 'help', created: Date.now(), state: 'pending',
            method: 'POST', path: '/v1/help-requests', body: { household_id: res.id }, key: uuid() });
          return sendAll();
        }
      } catch (e) {
        if (retryable(e)) return;
        await outboxPut({ ...i, state: 'refused', error: e.message });
      }
    }
  }
  async function counter() {
    if (!auth) { $('unsent').hidden = true; return; }
    const items = await outboxAll();
    const pending = items.filter((i) => i.state === 'pending').length;
    const refused = items.filter((i) => i.state === 'refused').length;
    const b = $('unsent');
    b.hidden = false;
    b.dataset.pending = String(pending);
    b.dataset.refused = String(refused);
    b.textContent = refused ? `${t('unsent', pending)} · ${t('refused', refused)}` : t('unsent', pending);
    b.classList.toggle('alert', refused > 0);
  }
  async function outboxScreen() {
    const items = await outboxAll();
    const list = el('ul', { class: 'list' }, items.map((i) => el('li', { 'data-state': i.state },
      el('span', { class: 'state ' + i.state, text: i.state === 'refused' ? t('refusedWhy') : t('willSend') }), ' ',
      el('b', { text: t('kinds')[i.kind] || i.kind }), ' · ', new Date(i.created).toLocaleString(locale(), { timeZone: ZONE }),
      i.error ? el('p', { class: 'error', text: i.error }) : null,
      i.state === 'refused' ? button(t('discard'), async () => { await outboxDel(i.id); await counter(); outboxScreen(); }, 'secondary small') : null)));
    show(t('outbox'), el('p', { class: 'muted', text: t('outboxHelp') }), items.length ? list : el('p', { text: t('none') }),
      button(t('sendNow'), async () => { await flush(); outboxScreen(); }), button(t('back'), home, 'secondary'));
  }

  // ---- start ----
  async function start() {
    $('brand').textContent = t('brand');
    $('lang').textContent = t('other');
    document.documentElement.lang = lang;
    try { config = await read('/dashboard/config.json').then((r) => r.data); } catch (e) { /* offline on first open: dev list hidden */ }
    await counter();
    if (!auth) return signin();
    flush();
    return home();
  }

  function signin() {
    const user = el('input', { id: 'dev-user', autocomplete: 'username', spellcheck: 'false' });
    const role = el('select', { id: 'dev-role' }, el('option', { value: '', text: t('roleNew') }),
      ['volunteer', 'household', 'commune_staff'].map((r) => el('option', { value: r, text: t('roles')[r] })));
    const err = el('p', { class: 'error', role: 'alert' });
    const devGo = async (userId, roleName) => {
      try {
        const body = { user_id: userId };
        if (roleName) body.role = roleName;
        const r = await request('POST', '/v1/dev/token', body);
        saveAuth({ token: r.token, user: userId });
        start();
      } catch (e) { err.textContent = e.message; }
    };
    const parts = [el('p', { class: 'muted', text: t('signinWho') })];
    if (config.dev_mode) {
      parts.push(el('p', { class: 'muted', text: t('devHint') }),
        button(`${t('demoVol')} (demo-vol-0001)`, () => devGo('demo-vol-0001'), 'secondary'),
        button(`${t('demoHh')} (demo-hh-1)`, () => devGo('demo-hh-1'), 'secondary'),
        el('form', { id: 'signin-dev', onsubmit: (e) => { e.preventDefault(); devGo(user.value.trim(), role.value); } },
          field(t('userId'), user), field(t('role'), role), el('button', { type: 'submit' }, t('go'))));
    }
    if (config.firebase_api_key) {
      const email = el('input', { type: 'email', autocomplete: 'username', required: true });
      const pass = el('input', { type: 'password', autocomplete: 'current-password', required: true });
      parts.push(el('form', { onsubmit: async (e) => {
        e.preventDefault();
        try {
          const res = await fetch('https://identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=' + encodeURIComponent(config.firebase_api_key),
            { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: email.value, password: pass.value, returnSecureToken: true }) });
          const d = await res.json();
          if (!res.ok) throw new Error((d.error && d.error.message) || res.statusText);
          saveAuth({ token: d.idToken, user: d.localId });
          start();
        } catch (e2) { err.textContent = e2.message; }
      } }, field(t('email'), email), field(t('password'), pass), el('button', { type: 'submit' }, t('go'))));
    }
    show(t('signin'), ...parts, err);
  }

  async function home() {
    let me;
    try { me = (await read('/v1/me')).data; } catch (e) { return show(t('signin'), el('p', { class: 'error', text: e.message }), button(t('signout'), signout)); }
    auth.role = me.role || '';
    saveAuth(auth);
    switch (me.role) {
      case 'volunteer': return volunteerHome();
      case 'household': return householdHome();
      case 'commune_staff': return staffHome();
      case 'branch_admin': case 'admin':
        return show(t('brand'), el('p', { text: t('adminHere') }), el('a', { class: 'btn', href: '/dashboard' }, t('openDashboard')), button(t('signout'), signout, 'secondary'));
    }
    return show(t('welcome'), button(t('iVolunteer'), registerVolunteer), button(t('iFamily'), () => householdForm({ self: true })),
      button(t('signout'), signout, 'secondary'));
  }
  function signout() { saveAuth(null); counter(); start(); }

  // ---- where: location and the official units ----
  function locationField() {
    const note = el('p', { class: 'muted', role: 'status' });
    const box = el('div', {}, button(t('useLocation'), () => {
      note.textContent = t('locating');
      navigator.geolocation.getCurrentPosition((p) => {
        box.dataset.lat = String(p.coords.latitude); box.dataset.lng = String(p.coords.longitude);
        note.textContent = t('located', p.coords.latitude.toFixed(4), p.coords.longitude.toFixed(4));
      }, () => { note.textContent = t('noLocation'); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    }, 'secondary'), note);
    box.value = () => (box.dataset.lat ? { lat: Number(box.dataset.lat), lng: Number(box.dataset.lng) } : null);
    return box;
  }
  // unitPicker: province, then commune from the official list, then the
  // commune union's branches (for a volunteer) or the union itself.
  function unitPicker(withBranch) {
    const prov = el('select', { id: 'pick-province' }, el('option', { value: '', text: '—' }));
    const com = el('select', { id: 'pick-commune', disabled: true }, el('option', { value: '', text: '—' }));
    const br = el('select', { id: 'pick-branch', disabled: true }, el('option', { value: '', text: '—' }));
    const note = el('p', { class: 'muted', role: 'status' });
    const box = el('div', {}, field(t('province'), prov), field(t('commune'), com), withBranch ? field(t('branch'), br) : null, note);
    read('/public/units').then((r) => r.data.items.forEach((p) => prov.append(el('option', { value: p.code, text: p.full_name }))))
      .catch((e) => { note.textContent = e.message; });
    prov.addEventListener('change', async () => {
      com.replaceChildren(el('option', { value: '', text: '—' }));
      try {
        const r = await read(`/public/units/${prov.value}/communes`);
        r.data.items.forEach((c) => com.append(el('option', { value: c.code, text: c.full_name })));
        com.disabled = false;
      } catch (e) { note.textContent = e.message; }
    });
    com.addEventListener('change', async () => {
      note.textContent = '';
      br.replaceChildren();
      box.dataset.union = '';
      try {
        const u = (await read(`/v1/units/communes/${com.value}/union`)).data;
        box.dataset.union = u.id;
        br.append(el('option', { value: u.id, text: u.name }));
        const kids = (await read(`/v1/branches/${u.id}/children`)).data.items.filter((b) => b.kind === 'branch');
        kids.forEach((b) => br.append(el('option', { value: b.id, text: b.name })));
        if (kids.length) br.value = kids[0].id;
        br.disabled = false;
      } catch (e) { note.textContent = t('noUnion'); }
    });
    box.union = () => box.dataset.union || '';
    box.branch = () => br.value;
    return box;
  }

  // ---- volunteer ----
  function registerVolunteer() {
    const f = el('form', { id: 'vol-form' });
    const name = el('input', { id: 'vol-name', autocomplete: 'name', required: true });
    const phone = el('input', { id: 'vol-phone', type: 'tel', autocomplete: 'tel', required: true });
    const where = unitPicker(true);
    const loc = locationField();
    const cap = el('input', { id: 'vol-capacity', type: 'number', min: 5, max: 20, value: 10, inputmode: 'numeric' });
    const radius = el('input', { id: 'vol-radius', type: 'number', min: 0.5, max: 15, step: 0.5, value: 3, inputmode: 'decimal' });
    const day = el('select', { id: 'vol-day' }, [1, 2, 3, 4, 5, 6, 7].map((d) => el('option', { value: d, text: t('days')[d] })));
    const from = el('input', { id: 'vol-from', type: 'time', value: '18:00' });
    const to = el('input', { id: 'vol-to', type: 'time', value: '20:00' });
    const err = el('p', { class: 'error', role: 'alert' });
    add(f, field(t('name'), name), field(t('phone'), phone), where, el('fieldset', {}, el('legend', { text: t('location') }), loc),
      el('div', { class: 'row' }, field(t('capacity'), cap), field(t('radius'), radius)),
      checks(t('languages'), 'languages', 'lang', ['vi']), checks(t('topics'), 'topics', 'topic', ['smartphone_basics', 'vneid']),
      el('fieldset', {}, el('legend', { text: t('availability') }), el('div', { class: 'row' }, field(t('day'), day), field(t('from'), from), field(t('to'), to))),
      checks(t('consents'), 'purposesVol', 'consent', ['matching', 'reminders']), err, el('button', { type: 'submit' }, t('save')));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { name: name.value, phone: phone.value, branch_id: where.branch(), location: loc.value(), capacity: Number(cap.value),
        radius_km: Number(radius.value), languages: picked(f, 'lang'), topics: picked(f, 'topic'), consents: picked(f, 'consent'),
        availability: [{ day: Number(day.value), from: from.value, to: to.value }] };
      try {
        await request('POST', '/v1/volunteers', body, uuid());
        toast(t('saved'));
        home();
      } catch (e2) { err.textContent = e2.message; }
    });
    show(t('regVol'), f, button(t('back'), home, 'secondary'));
  }

  async function volunteerHome() {
    const id = encodeURIComponent(auth.user);
    const [profile, mentees, sessions, standing, badges] = await Promise.all([read(`/v1/volunteers/${id}`), read(`/v1/volunteers/${id}/mentees`),
      read('/v1/sessions?limit=20'), read('/v1/leaderboards/all/me?board=volunteers&scope=national&period=campaign').catch(() => null),
      read(`/v1/volunteers/${id}/badges`).catch(() => null)].map((p) => p.catch((e) => ({ error: e }))));
    if (profile.error) return show(t('brand'), el('p', { class: 'error', text: profile.error.message }), button(t('signout'), signout));
    const v = profile.data;
    const st = standing && standing.data;
    const stats = el('div', { class: 'stats', id: 'my-stats' },
      el('div', { class: 'stat' }, t('points'), el('b', { id: 'my-points', text: num(st ? st.points : 0) })),
      el('div', { class: 'stat' }, t('rank'), el('b', { id: 'my-rank', text: st && st.on_board ? num(st.rank) : '—' })),
      el('div', { class: 'stat' }, t('streak'), el('b', { text: num(v.streak_weeks || 0) })));
    const bs = (badges && badges.data && badges.data.items) || [];
    const people = mentees.data ? mentees.data.items : [];
    const learnerList = people.length ? el('ul', { class: 'list', id: 'learners' }, people.map((m) => el('li', { 'data-household': m.household_id },
      el('b', { text: m.names.join(', ') }), el('div', { class: 'muted', text: t('km', num(m.distance_km)) }),
      button(t('progress'), () => progressScreen(m.household_id, m.names), 'secondary small')))) : el('p', { text: t('noLearners') });
    const unsentSessions = (await outboxAll()).filter((i) => i.kind === 'sync' && i.item.op === 'schedule');
    const list = (sessions.data ? sessions.data.items : []);
    const sessionItems = [
      ...unsentSessions.map((i) => el('li', { 'data-session': i.item.session_id, 'data-state': 'unsent' },
        el('span', { class: 'state pending', text: t('states').unsent }), ' ', when(i.item.starts_at))),
      ...list.map((s) => el('li', { 'data-session': s.id, 'data-state': s.state },
        el('span', { class: 'state ' + s.state, text: t('states')[s.state] || s.state }), ' ', when(s.starts_at),
        el('div', { class: 'muted', text: s.topics.map((x) => nameOf('topics', x)).join(', ') }),
        s.state === 'scheduled' ? button(t('checkIn'), () => checkInForm(s, people), 'small') : null,
        s.state === 'held' ? button(t('showCode'), () => codeScreen(s), 'small') : null))];
    show(t('hello', v.name.split(' ').pop()),
      staleNote(profile, mentees, sessions),
      v.paused ? el('p', { class: 'card', text: t('paused') }) : null,
      el('h2', { text: t('myPoints') }), stats,
      el('p', { class: 'muted', text: bs.length ? `${t('badges')}: ${bs.map((b) => b.name || b.code).join(', ')}` : t('noBadges') }),
      el('h2', { text: t('myLearners') }), mentees.data ? el('p', { class: 'muted', text: t('learnersOf', mentees.data.learners, mentees.data.quota) }) : null, learnerList,
      el('h2', { text: t('mySessions') }), sessionItems.length ? el('ul', { class: 'list', id: 'sessions' }, sessionItems) : el('p', { text: t('noSessions') }),
      button(t('schedule'), () => sessionForm(people, false), ''), button(t('logHeld'), () => sessionForm(people, true), 'secondary'),
      button(t('registerHh'), () => householdForm({ self: false, communeId: v.commune_id }), 'secondary'),
      button(v.paused ? t('resume') : t('pause'), async () => {
        savedToast(await enqueue('patch', { method: 'PATCH', path: `/v1/volunteers/${id}`, body: { paused: !v.paused }, key: uuid() }));
        volunteerHome();
      }, 'secondary'),
      button(t('notes'), notesScreen, 'secondary'), button(t('myData'), () => dataScreen('volunteers'), 'secondary'),
      button(t('signout'), signout, 'secondary'));
    onHome = true;
  }

  // learnerChecks lists each member of each household the volunteer mentors.
  const learnerChecks = (people) => el('fieldset', { id: 'pick-learners' }, el('legend', { text: t('learners') }),
    people.flatMap((m) => m.names.map((n, k) => el('label', { class: 'check' },
      el('input', { type: 'checkbox', name: 'learner', value: `${m.household_id}#${k}`, checked: people.length === 1 && k === 0 }), n))));
  const learnersOf = (root) => picked(root, 'learner').map((v) => { const i = v.lastIndexOf('#'); return { household_id: v.slice(0, i), member: Number(v.slice(i + 1)) }; });

  // sessionForm schedules a session, or (held) logs one already held:
  // both are offline items of POST /v1/sessions/sync.
  function sessionForm(people, held) {
    const f = el('form', { id: 'session-form' });
    const now = new Date(Date.now() + (held ? -3600e3 : 86400e3));
    const local = new Date(now.getTime() + 7 * 3600e3).toISOString().slice(0, 16); // Vietnam time for the picker
    const at = el('input', { id: 'session-at', type: 'datetime-local', value: local, required: true });
    const minutes = el('input', { id: 'session-minutes', type: 'number', min: 15, max: 240, value: 60, inputmode: 'numeric' });
    const err = el('p', { class: 'error', role: 'alert' });
    const outcomes = held ? el('div', { id: 'session-outcomes' }) : null;
    const learners = learnerChecks(people);
    const drawOutcomes = () => {
      if (!outcomes) return;
      outcomes.replaceChildren(...learnersOf(f).map((l) => {
        const m = people.find((p) => p.household_id === l.household_id);
        return checks(`${t('outcomes')} ${m ? m.names[l.member] : ''}`, 'outcomes', `out-${l.household_id}#${l.member}`);
      }));
    };
    learners.addEventListener('change', drawOutcomes);
    add(f, learners, el('div', { class: 'row' }, field(t('when'), at), field(t('minutes'), minutes)),
      checks(held ? t('topicsCovered') : t('sessionTopics'), 'topics', 'topic', ['vneid']), outcomes, err, el('button', { type: 'submit' }, t('save')));
    drawOutcomes();
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const ls = learnersOf(f);
      if (!ls.length) { err.textContent = t('learners') + '?'; return; }
      const startsAt = new Date(at.value + ':00+07:00').toISOString();
      const sid = uuid();
      const topics = picked(f, 'topic');
      let sent = await enqueue('sync', { item: { item_id: uuid(), op: 'schedule', session_id: sid, learners: ls, starts_at: startsAt, minutes: Number(minutes.value), topics } });
      if (held) {
        sent = await enqueue('sync', { item: { item_id: uuid(), op: 'check_in', session_id: sid, at: startsAt, topics_covered: topics,
          results: ls.map((l) => ({ household_id: l.household_id, member: l.member, outcomes: picked(f, `out-${l.household_id}#${l.member}`) })) } });
      }
      savedToast(sent);
      volunteerHome();
    });
    show(held ? t('logHeld') : t('schedule'), f, button(t('back'), home, 'secondary'));
  }

  function checkInForm(s, people) {
    const f = el('form', { id: 'checkin-form' });
    const err = el('p', { class: 'error', role: 'alert' });
    const name = (l) => { const m = people.find((p) => p.household_id === l.household_id); return m ? m.names[l.member] : l.household_id; };
    add(f, checks(t('topicsCovered'), 'topics', 'topic', s.topics),
      ...s.learners.map((l) => checks(`${t('outcomes')} ${name(l)}`, 'outcomes', `out-${l.household_id}#${l.member}`)), err,
      el('button', { type: 'submit' }, t('checkIn')));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      await enqueue('sync', { item: { item_id: uuid(), op: 'check_in', session_id: s.id, at: new Date().toISOString(), topics_covered: picked(f, 'topic'),
        results: s.learners.map((l) => ({ household_id: l.household_id, member: l.member, outcomes: picked(f, `out-${l.household_id}#${l.member}`) })) } });
      await flush();
      try { const fresh = (await read(`/v1/sessions/${encodeURIComponent(s.id)}`)).data; return codeScreen(fresh); } catch (e2) { return codeScreen({ ...s, confirmation_code: '' }); }
    });
    show(t('checkIn'), el('p', { class: 'muted', text: when(s.starts_at) }), f, button(t('back'), home, 'secondary'));
  }

  function codeScreen(s) {
    const code = s.confirmation_code;
    show(t('code'), code ? el('p', { class: 'code', id: 'confirmation-code', 'aria-label': `${t('code')} ${code.split('').join(' ')}`, text: code })
      : el('p', { class: 'card', text: t('codeLater') }), el('p', { text: t('codeHelp') }), el('p', { class: 'muted', text: when(s.starts_at) }),
      button(t('back'), home, 'secondary'));
  }

  async function progressScreen(hh, names) {
    let r;
    try { r = await read(`/v1/households/${encodeURIComponent(hh)}/progress`); } catch (e) { return toast(e.message); }
    const p = r.data;
    show(t('familyProgress'), staleNote(r), el('p', { class: p.digital_family ? 'good' : 'muted', text: p.digital_family ? t('digitalFamily') : t('notYetFamily') }),
      el('ul', { class: 'list', id: 'progress' }, p.learners.map((l) => el('li', {}, el('b', { text: (names && names[l.member]) || `#${l.member + 1}` }),
        l.certified ? el('p', { class: 'good', text: t('certified') }) : el('p', { class: 'muted', text: l.missing_text || '' }),
        el('div', { class: 'muted', text: l.topics_completed.map((x) => nameOf('topics', x)).join(', ') })))),
      button(t('back'), home, 'secondary'));
  }

  async function notesScreen() {
    let r;
    try { r = await read('/v1/notifications'); } catch (e) { return toast(e.message); }
    const items = r.data.items || [];
    show(t('notes'), staleNote(r), items.length ? el('ul', { class: 'list' }, items.map((n) => el('li', {}, el('b', { text: n.title }),
      el('p', { text: n.body }), el('div', { class: 'muted', text: new Date(n.created_at).toLocaleString(locale(), { timeZone: ZONE }) }))))
      : el('p', { text: t('noNotes') }), button(t('back'), home, 'secondary'));
  }

  function dataScreen(kind) {
    const id = encodeURIComponent(auth.user);
    show(t('myData'), button(t('exportData'), async () => {
      try {
        const d = await request('GET', `/v1/${kind}/${id}/export`);
        const a = el('a', { href: URL.createObjectURL(new Blob([JSON.stringify(d, null, 2)], { type: 'application/json' })), download: 'du-lieu-cua-toi.json' });
        document.body.append(a); a.click(); a.remove();
      } catch (e) { toast(e.message); }
    }, 'secondary'), button(t('deleteData'), async () => {
      if (!window.confirm(t('deleteSure'))) return;
      try { await request('DELETE', `/v1/${kind}/${id}`); toast(t('deleted')); signout(); } catch (e) { toast(e.message); }
    }), button(t('back'), home, 'secondary'));
  }

  // ---- households ----
  function memberFields(k) {
    const box = el('fieldset', { class: 'member', 'data-member': k }, el('legend', { text: `${t('members')} ${k + 1}` }));
    box.append(field(t('name'), el('input', { name: 'm-name', required: true, autocomplete: 'off' })),
      field(t('birthYear'), el('input', { name: 'm-year', type: 'number', min: 1900, max: new Date().getFullYear(), required: true, inputmode: 'numeric' })),
      field(t('language'), el('select', { name: 'm-lang' }, codes.languages.map(([c]) => el('option', { value: c, text: nameOf('languages', c) })))),
      checks(t('needs'), 'topics', `m-need-${k}`, ['smartphone_basics']),
      el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'm-phone' }), t('smartphone')),
      el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'm-self', checked: true }), t('selfConsent')),
      field(t('guardian'), el('input', { name: 'm-guardian', autocomplete: 'off' })));
    return box;
  }
  // householdForm registers a household: one's own (self), or for someone
  // (a volunteer, or the commune desk with its commune).
  function householdForm({ self, communeId }) {
    const f = el('form', { id: 'household-form' });
    const members = el('div', { id: 'members' }, memberFields(0));
    const where = communeId ? null : unitPicker(false);
    const loc = locationField();
    const phone = el('input', { id: 'hh-phone', type: 'tel', autocomplete: self ? 'tel' : 'off' });
    const ask = el('input', { type: 'checkbox', id: 'hh-ask', checked: true });
    const err = el('p', { class: 'error', role: 'alert' });
    add(f, where, el('fieldset', {}, el('legend', { text: t('location') }), loc), field(t('contactPhone'), phone),
      el('h2', { text: t('members') }), members,
      button(t('addMember'), () => members.append(memberFields(members.children.length)), 'secondary'),
      checks(t('consents'), 'purposesHh', 'consent', ['matching']), el('label', { class: 'check' }, ask, t('askHelp')), err,
      el('button', { type: 'submit' }, t('save')));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const ms = [...members.querySelectorAll('.member')].map((m, k) => {
        const v = (n) => m.querySelector(`[name="${n}"]`);
        const out = { name: v('m-name').value, birth_year: Number(v('m-year').value), language: v('m-lang').value, needs: picked(m, `m-need-${k}`),
          has_smartphone: v('m-phone').checked, self_consent: v('m-self').checked };
        if (v('m-guardian').value.trim()) out.guardian_name = v('m-guardian').value.trim();
        return out;
      });
      const commune = communeId || (where && where.union());
      if (!commune) { err.textContent = t('noUnion'); return; }
      const body = { commune_id: commune, location: loc.value(), members: ms, consents: picked(f, 'consent') };
      if (phone.value.trim()) body.contact_phone = phone.value.trim();
      if (self) {
        // One's own household: sent now, so that the answer (a missing
        // consent, say) is seen while the form is open.
        try {
          await request('POST', '/v1/households', body, uuid());
          if (ask.checked) await request('POST', '/v1/help-requests', { household_id: auth.user }, uuid()).catch(() => null);
          toast(t('saved'));
          return home();
        } catch (e2) {
          if (!retryable(e2)) { err.textContent = e2.message; return; }
        }
      }
      savedToast(await enqueue('household', { method: 'POST', path: '/v1/households', body, key: uuid(), then: ask.checked && !self ? 'help' : undefined }));
      home();
    });
    show(t('hhTitle'), f, button(t('back'), home, 'secondary'));
  }

  async function householdHome() {
    const id = encodeURIComponent(auth.user);
    const [hh, progress, sessions, requests] = await Promise.all([read(`/v1/households/${id}`), read(`/v1/households/${id}/progress`), read('/v1/sessions'),
      read(`/v1/households/${id}/help-requests`)].map((p) => p.catch((e) => ({ error: e }))));
    if (hh.error) return show(t('brand'), el('p', { class: 'error', text: hh.error.message }), button(t('signout'), signout));
    const names = hh.data.members.map((m) => m.name);
    const helpBox = el('div', { class: 'card', id: 'help' });
    const drawHelp = (r) => {
      if (!r) { helpBox.replaceChildren(el('p', { class: 'muted', text: t('noRequest') })); return; }
      if (r.assignment) {
        const a = r.assignment;
        helpBox.replaceChildren(el('p', { id: 'mentor-found', text: t('found', a.mentor.first_name, a.mentor.phone_masked, num(a.distance_km)) }),
          el('p', { class: 'muted', text: `${t('why')}: ${(a.explanation.topics_covered || []).map((x) => nameOf('topics', x)).join(', ')}` }));
      } else if (r.unserved) {
        helpBox.replaceChildren(el('p', { class: 'stale', text: t('waiting') }), el('p', { text: r.unserved.message }));
      }
    };
    drawHelp(requests.data && requests.data.items[0]);
    const toConfirm = (sessions.data ? sessions.data.items : []).filter((s) => s.state === 'held');
    const p = progress.data;
    show(t('hello', (names[0] || '').split(' ').pop()), staleNote(hh, progress, sessions, requests), el('h2', { text: t('helpState') }), helpBox,
      button(t('askNow'), async () => {
        try { drawHelp(await request('POST', '/v1/help-requests', { household_id: auth.user }, uuid())); } catch (e) { toast(e.message); }
      }, 'secondary'),
      el('h2', { text: t('toConfirm') }), toConfirm.length ? el('ul', { class: 'list', id: 'to-confirm' }, toConfirm.map((s) => el('li', { 'data-session': s.id },
        when(s.starts_at), el('div', { class: 'muted', text: s.topics.map((x) => nameOf('topics', x)).join(', ') }),
        button(t('confirmSession'), async () => {
          toast(await enqueue('confirm', { method: 'POST', path: `/v1/sessions/${encodeURIComponent(s.id)}/confirm`, body: {}, key: uuid() }) ? t('confirmed') : t('queued'));
          householdHome();
        })))) : el('p', { text: t('none') }),
      el('h2', { text: t('familyProgress') }), p ? el('p', { class: p.digital_family ? 'good' : 'muted', text: p.digital_family ? t('digitalFamily') : t('notYetFamily') }) : null,
      p ? el('ul', { class: 'list', id: 'progress' }, p.learners.map((l) => el('li', {}, el('b', { text: names[l.member] || '' }),
        l.certified ? el('p', { class: 'good', text: t('certified') }) : el('p', { class: 'muted', text: l.missing_text || '' })))) : null,
      button(t('notes'), notesScreen, 'secondary'), button(t('myData'), () => dataScreen('households'), 'secondary'), button(t('signout'), signout, 'secondary'));
    onHome = true;
  }

  // ---- the commune desk ----
  async function staffHome() {
    let communeId = '';
    try {
      const me = (await read('/v1/me')).data;
      const b = (await read(`/v1/branches/${encodeURIComponent(me.branch_id)}`)).data;
      communeId = b.kind === 'commune' ? b.id : b.ancestors[1] || b.parent_id;
    } catch (e) { /* offline without a cache: the desk can still confirm */ }
    const [held, waiting] = await Promise.all([read('/v1/sessions'), read(`/v1/help-requests?commune_id=${encodeURIComponent(communeId)}`)]
      .map((p) => p.catch((e) => ({ error: e }))));
    const sessions = held.data ? held.data.items : [];
    const reqs = waiting.data ? waiting.data.items || [] : [];
    show(t('staffTitle'), staleNote(held, waiting), button(t('deskRegister'), () => householdForm({ self: false, communeId })),
      el('h2', { text: t('deskConfirm') }), sessions.length ? el('ul', { class: 'list', id: 'desk-sessions' }, sessions.map((s) => {
        const code = el('input', { inputmode: 'numeric', autocomplete: 'off', maxlength: 6, 'aria-label': t('enterCode') });
        return el('li', { 'data-session': s.id }, when(s.starts_at), field(t('enterCode'), code), button(t('confirmWithCode'), async () => {
          savedToast(await enqueue('confirm', { method: 'POST', path: `/v1/sessions/${encodeURIComponent(s.id)}/confirm`, body: { code: code.value.trim() }, key: uuid() }));
          staffHome();
        }, 'small'));
      })) : el('p', { text: t('none') }),
      el('h2', { text: t('waitingRequests') }), reqs.length ? el('ul', { class: 'list', id: 'desk-waiting' }, reqs.map((r) => el('li', {},
        `${r.learners} ${t('learners').toLowerCase()} · ${t('waitedHours', num(r.waited_hours))}`,
        el('div', { class: 'muted', text: r.topics.map((x) => nameOf('topics', x)).join(', ') })))) : el('p', { text: t('none') }),
      button(t('signout'), signout, 'secondary'));
    onHome = true;
  }

  // ---- wiring ----
  $('lang').addEventListener('click', () => { lang = lang === 'vi' ? 'en' : 'vi'; localStorage.setItem('dss.lang', lang); start(); });
  $('unsent').addEventListener('click', outboxScreen);
  window.addEventListener('online', () => { setOnline(true); flush(); });
  window.addEventListener('offline', () => setOnline(false));
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') flush(); });
  setInterval(() => { if (auth) flush(); }, 30000);
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {});
  // Ask the browser not to clear what is kept when space runs low.
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  window.daisusoApp = { flush, counter }; // for the browser tests
  start();
})();
