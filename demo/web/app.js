// 雁阵 demo page: a WeCom group chat played in the browser.
//
// What a person says goes to POST /demo/say, which turns it into a signed,
// encrypted robot callback to the bot's real /wecom/robot route. What the bot
// sends reaches the built-in fake WeCom and comes back here over server-sent
// events (/demo/events). Nothing from a message is ever parsed as HTML: the
// renderer below builds DOM nodes and text nodes only.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  const state = {
    info: null,
    members: new Map(), // userid → {userid, name, role, title}
    names: [], // department and member names and aliases, longest first: for @mentions
    speaker: '',
    epoch: '',
    lastID: 0,
    chat: [], // say, group and notice events, kept to re-render on a change of speaker or group
    group: null, // the work group shown: {code, name, chat, jobs}
    groupUnread: new Map(), // group code → events not yet seen in it
    inbox: new Map(), // userid → app events received
    unread: new Map(), // userid → app events not yet seen
    selected: '', // the member whose app messages the side panel shows
    cards: new Map(), // task_id → Map(userid → {card, replace}): each card as its recipients see it now ('' for a group chat)
    fmtTime: null,
    fmtDay: null,
  };

  // ---------------------------------------------------------------- helpers

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  const AVATAR_COLORS = ['#4e83fd', '#35b8b3', '#f0a035', '#7f6ef5', '#e8685a', '#4cb87a', '#d86ea8', '#5a9bd6', '#c0904a', '#6d7fa6'];

  function hash(s) {
    let h = 0;
    for (const c of s) h = (h * 31 + c.codePointAt(0)) >>> 0;
    return h;
  }

  function avatar(userid, name, extra) {
    const a = el('div', 'avatar' + (extra ? ' ' + extra : ''));
    const chars = Array.from(name || userid || '?');
    a.textContent = chars.slice(-2).join('');
    if (!/\bbot\b|\bstranger\b/.test(extra || '')) {
      a.style.background = AVATAR_COLORS[hash(userid || name || '') % AVATAR_COLORS.length];
    }
    a.setAttribute('aria-hidden', 'true');
    return a;
  }

  function botAvatar(small) {
    const a = el('div', 'avatar bot' + (small ? ' sm' : ''), '雁');
    a.setAttribute('aria-hidden', 'true');
    return a;
  }

  function toast(text, isError) {
    const t = $('toast');
    t.textContent = text;
    t.classList.toggle('error', !!isError);
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.hidden = true; }, isError ? 6000 : 3500);
  }

  async function api(method, path, body) {
    const opts = { method, headers: {} };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(path, opts);
    let data = null;
    try { data = await resp.json(); } catch (_) { /* not JSON */ }
    if (!resp.ok) throw new Error((data && data.error) || ('请求失败：HTTP ' + resp.status));
    return data;
  }

  function timeOf(iso) {
    const d = new Date(iso);
    return { date: d, day: state.fmtDay.format(d), hm: state.fmtTime.format(d) };
  }

  function shortTime(iso) {
    const t = timeOf(iso);
    const today = state.fmtDay.format(new Date());
    return t.day === today ? t.hm : t.day + ' ' + t.hm;
  }

  function memberName(userid) {
    if (userid === '@all') return '所有人';
    if (userid === state.info.stranger.userid) return state.info.stranger.name;
    const m = state.members.get(userid);
    return m ? m.name : userid;
  }

  // -------------------------------------------- the WeCom markdown subset
  //
  // Supported: # headings, > quotes, **bold**, *italics* (the AI bot's
  // markdown), `code`, [text](http…) links,
  // <font color="info|comment|warning">…</font> (also across lines),
  // <@userid> mentions and typed @name mentions. Anything else is text.

  const FONT_OPEN = /<font\s+color\s*=\s*(["']?)(info|comment|warning)\1\s*>/iy;
  const FONT_CLOSE = /<\/font\s*>/iy;
  const USER_MENTION = /<@([^<>\s]{1,64})>/y;
  const LINK = /\[([^\]\n]{1,200})\]\((https?:\/\/[^)\s]{1,500})\)/y;
  const CODE = /`([^`\n]{1,500})`/y;
  const WORD = /[\p{L}\p{N}_]/u;

  function styleNode(s) {
    if (s.type === 'font') return el('span', 'font-' + s.color);
    return s.type === 'italic' ? el('em', 'md-i') : el('strong', 'md-b');
  }

  function mentionNode(text) {
    return el('span', 'mention', text);
  }

  // typedMention returns the length of the @name that starts at i, preferring
  // the longest known name, else running to the next space or punctuation.
  function typedMention(line, i) {
    const rest = line.slice(i + 1);
    for (const n of state.names) {
      if (rest.startsWith(n)) return n.length + 1;
    }
    const m = /^[\p{L}\p{N}_.\-·]{1,32}/u.exec(rest);
    return m ? m[0].length + 1 : 0;
  }

  function sticky(re, line, i) {
    re.lastIndex = i;
    return re.exec(line);
  }

  // render appends the rendered content to root. markdown false renders text
  // messages: only mentions are highlighted.
  function render(root, src, markdown) {
    const lines = String(src).replace(/\r\n?/g, '\n').split('\n');
    let carried = []; // inline styles still open at the end of the previous line
    for (let line of lines) {
      const block = el('div', 'md-line');
      if (markdown) {
        let m;
        if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
          block.classList.add('md-h', 'md-h' + m[1].length);
          line = m[2];
        } else if ((m = /^>\s?(.*)$/.exec(line))) {
          block.classList.add('md-quote');
          line = m[1];
        }
      }
      const stack = []; // [{s, node}]
      let cur = block;
      for (const s of carried) {
        const node = styleNode(s);
        cur.appendChild(node);
        stack.push({ s, node });
        cur = node;
      }
      let text = '';
      const flush = () => {
        if (text) cur.appendChild(document.createTextNode(text));
        text = '';
      };
      const push = (s) => {
        flush();
        const node = styleNode(s);
        cur.appendChild(node);
        stack.push({ s, node });
        cur = node;
      };
      const popTo = (type) => {
        let k = stack.length - 1;
        while (k >= 0 && stack[k].s.type !== type) k--;
        if (k < 0) return false;
        flush();
        stack.length = k;
        cur = k > 0 ? stack[k - 1].node : block;
        return true;
      };
      let i = 0;
      while (i < line.length) {
        const c = line[i];
        let m;
        if (markdown && c === '<' && (m = sticky(FONT_OPEN, line, i))) {
          push({ type: 'font', color: m[2].toLowerCase() });
          i += m[0].length;
        } else if (markdown && c === '<' && (m = sticky(FONT_CLOSE, line, i)) && stack.some((x) => x.s.type === 'font')) {
          popTo('font');
          i += m[0].length;
        } else if (markdown && c === '*' && line[i + 1] === '*') {
          if (!popTo('bold')) push({ type: 'bold' });
          i += 2;
        } else if (markdown && c === '*') {
          if (!popTo('italic')) push({ type: 'italic' });
          i++;
        } else if (c === '<' && (m = sticky(USER_MENTION, line, i))) {
          flush();
          cur.appendChild(mentionNode('@' + memberName(m[1])));
          i += m[0].length;
        } else if (markdown && c === '[' && (m = sticky(LINK, line, i))) {
          flush();
          const a = el('a', 'md-a', m[1]);
          a.href = m[2];
          a.target = '_blank';
          a.rel = 'noopener noreferrer';
          cur.appendChild(a);
          i += m[0].length;
        } else if (markdown && c === '`' && (m = sticky(CODE, line, i))) {
          flush();
          cur.appendChild(el('code', 'md-code', m[1]));
          i += m[0].length;
        } else if (c === '@' && (i === 0 || !WORD.test(line[i - 1])) && typedMention(line, i) > 0) {
          const n = typedMention(line, i);
          flush();
          cur.appendChild(mentionNode(line.slice(i, i + n)));
          i += n;
        } else {
          text += c;
          i++;
        }
      }
      flush();
      carried = stack.map((x) => x.s);
      root.appendChild(block);
    }
  }

  // sizeText writes a file's size: 12.3 KB.
  function sizeText(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1024 / 1024).toFixed(1) + ' MB';
  }

  // mediaNode shows an image in the chat, or a file as a card to download.
  function mediaNode(m) {
    if (m.type === 'image') {
      const img = el('img', 'chat-image');
      img.src = m.url;
      img.alt = m.name || '图片';
      img.loading = 'lazy';
      return img;
    }
    const a = el('a', 'file-card');
    a.href = m.url;
    a.download = m.name;
    a.title = '下载 ' + m.name;
    const ext = (m.name.split('.').pop() || '').toUpperCase();
    a.appendChild(el('span', 'file-icon' + (ext === 'XLSX' || ext === 'XLS' ? ' sheet' : ''), ext.slice(0, 4)));
    const info = el('span', 'file-info');
    info.appendChild(el('span', 'file-name', m.name));
    info.appendChild(el('span', 'file-size', sizeText(m.size)));
    a.appendChild(info);
    return a;
  }

  // content renders an event's message body the way WeCom shows its type, as
  // the member viewer sees it ('' in the group chat).
  function content(ev, viewer) {
    const box = el('div', 'content');
    if (ev.media) {
      box.appendChild(mediaNode(ev.media));
      return box;
    }
    if (ev.msgtype === 'template_card' && ev.card) {
      box.appendChild(cardNode(ev, viewer));
      return box;
    }
    switch (ev.msgtype) {
      case 'markdown':
      case 'markdown_v2':
      case 'stream': // the AI bot's reply on its long connection, in markdown
        render(box, ev.content, true);
        break;
      case 'textcard': {
        const [title, ...rest] = String(ev.content).split('\n');
        box.appendChild(el('div', 'md-line md-h md-h3', title));
        render(box, rest.join('\n'), false);
        break;
      }
      default:
        render(box, ev.content, false);
    }
    if (ev.msgtype === 'text' && ev.mentions && ev.mentions.length) {
      const shown = box.textContent;
      const extra = ev.mentions.filter((u) => !shown.includes('@' + memberName(u)));
      if (extra.length) {
        const line = el('div', 'mentions');
        for (const u of extra) line.appendChild(mentionNode('@' + memberName(u)));
        box.appendChild(line);
      }
    }
    return box;
  }

  // --------------------------------------------------------- template cards
  //
  // A card is drawn from its template_card as sent, or from the latest view
  // of it the fake WeCom holds for the viewer (card events). Its buttons tap
  // through POST /demo/tap as the viewer (in the group: as the speaker).

  const BUTTON_STYLE = { 1: 'primary', 2: 'plain', 3: 'danger', 4: 'plain' };

  function httpURL(u) {
    return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : '';
  }

  function cardView(ev, viewer) {
    const views = ev.task_id ? state.cards.get(ev.task_id) : null;
    return (views && (views.get(viewer) || views.get(''))) || { card: ev.card, replace: '' };
  }

  function cardNode(ev, viewer) {
    const v = cardView(ev, viewer);
    const c = v.card || {};
    const box = el('div', 'tcard');
    box.dataset.type = c.card_type || '';
    if (ev.task_id) {
      box.dataset.task = ev.task_id;
      box.dataset.viewer = viewer;
    }
    box.cardEvent = ev;
    if (c.source && c.source.desc) box.appendChild(el('div', 'tc-source', c.source.desc));
    const mt = c.main_title || {};
    if (mt.title) box.appendChild(el('div', 'tc-title', mt.title));
    if (mt.desc) box.appendChild(el('div', 'tc-desc', mt.desc));
    const em = c.emphasis_content;
    if (em && (em.title || em.desc)) {
      const e = el('div', 'tc-emphasis');
      if (em.title) e.appendChild(el('div', 'tc-em-title', em.title));
      if (em.desc) e.appendChild(el('div', 'tc-em-desc', em.desc));
      box.appendChild(e);
    }
    const q = c.quote_area;
    if (q && (q.title || q.quote_text)) {
      const e = el('div', 'tc-quote');
      if (q.title) e.appendChild(el('div', 'tc-quote-title', q.title));
      if (q.quote_text) e.appendChild(el('div', null, q.quote_text));
      box.appendChild(e);
    }
    if (c.sub_title_text) box.appendChild(el('div', 'tc-sub', c.sub_title_text));
    for (const h of c.horizontal_content_list || []) {
      const row = el('div', 'tc-row');
      row.appendChild(el('span', 'tc-key', h.keyname || ''));
      const value = h.type === 3 ? memberName(h.userid || '') : h.value || '';
      const url = h.type === 1 ? httpURL(h.url) : '';
      const val = el(url ? 'a' : 'span', 'tc-value', value);
      if (url) {
        val.href = url;
        val.target = '_blank';
        val.rel = 'noopener noreferrer';
      }
      row.appendChild(val);
      box.appendChild(row);
    }
    for (const j of c.jump_list || []) {
      const url = j.type === 1 ? httpURL(j.url) : '';
      const a = el(url ? 'a' : 'div', 'tc-jump', j.title || '');
      if (url) {
        a.href = url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
      }
      box.appendChild(a);
    }
    const questions = c.checkbox ? [c.checkbox] : c.select_list || [];
    for (const sel of questions) {
      const e = el('div', 'tc-options');
      if (sel.title) e.appendChild(el('div', 'tc-key', sel.title));
      for (const o of sel.option_list || []) e.appendChild(el('div', 'tc-option', '○ ' + (o.text || '')));
      box.appendChild(e);
    }
    const buttons = (c.button_list || []).map((b) => ({ text: b.text, key: b.key, style: b.style }));
    if (c.submit_button) buttons.push({ text: c.submit_button.text, key: c.submit_button.key, style: 1 });
    if (v.replace) {
      const row = el('div', 'tc-buttons');
      const b = el('button', 'tc-btn replaced', v.replace);
      b.type = 'button';
      b.disabled = true;
      row.appendChild(b);
      box.appendChild(row);
    } else if (buttons.length) {
      const row = el('div', 'tc-buttons');
      for (const bt of buttons) {
        const b = el('button', 'tc-btn ' + (BUTTON_STYLE[bt.style] || 'primary'), bt.text);
        b.type = 'button';
        b.dataset.key = bt.key;
        b.disabled = !ev.task_id;
        b.addEventListener('click', () => tap(viewer || state.speaker, ev.task_id, bt.key, row));
        row.appendChild(b);
      }
      box.appendChild(row);
    }
    const act = c.card_action || {};
    if (act.type === 1 && httpURL(act.url)) {
      const a = el('a', 'tc-more', '查看详情');
      a.href = act.url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      box.appendChild(a);
    }
    return box;
  }

  async function tap(userid, taskID, key, row) {
    const buttons = row.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await api('POST', '/demo/tap', { userid, task_id: taskID, key });
    } catch (err) {
      toast(err.message, true);
    } finally {
      if (row.isConnected) buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // applyCard takes a card event: the card's views now, redrawn wherever shown.
  function applyCard(ev) {
    state.cards.set(ev.task_id, new Map(Object.entries(ev.views || {})));
    for (const node of document.querySelectorAll('.tcard[data-task="' + CSS.escape(ev.task_id) + '"]')) {
      node.replaceWith(cardNode(node.cardEvent, node.dataset.viewer));
    }
  }

  // ------------------------------------------------------------------ chat

  function nearBottom(list) {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  }

  function chatNode(ev) {
    if (ev.kind === 'notice') {
      const li = el('li', 'notice');
      li.dataset.kind = 'notice';
      li.appendChild(el('span', null, ev.content));
      return li;
    }
    const li = el('li', 'msg');
    li.dataset.id = String(ev.id);
    li.dataset.kind = ev.kind;
    const meta = el('div', 'meta');
    let av;
    if (ev.kind === 'say') {
      const m = state.members.get(ev.from);
      li.dataset.from = ev.from;
      if (ev.from === state.speaker) li.classList.add('own');
      av = avatar(ev.from, ev.name, m ? '' : 'stranger');
      meta.appendChild(el('span', 'name', ev.name));
      meta.appendChild(el('span', 'tag grey', m ? m.title : '未登记'));
    } else {
      li.classList.add('bot');
      av = botAvatar();
      meta.appendChild(el('span', 'name', ev.name || state.info.bot));
      meta.appendChild(el('span', 'tag', '机器人'));
    }
    meta.appendChild(el('span', 'time', timeOf(ev.time).hm));
    const body = el('div', 'body');
    body.appendChild(meta);
    const bubble = el('div', 'bubble' + (ev.card ? ' card-bubble' : ''));
    bubble.appendChild(content(ev, ''));
    body.appendChild(bubble);
    li.appendChild(av);
    li.appendChild(body);
    return li;
  }

  function separator(ev, prev) {
    const t = timeOf(ev.time);
    if (prev && t.date - new Date(prev.time) < 5 * 60 * 1000 && timeOf(prev.time).day === t.day) return null;
    const li = el('li', 'sep');
    li.appendChild(el('span', null, shortTime(ev.time)));
    return li;
  }

  function appendChat(ev, prev) {
    const list = $('messages');
    const empty = list.querySelector('.empty');
    if (empty) empty.remove();
    const sep = separator(ev, prev);
    if (sep) list.appendChild(sep);
    list.appendChild(chatNode(ev));
  }

  // groupOfChat returns the work group whose chat is chat, or null.
  function groupOfChat(chat) {
    return (state.info.groups || []).find((g) => g.chat === chat) || null;
  }

  // shown reports whether an event belongs in the chat of the group shown:
  // the simulator's notices belong in every group.
  function shown(ev) {
    return ev.kind === 'notice' || !ev.chat || !state.group || ev.chat === state.group.chat;
  }

  function renderChat() {
    const list = $('messages');
    list.textContent = '';
    const events = state.chat.filter(shown);
    if (!events.length) {
      const li = el('li', 'empty');
      li.appendChild(el('div', null, '暂无消息。在下方选择身份，输入指令后发送，机器人的回复会出现在这里。先试试：'));
      const tips = el('ol', 'tips');
      for (const tip of state.info.tips) tips.appendChild(el('li', null, tip));
      li.appendChild(tips);
      list.appendChild(li);
      return;
    }
    events.forEach((ev, i) => appendChat(ev, events[i - 1]));
    list.scrollTop = list.scrollHeight;
  }

  function onEvent(ev) {
    if (ev.id <= state.lastID) return;
    state.lastID = ev.id;
    if (ev.kind === 'card') {
      applyCard(ev);
      return;
    }
    if (ev.kind === 'app') {
      for (const u of ev.to || []) receiveApp(u, ev);
      return;
    }
    const prev = state.chat.filter(shown).pop();
    state.chat.push(ev);
    if (!shown(ev)) {
      const g = groupOfChat(ev.chat);
      if (g) {
        state.groupUnread.set(g.code, (state.groupUnread.get(g.code) || 0) + 1);
        renderGroups();
      }
      return;
    }
    const list = $('messages');
    const stick = nearBottom(list) || (ev.kind === 'say' && ev.from === state.speaker);
    appendChat(ev, prev);
    if (stick) list.scrollTop = list.scrollHeight;
  }

  // ------------------------------------------------------------------ groups

  function renderGroups() {
    const box = $('groups');
    box.textContent = '';
    const groups = state.info.groups || [];
    box.hidden = groups.length < 2;
    for (const g of groups) {
      const b = el('button', null, g.name);
      b.type = 'button';
      b.dataset.group = g.code;
      b.setAttribute('role', 'tab');
      b.setAttribute('aria-selected', String(state.group && g.code === state.group.code));
      const n = state.groupUnread.get(g.code) || 0;
      if (n) b.appendChild(el('span', 'badge', n > 99 ? '99+' : String(n)));
      b.addEventListener('click', () => setGroup(g.code));
      box.appendChild(b);
    }
  }

  function setGroup(code) {
    const groups = state.info.groups || [];
    state.group = groups.find((g) => g.code === code) || groups[0] || null;
    if (state.group) state.groupUnread.set(state.group.code, 0);
    const name = state.group ? state.group.name : state.info.group;
    document.title = name + ' · 雁阵演示';
    $('group-name').textContent = name + '（' + (state.info.members.length + 2) + '）';
    renderGroups();
    renderJobs();
    renderChat();
  }

  // ------------------------------------------------- members and app messages

  function receiveApp(userid, ev) {
    if (!state.inbox.has(userid)) state.inbox.set(userid, []);
    state.inbox.get(userid).push(ev);
    if (userid === state.selected) {
      const list = $('app-messages');
      const empty = list.querySelector('.empty');
      if (empty) empty.remove();
      list.appendChild(appNode(ev, userid));
      list.scrollTop = list.scrollHeight;
    } else {
      state.unread.set(userid, (state.unread.get(userid) || 0) + 1);
      updateBadge(userid);
    }
  }

  function appNode(ev, userid) {
    const li = el('li', 'app-msg');
    li.dataset.id = String(ev.id);
    const meta = el('div', 'meta');
    meta.appendChild(el('span', null, (state.info.bot || '雁阵') + '（应用消息）'));
    meta.appendChild(el('span', null, shortTime(ev.time)));
    li.appendChild(meta);
    li.appendChild(content(ev, userid));
    return li;
  }

  function updateBadge(userid) {
    const li = document.querySelector('.members li[data-userid="' + CSS.escape(userid) + '"]');
    if (!li) return;
    const badge = li.querySelector('.badge');
    const n = state.unread.get(userid) || 0;
    badge.textContent = n > 99 ? '99+' : String(n);
    badge.hidden = n === 0;
  }

  function selectMember(userid) {
    state.selected = userid;
    state.unread.set(userid, 0);
    for (const li of document.querySelectorAll('.members li')) {
      li.classList.toggle('selected', li.dataset.userid === userid);
    }
    updateBadge(userid);
    const m = state.members.get(userid) || state.info.stranger;
    $('inbox-who').textContent = '· ' + m.name + '（' + m.title + '）';
    $('inbox-actions').hidden = false;
    const list = $('app-messages');
    list.textContent = '';
    const got = state.inbox.get(userid) || [];
    if (!got.length) list.appendChild(el('li', 'empty', '尚未收到应用消息'));
    for (const ev of got) list.appendChild(appNode(ev, userid));
    list.scrollTop = list.scrollHeight;
  }

  function renderMembers() {
    const list = $('members');
    list.textContent = '';
    const all = [...state.info.members, state.info.stranger];
    for (const m of all) {
      const li = el('li');
      li.dataset.userid = m.userid;
      li.dataset.search = m.name + ' ' + m.title;
      li.title = '查看 ' + m.name + ' 收到的应用消息';
      li.appendChild(avatar(m.userid, m.name, 'sm' + (m.role === 'stranger' ? ' stranger' : '')));
      const who = el('div', 'who');
      const name = el('div', 'name', m.name);
      if (m.userid === state.speaker) {
        name.appendChild(document.createTextNode(' '));
        name.appendChild(el('span', 'speaking', '发言中'));
      }
      who.appendChild(name);
      who.appendChild(el('div', 'title', m.title));
      li.appendChild(who);
      const badge = el('span', 'badge');
      badge.hidden = true;
      li.appendChild(badge);
      li.addEventListener('click', () => selectMember(m.userid));
      list.appendChild(li);
      updateBadge(m.userid);
      if (m.userid === state.selected) li.classList.add('selected');
    }
    $('member-count').textContent = '（' + all.length + '）';
    filterMembers();
  }

  function filterMembers() {
    const q = $('member-search').value.trim();
    for (const li of document.querySelectorAll('.members li')) {
      li.hidden = q !== '' && !li.dataset.search.includes(q);
    }
  }

  // ---------------------------------------------------------------- composer

  function renderSpeakers() {
    const sel = $('speaker');
    sel.textContent = '';
    const groups = new Map();
    for (const m of state.info.members) {
      const g = m.role === 'leader' ? '区领导' : m.title.includes(' · ') ? m.title.split(' · ')[0] : '其他';
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(m);
    }
    for (const [label, ms] of groups) {
      const og = el('optgroup');
      og.label = label;
      for (const m of ms) {
        const o = el('option', null, m.name + '（' + m.title + '）');
        o.value = m.userid;
        og.appendChild(o);
      }
      sel.appendChild(og);
    }
    const og = el('optgroup');
    og.label = '未登记';
    const s = state.info.stranger;
    const o = el('option', null, s.name + '（陌生人，未登记）');
    o.value = s.userid;
    og.appendChild(o);
    sel.appendChild(og);
    sel.value = state.speaker;
  }

  // Suggestions by role: they fill the input, the user edits and sends.
  function quickFor(role) {
    const common = ['帮助'];
    switch (role) {
      case 'leader':
        return ['调度 @住建局 明天下班前报送整改方案', '未报', '排名 今日', '超期', ...common];
      case 'head':
      case 'reporter':
        return ['日报 今日受理工单12件，办结10件，2件正在协调处理。', '补充日报 ', '预览日报', '未报', ...common];
      case 'stranger':
        return ['你好'];
      default:
        return ['未报', '超期', ...common];
    }
  }

  function setSpeaker(userid) {
    state.speaker = userid;
    $('speaker').value = userid;
    const m = state.members.get(userid) || state.info.stranger;
    const quick = $('quick');
    quick.textContent = '';
    for (const q of quickFor(m.role)) {
      const b = el('button', null, q.length > 14 ? q.slice(0, 14) + '…' : q);
      b.type = 'button';
      b.title = q;
      b.addEventListener('click', () => {
        const input = $('input');
        input.value = q;
        input.focus();
      });
      quick.appendChild(b);
    }
    renderMembers();
    renderChat();
  }

  async function send(e) {
    e.preventDefault();
    const input = $('input');
    const text = input.value.trim();
    if (!text) return;
    const btn = $('send');
    btn.disabled = true;
    try {
      await api('POST', '/demo/say', { userid: state.speaker, group: state.group ? state.group.code : '', text });
      input.value = '';
    } catch (err) {
      toast(err.message, true);
    } finally {
      btn.disabled = false;
      input.focus();
    }
  }

  // -------------------------------------------------------------------- jobs

  function renderJobs() {
    const box = $('jobs');
    box.textContent = '';
    for (const j of (state.group ? state.group.jobs : state.info.jobs)) {
      const b = el('button');
      b.type = 'button';
      b.dataset.job = j.name;
      b.appendChild(el('b', null, j.label));
      b.appendChild(el('span', null, j.when));
      b.addEventListener('click', () => runJob(j));
      box.appendChild(b);
    }
  }

  async function runJob(j) {
    const buttons = document.querySelectorAll('#jobs button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const res = await api('POST', '/demo/run', { job: j.name, group: state.group ? state.group.code : '', at: $('job-at').value });
      toast(res.summary);
      pollStatus();
    } catch (err) {
      toast(err.message, true);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // ------------------------------------------------------------ status strip

  const RUN_STATUS = { running: '执行中', done: '已完成', failed: '失败', skipped: '已跳过' };

  async function pollStatus() {
    try {
      const st = await api('GET', '/demo/status');
      const outbox = $('status-outbox');
      outbox.textContent = '发送队列 待发 ' + st.pending + (st.failed ? ' · 失败 ' + st.failed : '');
      outbox.className = 'chip ' + (st.pending || st.failed ? 'warn' : 'ok');
      const runs = $('status-runs');
      runs.textContent = '';
      const labels = new Map(state.info.jobs.map((j) => [j.name, j.label]));
      for (const r of st.runs.slice(0, 4)) {
        const span = el('span', 'run');
        const g = (state.info.groups || []).find((x) => x.code === r.group);
        span.title = [g && state.info.groups.length > 1 ? g.name : '', r.slot, r.summary].filter(Boolean).join('：');
        span.appendChild(el('b', null, labels.get(r.job) || r.job));
        span.appendChild(document.createTextNode(' ' + (RUN_STATUS[r.status] || r.status) + (r.late ? '（补发）' : '') + (r.at ? ' ' + shortTime(r.at) : '')));
        runs.appendChild(span);
      }
    } catch (_) {
      $('status-outbox').textContent = '发送队列 —';
    }
  }

  // ------------------------------------------------------------------ stream

  function connect() {
    const conn = $('status-conn');
    const es = new EventSource('/demo/events');
    es.addEventListener('hello', (e) => {
      const hello = JSON.parse(e.data);
      if (state.epoch && hello.epoch !== state.epoch) {
        // The demo restarted: its timeline starts over.
        state.chat = [];
        state.groupUnread.clear();
        renderGroups();
        state.inbox.clear();
        state.unread.clear();
        state.cards.clear();
        state.lastID = 0;
        renderChat();
        renderMembers();
        if (state.selected) selectMember(state.selected);
      }
      state.epoch = hello.epoch;
      conn.textContent = '已连接';
      conn.className = 'chip ok';
    });
    es.onmessage = (e) => onEvent(JSON.parse(e.data));
    es.onerror = () => {
      conn.textContent = '连接中断，正在重连…';
      conn.className = 'chip warn';
    };
  }

  // -------------------------------------------------------------------- start

  async function start() {
    let info;
    try {
      info = await api('GET', '/demo/info');
    } catch (err) {
      toast('无法加载演示数据：' + err.message, true);
      return;
    }
    state.info = info;
    state.fmtTime = new Intl.DateTimeFormat('zh-CN', { timeZone: info.timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    state.fmtDay = new Intl.DateTimeFormat('zh-CN', { timeZone: info.timezone, month: 'numeric', day: 'numeric' });
    for (const m of info.members) state.members.set(m.userid, m);
    state.names = [...new Set([info.bot, ...info.names])].sort((a, b) => b.length - a.length);
    if (info.transport === 'websocket') $('chat-sub').textContent = '本机演示 · 每条消息都经智能机器人长连接送达机器人，无需公网地址';
    $('at-bot').textContent = '@' + info.bot;
    renderSpeakers();
    setGroup((info.groups && info.groups[0] && info.groups[0].code) || '');
    setSpeaker(info.first || info.members[0].userid);
    $('speaker').addEventListener('change', (e) => setSpeaker(e.target.value));
    $('member-search').addEventListener('input', filterMembers);
    $('composer').addEventListener('submit', send);
    $('input').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        $('composer').requestSubmit();
      }
    });
    $('inbox-speak').addEventListener('click', () => {
      if (state.selected) setSpeaker(state.selected);
      $('input').focus();
    });
    connect();
    pollStatus();
    setInterval(pollStatus, 2000);
  }

  start();
})();
